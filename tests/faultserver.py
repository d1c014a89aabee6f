"""A fault-injecting HTTP server for fetcher tests (stdlib only, runs in a thread).

Every endpoint misbehaves in one known way, so tests can assert the exact outcome. The server
logs each request (path, Host header, arrival and finish on time.monotonic) so politeness can
be measured where it matters: on the server side.

Endpoints (state is per `key` query parameter, so tests never share counters):
    /robots.txt                 disallows /private/
    /page/<name>?sleep=S        small HTML page after S seconds
    /flaky?key=K&fails=N&status=500   N times `status`, then a page
    /ratelimited?key=K          429 with Retry-After: 1 once, then a page
    /hang?sleep=S               headers only after S seconds (read timeout)
    /drip                       headers, then one byte every 0.2 s (total timeout)
    /reset                      connection reset (RST) without a response
    /huge?declared=1            50 MiB streamed (optionally with Content-Length)
    /pdf                        application/pdf
    /latin1                     text/html without charset, body in ISO-8859-1
    /meta-charset               windows-1252 declared only in <meta http-equiv>
    /loop/a, /loop/b            302 to each other forever
    /redirect?to=PATH           301 to PATH
    /private/<x>                a page robots.txt forbids
    /feed/malformed             RSS with an undefined entity and an unclosed tag
    /feed/good                  RSS with a relative, tracked link
    /feed/etag                  RSS with ETag/Last-Modified; 304 on a matching conditional GET
    /sitemap/truncated          urlset cut in the middle of an entry
    /sitemap/index.xml          sitemapindex -> /sitemap/news.xml, /sitemap/more.xml.gz
    /sitemap/news.xml           news sitemap (titles, publication dates)
    /sitemap/more.xml.gz        gzipped urlset
    /sitemap/nest?d=N           a sitemap index whose only child is d=N+1 (endless nesting)
    anything else               404

`RecordingFifo` is the file-system counterpart: a path whose every open is recorded.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import os
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HUGE_BYTES = 50 * 1024 * 1024
LATIN1_TEXT = "Café crème à Zürich: déjà vu, señor"
FEED_ETAG = '"feed-v1"'
FEED_LAST_MODIFIED = "Mon, 02 Nov 2026 10:00:00 GMT"


@dataclass
class Hit:
    path: str
    host: str
    arrived: float
    finished: float | None = None


def page_html(name: str) -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{name}</title></head>"
        f"<body><article><h1>{name}</h1><p>Body of {name}.</p></article></body></html>"
    ).encode()


FEED_ITEMS = """
<item><title>First &amp; good</title><link>/news/first?utm_source=rss</link>
  <pubDate>Sun, 01 Nov 2026 09:00:00 GMT</pubDate></item>
<item><title>Second</title><link>http://outlet-a.test/news/second</link>
  <pubDate>Mon, 02 Nov 2026 09:00:00 GMT</pubDate></item>
"""
GOOD_FEED = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Fault feed</title><link>/</link>{FEED_ITEMS}</channel></rss>
""".encode()
MALFORMED_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Broken feed</title>
<item><title>Readable one</title><link>http://outlet-a.test/news/one</link></item>
<item><title>Readable two &nbsp; &bogus;</title><link>http://outlet-a.test/news/two</link></item>
<item><title>Unclosed <b>tag</title><link>http://outlet-a.test/news/three</link>
</channel>
"""
NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>http://outlet-a.test/news/second#top</loc>
    <news:news><news:publication><news:name>A</news:name><news:language>en</news:language>
    </news:publication><news:publication_date>2026-11-02T09:00:00Z</news:publication_date>
    <news:title>Second (from sitemap)</news:title></news:news></url>
  <url><loc>http://outlet-a.test/news/third</loc><lastmod>2026-11-03</lastmod></url>
  <url><loc>http://outlet-a.test/news/ancient</loc><lastmod>2001-01-01</lastmod></url>
</urlset>
"""
MORE_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>http://outlet-a.test/news/fourth</loc><lastmod>2026-11-04T08:00:00+01:00</lastmod></url>
</urlset>
"""
SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>/sitemap/news.xml</loc></sitemap>
  <sitemap><loc>/sitemap/more.xml.gz</loc><lastmod>2026-11-04</lastmod></sitemap>
  <sitemap><loc>/sitemap/old.xml</loc><lastmod>2001-01-01</lastmod></sitemap>
</sitemapindex>
"""
TRUNCATED_SITEMAP = NEWS_SITEMAP[: NEWS_SITEMAP.index(b"<url><loc>http://outlet-a.test/news/third")
                                  + 40]


class FaultServer(ThreadingHTTPServer):
    """The server plus its request log and per-key counters.

    Bound to the loopback address by default; `bind="::"` listens on the wildcard address of
    both families (a dual-stack socket: 127.0.0.1, 0.0.0.0, ::1, ::ffff:127.0.0.1 all reach it).
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 drops SYNs of concurrent clients: 1 s stalls

    def __init__(self, bind: str = "127.0.0.1") -> None:
        self.address_family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        super().__init__((bind, 0), _Handler)
        self.lock = threading.Lock()
        self.hits: list[Hit] = []
        self.counters: Counter[str] = Counter()
        self.huge_sent = 0
        self._thread: threading.Thread | None = None

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hits_for(self, prefix: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path.startswith(prefix)]

    def count(self, key: str) -> int:
        with self.lock:
            self.counters[key] += 1
            return self.counters[key]

    def __enter__(self) -> FaultServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall
    server: FaultServer

    def log_message(self, format: str, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        hit = Hit(self.path, self.headers.get("Host", ""), time.monotonic())
        with self.server.lock:
            self.server.hits.append(hit)
        try:
            self._route()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            hit.finished = time.monotonic()

    def do_HEAD(self) -> None:  # noqa: N802 (stdlib name): recorded, answered without a body
        with self.server.lock:
            self.server.hits.append(Hit(self.path, self.headers.get("Host", ""),
                                        time.monotonic(), time.monotonic()))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _route(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        key = f"{path}?{query.get('key', '')}"
        if path == "/robots.txt":
            self._send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        elif path.startswith(("/page/", "/private/")):
            time.sleep(float(query.get("sleep", 0)))
            self._send(200, page_html(path.rsplit("/", 1)[1]))
        elif path == "/flaky":
            if self.server.count(key) <= int(query.get("fails", 1)):
                self._send(int(query.get("status", 500)), b"try again", "text/plain")
            else:
                self._send(200, page_html("flaky"))
        elif path == "/ratelimited":
            if self.server.count(key) == 1:
                self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
            else:
                self._send(200, page_html("ratelimited"))
        elif path == "/hang":
            time.sleep(float(query.get("sleep", 2)))
            self._send(200, page_html("hang"))
        elif path == "/drip":
            self._drip()
        elif path == "/reset":
            self._reset()
        elif path == "/huge":
            self._huge(declared=query.get("declared") == "1")
        elif path == "/pdf":
            self._send(200, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 1000, "application/pdf")
        elif path == "/latin1":
            body = f"<html><head><title>Latin</title></head><body><p>{LATIN1_TEXT}</p>" \
                   f"</body></html>"
            self._send(200, body.encode("latin-1"), "text/html")
        elif path == "/meta-charset":
            body = ("<html><head><meta http-equiv='Content-Type' content='text/html; "
                    f"charset=windows-1252'></head><body><p>{LATIN1_TEXT} \u20ac</p></body></html>")
            self._send(200, body.encode("cp1252"), "text/html")
        elif path == "/loop/a":
            self._send(302, b"", "text/plain", {"Location": "/loop/b"})
        elif path == "/loop/b":
            self._send(302, b"", "text/plain", {"Location": "/loop/a"})
        elif path == "/redirect":
            self._send(301, b"", "text/plain", {"Location": query.get("to", "/page/home")})
        elif path == "/feed/good":
            self._send(200, GOOD_FEED, "application/rss+xml")
        elif path == "/feed/malformed":
            self._send(200, MALFORMED_FEED, "application/rss+xml")
        elif path == "/feed/etag":
            self._conditional(GOOD_FEED)
        elif path == "/sitemap/truncated":
            self._send(200, TRUNCATED_SITEMAP, "application/xml")
        elif path == "/sitemap/index.xml":
            self._send(200, SITEMAP_INDEX, "application/xml")
        elif path == "/sitemap/news.xml":
            self._send(200, NEWS_SITEMAP, "application/xml")
        elif path == "/sitemap/nest":
            depth = int(query.get("d", 0))
            body = (f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap>'
                    f"<loc>/sitemap/nest?d={depth + 1}</loc></sitemap></sitemapindex>").encode()
            self._send(200, body, "application/xml")
        elif path == "/sitemap/more.xml.gz":
            self._send(200, gzip.compress(MORE_SITEMAP), "application/gzip")
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _conditional(self, body: bytes) -> None:
        if (self.headers.get("If-None-Match") == FEED_ETAG
                or self.headers.get("If-Modified-Since") == FEED_LAST_MODIFIED):
            self.send_response(304)
            self.send_header("ETag", FEED_ETAG)
            self.end_headers()
            return
        self._send(200, body, "application/rss+xml",
                   {"ETag": FEED_ETAG, "Last-Modified": FEED_LAST_MODIFIED})

    def _reset(self) -> None:
        """Close with RST: SO_LINGER on, zero timeout."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        for _ in range(1000):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.2)

    def _huge(self, declared: bool) -> None:
        """50 MiB of HTML in 64 KiB writes; counts what was sent before the client hung up."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if declared:
            self.send_header("Content-Length", str(HUGE_BYTES))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        chunk = b"<p>" + b"a" * (64 * 1024 - 7) + b"</p>\n"
        sent = 0
        try:
            while sent < HUGE_BYTES:
                self.wfile.write(chunk)
                sent += len(chunk)
        finally:
            with self.server.lock:
                self.server.huge_sent = sent
            self.close_connection = True


class RecordingFifo:
    """A named pipe that records each time something opens it, from this or any process.

    A reader's open() of a FIFO blocks until a writer opens the other end; a thread here
    tries a non-blocking open for writing every few milliseconds, which succeeds only while
    someone holds the read end: that is an open, counted, and let through at once (nothing
    written, so the reader sees end-of-file and nothing hangs). A library that opens this
    path is caught in the act.
    """

    def __init__(self, folder: Path, name: str = "recording.fifo") -> None:
        self.path = Path(folder) / name
        os.mkfifo(self.path)
        self.opens = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._answer, daemon=True)

    def _answer(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: nobody has it open for reading
                    raise
                time.sleep(0.005)
                continue
            self.opens += 1
            os.close(fd)
            time.sleep(0.05)  # the reader sees end-of-file and closes before the next try

    def __enter__(self) -> RecordingFifo:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


if __name__ == "__main__":  # python tests/faultserver.py: serve until interrupted
    with FaultServer() as server:
        print(f"listening on {server.base}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
