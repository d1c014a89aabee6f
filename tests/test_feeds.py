"""Feed and sitemap parsing on real documents (tests/fixtures/feeds, see README there)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.fetch.feeds import ChildSitemap, parse_feed, parse_sitemap
from extractors.models import Candidate

FEEDS = Path(__file__).parent / "fixtures" / "feeds"


def read(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def test_guardian_rss() -> None:
    parsed = parse_feed(read("guardian.rss"), "https://www.theguardian.com/rss", "guardian")
    assert parsed.error is None
    assert parsed.title == "The Guardian"
    assert len(parsed.candidates) == 55
    first = parsed.candidates[0]
    assert first == Candidate(
        url="https://www.theguardian.com/us-news/2018/jan/31/"
            "donald-trump-state-of-the-union-address-unity-discord",
        source="guardian",
        via="feed",
        title="Trump State of the Union address promised unity but emphasized discord",
        published=datetime(2018, 1, 31, 7, 26, 5, tzinfo=UTC),
        updated=datetime(2018, 1, 31, 7, 26, 5, tzinfo=UTC),  # its dc:date
    )
    assert all(c.published and c.published.tzinfo == UTC for c in parsed.candidates)


def test_atom_feed_dates_become_utc() -> None:
    parsed = parse_feed(read("heise.atom"), "https://www.heise.de/developer/rss/news-atom.xml", "h")
    assert parsed.error is None and len(parsed.candidates) == 15
    first = parsed.candidates[0]
    assert first.title == "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei"
    assert first.published is not None and first.published.utcoffset().total_seconds() == 0
    # <published> and <updated> are kept apart; the Atom id recognises the entry by itself
    assert first.published == datetime(2016, 2, 1, 16, 22, tzinfo=UTC)
    assert first.updated == datetime(2016, 2, 1, 16, 54, 50, tzinfo=UTC)
    assert first.guid == "http://heise.de/-3088438"


def test_declared_iso_8859_1_feed_decodes() -> None:
    parsed = parse_feed(read("encoding.rss"), "http://feeds.jn.pt/JN-ULTIMAS", "jn")
    assert parsed.title == "Jornal de Notícias - Últimas Notícias"
    assert parsed.candidates[0].title == "Mãe de utente é a nova presidente da Raríssimas"


def test_truncated_feed_keeps_readable_entries_and_reports() -> None:
    parsed = parse_feed(read("InvalidDateFormat.xml"), "http://example.com/feed", "x")
    assert parsed.error is not None and parsed.error.startswith("malformed feed:")
    assert [c.url for c in parsed.candidates] == ["http://example.com/item0",
                                                   "http://example.com/item1"]
    assert parsed.candidates[0].published == datetime(2017, 10, 16, 15, 10, tzinfo=UTC)


def test_blank_line_before_xml_declaration_is_tolerated() -> None:
    parsed = parse_feed(read("FeedBurnerUrlNoAlternate.xml"), "http://example.com/", "x")
    assert parsed.error is None
    assert [c.url for c in parsed.candidates] == ["http://example.com/QQQQ.html"]
    assert parsed.candidates[0].published == datetime(2010, 8, 11, 7, 0, tzinfo=UTC)


def test_feedparser_edge_cases() -> None:
    # Expect: entries[0].link == 'http://link/get?a=1&b=2' (and bozo: no closing tag)
    parsed = parse_feed(read("rss_item_link_corrupted_ampersands.xml"), "http://x.test/", "x")
    assert [c.url for c in parsed.candidates] == ["http://link/get?a=1&b=2"]
    assert parsed.error is not None
    # Expect: not bozo and entries[0]['link'] relative to the document URI
    parsed = parse_feed(read("http_item_link_base_docuri.xml"), "http://127.0.0.1:8097/", "x")
    assert parsed.error is None
    assert [c.url for c in parsed.candidates] == ["http://127.0.0.1:8097/relative/uri"]
    # Expect: not bozo and the guid does not override the link
    parsed = parse_feed(read("item_guid_conflict_link.xml"), "http://x.test/", "x")
    assert [c.url for c in parsed.candidates] == ["http://link.example.com/"]
    # Expect: bozo (incomplete CDATA), no entries, no exception
    parsed = parse_feed(read("rss_incomplete_cdata.xml"), "http://x.test/", "x")
    assert parsed.candidates == [] and parsed.error is not None


def test_relative_links_tracking_params_and_html_titles() -> None:
    content = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title type="html">Storm &lt;b&gt;hits&lt;/b&gt; &amp;amp; coast</title>
      <link>/news/storm?utm_source=rss&amp;id=3#c</link><guid>x</guid></item>
    <item><title>No link</title></item>
    <item><title>Mail</title><link>mailto:desk@outlet-a.test</link></item>
    </channel></rss>"""
    parsed = parse_feed(content, "http://outlet-a.test/feeds/rss.xml", "a")
    assert parsed.error is None
    assert parsed.candidates == [
        Candidate("http://outlet-a.test/news/storm?id=3", "a", "feed", title="Storm hits & coast",
                  guid="http://outlet-a.test/feeds/x")  # a permalink guid, made absolute
    ]


def test_not_a_feed_is_reported() -> None:
    parsed = parse_feed(b"<html><body>hello</body></html>", "http://x.test/", "x")
    assert parsed.candidates == [] and parsed.error is not None


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_parsers_never_raise_on_arbitrary_bytes(content: bytes) -> None:
    feed = parse_feed(content, "http://x.test/feed", "x")
    assert all(c.url.startswith(("http://", "https://")) for c in feed.candidates)
    sitemap = parse_sitemap(content, "http://x.test/sitemap.xml", "x")
    assert all(c.url.startswith(("http://", "https://")) for c in sitemap.candidates)


def test_gzipped_urlset() -> None:
    parsed = parse_sitemap(read("sitemap.xml.gz"), "https://www.sitemaps.org/sitemap.xml.gz", "s")
    assert parsed.error is None and parsed.sitemaps == []
    assert len(parsed.candidates) == 84
    assert parsed.candidates[0] == Candidate(
        "https://www.sitemaps.org/", "s", "sitemap",
        published=datetime(2016, 11, 21, tzinfo=UTC), updated=datetime(2016, 11, 21, tzinfo=UTC),
    )


def test_sitemap_index_lists_children_with_lastmod() -> None:
    parsed = parse_sitemap(read("sitemap2.xml"), "http://www.example.com/sitemap.xml", "s")
    assert parsed.error is None and parsed.candidates == []
    assert parsed.sitemaps == [
        ChildSitemap("http://www.example.com/sitemap1.xml.gz",
                     datetime(2004, 10, 1, 18, 23, 17, tzinfo=UTC)),
        ChildSitemap("http://www.example.com/sitemap2.xml.gz", datetime(2005, 1, 1, tzinfo=UTC)),
    ]


NEWS = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://outlet-a.test/world/flood?utm_campaign=x</loc>
    <news:news><news:publication><news:name>A</news:name><news:language>en</news:language>
    </news:publication><news:publication_date>2026-11-02T10:00:00+02:00</news:publication_date>
    <news:title>Flood closes bridge</news:title></news:news></url>
  <url><loc>/relative/page</loc><lastmod>2026-11-03</lastmod></url>
  <url><loc>https://outlet-a.test/third</loc><lastmod>2026-11-04T05:06:07Z</lastmod></url>
</urlset>"""


def test_news_sitemap_titles_and_dates() -> None:
    parsed = parse_sitemap(NEWS, "https://outlet-a.test/news-sitemap.xml", "a")
    assert parsed.error is None
    assert parsed.candidates == [
        Candidate("https://outlet-a.test/world/flood", "a", "sitemap",
                  title="Flood closes bridge", published=datetime(2026, 11, 2, 8, tzinfo=UTC)),
        Candidate("https://outlet-a.test/relative/page", "a", "sitemap",
                  published=datetime(2026, 11, 3, tzinfo=UTC),
                  updated=datetime(2026, 11, 3, tzinfo=UTC)),
        Candidate("https://outlet-a.test/third", "a", "sitemap",
                  published=datetime(2026, 11, 4, 5, 6, 7, tzinfo=UTC),
                  updated=datetime(2026, 11, 4, 5, 6, 7, tzinfo=UTC)),
    ]
    # the same document gzipped gives the same result
    assert parse_sitemap(gzip.compress(NEWS), "https://outlet-a.test/s.xml.gz", "a").candidates \
        == parsed.candidates


def test_truncated_sitemap_keeps_complete_entries() -> None:
    cut = NEWS[: NEWS.index(b"<lastmod>2026-11-04")]
    parsed = parse_sitemap(cut, "https://outlet-a.test/news-sitemap.xml", "a")
    assert parsed.error == (
        "malformed or truncated XML: no closing </urlset>; kept complete entries only"
    )
    assert [c.url for c in parsed.candidates] == [
        "https://outlet-a.test/world/flood", "https://outlet-a.test/relative/page"]
    # a truncated gzip stream is reported too
    parsed = parse_sitemap(gzip.compress(NEWS)[:200], "https://outlet-a.test/s.xml.gz", "a")
    assert parsed.error is not None


def test_no_cut_point_yields_a_partial_entry() -> None:
    """Cut the document after every byte: the entries read are always a prefix of the full
    list (never ".../thi" from a half-received <loc>), and every real cut is reported."""
    full = parse_sitemap(NEWS, "https://outlet-a.test/s.xml", "a").candidates
    for cut in range(len(NEWS) - len(b"</urlset>")):
        parsed = parse_sitemap(NEWS[:cut], "https://outlet-a.test/s.xml", "a")
        assert parsed.candidates == full[: len(parsed.candidates)], cut
        assert parsed.error is not None, cut


def test_text_sitemap_and_non_sitemaps() -> None:
    parsed = parse_sitemap(b"https://a.test/1\n\nftp://a.test/2\nhttps://a.test/3?utm_source=x\n",
                           "https://a.test/sitemap.txt", "a")
    assert [c.url for c in parsed.candidates] == ["https://a.test/1", "https://a.test/3"]
    assert parse_sitemap(b"", "https://a.test/s.xml", "a").error == "empty sitemap"
    odd = parse_sitemap(b"<rss><channel/></rss>", "https://a.test/s.xml", "a")
    assert odd.error == "not a sitemap: root element is <rss>"


def test_feed_and_sitemap_stamps_of_one_version_compare_equal() -> None:
    """A sitemap lastmod with a fraction of a second equals the feed's <updated> of the same
    version (feeds carry whole seconds): otherwise an unchanged article looks updated."""
    feed = parse_feed(b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
      <entry><title>a</title><link href="https://a.test/a"/><id>tag:a,1</id>
      <updated>2026-11-02T10:00:00.250000+00:00</updated></entry></feed>""",
                      "https://a.test/feed", "a")
    sitemap = parse_sitemap(b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>https://a.test/a</loc><lastmod>2026-11-02T11:00:00.250000+01:00</lastmod></url>
      </urlset>""", "https://a.test/sitemap.xml", "a")
    assert feed.candidates[0].updated == sitemap.candidates[0].updated == datetime(
        2026, 11, 2, 10, tzinfo=UTC)
