"""Levels 1-2: same URL, same text and near copies, each pointing at the earliest original."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from extractors.content.text import content_hash
from extractors.events.dedup import find_duplicates
from extractors.models import Article

SEEDS = Path(__file__).resolve().parent / "fixtures" / "seeds"
REPORT = (SEEDS / "summit_report.txt").read_text(encoding="utf-8")


def make(aid: str, title: str, text: str, day: int, url: str | None = None) -> Article:
    return Article(
        id=aid, url=url or f"https://{aid}.test/a", canonical_url=url or f"https://{aid}.test/a",
        source=aid, title=title, text=text, content_hash=content_hash(text),
        published_at=datetime(2021, 12, day, 9, tzinfo=UTC),
    )


def light_edit(text: str) -> str:
    """What a rewrite desk does to wire copy: a word swapped, the last paragraph cut."""
    paragraphs = text.replace("significant", "important").split("\n")
    return "\n".join(paragraphs[:-1])


def test_wire_copy_with_new_headline_is_a_near_copy_of_the_earliest() -> None:
    original = make("wire", "Armenian, Azerbaijani leaders hold EU-mediated talks", REPORT, 15)
    copy = make("paper", "Brussels talks: what Pashinian and Aliyev agreed", light_edit(REPORT), 16)
    found = find_duplicates([copy, original])
    assert len(found) == 1
    dup = found[0]
    assert (dup.article_id, dup.duplicate_of, dup.kind) == ("paper", "wire", "near-copy")
    assert 90 <= dup.score < 100


def test_same_url_and_same_text() -> None:
    url = "https://outlet-a.test/news/1"
    first = make("a1", "Talks in Brussels", REPORT, 15, url=url)
    again = make("a2", "Talks in Brussels (updated)", REPORT + "\nUpdated.", 16, url=url)
    wrapped = make("b1", "Other headline", "  " + REPORT.upper() + "  ", 17)
    found = find_duplicates([wrapped, again, first])
    kinds = {(d.article_id, d.duplicate_of, d.kind) for d in found}
    assert kinds == {("a2", "a1", "same-url"), ("b1", "a1", "same-text")}


def test_distinct_reports_and_empty_pages_are_not_duplicates() -> None:
    preview = (SEEDS / "summit_preview.txt").read_text(encoding="utf-8")
    articles = [
        make("p", "Preview", preview, 1), make("r", "Report", REPORT, 15),
        make("e1", "Empty page one", "", 2), make("e2", "Empty page two", "", 3),
    ]
    assert find_duplicates(articles) == ()


def test_copies_point_at_an_original_never_at_a_copy() -> None:
    versions = [make(f"v{i}", f"Headline {i}", light_edit(REPORT) + f" v{i}", 10 + i)
                for i in range(4)]
    found = find_duplicates(list(reversed(versions)) + [make("w", "Wire", REPORT, 9)])
    copies = {d.article_id for d in found}
    assert all(d.duplicate_of not in copies for d in found)
    assert {d.duplicate_of for d in found} == {"w"}
