"""Serve the demo news web on 127.0.0.1, routing by the Host header.

    with DemoSite() as site:          # free port, daemon thread
        site.resolve_map              # {"outlet-a.test": "127.0.0.1:PORT", ...}

The HTTP layer sends requests for `http://outlet-a.test/...` to `site.resolve_map[host]` with
the Host header kept, so feeds, sitemaps and canonical URLs keep their real-looking hosts.
Faults (500, 429, stalls, resets, truncation) are injected per request through `fault`.

    python -m demosite.server --port 8765
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from demosite.site import Page, build_site

# fault(handler, host, path) -> True when it has answered (or dropped) the request itself.
# `path` has no query string (handler.path has the raw one). The server speaks HTTP/1.1 with
# keep-alive: a fault that answers must send Content-Length or set handler.close_connection.
Fault = Callable[[BaseHTTPRequestHandler, str, str], bool]
LogEntry = tuple[float, str, str, int | None]


def _not_modified(page: Page, if_none_match: str | None, if_modified_since: str | None) -> bool:
    """RFC 9110 conditional GET: If-None-Match wins over If-Modified-Since."""
    etag = page.headers.get("ETag")
    if if_none_match is not None:
        return etag is not None and (
            if_none_match.strip() == "*" or etag in [t.strip() for t in if_none_match.split(",")]
        )
    modified = page.headers.get("Last-Modified")
    if if_modified_since and modified:
        try:
            return parsedate_to_datetime(modified) <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
    return False


class _Handler(BaseHTTPRequestHandler):
    """Answers from the DemoSite that owns the server (set on the server as `demo`)."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle's algorithm on, the body then waits for
    # the client's delayed ACK, 40 ms per keep-alive request on Linux.
    disable_nagle_algorithm = True
    server_version = "newsmon-demosite/1.0"
    status: int | None = None
    _host = ""
    _path = ""

    def send_response(self, code: int, message: str | None = None) -> None:
        # Logged before any byte goes out, so a client that has its answer always finds
        # the request in the log (logging after the reply raced with fast clients).
        self.status = code
        self.server.demo._record(self._host, self._path, code)  # type: ignore[attr-defined]
        super().send_response(code, message)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log is kept in memory instead."""

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def _serve(self, with_body: bool) -> None:
        demo: DemoSite = self.server.demo  # type: ignore[attr-defined]
        host = (self.headers.get("Host") or "").split(":", 1)[0].lower()
        path = urlsplit(self.path).path or "/"
        self._host, self._path = host, path
        self.status = None
        try:
            if demo.fault is not None and demo.fault(self, host, path):
                return
            page = demo.pages.get((host, path))
            if page is None:
                self._send(404, Page(b"not found\n", "text/plain; charset=utf-8"), with_body)
            elif _not_modified(
                page, self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
            ):
                self._send(304, page, with_body=False)
            else:
                self._send(200, page, with_body)
        finally:
            if self.status is None:  # dropped without an answer: logged with no status
                demo._record(host, path, None)

    def _send(self, status: int, page: Page, with_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", page.content_type)
        for name, value in page.headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(page.body)))
        self.end_headers()
        if with_body and status != 304:
            self.wfile.write(page.body)


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops the SYNs of a crawler opening a few dozen
    # connections at once, and each dropped SYN costs the client a 1 s retransmit.
    request_queue_size = 128
    daemon_threads = True


class DemoSite:
    """The demo outlets on a local ThreadingHTTPServer, as a context manager."""

    def __init__(
        self,
        port: int = 0,
        fault: Fault | None = None,
        pages: dict[tuple[str, str], Page] | None = None,
    ) -> None:
        self.pages = build_site() if pages is None else pages
        self.fault = fault
        self._requested_port = port
        self._lock = threading.Lock()
        self._log: list[LogEntry] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> DemoSite:
        server = _Server(("127.0.0.1", self._requested_port), _Handler)
        server.demo = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="demosite",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("DemoSite is not running")
        return self._server.server_address[1]

    @property
    def hosts(self) -> list[str]:
        return sorted({host for host, _ in self.pages})

    @property
    def resolve_map(self) -> dict[str, str]:
        """Host -> "127.0.0.1:PORT": where the HTTP layer should connect for each outlet."""
        return {host: f"127.0.0.1:{self.port}" for host in self.hosts}

    @property
    def request_log(self) -> list[LogEntry]:
        """A snapshot of (time, host, path, status) per request; status None if none was sent."""
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def _record(self, host: str, path: str, status: int | None) -> None:
        with self._lock:
            self._log.append((time.time(), host, path, status))


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the newsmon demo outlets locally.")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with DemoSite(port=args.port) as site:
        print(
            f"demo outlets on 127.0.0.1:{site.port} (send Host: <outlet> or use resolve_map):",
            flush=True,
        )
        for host in site.hosts:
            print(f"  http://{host}/  ->  {site.resolve_map[host]}", flush=True)
        print("Ctrl-C to stop", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
