"""Fetcher and discovery against a real, misbehaving local server (tests/faultserver.py).

No mocks: every outcome below is what httpx and our code made of real bytes on a real socket.
Timeouts are small (0.5 s) so the whole file runs in a few seconds.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from extractors.fetch.discover import discover_source, merge_candidates
from extractors.fetch.http import Fetcher, FetchSettings, decode_html
from extractors.models import Candidate, Source
from tests.faultserver import FEED_ETAG, FEED_LAST_MODIFIED, HUGE_BYTES, LATIN1_TEXT, FaultServer


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def fresh_log(server: FaultServer) -> None:
    with server.lock:
        server.hits.clear()


@pytest.fixture()
def fast(server: FaultServer) -> FetchSettings:
    return FetchSettings(
        min_delay_per_host_s=0.0,
        connect_timeout_s=0.5, read_timeout_s=0.5, total_timeout_s=1.5, max_retries=2,
        backoff_base_s=0.01, backoff_cap_s=0.05, allow_private_hosts=True,
        resolve={"outlet-a.test": f"127.0.0.1:{server.port}",
                 "outlet-b.test": f"127.0.0.1:{server.port}"},
    )


def run(settings: FetchSettings, work, sources=()):
    async def main():
        async with Fetcher(settings, sources=sources) as fetcher:
            return await work(fetcher)

    return asyncio.run(main())


def test_every_fault_gets_its_exact_outcome_and_good_pages_all_come_back(
    server: FaultServer, fast: FetchSettings
) -> None:
    b, key = server.base, uuid.uuid4().hex
    expected = {  # url -> (error_class, error) ; None = a page
        f"{b}/flaky?key={key}&fails=1": None,
        f"{b}/flaky?key={key}x&fails=9": ("HTTPStatusError", "HTTP 500 (3 attempts)"),
        f"{b}/ratelimited?key={key}": None,
        f"{b}/hang?sleep=2": ("ReadTimeout", "read timeout after 0.5 s (3 attempts)"),
        f"{b}/drip": ("TotalTimeout", "no complete response within 1.5 s"),
        f"{b}/reset": ("ConnectionLost", "connection lost: connection reset by the server "
                                         "(3 attempts)"),
        f"{b}/huge": ("TooLarge", "body exceeds 5 MiB cap"),
        f"{b}/pdf": ("NotHTML", "not an HTML page: application/pdf"),
        f"{b}/latin1": None,
        f"{b}/meta-charset": None,
        f"{b}/loop/a": ("TooManyRedirects", f"more than 5 redirects (stopped before {b}/loop/a)"),
        f"{b}/redirect?to=/page/landed": None,
        f"{b}/private/x?y=1": ("RobotsDisallowed", "robots.txt disallows /private/x?y=1"),
        "ftp://outlet-a.test/file": ("UnsupportedScheme",
                                     "unsupported URL scheme 'ftp': only http(s) is fetched"),
        f"{b}/nothing": ("HTTPStatusError", "HTTP 404"),
        "http://outlet-a.test/page/routed": None,
    }
    good = [f"{b}/page/good-{i}" for i in range(8)]
    urls = good[:4] + list(expected) + good[4:]
    items = [Candidate(u, "fault", "list", title=f"t{i}") for i, u in enumerate(urls)]

    results = run(fast, lambda f: f.fetch_pages(items))

    assert [r.url for r in results] == urls  # input order
    assert [r.feed_title for r in results] == [f"t{i}" for i in range(len(urls))]
    by_url = {r.url: r for r in results}
    for url in good:
        page = by_url[url]
        assert page.ok and page.status_code == 200 and page.attempts == 1
        assert f"Body of {url.rsplit('/', 1)[1]}." in page.html
    for url, outcome in expected.items():
        r = by_url[url]
        got = None if r.ok else (r.error_class, r.error)
        assert got == outcome, url
    assert by_url[f"{b}/flaky?key={key}&fails=1"].attempts == 2
    assert LATIN1_TEXT in by_url[f"{b}/latin1"].html
    assert f"{LATIN1_TEXT} \u20ac" in by_url[f"{b}/meta-charset"].html
    assert by_url[f"{b}/redirect?to=/page/landed"].final_url == f"{b}/page/landed"
    assert by_url[f"{b}/nothing"].status_code == 404
    assert by_url[f"{b}/huge"].n_bytes == 0 and by_url[f"{b}/huge"].html is None

    # Server side: the client gave up early, was never rude, and honoured Retry-After.
    assert server.huge_sent < HUGE_BYTES / 2
    assert server.hits_for("/private/") == []
    assert len(server.hits_for("/nothing")) == 1  # a 404 is not retried
    assert len(server.hits_for("/pdf")) == 1  # nor a PDF
    limited = server.hits_for(f"/ratelimited?key={key}")
    assert len(limited) == 2 and limited[1].arrived - limited[0].arrived >= 0.95
    robots = server.hits_for("/robots.txt")
    assert sorted(h.host for h in robots) == sorted([f"127.0.0.1:{server.port}", "outlet-a.test"])
    assert [h.host for h in server.hits_for("/page/routed")] == ["outlet-a.test"]


def test_declared_oversize_body_is_refused_before_reading(
    server: FaultServer, fast: FetchSettings
) -> None:
    small = replace(fast, max_bytes=1000)
    results = run(small, lambda f: f.fetch_pages([
        Candidate(f"{server.base}/huge?declared=1", "s", "list"),
        Candidate(f"{server.base}/page/small", "s", "list"),
    ]))
    assert (results[0].error_class, results[0].error) == ("TooLarge", "body exceeds 1000 bytes cap")
    assert results[1].ok  # a ~150-byte page fits: the cap is not "refuse everything"
    assert server.huge_sent < HUGE_BYTES / 2


def test_private_hosts_are_refused_unless_allowed(server: FaultServer, fast: FetchSettings) -> None:
    strict = replace(fast, allow_private_hosts=False)
    direct = f"{server.base}/page/x"
    via_redirect = f"http://outlet-a.test/redirect?to={server.base}/page/y"
    results = run(strict, lambda f: f.fetch_pages([
        Candidate(direct, "s", "list"), Candidate(via_redirect, "s", "list"),
        Candidate("http://outlet-a.test/page/fine", "s", "list"),
    ]))
    message = "refusing host 127.0.0.1: a loopback address (allow_private_hosts is off)"
    assert [(r.error_class, r.error) for r in results[:2]] == [("PrivateHost", message)] * 2
    assert results[2].ok
    assert server.hits_for("/page/x") == [] and server.hits_for("/page/y") == []


def test_unreachable_host_fails_fast_with_clear_error(fast: FetchSettings) -> None:
    results = run(fast, lambda f: f.fetch_pages([
        Candidate("http://127.0.0.1:9/page/1", "s", "list"),
        Candidate("http://127.0.0.1:9/page/2", "s", "list"),
    ]))
    for r in results:
        assert r.error_class == "ConnectError"
        assert r.error.startswith("robots.txt: cannot connect to 127.0.0.1:9: ")
        assert r.error.endswith("(3 attempts)")


def _max_overlap(hits) -> int:
    events = sorted([(h.arrived, 1) for h in hits] + [(h.finished, -1) for h in hits])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def test_politeness_measured_on_the_server(server: FaultServer, fast: FetchSettings) -> None:
    """Host A: a source at 5 requests/s -> starts >= 0.2 s apart. Host B: no delay, slow pages
    -> never more than 2 in flight (and 2 is reached). Both run in one batch, side by side."""
    settings = replace(fast, per_host_concurrency=2, global_concurrency=8)
    slow_source = Source(name="slow", requests_per_second=5.0)
    items = [Candidate(f"http://outlet-a.test/page/a{i}", "slow", "list") for i in range(6)]
    items += [Candidate(f"http://outlet-b.test/page/b{i}?sleep=0.2", "quick", "list")
              for i in range(8)]

    results = run(settings, lambda f: f.fetch_pages(items), sources=[slow_source])

    assert all(r.ok for r in results)
    a_hits = [h for h in server.hits_for("/page/a") if h.host == "outlet-a.test"]
    b_hits = [h for h in server.hits_for("/page/b") if h.host == "outlet-b.test"]
    assert len(a_hits) == 6 and len(b_hits) == 8
    starts = sorted(h.arrived for h in a_hits)
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.2 - 0.05, gaps  # tolerance: thread scheduling on a busy machine
    assert _max_overlap(a_hits) <= 2
    assert _max_overlap(b_hits) == 2
    b_span = max(h.finished for h in b_hits) - min(h.arrived for h in b_hits)
    assert b_span >= 4 * 0.2 - 0.05  # 8 pages of 0.2 s, 2 at a time
    # the hosts ran side by side: B did not queue behind A's spacing
    assert min(h.arrived for h in b_hits) < max(h.arrived for h in a_hits) - 0.5


def test_conditional_get_of_a_feed(server: FaultServer, fast: FetchSettings) -> None:
    url = f"{server.base}/feed/etag"

    async def twice(fetcher: Fetcher):
        first = await fetcher.fetch_document(url, "s", None)
        second = await fetcher.fetch_document(url, "s", first[2])
        media = await fetcher.fetch_document(f"{server.base}/pdf", "s", None)
        return first, second, media

    (r1, body1, val1, nm1), (r2, body2, val2, nm2), (r3, body3, _, _) = run(fast, twice)
    assert r1.status_code == 200 and not nm1 and body1.startswith(b"<?xml")
    assert val1 == (FEED_ETAG, FEED_LAST_MODIFIED)
    assert r2.status_code == 304 and nm2 and body2 is None and val2 == val1
    assert r2.error_class is None
    assert (r3.error_class, r3.error, body3) == ("NotFeed", "not a feed or sitemap: "
                                                 "application/pdf", None)


def test_decode_html_order_of_evidence() -> None:
    latin = f"<p>{LATIN1_TEXT}</p>".encode("latin-1")
    assert decode_html(latin, "text/html") == f"<p>{LATIN1_TEXT}</p>"
    assert decode_html("<p>déjà</p>".encode(), None) == "<p>déjà</p>"
    # the header wins over the meta tag; a bogus header charset falls through to the meta tag
    koi = "<meta charset='koi8-r'><p>Привет</p>".encode("koi8-r")
    assert decode_html(koi, "text/html; charset=koi8-r") == "<meta charset='koi8-r'><p>Привет</p>"
    assert decode_html(koi, "text/html; charset=nonsense") == \
        "<meta charset='koi8-r'><p>Привет</p>"
    assert decode_html("\ufeff<p>ü</p>".encode(), "text/html; charset=latin-1") == "<p>ü</p>"


# ------------------------------------------------------------------------------ discovery


def test_discover_source_merges_filters_and_reports(server: FaultServer, fast: FetchSettings):
    a = "http://outlet-a.test"
    source = Source(
        name="a",
        feeds=(f"{a}/feed/etag", f"{a}/feed/malformed", f"{a}/feed/missing"),
        sitemaps=(f"{a}/sitemap/index.xml", f"{a}/sitemap/truncated"),
        urls=(f"{a}/news/first?utm_medium=email", f"{a}/news/listed"),
    )
    since = datetime(2026, 10, 1, tzinfo=UTC)

    found = run(fast, lambda f: discover_source(f, source, since=since, validators={}))

    by_url = {c.url: c for c in found.candidates}
    # Discovery drops no entry for its date (the ledger decides: extractors/fetch/ledger.py)
    assert set(by_url) == {f"{a}/news/{n}" for n in
                           ("first", "listed", "second", "one", "two", "three", "third",
                            "fourth", "ancient")}
    # richest metadata wins: the feed's title and date replace the bare URL-list entry
    assert by_url[f"{a}/news/first"] == Candidate(
        f"{a}/news/first", "a", "feed", title="First & good",
        published=datetime(2026, 11, 1, 9, tzinfo=UTC))
    assert by_url[f"{a}/news/listed"].via == "list"
    assert by_url[f"{a}/news/fourth"].published == datetime(2026, 11, 4, 7, tzinfo=UTC)
    assert by_url[f"{a}/news/ancient"].updated == datetime(2001, 1, 1, tzinfo=UTC)
    assert server.hits_for("/sitemap/old.xml") == []  # child lastmod 2001 < since: not fetched
    # Each document read in full lists its own entries (sitemap indexes list none)
    reads = {r.url.removeprefix(a): (r.kind, [e.url.removeprefix(a) for e in r.entries])
             for r in found.reads}
    assert reads == {
        "/feed/etag": ("feed", ["/news/first", "/news/second"]),
        "/feed/malformed": ("feed", ["/news/one", "/news/two", "/news/three"]),
        "/sitemap/truncated": ("sitemap", ["/news/second"]),
        "/sitemap/news.xml": ("sitemap", ["/news/second", "/news/third", "/news/ancient"]),
        "/sitemap/more.xml.gz": ("sitemap", ["/news/fourth"]),
    }

    fetched = sorted(d.url.removeprefix(a) for d in found.documents)
    assert fetched == sorted(["/feed/etag", "/feed/malformed", "/feed/missing",
                              "/sitemap/index.xml", "/sitemap/truncated",
                              "/sitemap/news.xml", "/sitemap/more.xml.gz"])
    assert found.validators == {f"{a}/feed/etag": (FEED_ETAG, FEED_LAST_MODIFIED)}
    assert any(e.startswith(f"{a}/feed/malformed: malformed feed") for e in found.errors)
    assert f"{a}/sitemap/truncated: malformed or truncated XML: no closing </urlset>; kept " \
        "complete entries only" in found.errors
    assert f"{a}/feed/missing: HTTP 404" in found.errors

    # Second run with the stored validators: the unchanged feed answers 304 and yields nothing.
    again = run(fast, lambda f: discover_source(
        f, replace(source, feeds=(f"{a}/feed/etag",), sitemaps=()), since=None,
        validators=found.validators))
    assert [c.via for c in again.candidates] == ["list", "list"]
    assert [d.status_code for d in again.documents] == [304]
    assert again.validators == {} and again.errors == [] and again.reads == []


def test_a_child_sitemap_still_listed_with_its_handled_lastmod_is_not_fetched(
    server: FaultServer, fast: FetchSettings
) -> None:
    a = "http://outlet-a.test"
    source = Source(name="i", sitemaps=(f"{a}/sitemap/index.xml",))
    since = datetime(2026, 10, 1, tzinfo=UTC)
    first = run(fast, lambda f: discover_source(f, source, since=since, validators={}))
    assert first.listed == {f"{a}/sitemap/more.xml.gz": datetime(2026, 11, 4, tzinfo=UTC)}
    assert len(server.hits_for("/sitemap/more.xml.gz")) == 1

    again = run(fast, lambda f: discover_source(f, source, since=since, validators={},
                                                listed=first.listed))
    assert len(server.hits_for("/sitemap/more.xml.gz")) == 1  # same lastmod: not asked again
    assert len(server.hits_for("/sitemap/news.xml")) == 2  # no lastmod: asked every time
    assert f"{a}/news/fourth" not in {c.url for c in again.candidates}
    changed = {f"{a}/sitemap/more.xml.gz": datetime(2026, 11, 3, tzinfo=UTC)}
    run(fast, lambda f: discover_source(f, source, since=since, validators={}, listed=changed))
    assert len(server.hits_for("/sitemap/more.xml.gz")) == 2


def test_sitemap_index_nesting_is_bounded(server: FaultServer, fast: FetchSettings) -> None:
    source = Source(name="n", sitemaps=("http://outlet-a.test/sitemap/nest?d=0",))
    found = run(fast, lambda f: discover_source(f, source, since=None, validators={}))
    assert [h.path for h in server.hits_for("/sitemap/nest")] == [
        "/sitemap/nest?d=0", "/sitemap/nest?d=1", "/sitemap/nest?d=2"]
    assert found.errors == ["http://outlet-a.test/sitemap/nest?d=2: sitemap index nested deeper "
                            "than 2 levels; not followed"]
    assert found.validators == {}  # indexes are always re-read


def test_merge_candidates_borrows_missing_fields() -> None:
    when = datetime(2026, 11, 2, tzinfo=UTC)
    merged = merge_candidates([
        Candidate("https://a.test/x?utm_source=1", "a", "list"),
        Candidate("https://a.test/x#frag", "a", "sitemap", published=when),
        Candidate("https://A.test/x", "a", "feed", title="X"),
        Candidate("https://a.test/y", "a", "list"),
    ])
    assert merged == [
        Candidate("https://a.test/x", "a", "sitemap", title="X", published=when),
        Candidate("https://a.test/y", "a", "list"),
    ]


def test_retry_after_is_honoured_but_capped() -> None:
    fetcher = Fetcher(FetchSettings(retry_after_cap_s=2.0, backoff_base_s=0.4, backoff_cap_s=1.0))
    assert fetcher._retry_delay(1, httpx.Headers({"retry-after": "1"})) == 1.0
    assert fetcher._retry_delay(1, httpx.Headers({"retry-after": "3600"})) == 2.0
    past = httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert fetcher._retry_delay(1, past) == 0.0  # a date in the past: retry now
    for attempt in range(1, 8):  # no header: jittered backoff within [ceiling/2, ceiling]
        ceiling = min(1.0, 0.4 * 2 ** (attempt - 1))
        assert ceiling / 2 <= fetcher._retry_delay(attempt, httpx.Headers()) <= ceiling


def test_invalid_urls_are_results_not_exceptions(fast: FetchSettings) -> None:
    urls = ["http://[abc/x", "http://x.test:99999/", "http:///nohost", "mailto:desk@a.test"]
    results = run(fast, lambda f: f.fetch_pages([Candidate(u, "s", "list") for u in urls]))
    assert [(r.error_class, r.error) for r in results] == [
        ("InvalidURL", "invalid URL 'http://[abc/x': Invalid IPv6 URL"),
        ("InvalidURL", "invalid URL 'http://x.test:99999/': Port out of range 0-65535"),
        ("InvalidURL", "invalid URL 'http:///nohost': no host"),
        ("UnsupportedScheme", "unsupported URL scheme 'mailto': only http(s) is fetched"),
    ]


def test_robots_rules_handed_on_as_data_are_read_once_per_host():
    """Batches each open a Fetcher; handing each the robots.txt answers the earlier ones
    learned (as the flow does), robots.txt is read once per host."""
    from demosite.server import DemoSite
    from demosite.truth import expected_articles
    from extractors.fetch.http import Fetcher, FetchSettings
    from extractors.models import Candidate

    urls = [a.canonical_url for a in expected_articles() if a.outlet == "outlet-a.test"][:3]
    with DemoSite() as site:
        settings = FetchSettings(resolve=site.resolve_map, min_delay_per_host_s=0.0)
        known: dict = {}

        async def one_batch(url: str):
            async with Fetcher(settings, robots=known) as fetcher:
                pages = await fetcher.fetch_pages([Candidate(url, "A", "list")])
            known.update(fetcher.robots_learned)
            return pages

        results = [asyncio.run(one_batch(url))[0] for url in urls]
        robots = [e for e in site.request_log if e[2] == "/robots.txt"]
    assert all(r.ok for r in results)
    assert len(robots) == 1
    [record] = known.values()
    assert record.host == "http://outlet-a.test" and record.rules
    assert record.expires_at - record.fetched_at <= timedelta(hours=24)
