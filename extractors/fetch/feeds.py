"""Parse RSS/Atom feeds and XML sitemaps into candidates. Pure: bytes in, records out.

Real feeds and sitemaps are often broken (bad entities, truncated downloads, wrong encodings):
both parsers return whatever they could read plus an `error` string, and never raise, so one
bad document costs its own entries and nothing else.

Nothing here fetches or opens anything: feedparser takes a string that reads as a URL or a
path for one (and fetches or opens it), so it only ever gets a file-like object over the bytes;
lxml parses with network access and entity loading off. A document is read up to a number of
entries (limits.FEED_MAX_ENTRIES, SITEMAP_MAX_ENTRIES): parsing costs time and memory per
entry, and a hostile document may list millions.
"""

from __future__ import annotations

import calendar
import contextlib
import html
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
from lxml import etree

from extractors.fetch import inflate
from extractors.fetch.limits import (
    DOCUMENT_MAX_BYTES,
    FEED_MAX_ENTRIES,
    SITEMAP_MAX_ENTRIES,
    describe_bytes,
)
from extractors.fetch.urls import canonicalize, is_fetchable_scheme
from extractors.models import Candidate
from extractors.timezones import to_utc

_TAG = re.compile(r"<[^>]*>")
# Where an RSS <item> or Atom <entry> starts (any namespace prefix); RSS 1.0's <items> is not one.
_ENTRY_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]", re.IGNORECASE)
# The root element, after the prolog, and what closes a feed cut after an entry.
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_CLOSING = {"rss": "</channel></ROOT>", "feed": "</ROOT>", "rdf": "</ROOT>"}
_SITEMAP_SLICE = 1024 * 1024  # bytes fed to the sitemap parser at a time


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


def parse_feed(content: bytes, feed_url: str, source: str,
               max_entries: int = FEED_MAX_ENTRIES) -> ParsedFeed:
    """Candidates from an RSS/Atom feed; malformed feeds give what was readable + `error`.

    Only the first `max_entries` entries are read (the rest of the document is cut off before
    parsing, and `error` says so)."""
    # lstrip: many real feeds put a blank line before <?xml ...?>
    content, cut = _first_entries(content.lstrip(), max_entries)
    try:
        parsed = feedparser.parse(
            # A file-like object: feedparser fetches or opens a string or bytes that read as a
            # URL or a file name (feedparser.api._open_resource), never a stream's content.
            io.BytesIO(content),
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
    if cut:
        error = (f"feed lists more than {max_entries} entries: the first {max_entries} were "
                 "read")
    elif parsed.get("bozo") and not isinstance(
        parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride
    ):
        exc = parsed.get("bozo_exception")
        error = f"malformed feed: {exc}" if exc else "malformed feed"
    if not candidates and error is None and not parsed.get("version"):
        error = "not a feed: no RSS/Atom structure found"
    title = _plain_title(parsed.feed.get("title"), parsed.feed.get("title_detail"))
    return ParsedFeed(candidates=candidates, title=title, error=error)


def _first_entries(content: bytes, max_entries: int) -> tuple[bytes, bool]:
    """The document up to its first `max_entries` entries, closed again so that it stays
    well-formed (feedparser's fallback for broken XML is several times slower); whether
    anything was cut."""
    for n, match in enumerate(_ENTRY_START.finditer(content)):
        if n == max_entries:
            root = _ROOT.search(content)
            name = root.group(1).decode("ascii", "replace") if root else ""
            closing = _CLOSING.get(name.rpartition(":")[2].lower(), "").replace("ROOT", name)
            return content[: match.start()] + closing.encode(), True
    return content, False


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


def parse_sitemap(content: bytes, sitemap_url: str, source: str,
                  max_entries: int = SITEMAP_MAX_ENTRIES) -> ParsedSitemap:
    """URLs (with news:title/publication_date or lastmod) or child sitemaps; never raises.
    At most `max_entries` are read (`error` says when there were more)."""
    try:
        return _parse_sitemap(content, sitemap_url, source, max_entries)
    except Exception as exc:  # lxml and gzip edge cases: report, never raise
        return ParsedSitemap(error=f"sitemap unreadable: {type(exc).__name__}: {exc}")


def _parse_sitemap(content: bytes, sitemap_url: str, source: str,
                   max_entries: int) -> ParsedSitemap:
    content, error = _gunzip(content)
    if not content.strip():
        return ParsedSitemap(error=error or "empty sitemap")
    if content.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()[:1] != b"<":
        return _parse_text_sitemap(content, sitemap_url, source, error, max_entries)

    read = _complete_elements(content, max_entries)
    if read.root is None:
        return ParsedSitemap(error=error or read.problem or "not XML")
    kind = read.kind
    error = error or read.problem
    if read.cut and error is None:
        error = f"sitemap lists more than {max_entries} entries: the first {max_entries} were read"
    if read.truncated and error is None:
        error = f"malformed or truncated XML: no closing </{kind}>; kept complete entries only"

    candidates: list[Candidate] = []
    children: list[ChildSitemap] = []
    for name, fields in read.entries:
        if name == "url" and kind == "urlset":
            url = _absolute(sitemap_url, fields.get("loc"))
            if url is None:
                continue
            lastmod = _parse_w3c(fields.get("lastmod"))
            published = _parse_w3c(fields.get("publication_date")) or lastmod
            title = fields.get("title") or None
            candidates.append(Candidate(url, source, "sitemap", title=title, published=published,
                                        updated=lastmod))
        elif name == "sitemap" and kind == "sitemapindex":
            url = _absolute(sitemap_url, fields.get("loc"), canonical=False)
            if url is not None:
                children.append(ChildSitemap(url, _parse_w3c(fields.get("lastmod"))))
    if kind not in ("urlset", "sitemapindex") and error is None:
        error = f"not a sitemap: root element is <{kind}>"
    return ParsedSitemap(candidates=candidates, sitemaps=children, error=error)


@dataclass
class _Elements:
    """What a pull parse of a sitemap found (see _complete_elements)."""

    root: object = None
    kind: str = ""
    entries: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    truncated: bool = False  # the root element never closed
    cut: bool = False  # more than max_entries: the rest was not read
    problem: str | None = None  # the first XML error


def _complete_elements(content: bytes, max_entries: int) -> _Elements:
    """The closed <url>/<sitemap> elements of a document (name, child texts), at most
    `max_entries`, with the root, whether it was truncated and the first XML error.

    A pull parser reports an element's end only once its closing tag has arrived; at close()
    libxml2's recovery closes whatever is left open, which for a truncated download would yield
    half a URL (".../news/thir"). So only elements ended before close() count. The document is
    fed a slice at a time and each element is dropped once read, so a long sitemap is never
    held as a whole tree, and reading stops after `max_entries`.
    """
    parser = etree.XMLPullParser(
        events=("start", "end"), recover=True, resolve_entities=False, no_network=True,
        huge_tree=False, load_dtd=False,
    )
    found = _Elements()
    root_closed = False
    for start in range(0, len(content), _SITEMAP_SLICE):
        parser.feed(content[start : start + _SITEMAP_SLICE])
        for action, node in parser.read_events():
            if action == "start":
                if found.root is None:
                    found.root, found.kind = node, _local(node)
            elif node is found.root:
                root_closed = True
            elif _local(node) in ("url", "sitemap"):
                if len(found.entries) == max_entries:
                    found.cut = True
                    break
                found.entries.append((_local(node), _child_texts(node)))
                node.clear()
                parent = node.getparent()
                while parent is not None and node.getprevious() is not None:
                    del parent[0]  # read: the tree need not keep them
        if found.cut:
            break
    if not found.cut:
        with contextlib.suppress(etree.XMLSyntaxError):
            parser.close()
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    if errors:
        found.problem = f"malformed XML at line {errors[0].line}: {errors[0].message}"
    found.truncated = found.root is not None and not root_closed and not found.cut
    return found


def _parse_text_sitemap(
    content: bytes, sitemap_url: str, source: str, error: str | None, max_entries: int
) -> ParsedSitemap:
    """The protocol's plain-text form: one URL per line."""
    candidates = []
    for line in content.decode("utf-8", "replace").splitlines():
        url = _absolute(sitemap_url, line.strip()) if line.strip() else None
        if url is not None:
            if len(candidates) == max_entries:
                error = error or (f"sitemap lists more than {max_entries} entries: the first "
                                  f"{max_entries} were read")
                break
            candidates.append(Candidate(url, source, "sitemap"))
    if not candidates and error is None:
        error = "not a sitemap: neither XML nor a list of URLs"
    return ParsedSitemap(candidates=candidates, error=error)


def _gunzip(content: bytes) -> tuple[bytes, str | None]:
    """Decompress a gzip file (up to the cap); a truncated stream yields what was readable."""
    if content[:2] != b"\x1f\x8b":
        return content, None
    decoder, out = inflate.BoundedDecoder(["gzip"], DOCUMENT_MAX_BYTES), []
    try:
        decoder.feed(content, out)
        decoder.finish(out)
    except inflate.BadEncoding as exc:
        return b"".join(out), f"bad gzip data: {exc}"
    except inflate.OverCap:
        return b"".join(out), (f"decompressed sitemap exceeds {describe_bytes(DOCUMENT_MAX_BYTES)}"
                               " cap")
    if not decoder.complete:
        return b"".join(out), "gzip stream truncated"
    return b"".join(out), None


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


