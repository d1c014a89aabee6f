"""Fetch throughput: newsmon's Fetcher vs a bare httpx.AsyncClient gather loop, same run.

    .venv/bin/python bench/fetch.py [--pages 2000] [--concurrency 16] [--rounds 3] [--smoke]

A small keep-alive HTTP/1.1 server (asyncio, stdlib) runs in a child process on 127.0.0.1 and
serves a ~10 KB UTF-8 HTML page for every path. Both clients fetch the same N distinct URLs with
the same concurrency and decode the body to str. The Fetcher runs with politeness off (no
robots.txt, no per-host delay, per-host limit = global limit) but with everything else on:
routing through `resolve`, streaming with the byte cap, retries, charset handling and
FetchResult records. Rounds alternate bare/Fetcher; the best round of each is reported, with
the client's CPU time per page (independent of other load on the machine).
Prints `name: value` lines; the target is fetcher_vs_bare_ratio >= 0.8.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._smoke import add_smoke_flag, smoke_requested  # noqa: E402
from extractors.fetch.http import Fetcher, FetchSettings  # noqa: E402
from extractors.models import Candidate  # noqa: E402

PARAGRAPH = "<p>The council met on Tuesday to discuss the flood defences of the river town.</p>\n"
BODY = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Bench page</title></head><body>"
    + PARAGRAPH * 120
    + "</body></html>"
).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
    + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
    + BODY
)


async def _serve_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                break
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def _server_main(port_queue: multiprocessing.Queue) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_serve_client, "127.0.0.1", 0, backlog=1024)
        port_queue.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


async def bare(urls: list[str], concurrency: int) -> int:
    """The baseline: one client, a semaphore, gather."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one(url: str) -> int:
            async with gate:
                response = await client.get(url)
                return len(response.text)

        sizes = await asyncio.gather(*(one(u) for u in urls))
    return sum(1 for s in sizes if s > 0)


async def with_fetcher(urls: list[str], settings: FetchSettings) -> int:
    items = [Candidate(u, "bench", "list") for u in urls]
    async with Fetcher(settings) as fetcher:
        results = await fetcher.fetch_pages(items)
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"fetcher failed {len(failed)} pages, e.g. {failed[0].error}")
    return len(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    add_smoke_flag(parser)
    args = parser.parse_args()
    if smoke_requested(args):
        args.pages, args.rounds = 200, 1

    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue = ctx.Queue()
    server = ctx.Process(target=_server_main, args=(ports,), daemon=True)
    server.start()
    port = ports.get(timeout=30)
    try:
        settings = FetchSettings(
            global_concurrency=args.concurrency, per_host_concurrency=args.concurrency,
            min_delay_per_host_s=0.0, obey_robots=False, max_retries=0,
            resolve={"bench.test": f"127.0.0.1:{port}"},
        )
        bare_urls = [f"http://127.0.0.1:{port}/article/{i}" for i in range(args.pages)]
        fetcher_urls = [f"http://bench.test/article/{i}" for i in range(args.pages)]
        asyncio.run(bare(bare_urls[:200], args.concurrency))  # warm up both paths
        asyncio.run(with_fetcher(fetcher_urls[:200], settings))

        best = {"bare": 0.0, "fetcher": 0.0}
        cpu = {"bare": float("inf"), "fetcher": float("inf")}
        for _ in range(args.rounds):
            for name in ("bare", "fetcher"):
                started, cpu_started = time.perf_counter(), time.process_time()
                if name == "bare":
                    done = asyncio.run(bare(bare_urls, args.concurrency))
                else:
                    done = asyncio.run(with_fetcher(fetcher_urls, settings))
                elapsed = time.perf_counter() - started
                assert done == args.pages, (name, done)
                best[name] = max(best[name], args.pages / elapsed)
                cpu[name] = min(cpu[name], (time.process_time() - cpu_started) / args.pages)
    finally:
        server.terminate()
        server.join(timeout=5)

    print(f"machine_cores: {os.cpu_count()}")
    print(f"pages: {args.pages}")
    print(f"page_bytes: {len(BODY)}")
    print(f"concurrency: {args.concurrency}")
    print(f"rounds: {args.rounds}")
    print(f"bare_httpx_pages_per_s: {best['bare']:.0f}")
    print(f"fetcher_pages_per_s: {best['fetcher']:.0f}")
    # client CPU per page does not depend on how busy the machine is; wall-clock rates do
    print(f"bare_httpx_client_cpu_ms_per_page: {cpu['bare'] * 1000:.2f}")
    print(f"fetcher_client_cpu_ms_per_page: {cpu['fetcher'] * 1000:.2f}")
    print(f"load_average_1min: {os.getloadavg()[0]:.1f}")
    ratio = best["fetcher"] / best["bare"]
    print(f"fetcher_vs_bare_ratio: {ratio:.2f}")
    print(f"ratio_target_met: {ratio >= 0.8}")


if __name__ == "__main__":
    main()
