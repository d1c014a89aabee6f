"""Polite, fault-tolerant HTTP fetching: every URL ends as a FetchResult, never an exception.

One `Fetcher` owns one shared httpx.AsyncClient. Each request passes a per-host gate (at most
`per_host_concurrency` in flight, starts at least the host's delay apart) and a global bound
on requests in flight (`Politeness`; the Fetchers of one process share one, whichever thread
and event loop they run in); robots.txt is obeyed, fetched once per host and handed on as
data (`RobotsRecord`, reused until it expires); transient failures (connect errors, timeouts,
resets, 408/429/5xx) are retried with capped exponential backoff and jitter, honouring
Retry-After. Bodies are streamed and cut at a byte cap. Redirects are followed by hand so each
hop is checked (scheme, private address, robots) and loops end cleanly.

The host's delay is the largest of `min_delay_per_host_s`, the source's `requests_per_second`
and the robots.txt Crawl-delay. The first request after robots.txt only waits what the host's
own rules ask (Crawl-delay, the source's rate), not the default delay on top.

The transport connects only to addresses the private-address guard (extractors.fetch.guard)
resolved and checked for the URL's host, pinned for the Fetcher's life (no DNS rebinding).
`FetchSettings.resolve` routes demo hosts (`outlet-a.test`) to a local server there too: the
connection goes to 127.0.0.1:PORT while the URL and Host header stay unchanged. Routes and
`allow_private_hosts` are trusted operator settings: routed hosts and, with the flag, private
addresses are not refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import re
import ssl
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from extractors.fetch import errors, inflate
from extractors.fetch.charset import decode_html
from extractors.fetch.errors import RETRY_STATUSES
from extractors.fetch.guard import AddressGuard, PinnedTransport, Resolver
from extractors.fetch.limits import (
    DOCUMENT_MAX_BYTES,
    PAGE_MAX_BYTES,
    ROBOTS_MAX_BYTES,
    describe_bytes,
)
from extractors.fetch.urls import without_credentials
from extractors.models import Candidate, FetchResult, RobotsRecord, Source

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Feed/sitemap URLs may answer with any XML, text or gzip type; these never hold one.
NOT_FEED_PREFIXES = ("image/", "audio/", "video/", "font/", "application/pdf")
ROBOTS_MAX_AGE_S = 24 * 3600.0  # RFC 9309: a cached robots.txt may be used up to 24 h
MAX_CRAWL_DELAY_S = 30.0  # a robots Crawl-delay above this would stall a run; cap it
# Idle connections kept per Fetcher. httpcore scans every pooled connection for each request
# it places, so a pool holding one idle connection per host of a many-source run made each
# request cost milliseconds of CPU; a host's next request usually follows within the batch.
# 32: the two connections per host of a batch spread over 16 hosts stay open (with 16, about
# every second request of such a batch opened a new connection, issue #31).
KEEPALIVE_CONNECTIONS = 32
RECOMMENDED_MIN_DELAY_S = 1.0  # between requests to one host, unless its rules say otherwise
DEFAULT_USER_AGENT = (
    "newsmon/0.1 (+https://github.com/newsmon/newsmon; news monitoring bot; respects robots.txt)"
)

Validators = tuple[str | None, str | None]  # (ETag, Last-Modified)


@dataclass(frozen=True)
class FetchSettings:
    """How to fetch: the one definition of every fetch default (flows/settings.py exposes
    them as NEWSMON_* variables). Tests and benchmarks build small-timeout or no-delay ones.

    `max_retries` counts retries after the first attempt (3 -> up to 4 attempts).
    """

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0  # longest silence between two received chunks
    total_timeout_s: float = 30.0  # one attempt, headers to last byte (stops slow drips)
    max_retries: int = 3
    backoff_base_s: float = 0.5  # retry n waits ~base * 2**(n-1), jittered, at most the cap
    backoff_cap_s: float = 10.0
    retry_after_cap_s: float = 30.0  # a server asking for an hour gets this much
    max_redirects: int = 5
    max_bytes: int = PAGE_MAX_BYTES  # pages
    max_document_bytes: int = DOCUMENT_MAX_BYTES  # feeds and sitemaps
    global_concurrency: int = 64  # requests in flight across all hosts (per process)
    per_host_concurrency: int = 2
    min_delay_per_host_s: float = RECOMMENDED_MIN_DELAY_S  # between request starts on one host
    obey_robots: bool = True
    robots_max_age_s: float = ROBOTS_MAX_AGE_S  # or the response's shorter Cache-Control max-age
    # Trusted operator settings (never from feeds): "host[:port]" -> "ip:port" connects there
    # unchecked; allow_private_hosts turns the private-address guard's refusals off.
    resolve: Mapping[str, str] = field(default_factory=dict)
    allow_private_hosts: bool = False



@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's TLS context: loading the CA bundle costs ~40 ms, once per Fetcher
    otherwise (a Fetcher per batch). SSLContext objects may be shared between threads."""
    return httpx.create_ssl_context()


@dataclass
class _Response:
    """What one successful exchange produced (the body is complete and under the cap)."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes
    attempts: int
    truncated: bool = False  # cut at the cap (robots.txt only: see _exchange's `prefix`)


class _Slots:
    """A counting semaphore for coroutines in any event loop of any thread.

    The flow's network tasks each run their own event loop in their own thread, and must
    still share one bound per host and one overall; asyncio.Semaphore belongs to one loop.
    A released slot goes to the oldest waiter, woken in its own loop.
    """

    def __init__(self, value: int) -> None:
        self._free = value
        self._lock = threading.Lock()
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # granted, then cancelled: pass it on
                self.release()
            raise

    def release(self) -> None:
        with self._lock:
            while self._waiters:
                loop, waiter = self._waiters.popleft()
                if waiter.cancelled():
                    continue
                try:
                    loop.call_soon_threadsafe(self._grant, waiter)
                    return
                except RuntimeError:  # that waiter's loop is closed
                    continue
            self._free += 1

    def _grant(self, waiter: asyncio.Future[None]) -> None:
        """Runs in the waiter's loop: wake it, or pass the slot on if it gave up meanwhile."""
        if waiter.cancelled():
            self.release()
        else:
            waiter.set_result(None)

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()


class _HostGate:
    """At most `concurrency` requests in flight to one host, started at least the host's gap
    apart. The start is taken, and the next one's earliest start set, only once the request
    also holds a slot of the global bound and goes out at once: a wait for that slot can
    never squeeze two requests to a host closer together than their gap. Waiting for the
    host's next start holds no global slot, so other hosts are not held up meanwhile."""

    def __init__(self, concurrency: int) -> None:
        self._slots = _Slots(concurrency)
        self._lock = threading.Lock()
        self._next_start = 0.0  # time.monotonic()

    @contextlib.asynccontextmanager
    async def slot(self, gap_after: float, in_flight: _Slots) -> AsyncIterator[None]:
        """A host slot and a global slot, at the host's next start; the next request of
        this host starts `gap_after` seconds later at the earliest."""
        async with self._slots.held():
            while True:
                with self._lock:
                    wait = self._next_start - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue
                await in_flight.acquire()
                with self._lock:
                    now = time.monotonic()
                    if now >= self._next_start:
                        self._next_start = now + gap_after
                        break
                in_flight.release()  # another request of this host started meanwhile
            try:
                yield
            finally:
                in_flight.release()

    def not_before(self, moment: float) -> None:
        """No request starts before `moment` (a Crawl-delay learned after robots.txt)."""
        with self._lock:
            self._next_start = max(self._next_start, moment)


class Politeness:
    """Per-host gates and the bound on requests in flight over all hosts.

    Give one to every Fetcher that may run at the same time (the flow's tasks in one process
    share `shared_politeness()`): a host is then spaced and bounded across all of them.
    """

    def __init__(self, global_concurrency: int, per_host_concurrency: int) -> None:
        self.per_host_concurrency = per_host_concurrency
        self.in_flight = _Slots(global_concurrency)
        self._gates: dict[str, _HostGate] = {}
        self._lock = threading.Lock()

    def gate(self, host: str) -> _HostGate:
        """The gate of one host (scheme://host[:port], see host_key)."""
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = self._gates[host] = _HostGate(self.per_host_concurrency)
            return gate


@functools.cache
def shared_politeness(global_concurrency: int, per_host_concurrency: int) -> Politeness:
    """The process's Politeness for these bounds, shared by every task that fetches."""
    return Politeness(global_concurrency, per_host_concurrency)


class Fetcher:
    """Async context manager owning one httpx.AsyncClient; robots.txt rules and politeness
    come in as data and shared gates, so many Fetchers (one per task) act as one crawler.

        async with Fetcher(settings, sources=sources, robots=known) as fetcher:
            pages = await fetcher.fetch_pages(candidates)
        fetcher.robots_learned   # {host: RobotsRecord} it fetched itself: hand these on

    `robots`: answers fetched earlier (by other tasks or runs), used until they expire.
    `politeness`: gates shared with other Fetchers; by default this Fetcher's own.
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        sources: Iterable[Source] = (),
        robots: Mapping[str, RobotsRecord] | None = None,
        politeness: Politeness | None = None,
        resolver: Resolver | None = None,
    ):
        """`resolver`: where host names are looked up (default: the system's, via getaddrinfo);
        the guard checks its answers and the connection goes to exactly those addresses."""
        self.settings = settings or FetchSettings()
        self._resolver = resolver
        self._guard: AddressGuard | None = None
        self._source_delay: dict[str, float] = {}
        for source in sources:
            self.register_source(source)
        self._politeness = politeness or Politeness(
            self.settings.global_concurrency, self.settings.per_host_concurrency
        )
        self._client: httpx.AsyncClient | None = None
        self._known_robots = dict(robots or {})
        self.robots_learned: dict[str, RobotsRecord] = {}
        self._robots: dict[str, Protego | errors.FetchError | None] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    def register_source(self, source: Source) -> None:
        """A source's `requests_per_second` becomes the min delay of the hosts it is fetched on."""
        if source.requests_per_second:
            self._source_delay[source.name] = 1.0 / source.requests_per_second

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        self._guard = AddressGuard(self._resolver, routes=s.resolve,
                                   allow_private=s.allow_private_hosts,
                                   timeout_s=s.connect_timeout_s)
        transport = PinnedTransport(
            self._guard,
            ssl_context=tls_context(),
            limits=httpx.Limits(max_connections=s.global_concurrency,
                                max_keepalive_connections=KEEPALIVE_CONNECTIONS),
        )
        self._client = httpx.AsyncClient(
            transport=transport,
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(
                connect=s.connect_timeout_s, read=s.read_timeout_s, write=s.read_timeout_s,
                pool=None,  # the semaphores below bound waiting; the pool never runs short
            ),
            follow_redirects=False,
        )
        return self

    async def __aexit__(self, *exc_info) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ----------------------------------------------------------------------------- public API

    async def fetch_page(
        self,
        url: str,
        source: str,
        *,
        feed_title: str | None = None,
        feed_published: datetime | None = None,
        decode: bool = True,
    ) -> FetchResult:
        """Fetch one HTML page, decoded (`html`), or without `decode` its bytes as served
        (`body`, Content-Encoding undone: the extraction worker decodes them); any failure is
        described in the result."""
        url = without_credentials(url)
        started = time.monotonic()
        fetched_at = datetime.now(UTC)
        base = {"url": url, "source": source, "fetched_at": fetched_at,
                "feed_title": feed_title, "feed_published": feed_published}
        try:
            resp = await self._fetch(url, source, accept=_accept_html,
                                     max_bytes=self.settings.max_bytes)
        except errors.FetchError as exc:
            return _error_result(exc, base, started)
        except Exception as exc:  # a bug or an httpx surprise must not sink the batch
            return _error_result(_unexpected(exc), base, started)
        content_type = resp.headers.get("content-type")
        return FetchResult(
            **base,
            final_url=resp.url,
            status_code=resp.status,
            content_type=content_type,
            html=decode_html(resp.body, content_type) if decode else None,
            body=None if decode else resp.body,
            n_bytes=len(resp.body),
            elapsed_ms=_ms_since(started),
            attempts=resp.attempts,
        )

    async def fetch_pages(self, items: Sequence[Candidate],
                          decode: bool = True) -> list[FetchResult]:
        """Fetch many pages concurrently (bounded per host and globally); results in input
        order (`decode`: as fetch_page's)."""
        return list(
            await asyncio.gather(
                *(
                    self.fetch_page(c.url, c.source, feed_title=c.title,
                                    feed_published=c.published, decode=decode)
                    for c in items
                )
            )
        )

    async def fetch_document(
        self, url: str, source: str, validators: Validators | None = None
    ) -> tuple[FetchResult, bytes | None, Validators | None, bool]:
        """Conditional GET of a feed or sitemap: (result, raw bytes, new validators, not_modified).

        A 304 gives (result, None, the validators sent, True); bytes are not decoded here.
        """
        url = without_credentials(url)
        started = time.monotonic()
        base = {"url": url, "source": source, "fetched_at": datetime.now(UTC)}
        headers = {}
        etag, last_modified = validators or (None, None)
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            resp = await self._fetch(url, source, accept=_accept_document,
                                     max_bytes=self.settings.max_document_bytes, headers=headers)
        except errors.FetchError as exc:
            return _error_result(exc, base, started), None, None, False
        except Exception as exc:
            return _error_result(_unexpected(exc), base, started), None, None, False
        result = FetchResult(
            **base,
            final_url=resp.url,
            status_code=resp.status,
            content_type=resp.headers.get("content-type"),
            n_bytes=len(resp.body),
            elapsed_ms=_ms_since(started),
            attempts=resp.attempts,
        )
        if resp.status == 304:
            return result, None, validators, True
        new = (resp.headers.get("etag"), resp.headers.get("last-modified"))
        return result, resp.body, (new if any(new) else None), False

    # ------------------------------------------------------------------------------ internals

    async def _fetch(
        self,
        url: str,
        source: str,
        *,
        accept: Callable[[str | None, str], errors.FetchError | None],
        max_bytes: int,
        headers: Mapping[str, str] | None = None,
        robots_txt: bool = False,
    ) -> _Response:
        """Follow redirects by hand, checking every hop; return the final response.

        `robots_txt`: this is the host's robots.txt, not checked against itself, and the
        request after it waits only what the host's own rules ask (see _gap_after).
        """
        current = url.strip()
        attempts = 0
        for _hop in range(self.settings.max_redirects + 1):
            await self._check_target(current, attempts)
            if not robots_txt and self.settings.obey_robots:
                await self._check_robots(current, source)
            try:
                resp = await self._request(current, source, accept, max_bytes, headers,
                                           robots_txt)
            except errors.FetchError as exc:
                exc.attempts += attempts
                raise
            attempts += resp.attempts
            resp.attempts = attempts
            location = resp.headers.get("location")
            if resp.status not in REDIRECT_STATUSES or not location:
                return resp
            current = without_credentials(urljoin(current, location.strip()))
        raise errors.TooManyRedirects(
            f"more than {self.settings.max_redirects} redirects (stopped before {current})",
            attempts=attempts, final_url=current,
        )

    async def _check_target(self, url: str, attempts: int) -> None:
        """Scheme, host and the private-address guard, before any request for `url`."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 (raises ValueError on a bad port)
        except ValueError as exc:
            raise errors.InvalidURL(f"invalid URL {url!r}: {exc}", attempts=attempts) from exc
        if parts.scheme.lower() not in ("http", "https"):
            raise errors.UnsupportedScheme(
                f"unsupported URL scheme {parts.scheme or '(none)'!r}: only http(s) is fetched",
                attempts=attempts, final_url=url,
            )
        host = (parts.hostname or "").lower()
        if not host:
            raise errors.InvalidURL(f"invalid URL {url!r}: no host", attempts=attempts)
        assert self._guard is not None, "use `async with Fetcher()`"
        try:
            await self._guard.check_url(url)
        except errors.PrivateHost as exc:
            exc.attempts, exc.final_url = attempts, url
            raise

    async def _request(
        self,
        url: str,
        source: str,
        accept: Callable[[str | None, str], errors.FetchError | None],
        max_bytes: int,
        headers: Mapping[str, str] | None,
        robots_txt: bool = False,
    ) -> _Response:
        """One URL with retries on transient failures; raises FetchError when it gives up."""
        s = self.settings
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = await self._attempt(url, source, accept, max_bytes, headers, robots_txt)
            except errors.TransientFetchError as exc:
                if attempt > s.max_retries:
                    raise type(exc)(f"{exc} ({_n_attempts(attempt)})", attempts=attempt,
                                    final_url=url) from exc
                await asyncio.sleep(self._backoff(attempt))
                continue
            except errors.FetchError as exc:
                exc.attempts = attempt
                raise
            resp.attempts = attempt
            if resp.status in RETRY_STATUSES and attempt <= s.max_retries:
                await asyncio.sleep(self._retry_delay(attempt, resp.headers))
                continue
            if resp.status >= 400:
                suffix = f" ({_n_attempts(attempt)})" if attempt > 1 else ""
                raise errors.HTTPStatusError(
                    f"HTTP {resp.status}{suffix}", attempts=attempt, status_code=resp.status,
                    final_url=url, content_type=resp.headers.get("content-type"),
                )
            return resp

    async def _attempt(
        self,
        url: str,
        source: str,
        accept: Callable[[str | None, str], errors.FetchError | None],
        max_bytes: int,
        headers: Mapping[str, str] | None,
        robots_txt: bool = False,
    ) -> _Response:
        """One request through the host gate and the global bound, body capped."""
        assert self._client is not None, "use `async with Fetcher()`"
        s = self.settings
        host = host_key(url)
        gate = self._politeness.gate(host)
        gap = self._rules_gap(source) if robots_txt else self._delay(host, source)
        async with gate.slot(gap, self._politeness.in_flight):
            try:
                async with asyncio.timeout(s.total_timeout_s):
                    return await self._exchange(url, accept, max_bytes, headers,
                                                prefix=robots_txt)
            except TimeoutError as exc:
                raise errors.TotalTimeout(
                    f"no complete response within {s.total_timeout_s} s", final_url=url
                ) from exc
            except httpx.ConnectTimeout as exc:
                raise errors.ConnectTimeout(
                    f"connect timeout after {s.connect_timeout_s} s", final_url=url
                ) from exc
            except httpx.ReadTimeout as exc:
                raise errors.ReadTimeout(
                    f"read timeout after {s.read_timeout_s} s", final_url=url
                ) from exc
            except httpx.ConnectError as exc:
                raise errors.ConnectError(
                    f"cannot connect to {urlsplit(url).netloc}: {_detail(exc)}", final_url=url
                ) from exc
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
                raise errors.ConnectionLost(
                    f"connection lost: {_detail(exc)}", final_url=url
                ) from exc
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise errors.InvalidURL(f"invalid URL {url!r}: {exc}", final_url=url) from exc
            except httpx.TimeoutException as exc:  # write/pool timeouts: rare, treat as transient
                raise errors.ReadTimeout(f"timeout: {type(exc).__name__}", final_url=url) from exc

    async def _exchange(
        self,
        url: str,
        accept: Callable[[str | None, str], errors.FetchError | None],
        max_bytes: int,
        headers: Mapping[str, str] | None,
        prefix: bool = False,
    ) -> _Response:
        """One request and its body, decoded (Content-Encoding) and capped as it arrives.

        `prefix`: a body over the cap is cut to its first `max_bytes` (robots.txt) instead of
        refused."""
        assert self._client is not None
        request = self._client.build_request("GET", url, headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            status = response.status_code
            if status in REDIRECT_STATUSES or status == 304 or status >= 400:
                return _Response(url, status, response.headers, b"", 1)
            content_type = response.headers.get("content-type")
            refused = accept(content_type, url)
            if refused is not None:
                refused.status_code = status
                refused.content_type = content_type
                raise refused
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes and not prefix:
                raise _too_large(max_bytes, url, status, content_type)
            chunks: list[bytes] = []
            truncated = False
            try:
                await _read_decoded(response, max_bytes, chunks)
            except inflate.OverCap:
                if not prefix:
                    raise _too_large(max_bytes, url, status, content_type) from None
                truncated = True
            except (inflate.UnsupportedEncoding, inflate.BadEncoding) as exc:
                raise errors.UndecodableBody(str(exc), final_url=url, status_code=status,
                                             content_type=content_type) from None
            return _Response(url, status, response.headers, b"".join(chunks), 1, truncated)
        finally:
            await response.aclose()

    def _rules_gap(self, source: str) -> float:
        """What a host's own rules ask between two requests: the source's configured rate
        (and, once robots.txt is read, its Crawl-delay: see _check_robots)."""
        return self._source_delay.get(source, 0.0)

    def _delay(self, host: str, source: str) -> float:
        """Spacing after a request to `host`: the default, the source's rate or the robots.txt
        Crawl-delay, whichever is longest."""
        return max(self.settings.min_delay_per_host_s, self._rules_gap(source),
                   self._crawl_delay(host))

    def _crawl_delay(self, host: str) -> float:
        """The host's robots.txt Crawl-delay for our user agent (capped), once it is read."""
        rules = self._robots.get(host)
        if not isinstance(rules, Protego):
            return 0.0
        return min(float(rules.crawl_delay(self.settings.user_agent) or 0.0), MAX_CRAWL_DELAY_S)

    async def _check_robots(self, url: str, source: str) -> None:
        """Raise RobotsDisallowed if the host's robots.txt forbids `url`. The rules come from
        the records this Fetcher was given, else are fetched once (and kept in robots_learned).
        """
        key = host_key(url)
        lock = self._robots_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._robots:
                record = self._known_robots.get(key)
                fresh = record is None or record.expires_at <= datetime.now(UTC)
                if fresh:
                    asked_at = time.monotonic()
                    record = await self._load_robots(url, source)
                    if isinstance(record, RobotsRecord):
                        self.robots_learned[key] = record
                self._robots[key] = _parse_robots(record)
                if fresh and (crawl := self._crawl_delay(key)):
                    self._politeness.gate(key).not_before(asked_at + crawl)
        rules = self._robots[key]
        if isinstance(rules, errors.FetchError):
            raise type(rules)(str(rules), attempts=rules.attempts, final_url=url)
        if rules is None:
            return
        if not rules.can_fetch(url, self.settings.user_agent):
            parts = urlsplit(url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            raise errors.RobotsDisallowed(f"robots.txt disallows {path or '/'}", attempts=0,
                                          final_url=url)

    async def _load_robots(self, url: str, source: str) -> RobotsRecord | errors.FetchError:
        """The host's answer as a record (rules None = allow all, after a 4xx); a FetchError
        when it could not be asked: every page of the host then fails with it.

        RFC 9309: a 4xx robots.txt means no rules; a 5xx means assume full disallow. An
        unreachable host stays unreachable for this Fetcher (its error is reused, not
        re-tried); errors are never handed on, so the next task or run asks again.
        """
        parts = urlsplit(url)
        key = host_key(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        fetched_at = datetime.now(UTC)
        try:
            resp = await self._fetch(robots_url, source, accept=_accept_any,
                                     max_bytes=ROBOTS_MAX_BYTES, robots_txt=True)
        except errors.HTTPStatusError as exc:
            if exc.status_code is not None and exc.status_code < 500:
                return self._robots_record(key, fetched_at, exc.status_code, None, None)
            return errors.RobotsDisallowed(
                f"robots.txt unavailable ({exc}); assuming disallow (RFC 9309)",
                attempts=exc.attempts,
            )
        except errors.FetchError as exc:
            return type(exc)(f"robots.txt: {exc}", attempts=exc.attempts)
        body = resp.body
        if resp.truncated:  # RFC 9309: parse the first 500 KiB; a cut last line is no rule
            body = body[: body.rfind(b"\n") + 1]
        text = body.decode("utf-8", errors="replace")
        return self._robots_record(key, fetched_at, resp.status, text,
                                   resp.headers.get("cache-control"))

    def _robots_record(self, host: str, fetched_at: datetime, status: int | None,
                       rules: str | None, cache_control: str | None) -> RobotsRecord:
        max_age = self.settings.robots_max_age_s
        asked = _MAX_AGE.search(cache_control or "")
        if asked:
            max_age = min(max_age, float(asked.group(1)))
        return RobotsRecord(host=host, fetched_at=fetched_at,
                            expires_at=fetched_at + timedelta(seconds=max_age),
                            status_code=status, rules=rules)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with 'equal jitter': half fixed, half random."""
        s = self.settings
        ceiling = min(s.backoff_cap_s, s.backoff_base_s * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _retry_delay(self, attempt: int, headers: httpx.Headers) -> float:
        """Retry-After (seconds or HTTP date) when given, capped; else backoff."""
        value = (headers.get("retry-after") or "").strip()
        seconds: float | None = None
        if value.isdigit():
            seconds = float(value)
        elif value:
            try:
                seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
            except (TypeError, ValueError):
                seconds = None
        if seconds is None:
            return self._backoff(attempt)
        return max(0.0, min(seconds, self.settings.retry_after_cap_s))


# ----------------------------------------------------------------------------------- helpers


def _accept_html(content_type: str | None, url: str) -> errors.FetchError | None:
    """Pages must be HTML; a missing type is given the benefit of the doubt."""
    mime = _mime(content_type)
    if not mime or mime in HTML_TYPES:
        return None
    return errors.NotHTML(f"not an HTML page: {mime}", final_url=url)


def _accept_document(content_type: str | None, url: str) -> errors.FetchError | None:
    mime = _mime(content_type)
    if mime.startswith(NOT_FEED_PREFIXES):
        return errors.NotFeed(f"not a feed or sitemap: {mime}", final_url=url)
    return None


def _accept_any(content_type: str | None, url: str) -> errors.FetchError | None:
    return None


async def _read_decoded(response: httpx.Response, max_bytes: int, out: list[bytes]) -> None:
    """The body into `out`, decoded through its Content-Encoding layers as it arrives; raises
    inflate.OverCap once the raw or the decoded body passes the cap (inflate.py)."""
    decoder = inflate.BoundedDecoder(inflate.encodings_of(
        response.headers.get("content-encoding")), max_bytes)
    raw_size = 0
    async for raw in response.aiter_raw():
        raw_size += len(raw)
        if raw_size > max_bytes + inflate.STEP:  # still encoded: a little over is fine
            raise inflate.OverCap(f"raw body exceeds {max_bytes} bytes")
        decoder.feed(raw, out)
    decoder.finish(out)


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _too_large(max_bytes: int, url: str, status: int, content_type: str | None) -> errors.TooLarge:
    return errors.TooLarge(f"body exceeds {describe_bytes(max_bytes)} cap", final_url=url,
                           status_code=status, content_type=content_type)




def host_key(url: str) -> str:
    """scheme://host[:port] of a URL: the key of its robots.txt and of its politeness gate."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)", re.IGNORECASE)


def _parse_robots(record: RobotsRecord | errors.FetchError) -> Protego | errors.FetchError | None:
    """A record's rules, parsed (None: no rules); a fetch error stays what it is."""
    if isinstance(record, errors.FetchError):
        return record
    if record.rules is None:
        return None
    try:
        return Protego.parse(record.rules)
    except Exception:  # unparseable rules are no rules
        return None


def _detail(exc: Exception) -> str:
    """httpx often raises with an empty message; say what kind of failure it was."""
    return str(exc) or {
        "ReadError": "connection reset by the server",
        "RemoteProtocolError": "server closed the connection without a complete response",
        "WriteError": "connection reset while sending",
        "ConnectError": "connection refused",
    }.get(type(exc).__name__, type(exc).__name__)


def _n_attempts(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _unexpected(exc: Exception) -> errors.FetchError:
    err = errors.FetchError(f"unexpected {type(exc).__name__}: {exc}")
    return err


def _error_result(exc: errors.FetchError, base: dict, started: float) -> FetchResult:
    return FetchResult(
        **base,
        final_url=exc.final_url,
        status_code=exc.status_code,
        content_type=exc.content_type,
        error_class=type(exc).__name__,
        error=str(exc),
        elapsed_ms=_ms_since(started),
        attempts=exc.attempts,
    )
