"""Polite, fault-tolerant HTTP fetching: every URL ends as a FetchResult, never an exception.

One `Fetcher` owns one shared httpx.AsyncClient. Each request passes a per-host gate (at most
`per_host_concurrency` in flight, starts at least the host's min delay apart) and a global
semaphore; robots.txt is fetched once per host and obeyed; transient failures (connect errors,
timeouts, resets, 408/429/5xx) are retried with capped exponential backoff and jitter,
honouring Retry-After. Bodies are streamed and cut at a byte cap. Redirects are followed by
hand so each hop is checked (scheme, private address, robots) and loops end cleanly.

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
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import httpx
from protego import Protego

from extractors.fetch import errors
from extractors.fetch.guard import AddressGuard, PinnedTransport, Resolver
from extractors.fetch.urls import without_credentials
from extractors.models import Candidate, FetchResult, Source

MiB = 1024 * 1024
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Feed/sitemap URLs may answer with any XML, text or gzip type; these never hold one.
NOT_FEED_PREFIXES = ("image/", "audio/", "video/", "font/", "application/pdf")
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: parse at least 500 KiB
MAX_CRAWL_DELAY_S = 30.0  # a robots Crawl-delay above this would stall a run; cap it

Validators = tuple[str | None, str | None]  # (ETag, Last-Modified)


@dataclass(frozen=True)
class FetchSettings:
    """How to fetch; the flow builds one from its settings, tests build small-timeout ones.

    `max_retries` counts retries after the first attempt (3 -> up to 4 attempts).
    `min_delay_per_host_s` is 0 by default (tests, benchmarks); real runs should pass >= 1.0
    (see RECOMMENDED_MIN_DELAY_S) unless a source sets `requests_per_second`.
    """

    user_agent: str = "newsmon/0.1 (+https://github.com/newsmon/newsmon)"
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0  # longest silence between two received chunks
    total_timeout_s: float = 30.0  # one attempt, headers to last byte (stops slow drips)
    max_retries: int = 3
    backoff_base_s: float = 0.5  # retry n waits ~base * 2**(n-1), jittered, at most the cap
    backoff_cap_s: float = 10.0
    retry_after_cap_s: float = 30.0  # a server asking for an hour gets this much
    max_redirects: int = 5
    max_bytes: int = 5 * MiB  # pages
    max_document_bytes: int = 50 * MiB  # feeds and sitemaps (the sitemap protocol's limit)
    global_concurrency: int = 16
    per_host_concurrency: int = 2
    min_delay_per_host_s: float = 0.0  # between request starts on one host
    obey_robots: bool = True
    # Trusted operator settings (never from feeds): "host[:port]" -> "ip:port" connects there
    # unchecked; allow_private_hosts turns the private-address guard's refusals off.
    resolve: Mapping[str, str] = field(default_factory=dict)
    allow_private_hosts: bool = False


RECOMMENDED_MIN_DELAY_S = 1.0


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


class _HostGate:
    """At most `concurrency` requests in flight to one host, starts `delay` seconds apart."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._spacing = asyncio.Lock()
        self._next_start = 0.0
        self.delay = delay

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._slots:
            async with self._spacing:
                loop = asyncio.get_running_loop()
                wait = self._next_start - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._next_start = loop.time() + self.delay
            yield


class RobotsCache:
    """robots.txt rules shared by the Fetchers of one process (one per batch), for `ttl_s`.

    Keyed by host and by where the host is routed, so a test server on another port is never
    answered from a previous one's rules. Only answers are kept (rules, or "no rules" for a
    4xx); a failed robots.txt fetch is tried again by the next Fetcher.
    """

    def __init__(self, ttl_s: float = 3600.0) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[tuple[str, str], tuple[float, Protego | None]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> tuple[bool, Protego | None]:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self.ttl_s:
            return False, None
        return True, entry[1]

    def put(self, key: tuple[str, str], rules: Protego | None) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic(), rules)


class Fetcher:
    """Async context manager owning one httpx.AsyncClient, robots cache and politeness gates.

        async with Fetcher(settings, sources=sources) as fetcher:
            pages = await fetcher.fetch_pages(candidates)
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        sources: Iterable[Source] = (),
        robots_cache: RobotsCache | None = None,
        resolver: Resolver | None = None,
    ):
        """`resolver`: where host names are looked up (default: the system's, via getaddrinfo);
        the guard checks its answers and the connection goes to exactly those addresses."""
        self.settings = settings or FetchSettings()
        self._resolver = resolver
        self._guard: AddressGuard | None = None
        self._shared_robots = robots_cache
        self._source_delay: dict[str, float] = {}
        for source in sources:
            self.register_source(source)
        self._client: httpx.AsyncClient | None = None
        self._global: asyncio.Semaphore | None = None
        self._gates: dict[str, _HostGate] = {}
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
            limits=httpx.Limits(
                max_connections=s.global_concurrency, max_keepalive_connections=s.global_concurrency
            ),
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
        self._global = asyncio.Semaphore(s.global_concurrency)
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
    ) -> FetchResult:
        """Fetch one HTML page, decoded; any failure is described in the result."""
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
            html=decode_html(resp.body, content_type),
            n_bytes=len(resp.body),
            elapsed_ms=_ms_since(started),
            attempts=resp.attempts,
        )

    async def fetch_pages(self, items: Sequence[Candidate]) -> list[FetchResult]:
        """Fetch many pages concurrently (bounded per host and globally); results in input order."""
        return list(
            await asyncio.gather(
                *(
                    self.fetch_page(c.url, c.source, feed_title=c.title, feed_published=c.published)
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
        check_robots: bool = True,
    ) -> _Response:
        """Follow redirects by hand, checking every hop; return the final response."""
        current = url.strip()
        attempts = 0
        for _hop in range(self.settings.max_redirects + 1):
            await self._check_target(current, attempts)
            if check_robots and self.settings.obey_robots:
                await self._check_robots(current, source)
            try:
                resp = await self._request(current, source, accept, max_bytes, headers)
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
    ) -> _Response:
        """One URL with retries on transient failures; raises FetchError when it gives up."""
        s = self.settings
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = await self._attempt(url, source, accept, max_bytes, headers)
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
    ) -> _Response:
        """One request through the host gate and the global semaphore, body capped."""
        assert self._client is not None and self._global is not None, "use `async with Fetcher()`"
        s = self.settings
        async with self._gate(url, source).slot(), self._global:
            try:
                async with asyncio.timeout(s.total_timeout_s):
                    return await self._exchange(url, accept, max_bytes, headers)
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
    ) -> _Response:
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
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(max_bytes, url, status, content_type)
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(max_bytes, url, status, content_type)
                chunks.append(chunk)
            return _Response(url, status, response.headers, b"".join(chunks), 1)
        finally:
            await response.aclose()

    def _gate(self, url: str, source: str) -> _HostGate:
        key = _host_key(url)
        delay = max(self.settings.min_delay_per_host_s, self._source_delay.get(source, 0.0))
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = _HostGate(self.settings.per_host_concurrency, delay)
        gate.delay = max(gate.delay, delay)
        return gate

    async def _check_robots(self, url: str, source: str) -> None:
        """Raise RobotsDisallowed if the host's robots.txt (fetched once) forbids `url`."""
        key = _host_key(url)
        lock = self._robots_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._robots:
                shared_key = (key, self.settings.resolve.get(urlsplit(url).hostname or "", ""))
                cached, rules = (
                    self._shared_robots.get(shared_key) if self._shared_robots else (False, None)
                )
                if not cached:
                    rules = await self._load_robots(url, source)
                    if self._shared_robots is not None and not isinstance(
                        rules, errors.FetchError
                    ):
                        self._shared_robots.put(shared_key, rules)
                self._robots[key] = rules
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
        delay = rules.crawl_delay(self.settings.user_agent)
        if delay:
            gate = self._gate(url, source)
            gate.delay = max(gate.delay, min(float(delay), MAX_CRAWL_DELAY_S))

    async def _load_robots(self, url: str, source: str) -> Protego | errors.FetchError | None:
        """Parsed rules; None = allow all (4xx); a FetchError = every page of the host fails.

        RFC 9309: a 4xx robots.txt means no rules; a 5xx means assume full disallow. An
        unreachable host stays unreachable for the run (its error is reused, not re-tried).
        """
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        try:
            resp = await self._fetch(robots_url, source, accept=_accept_any,
                                     max_bytes=ROBOTS_MAX_BYTES, check_robots=False)
        except errors.HTTPStatusError as exc:
            if exc.status_code is not None and exc.status_code < 500:
                return None
            return errors.RobotsDisallowed(
                f"robots.txt unavailable ({exc}); assuming disallow (RFC 9309)",
                attempts=exc.attempts,
            )
        except errors.TooLarge:
            return None
        except errors.FetchError as exc:
            return type(exc)(f"robots.txt: {exc}", attempts=exc.attempts)
        text = resp.body.decode("utf-8", errors="replace")
        try:
            return Protego.parse(text)
        except Exception:  # unparseable rules are no rules
            return None

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


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _too_large(max_bytes: int, url: str, status: int, content_type: str | None) -> errors.TooLarge:
    size = f"{max_bytes / MiB:g} MiB" if max_bytes >= MiB else f"{max_bytes} bytes"
    return errors.TooLarge(f"body exceeds {size} cap", final_url=url, status_code=status,
                           content_type=content_type)


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)


def decode_html(body: bytes, content_type: str | None) -> str:
    """Decode a page: BOM, then the header charset, then <meta charset>/http-equiv, then UTF-8
    if it is valid, then charset_normalizer's guess (cp1252 as the last resort)."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace").lstrip("\ufeff")
    declared = []
    if content_type and "charset=" in content_type.lower():
        value = content_type.lower().split("charset=", 1)[1].split(";")[0]
        declared.append(value.strip().strip("\"'"))
    match = _META_CHARSET.search(body[:4096])
    if match:
        declared.append(match.group(1).decode("ascii").lower())
    for name in declared:
        try:
            return body.decode(_WHATWG_ALIASES.get(name, name), errors="replace")
        except LookupError:
            continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return body.decode(_guess_encoding(body), errors="replace")


def _guess_encoding(body: bytes) -> str:
    """charset_normalizer's pick, except that windows-1252 wins when it is nearly as plausible:
    on short Western texts the detector wavers between Latin code pages (café -> cafĂ©), and
    windows-1252 is what browsers assume for undeclared pages."""
    matches = list(charset_normalizer.from_bytes(body))
    if not matches:
        return "cp1252"
    best = matches[0]
    for match in matches:
        if match.encoding in ("cp1252", "latin_1", "iso8859_15") and (
            match.chaos <= best.chaos + 0.1
        ):
            return "cp1252"
    return best.encoding


# Browsers (WHATWG Encoding) read these labels as their supersets; so must we.
_WHATWG_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
                   "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-9": "cp1254",
                   "tis-620": "cp874", "gb2312": "gb18030", "gbk": "gb18030"}


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


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
