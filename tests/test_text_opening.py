"""normalize_for_matching, made faster, gives what it gave; the near-copy check's text
openings, normalised from a head cut, equal the opening of the normalised whole text (issue
#32: the index update normalised ~7k whole stored texts to keep 3,000 characters of each).

Texts are the seed articles and the demo site's reports, long enough to need a cut, and
variants that normalisation shrinks (whitespace runs, zero-width spaces, decomposed accents)
or expands (ellipses, ligatures, case folds that lengthen), with markup left in.
"""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from demosite.truth import expected_articles
from extractors.content.text import content_hash, normalize_for_matching, opening, opening_of_prefix
from extractors.events.dedup import COMPARE_CHARS
from extractors.models import Article, ExtractionOutcome
from flows import stages
from flows.run_store import RunStore
from warehouse import cluster_index, queries
from warehouse.db import open_reader

SEEDS = Path(__file__).resolve().parent / "fixtures" / "seeds"


def base_texts() -> list[str]:
    seeds = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    demo = [e.text for e in expected_articles()]
    joined = "\n\n".join(seeds + demo)
    return [*seeds, *demo, joined, joined[:7000], joined[:3001]]


def variants(text: str) -> list[str]:
    """`text` and forms of it that normalisation shrinks or expands, at every scale."""
    return [
        text,
        text.replace(" ", " \t\u00a0  "),  # whitespace runs: five raw characters per space
        text.replace(" ", "\u200b \u200b"),  # zero-width spaces normalisation drops
        unicodedata.normalize("NFD", text.replace("e", "é")),  # e + combining acute: 2 -> 1
        text.replace(". ", ". \u0301").replace("\n", "\n\u0308"),  # marks right after a cut
        text.replace(" the ", " <p>the</p>\n\n\n ").replace(",", ",&nbsp;\u202f"),  # markup
        text.replace(".", "\u2026").replace("fi", "\ufb01"),  # expands: ... and ligatures
        text.upper().replace("S", "\u03a3").replace("A", "\u0130").replace("O", "\u1e9e"),
        "\ufdfa " * 50 + text,  # one character that normalises to eighteen
        " " * 5000 + text,  # a head of nothing but spaces
    ]


def texts() -> list[str]:
    return [v for t in base_texts() for v in variants(t)]


_OLD_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200b": "", "\u2026": "...",
})


_OLD_FOLD_KEYS = [chr(k) for k in _OLD_FOLD]


def old_normalize_for_matching(text: str) -> str:
    """The definition stored hashes and tokens were made with (before issue #32)."""
    text = unicodedata.normalize("NFKC", text).translate(_OLD_FOLD).casefold()
    return " ".join(re.sub(r"[ \t\f\v]+", " ", text).split())


def test_normalize_for_matching_is_unchanged():
    rnd = random.Random(32)
    alphabet = ("aZ \t\n\r\f\v\u00a0\u2009\u202f\u200b\u3000\u1680\u0085\u2028.,-'\""
                + "".join(_OLD_FOLD_KEYS) + "éÉe\u0301\u0308ßİΣσςﬁ\ufdfa\u2033①Å한\u1161")
    samples = texts() + ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 60)))
                         for _ in range(3000)]
    for t in samples:
        assert normalize_for_matching(t) == old_normalize_for_matching(t)


def test_the_opening_of_a_head_cut_equals_the_opening_of_the_whole_text():
    all_texts = texts()
    assert sum(len(t) > 2 * COMPARE_CHARS for t in all_texts) >= 10
    for chars in (1, 37, 300, COMPARE_CHARS):
        for t in all_texts:
            assert opening(t, chars) == normalize_for_matching(t)[:chars]


def test_a_cut_without_checked_slack_would_not_be_equal():
    """The checks have teeth: cutting the raw text at `chars`, or at the first space a fixed
    slack beyond it, gives a different opening for texts normalisation shrinks."""
    def at(t: str, cut: int) -> str:
        space = t.find(" ", cut)
        return normalize_for_matching(t if space < 0 else t[:space])[:COMPARE_CHARS]

    whole = [normalize_for_matching(t)[:COMPARE_CHARS] for t in texts()]
    naive = [normalize_for_matching(t[:COMPARE_CHARS])[:COMPARE_CHARS] for t in texts()]
    slack = [at(t, COMPARE_CHARS + COMPARE_CHARS // 8) for t in texts()]
    assert sum(a != b for a, b in zip(whole, naive, strict=True)) >= 10
    assert sum(a != b for a, b in zip(whole, slack, strict=True)) >= 3


def test_a_prefix_too_short_to_tell_says_so():
    text = " \t ".join(["word"] * 2000)  # 13,997 raw characters, 9,999 normalised
    assert opening_of_prefix(text[:4000], COMPARE_CHARS) is None  # 2,858 normalised
    assert opening_of_prefix(text[:6000], COMPARE_CHARS) == normalize_for_matching(
        text)[:COMPARE_CHARS]


def test_the_warehouse_index_reads_the_openings_of_whole_texts(tmp_path: Path):
    """IndexReads.openings (what the index update compares stored texts by) gives the opening
    of each whole stored text, texts that normalisation shrinks a lot included."""
    now = datetime(2024, 6, 1, tzinfo=UTC)
    long = [t for t in texts() if len(t) > 2 * COMPARE_CHARS][:12] + [base_texts()[0], ""]
    articles = []
    for i, text in enumerate(long):
        url = f"https://example.org/{i}"
        articles.append(Article(id=content_hash(url)[:20], url=url, canonical_url=url,
                                source="example.org", title=f"Report {i}", text=text,
                                content_hash=content_hash(text), published_at=now,
                                fetched_at=now, language="en"))
    db = tmp_path / "w.duckdb"
    store = RunStore(db, "run-1", timeout_s=30)
    store.record_batch([], [ExtractionOutcome(a.url, a.source, "extracted", article=a)
                            for a in articles])
    fresh = store.articles_to_cluster([a.id for a in articles])
    store.cluster(stages.article_features(fresh, 7), stages.cluster_settings(7), now, now)
    with open_reader(db) as con:
        seqs = {r["seq"]: r["article_id"]
                for r in con.rows("SELECT seq, article_id FROM cluster_articles")}
        reads = cluster_index.IndexReads(con, queries.article_facts_by_ids,
                                         queries.articles_by_ids)
        openings = reads.openings(seqs)
    by_id = {a.id: a.text for a in articles}
    assert set(openings) == set(seqs)
    for seq, aid in seqs.items():
        assert openings[seq] == normalize_for_matching(by_id[aid])[:COMPARE_CHARS]
