"""Turn one fetched page into a clean article record (or a recorded reason why not).

trafilatura does the boilerplate removal and metadata; this module adds the dating with its
provenance, language detection, the quality gate and the event facets, so the flow, the
`newsmon extract` command and re-processing all share one code path: `extract_article`.

Speed: every page is parsed once (`parse_html`, trafilatura's own loader) and that tree is
shared by every pass: trafilatura copies a tree it is given and htmldate deep-copies one
before pruning it, so no pass sees another's changes. trafilatura's metadata step already
runs htmldate on the tree (markup first, URL as fallback, see `_date_params`). Extra passes
are kept to the pages that need them: a pass with trafilatura's fallback extractors when its
fast pass finds under 100 words; a balanced second extraction when the precision pass leaves
too little text; a markup-only htmldate pass when its date equals the URL's; htmldate's
extensive (slow) text search when neither markup, feed nor URL dates the page.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

import py3langid
import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.settings import Document
from trafilatura.utils import load_html

from extractors.content.facets import ActorExtractor, country_of_url, extract_facets
from extractors.content.text import clean_text, content_hash
from extractors.fetch.charset import page_html
from extractors.fetch.urls import adopt_canonical, article_id, canonicalize
from extractors.models import Article, ExtractionOutcome, FetchResult
from extractors.timezones import to_utc


@dataclass(frozen=True)
class ExtractionSettings:
    """Knobs of the extraction and of the quality gate.

    Defaults favour precision (boilerplate kept out; a skipped page is logged with its reason)
    and were checked on the extraction benchmarks (bench/extraction.py), where they keep
    newsmon's F1 at or above bare trafilatura's.
    """

    favor_precision: bool = True  # trafilatura's stricter boilerplate filter
    # trafilatura's fallback extractors (readability, jusText) are compared with its own
    # result only when its fast pass finds fewer words than this: they mostly rescue pages
    # where trafilatura alone finds little. On the extraction sets, F1 as with fallbacks on
    # every page (scrapinghub 0.965 vs 0.965, the 645-page set 0.925 vs 0.927) for 16 % less
    # CPU per news page; 6-8 % of pages take the second pass.
    fallback_below_words: int = 100
    # Never run the fallbacks, not even on short results (NEWSMON_EXTRACTION_FAST): F1
    # scrapinghub 0.958, the 645-page set 0.918, where bare trafilatura scores 0.953 and 0.921.
    fast: bool = False
    include_tables: bool = True  # tables hold real article content often enough (scores, data)
    min_words: int = 30  # shorter bodies are stubs, teasers or empty templates (news briefs
    # of 35-45 words are real: the benchmark pages hold several)
    min_words_no_title: int = 80  # no title anywhere: demand more text
    wall_max_words: int = 250  # paywall / cookie-wall phrases only count on short bodies
    wall_always_words: int = 120  # ...and below this, one such phrase is enough
    listing_max_words: int = 400  # headline-list test applies to bodies up to this length
    min_sentence_share: float = 0.35  # share of words in sentence-like lines on listing pages
    # CPU seconds one page may take (extractors/content/parallel.py): a page past it is
    # recorded too_slow. Real pages take well under a second; 5 MiB of text a few seconds.
    cpu_limit_s: float = 20.0
    # Also make each article's clustering features in the extraction worker, which holds its
    # text already (extractors/content/parallel.py): the monitor flow turns this on, so its
    # process does not tokenise every article again (issue #31).
    cluster_features: bool = False
    # Replaces the built-in actor heuristics (see extractors.content.facets). It travels with
    # these settings to the extraction worker processes, so it must be a module-level
    # function (picklable), not a lambda.
    actor_extractor: ActorExtractor | None = None


DEFAULT_EXTRACTION = ExtractionSettings()

_ARTICLE_TYPES = frozenset({"article", "blogposting", "newsarticle", "reportagenewsarticle"})
_PAYWALL = re.compile(
    r"(subscribe (now )?to (continue|read|keep reading)|to continue reading|"
    r"this (article|content|story) is (only )?(available )?for (paying )?subscribers"
    r"|already a subscriber|sign in to (read|continue)|create a free account to continue"
    r"|log in to (read|continue)|for subscribers only|subscriber[- ]only)",
    re.IGNORECASE,
)
_COOKIE_WALL = re.compile(
    r"(we use cookies|accept (all )?cookies|cookie (policy|settings|consent)|manage consent"
    r"|consent to (the use of )?cookies|your privacy choices)",
    re.IGNORECASE,
)
# Listing pages: /tag/x, /topics/x, /category/x, /section/x, /author/x, /page/2, home page.
_LISTING_PATH = re.compile(
    r"^/(?:[a-z]{2}(?:-[a-z]{2})?/)?(?:tags?|topics?|category|categories|section|sections"
    r"|authors?|archive|archives|search|page)(?:/|$)",
    re.IGNORECASE,
)
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|\b)")
_CANONICAL = re.compile(r"<link\b[^>]*\brel=[\"']?canonical[\"']?[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref=[\"']([^\"']+)[\"']", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?:;\"'»”’)\u3002\uff01\uff1f]$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # not Hangul: spaced
_ISO_OUT = "%Y-%m-%dT%H:%M:%S%z"
NOT_ADOPTED = "canonical not adopted"  # extraction_log reason of a foreign rel=canonical
TOO_SLOW = "too_slow"  # extraction_log reason of a page past its CPU budget


def _date_params(extensive: bool) -> dict:
    """htmldate options: markup first, the URL only as a fallback (`deferred_url_extractor`)."""
    return {
        "original_date": True,
        "extensive_search": extensive,
        "deferred_url_extractor": True,
        "outputformat": _ISO_OUT,
        # htmldate drops dates after max_date; a day ahead tolerates time zones and clock skew
        "max_date": (datetime.now(UTC) + timedelta(days=1)).date().isoformat(),
    }


def extract_article(
    page: FetchResult, settings: ExtractionSettings = DEFAULT_EXTRACTION,
    domains: Collection[str] = (),
) -> ExtractionOutcome:
    """Extract one page; never raises: failures come back as `status='failed'` with the error.

    `domains`: the sites the page's outlet publishes on (urls.own_domains), where its
    rel=canonical may point; one elsewhere is recorded in the outcome's reason, not adopted.
    """
    if not page.ok:
        return ExtractionOutcome(
            url=page.url, source=page.source, status="failed",
            reason=f"not fetched: {page.error_class or 'no body'}: {page.error or ''}".strip(),
        )
    try:
        return _extract(page, settings, domains)
    except Exception as exc:  # noqa: BLE001 - any parser crash is one page's failure, not the run's
        return ExtractionOutcome(
            url=page.url, source=page.source, status="failed",
            reason=f"extraction error: {type(exc).__name__}: {exc}",
        )


def too_slow(page: FetchResult, cpu_limit_s: float) -> ExtractionOutcome:
    """The outcome of a page whose extraction ran past its CPU budget."""
    return ExtractionOutcome(url=page.url, source=page.source, status="failed",
                             reason=f"{TOO_SLOW} (over {cpu_limit_s:g} s of CPU time)")


def _extract(page: FetchResult, settings: ExtractionSettings,
             domains: Collection[str]) -> ExtractionOutcome:
    html = page_html(page) or ""
    page_url = page.final_url or page.url

    def skipped(reason: str) -> ExtractionOutcome:
        return ExtractionOutcome(url=page.url, source=page.source, status="skipped", reason=reason)

    if not html.strip():
        return skipped("empty page")
    tree = parse_html(html)
    if tree is None:
        return skipped("no main text found")
    doc, text = _main_text(tree, page_url, settings, fallbacks=False)
    if not settings.fast and word_count(text) < settings.fallback_below_words:
        doc, text = _main_text(tree, page_url, settings, fallbacks=True)
    if doc is None or not text.strip():
        return skipped("no main text found")
    title = (doc.title or page.feed_title or "").strip()
    reason = gate(text, title, page_url, doc.pagetype, settings)
    if reason:
        return skipped(reason)

    canonical_url, not_adopted = adopt_canonical(page_url, _canonical_href(html), domains)
    published_at, date_source = _published(
        doc.date, tree, page_url, page.feed_published, doc.url or canonical_url
    )
    language = detect_language(text)
    seen = {canonicalize(page.url), canonicalize(page_url), page.url, page_url}
    article = Article(
        id=article_id(canonical_url),
        url=page_url,
        canonical_url=canonical_url,
        urls=tuple(sorted(seen)),
        source=page.source,
        title=title,
        text=text,
        content_hash=content_hash(text),
        author=(doc.author or None),
        published_at=published_at,
        date_source=date_source,
        language=language,
        site_name=doc.sitename or None,
        description=doc.description or None,
        fetched_at=page.fetched_at,
        tags=page_tags(doc.categories, doc.tags),
        facets=extract_facets(title, text, published_at, language, settings.actor_extractor,
                              source_country=country_of_url(canonical_url),
                              url=canonical_url),
    )
    note = (f"{NOT_ADOPTED}: {not_adopted} is another site's (the page's own URL is its "
            "identity)") if not_adopted else None
    return ExtractionOutcome(url=page.url, source=page.source, status="extracted",
                             reason=note, article=article)


def parse_html(html: str) -> HtmlElement | None:
    """The page's tree, parsed once for every pass, by trafilatura's own loader (the tree it
    would make of the string itself); None when it is no HTML at all."""
    try:
        tree = load_html(html)
    except (TypeError, ValueError):  # what trafilatura treats as a page it cannot use
        return None
    return tree if isinstance(tree, HtmlElement) else None


def _main_text(
    tree: HtmlElement, url: str, settings: ExtractionSettings, fallbacks: bool
) -> tuple[Document | None, str]:
    """trafilatura's document and its cleaned main text, with or without its fallbacks."""
    doc = _trafilatura(tree, url, settings.favor_precision, settings, fallbacks)
    text = clean_text(doc.text or "") if doc is not None else ""
    if settings.favor_precision and word_count(text) < settings.min_words:
        # The precision filter sometimes cuts a short news item down to a line or two; a second,
        # balanced pass (which retries with recall settings itself) recovers it. Few pages pay.
        second = _trafilatura(tree, url, False, settings, fallbacks)
        second_text = clean_text(second.text or "") if second is not None else ""
        if word_count(second_text) > word_count(text):
            doc, text = second, second_text
    return doc, text


def _trafilatura(
    tree: HtmlElement, url: str, precision: bool, settings: ExtractionSettings, fallbacks: bool
) -> Document | None:
    return trafilatura.bare_extraction(
        tree,  # copied by trafilatura before it prunes anything
        url=url,
        with_metadata=True,
        fast=not fallbacks,
        favor_precision=precision,
        include_comments=False,  # reader comments are not the article
        include_tables=settings.include_tables,
        deduplicate=False,  # process-wide cache would silently drop repeat text
        date_extraction_params=_date_params(extensive=False),
    )


def gate(
    text: str, title: str, url: str, pagetype: str | None,
    settings: ExtractionSettings = DEFAULT_EXTRACTION,
) -> str | None:
    """Why this extracted body is not an article worth keeping, or None if it is one."""
    n_words = word_count(text)
    if n_words <= settings.wall_max_words:
        # A wall is a short body made largely of the notice; a banner line that leaked into
        # a real article is not one.
        for pattern, name in ((_PAYWALL, "paywall stub"), (_COOKIE_WALL, "cookie wall")):
            if pattern.search(text) and (
                n_words < settings.wall_always_words or _share_of_lines(text, pattern) >= 0.2
            ):
                return f"{name} ({n_words} words)"
    if n_words < settings.min_words:
        return f"too little text ({n_words} words)"
    if not title and n_words < settings.min_words_no_title:
        return f"too little text without a title ({n_words} words)"
    # og:type says "website" on many real articles, so the page type alone never skips a page.
    kind = (pagetype or "").lower()
    not_article_type = bool(kind) and kind not in _ARTICLE_TYPES
    if n_words <= settings.listing_max_words and (_is_listing_url(url) or not_article_type):
        share = _sentence_share(text)
        if share < settings.min_sentence_share:
            return f"section front or tag page ({share:.0%} of words in sentences)"
    return None


def word_count(text: str) -> int:
    """Words for the gate: space-separated tokens, and for Chinese/Japanese (no spaces) one
    word per two characters, so a CJK article is not mistaken for a stub."""
    cjk = len(_CJK.findall(text))
    if not cjk:
        return len(text.split())
    return len(_CJK.sub(" ", text).split()) + cjk // 2


def _share_of_lines(text: str, pattern: re.Pattern[str]) -> float:
    """Share of words in lines where `pattern` occurs."""
    total = hit = 0
    for line in text.splitlines():
        n = word_count(line)
        total += n
        if pattern.search(line):
            hit += n
    return hit / total if total else 0.0


def _sentence_share(text: str) -> float:
    """Share of words in lines that end like sentences; headline lists score low."""
    total = in_sentences = 0
    for line in text.splitlines():
        n = word_count(line)
        total += n
        if n >= 8 and _SENTENCE_END.search(line.rstrip()):
            in_sentences += n
    return in_sentences / total if total else 0.0


def _is_listing_url(url: str) -> bool:
    try:
        path = urlsplit(url).path or "/"
    except ValueError:
        return False
    return path == "/" or bool(_LISTING_PATH.match(path))


def _canonical_href(html: str) -> str | None:
    tag = _CANONICAL.search(html[:200_000])
    if not tag:
        return None
    href = _HREF.search(tag.group(0))
    return href.group(1).strip() if href else None


def find_published(
    html: str, url: str, feed_published: datetime | None
) -> tuple[datetime | None, str | None]:
    """Publication time and where it came from: 'meta', 'feed', 'url' or 'text'.

    'meta' is the page markup (meta tags, JSON-LD, <time>/date elements); 'url' a date in the
    URL path; 'text' htmldate's extensive search of the page text (a lone year, such as a
    copyright line, does not count). Markup beats the feed (it carries time zones more
    often), the feed beats a URL (it has a time of day).
    """
    markup = _htmldate(html, url, extensive=False)
    return _published(markup, html, url, feed_published)


def _published(
    markup: str | None, html: str | HtmlElement, url: str, feed_published: datetime | None,
    canonical_url: str | None = None,
) -> tuple[datetime | None, str | None]:
    """Provenance for `markup`, the date htmldate found with a URL only as a fallback (the
    page's, or the canonical one trafilatura gave htmldate). `html`: the page or its tree."""
    found = _parse_iso(markup)
    url_day = _url_date(url) or _url_date(canonical_url or "")
    if found is not None:
        from_url = url_day is not None and found == datetime.combine(url_day, time(), UTC)
        if not from_url:
            return found, "meta"
        # htmldate's URL fallback and a date-only meta tag give the same value: ask the markup
        # alone (a second parse, only for such pages).
        markup_only = _parse_iso(_htmldate(html, "", extensive=False))
        if markup_only is not None:
            return markup_only, "meta"
    if feed_published is not None:
        return to_utc(feed_published), "feed"
    if url_day is not None:
        return datetime.combine(url_day, time(), UTC), "url"
    text_date = _parse_iso(_htmldate(html, "", extensive=True))
    if text_date is not None and not _bare_year(text_date):
        return text_date, "text"
    return None, None


def _bare_year(value: datetime) -> bool:
    """htmldate turns a lone year (often a copyright line) into 1 January; that is no date."""
    return (value.month, value.day, value.hour, value.minute) == (1, 1, 0, 0)


def _url_date(url: str) -> date | None:
    match = _URL_DATE.search(url or "")
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _htmldate(html: str | HtmlElement, url: str, *, extensive: bool) -> str | None:
    """htmldate on the page, handed a parsed tree (it deep-copies it before pruning): given
    a string, htmldate downloads it when it looks like a URL (a page whose body is
    "http://10.0.0.1/x" would make it fetch an internal address, past the fetcher and its
    guard)."""
    try:
        # trafilatura's parser: never fetches, whatever the string
        tree = html if isinstance(html, HtmlElement) else load_html(html)
        if not isinstance(tree, HtmlElement):
            return None
        return find_date(tree, url=url, **_date_params(extensive))
    except Exception:  # noqa: BLE001 - htmldate raises on some broken pages; treat as undated
        return None


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return to_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def detect_language(text: str) -> str | None:
    """ISO 639-1 code from py3langid's bundled model (no downloads)."""
    sample = text[:2000].strip()  # plenty for the model; the cost grows with the length
    if not sample:
        return None
    lang, _score = py3langid.classify(sample)
    return str(lang)


def page_tags(*groups: list[str] | None) -> tuple[str, ...]:
    """Categories and tags as trafilatura gives them (comma-joined strings), split, unique."""
    seen: dict[str, str] = {}
    for group in groups:
        for item in group or ():
            for tag in item.split(","):
                tag = " ".join(tag.split())
                if tag and tag.casefold() not in seen:
                    seen[tag.casefold()] = tag
    return tuple(seen.values())[:20]
