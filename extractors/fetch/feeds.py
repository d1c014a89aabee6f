"""Parse RSS/Atom feeds and XML sitemaps into candidates. Pure: bytes in, records out.

Real feeds and sitemaps are often broken (bad entities, truncated downloads, wrong encodings):
both parsers return whatever they could read plus an `error` string, and never raise, so one
bad document costs its own entries and nothing else.
"""

from __future__ import annotations

import calendar
import contextlib
import html
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
from lxml import etree

from extractors.fetch.limits import DOCUMENT_MAX_BYTES, describe_bytes
from extractors.fetch.urls import canonicalize, is_fetchable_scheme
from extractors.models import Candidate
from extractors.timezones import to_utc

_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class ParsedFeed:
    """Entries of one feed as candidates (absolute, canonical URLs)."""

    candidates: list[Candidate] = field(default_factory=list)
    title: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ChildSitemap:
    """A sitemap listed by a sitemap index."""

    url: str
    lastmod: datetime | None = None


@dataclass(frozen=True)
class ParsedSitemap:
    """Page URLs of a urlset, or child sitemaps of a sitemapindex."""

    candidates: list[Candidate] = field(default_factory=list)
    sitemaps: list[ChildSitemap] = field(default_factory=list)
    error: str | None = None


def parse_feed(content: bytes, feed_url: str, source: str) -> ParsedFeed:
    """Candidates from an RSS/Atom feed; malformed feeds give what was readable + `error`."""
    try:
        parsed = feedparser.parse(
            content.lstrip(),  # many real feeds put a blank line before <?xml ...?>
            # content-location: base for relative links; the type stops a "no Content-type" bozo
            response_headers={"content-location": feed_url, "content-type": "application/xml"},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser has many internal failure modes; none may escape
        return ParsedFeed(error=f"feed unreadable: {type(exc).__name__}: {exc}")

    candidates = []
    for entry in parsed.entries:
        url = _entry_link(entry, feed_url)
        if url is None:
            continue
        title = _plain_title(entry.get("title"), entry.get("title_detail"))
        published = _struct_to_utc(entry.get("published_parsed") or entry.get("updated_parsed"))
        # dict.get: feedparser's own .get("updated_parsed") falls back to the published date
        updated = _struct_to_utc(dict.get(entry, "updated_parsed"))
        candidates.append(Candidate(url, source, "feed", title=title, published=published,
                                    updated=updated, guid=_entry_guid(entry, url)))

    error = None
    if parsed.get("bozo") and not isinstance(
        parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride
    ):
        exc = parsed.get("bozo_exception")
        error = f"malformed feed: {exc}" if exc else "malformed feed"
    if not candidates and error is None and not parsed.get("version"):
        error = "not a feed: no RSS/Atom structure found"
    title = _plain_title(parsed.feed.get("title"), parsed.feed.get("title_detail"))
    return ParsedFeed(candidates=candidates, title=title, error=error)


def _entry_link(entry, feed_url: str) -> str | None:
    """The entry's article URL: its alternate link, else its link, else a permalink guid."""
    href = None
    for link in entry.get("links") or []:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            href = link["href"]
            break
    href = href or entry.get("link")
    if not href and entry.get("guidislink"):
        href = entry.get("id")
    if not href:
        return None
    return _absolute(feed_url, href)


def _entry_guid(entry, url: str) -> str | None:
    """The entry's id (RSS guid, Atom id) when it says more than its link; else None.

    A permalink guid is the URL again (the URL is the identity already); an opaque one
    ("tag:...", "urn:uuid:...", a CMS number) can recognise an article whose URL changed.
    """
    guid = (entry.get("id") or "").strip()
    if not guid or guid == url:
        return None
    if is_fetchable_scheme(guid) and canonicalize(guid) == url:
        return None
    return guid[:500]


def _plain_title(title: str | None, detail) -> str | None:
    """Titles declared as HTML lose their tags and entities; plain-text titles are kept as is."""
    if not title:
        return None
    if detail and "html" in (detail.get("type") or ""):
        title = html.unescape(_TAG.sub("", title))
    return " ".join(title.split()) or None


def _struct_to_utc(value) -> datetime | None:
    """feedparser's UTC struct_time -> aware datetime (None when absent or impossible)."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def parse_sitemap(content: bytes, sitemap_url: str, source: str) -> ParsedSitemap:
    """URLs (with news:title/publication_date or lastmod) or child sitemaps; never raises."""
    try:
        return _parse_sitemap(content, sitemap_url, source)
    except Exception as exc:  # lxml and gzip edge cases: report, never raise
        return ParsedSitemap(error=f"sitemap unreadable: {type(exc).__name__}: {exc}")


def _parse_sitemap(content: bytes, sitemap_url: str, source: str) -> ParsedSitemap:
    content, error = _gunzip(content)
    if not content.strip():
        return ParsedSitemap(error=error or "empty sitemap")
    if content.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()[:1] != b"<":
        return _parse_text_sitemap(content, sitemap_url, source, error)

    root, complete, truncated, problem = _complete_elements(content)
    if root is None:
        return ParsedSitemap(error=error or problem or "not XML")
    kind = _local(root)
    error = error or problem
    if truncated and error is None:
        error = f"malformed or truncated XML: no closing </{kind}>; kept complete entries only"

    candidates: list[Candidate] = []
    children: list[ChildSitemap] = []
    for node in complete:
        name = _local(node)
        if name == "url" and kind == "urlset":
            fields = _child_texts(node)
            url = _absolute(sitemap_url, fields.get("loc"))
            if url is None:
                continue
            lastmod = _parse_w3c(fields.get("lastmod"))
            published = _parse_w3c(fields.get("publication_date")) or lastmod
            title = fields.get("title") or None
            candidates.append(Candidate(url, source, "sitemap", title=title, published=published,
                                        updated=lastmod))
        elif name == "sitemap" and kind == "sitemapindex":
            fields = _child_texts(node)
            url = _absolute(sitemap_url, fields.get("loc"), canonical=False)
            if url is not None:
                children.append(ChildSitemap(url, _parse_w3c(fields.get("lastmod"))))
    if kind not in ("urlset", "sitemapindex") and error is None:
        error = f"not a sitemap: root element is <{kind}>"
    return ParsedSitemap(candidates=candidates, sitemaps=children, error=error)


def _complete_elements(content: bytes):
    """(root, closed <url>/<sitemap> elements, truncated?, first XML error) of a document.

    A pull parser reports an element's end only once its closing tag has arrived; at close()
    libxml2's recovery closes whatever is left open, which for a truncated download would yield
    half a URL (".../news/thir"). So only elements ended before close() count.
    """
    parser = etree.XMLPullParser(
        events=("start", "end"), recover=True, resolve_entities=False, no_network=True,
        huge_tree=False,
    )
    parser.feed(content)
    root, complete, root_closed = None, [], False
    for action, node in parser.read_events():
        if action == "start":
            root = node if root is None else root
        elif node is root:
            root_closed = True
        elif _local(node) in ("url", "sitemap"):
            complete.append(node)
    with contextlib.suppress(etree.XMLSyntaxError):
        parser.close()
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    problem = f"malformed XML at line {errors[0].line}: {errors[0].message}" if errors else None
    return root, complete, root is not None and not root_closed, problem


def _parse_text_sitemap(
    content: bytes, sitemap_url: str, source: str, error: str | None
) -> ParsedSitemap:
    """The protocol's plain-text form: one URL per line."""
    candidates = []
    for line in content.decode("utf-8", "replace").splitlines():
        url = _absolute(sitemap_url, line.strip()) if line.strip() else None
        if url is not None:
            candidates.append(Candidate(url, source, "sitemap"))
    if not candidates and error is None:
        error = "not a sitemap: neither XML nor a list of URLs"
    return ParsedSitemap(candidates=candidates, error=error)


def _gunzip(content: bytes) -> tuple[bytes, str | None]:
    """Decompress gzip bodies (up to the cap); a truncated stream yields what was readable."""
    if content[:2] != b"\x1f\x8b":
        return content, None
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(content, DOCUMENT_MAX_BYTES)
    except zlib.error as exc:
        return b"", f"bad gzip data: {exc}"
    if inflater.unconsumed_tail:
        return data, f"decompressed sitemap exceeds {describe_bytes(DOCUMENT_MAX_BYTES)} cap"
    if not inflater.eof:
        return data, "gzip stream truncated"
    return data, None


def _local(node) -> str:
    """Element name without namespace ('' for comments and processing instructions)."""
    tag = node.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _child_texts(node) -> dict[str, str]:
    """Local name -> stripped text of every descendant (news:title, lastmod, loc, ...)."""
    out: dict[str, str] = {}
    for child in node.iter():
        if child is node:
            continue
        name = _local(child)
        text = (child.text or "").strip()
        if name and text and name not in out:
            out[name] = text
    return out


def _absolute(base: str, href: str | None, *, canonical: bool = True) -> str | None:
    """Absolute http(s) URL of `href` against `base`, canonical for pages; None otherwise."""
    if not href or not href.strip():
        return None
    try:
        url = urljoin(base, href.strip())
    except ValueError:
        return None
    if not is_fetchable_scheme(url):
        return None
    return canonicalize(url) if canonical else url


def _parse_w3c(value: str | None) -> datetime | None:
    """W3C datetime (2024-05-01, 2024-05-01T10:00:00+02:00, ...Z) as aware UTC.

    To the second, like feed dates: a sitemap's lastmod and a feed's updated of one version
    must compare equal (a fraction of a second more would look like an update).
    """
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return to_utc(parsed).replace(microsecond=0)


