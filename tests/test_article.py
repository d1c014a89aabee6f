"""Article extraction: the F1 quality gate on real pages, dating provenance, the page gate, and
the promise that extraction never raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.content.article import (
    DEFAULT_EXTRACTION,
    ExtractionSettings,
    detect_language,
    extract_article,
    find_published,
    gate,
    word_count,
)
from extractors.fetch.http import decode_html
from extractors.models import FetchResult
from flows.settings import Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GATE = FIXTURES / "extraction_gate"
PAGES = FIXTURES / "pages"

# Snippet F1 of extract_article on the 36 gate pages, measured 2026-11-23 with trafilatura
# 2.3.1: 0.9137 (P 0.9278, R 0.9000; bare trafilatura.extract: 0.9073). The floor sits a
# little under it (about two snippets' worth) so a real regression fails the build.
MEASURED_F1 = 0.9137
F1_FLOOR = 0.89


def _page(url: str, html: str, **extra) -> FetchResult:
    return FetchResult(url=url, source="test", final_url=url, html=html, **extra)


def _gate_scores(
    settings: ExtractionSettings = DEFAULT_EXTRACTION,
) -> tuple[float, float, float, int]:
    items = json.loads((GATE / "evaldata.json").read_text(encoding="utf-8"))
    tp = fp = fn = 0
    for url, item in items.items():
        html = decode_html((GATE / "pages" / item["file"]).read_bytes(), None)
        outcome = extract_article(_page(url, html), settings)
        text = outcome.article.text if outcome.article else ""
        found = [s in text for s in item["with"]]
        tp += sum(found)
        fn += len(found) - sum(found)
        fp += sum(s in text for s in item["without"])
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    return precision, recall, 2 * precision * recall / (precision + recall), len(items)


def test_snippet_f1_on_gate_pages_stays_above_floor() -> None:
    precision, recall, f1, n = _gate_scores()
    assert n >= 30
    assert f1 >= F1_FLOOR, (
        f"F1 {f1:.4f} (P {precision:.4f}, R {recall:.4f}) < floor {F1_FLOOR}; "
        f"measured when the floor was set: {MEASURED_F1}"
    )


def test_fast_extraction_stays_above_the_floor_too() -> None:
    """NEWSMON_EXTRACTION_FAST trades a little F1 for speed; not below the CI floor."""
    assert Settings(extraction_fast=True).extraction_settings().fast
    precision, recall, f1, _ = _gate_scores(ExtractionSettings(fast=True))
    assert f1 >= F1_FLOOR, f"fast mode F1 {f1:.4f} (P {precision:.4f}, R {recall:.4f})"


def test_fallback_extractors_run_where_the_fast_pass_finds_little() -> None:
    """trafilatura alone keeps only this post's 49-word teaser; its fallbacks find the quoted
    body, so the default runs them on such short results (and only there, for speed)."""
    items = json.loads((GATE / "evaldata.json").read_text(encoding="utf-8"))
    url, item = next((u, i) for u, i in items.items() if i["file"].startswith("boingboing"))
    page = _page(url, decode_html((GATE / "pages" / item["file"]).read_bytes(), None))
    body = "The generation we love to dump on"
    assert body in item["with"]
    fast = extract_article(page, ExtractionSettings(fast=True)).article
    default = extract_article(page).article
    assert fast is not None and default is not None
    assert word_count(fast.text) < DEFAULT_EXTRACTION.fallback_below_words
    assert body not in fast.text
    assert body in default.text


def test_real_news_page_gives_full_record() -> None:
    html = decode_html((PAGES / "orf-wien.html").read_bytes(), None)
    outcome = extract_article(_page("https://wien.orf.at/stories/3017954/", html))
    assert outcome.status == "extracted", outcome.reason
    article = outcome.article
    assert article is not None
    assert article.title == "Chronik: Lotte Tobisch ist tot"
    assert article.language == "de"
    assert "Tobisch starb Samstagfrüh nach langer Krankheit" in article.text
    assert article.canonical_url == "https://wien.orf.at/stories/3017954/"
    assert article.published_at is not None
    assert article.published_at.date().isoformat() == "2019-10-19"
    assert article.date_source == "meta"
    assert article.site_name
    assert article.content_hash and article.id


def test_unfetched_page_is_failed_with_the_fetch_error() -> None:
    page = FetchResult(url="https://outlet-a.test/x", source="t", error_class="ConnectError",
                       error="refused")
    outcome = extract_article(page)
    assert outcome.status == "failed"
    assert "ConnectError" in (outcome.reason or "")


def test_crash_inside_extraction_is_failed_not_raised() -> None:
    page = FetchResult(url="https://outlet-a.test/x", source="t", html=12345)  # type: ignore[arg-type]
    outcome = extract_article(page)
    assert outcome.status == "failed"
    assert (outcome.reason or "").startswith("extraction error")


ARTICLE_BODY = (
    "The city council voted on Tuesday to approve a new budget for the coming year, ending "
    "weeks of debate over spending on schools, roads and public transport. The mayor said the "
    "plan would protect essential services while keeping taxes stable for residents. Critics "
    "argued that the budget relies on optimistic revenue forecasts and delays repairs that the "
    "city has postponed for a decade. The council will review the figures again in the spring, "
    "when the first quarterly results are published and the state grants are confirmed."
)


def _article_html(body: str, *, meta: str = "", title: str = "Council approves budget") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split(". "))
    return (
        f"<html><head><title>{title}</title>{meta}</head><body><header><nav><a href='/'>Home</a>"
        f"</nav></header><article><h1>{title}</h1>{paragraphs}</article>"
        "<footer>Contact us | Imprint</footer></body></html>"
    )


@pytest.mark.parametrize(
    ("text", "url", "pagetype", "expected"),
    [
        ("Subscribe to continue reading. Already a subscriber? Sign in.", "https://a.test/x/y",
         None, "paywall"),
        ("We use cookies to improve your experience. Accept all cookies or manage consent to "
         "continue to the site.", "https://a.test/x/y", None, "cookie wall"),
        ("Short teaser with a few words only.", "https://a.test/x/y", None, "too little text"),
        ("\n".join(f"Headline number {i} about something that happened today" for i in range(30)),
         "https://a.test/tag/politics", None, "section front"),
        ("\n".join(f"Headline number {i} about something that happened today" for i in range(30)),
         "https://a.test/", "website", "section front"),
        (ARTICLE_BODY, "https://a.test/news/budget", "article", None),
        # a cookie banner line that leaked into a real article does not make it a wall
        (ARTICLE_BODY + "\n" + ARTICLE_BODY + "\nWe use cookies.", "https://a.test/n/b", None,
         None),
        (ARTICLE_BODY, "https://a.test/", None, None),  # real sentences on a home URL are kept
        (ARTICLE_BODY, "https://a.test/x", "website", None),  # og:type is often wrong
    ],
)
def test_gate_reasons(text: str, url: str, pagetype: str | None, expected: str | None) -> None:
    reason = gate(text, "A title", url, pagetype)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason


def test_paywall_stub_page_is_skipped_end_to_end() -> None:
    stub = (
        "Council approves budget after weeks of debate. This article is for subscribers only. "
        "Subscribe to continue reading. Already a subscriber? Sign in to read the full story."
    )
    outcome = extract_article(_page("https://outlet-a.test/news/budget", _article_html(stub)))
    assert outcome.status == "skipped"
    assert "paywall" in (outcome.reason or "")


def test_constructed_article_is_extracted_with_meta_date() -> None:
    meta = '<meta property="article:published_time" content="2024-03-05T14:30:00+01:00">'
    outcome = extract_article(
        _page("https://outlet-a.test/news/budget", _article_html(ARTICLE_BODY, meta=meta))
    )
    assert outcome.status == "extracted", outcome.reason
    assert outcome.article is not None
    assert outcome.article.published_at == datetime(2024, 3, 5, 13, 30, tzinfo=UTC)
    assert outcome.article.date_source == "meta"
    assert outcome.article.language == "en"


FEED_TIME = datetime(2024, 3, 6, 8, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("meta", "url", "feed", "expected", "source"),
    [
        ('<meta property="article:published_time" content="2024-03-05T14:30:00Z">',
         "https://a.test/2024/03/04/x", FEED_TIME, datetime(2024, 3, 5, 14, 30, tzinfo=UTC),
         "meta"),
        # a date-only meta tag equal to the URL's date is still the markup's
        ('<meta name="date" content="2024-03-04">', "https://a.test/2024/03/04/x", FEED_TIME,
         datetime(2024, 3, 4, tzinfo=UTC), "meta"),
        ("", "https://a.test/2024/03/04/x", FEED_TIME, FEED_TIME, "feed"),
        ("", "https://a.test/2024/03/04/x", None, datetime(2024, 3, 4, tzinfo=UTC), "url"),
        ("", "https://a.test/news/x", None, None, None),
    ],
)
def test_find_published_records_where_the_date_came_from(
    meta: str, url: str, feed: datetime | None, expected: datetime | None, source: str | None
) -> None:
    html = f"<html><head>{meta}</head><body><p>{ARTICLE_BODY}</p></body></html>"
    assert find_published(html, url, feed) == (expected, source)


def test_find_published_falls_back_to_the_text() -> None:
    html = (
        "<html><head></head><body><div><p>Posted by the editors</p><p>Updated: March 2, 2023"
        f"</p><p>{ARTICLE_BODY}</p></div></body></html>"
    )
    published, source = find_published(html, "https://a.test/news/x", None)
    assert source == "text"
    assert published is not None and published.date().isoformat() == "2023-03-02"


def test_a_copyright_year_is_not_a_publication_date() -> None:
    html = f"<html><body><p>{ARTICLE_BODY}</p><footer>© 2016 The Courier</footer></body></html>"
    assert find_published(html, "https://a.test/news/x", None) == (None, None)


@pytest.mark.parametrize(
    ("file", "language"),
    [("orf-wien.html", "de"), ("lastampa-temperature.html", "it"),
     ("politico-meadows.html", "en")],
)
def test_detect_language_on_real_pages(file: str, language: str) -> None:
    html = decode_html((PAGES / file).read_bytes(), None)
    outcome = extract_article(_page("https://example.org/a/b", html))
    assert outcome.article is not None
    assert detect_language(outcome.article.text) == language


def test_detect_language_of_nothing_is_none() -> None:
    assert detect_language("   ") is None


_TAGS = st.sampled_from(["p", "div", "article", "span", "a", "h1", "table", "td", "script",
                         "style", "meta", "time", "li", "ul", "body", "html", "head", "title"])
_HTMLISH = st.recursive(
    st.text(max_size=40),
    lambda inner: st.builds(lambda t, kids: f"<{t}>{''.join(kids)}</{t}>", _TAGS,
                            st.lists(inner, max_size=4))
    | st.builds(lambda t, kids: f"<{t} class='x'>{''.join(kids)}", _TAGS,
                st.lists(inner, max_size=3)),
    max_leaves=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html=st.one_of(st.text(max_size=300), _HTMLISH))
def test_extract_article_never_raises(html: str) -> None:
    outcome = extract_article(_page("https://outlet-a.test/2024/01/02/x", html))
    assert outcome.status in ("extracted", "skipped", "failed")
    assert (outcome.article is not None) == (outcome.status == "extracted")


def test_page_tags_are_kept_split_and_unique() -> None:
    body = "<p>" + " ".join(["The council met on Tuesday to discuss the budget."] * 12) + "</p>"
    html = (
        '<html lang="en"><head><title>Council meets</title>'
        '<meta name="keywords" content="Budget, council, Budget">'
        f"</head><body><article><h1>Council meets</h1>{body}</article></body></html>"
    )
    outcome = extract_article(_page("https://news.example/2024/05/07/council", html))
    assert outcome.status == "extracted", outcome.reason
    assert outcome.article.tags == ("Budget", "council")
