"""Who, where and when of single articles against the Giveme5W1H coders' answers.

Data: ../shared/data/facets/giveme5w1h_gold_dev.jsonl (47 English articles, 6 stories, with the
phrases three coders chose as who / where / when; see ../shared/data/README.md). Measures:

* who@1: newsmon's first `who` matches a gold who phrase.
* where@1: newsmon's `where` matches a gold where phrase; articles whose coders found no
  where are left out.
* when: newsmon's `when` (the event date) equals a gold parsed date.

"Matches" means one phrase contains the other as whole words after folding case, accents
and punctuation ("Chicago Cubs" matches "Cubs"; "Christian Horner" matches "Red Bull boss
Christian Horner"). A place also matches through the other names the gazetteer knows for it
("Mazār-e Sharīf" matches "Mazar-i-Sharif", "São Paulo" matches "Sao Paulo"); demonyms do
not count ("Brazil" does not match "Brazilian Grand Prix").

Baselines, measured in the same run with the same matching:
* who: the first capitalised name of the body (a run of capitalised words that is not just
  the word opening a sentence);
* where: the first place the gazetteer finds in headline + body, in reading order;
* when: the publication day.

Run: .venv/bin/python -m bench.facets [--smoke] [--show-misses]
Prints a table (overall and per story) and `name: value` lines.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from datetime import date, datetime
from pathlib import Path

from bench._data import DATA
from extractors.content.facets import extract_facets
from extractors.content.places import gazetteer

GOLD = DATA / "facets" / "giveme5w1h_gold_dev.jsonl"
SMOKE_ARTICLES = 8

_NON_WORD = re.compile(r"[^\w]+")
_CAP_RUN = re.compile(r"(?:[A-Z][\w'’.-]*)(?:\s+(?:[A-Z][\w'’.-]*|of|de|van|von|al|bin))*")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n)$")


def tokens(text: str) -> list[str]:
    """Folded word tokens: "Mazar-i-Sharif" -> ["mazar", "i", "sharif"]."""
    bare = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    return [t for t in _NON_WORD.split(bare.casefold().replace("_", " ")) if t]


def _inside(needle: list[str], hay: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(hay[i : i + n] == needle for i in range(len(hay) - n + 1))


def phrase_match(answer: str, gold: str) -> bool:
    """Either phrase contains the other as whole words."""
    a, g = tokens(answer), tokens(gold)
    return _inside(a, g) or _inside(g, a)


def place_names(name: str) -> set[str]:
    """Every name the gazetteer resolves to the same place as `name` (demonyms excluded)."""
    gaz = gazetteer()
    canonical = gaz.lookup(name) or name
    return {canonical, name, *gaz.names_of(canonical)}


def place_match(answer: str, gold: str) -> bool:
    return any(phrase_match(n, gold) for n in place_names(answer))


# --- baselines --------------------------------------------------------------------------


def first_capitalised_name(text: str) -> str | None:
    for m in _CAP_RUN.finditer(text):
        run = m.group().strip(" .")
        opens_sentence = bool(_SENTENCE_START.search(text[: m.start()]))
        if opens_sentence and " " not in run:
            continue  # "The", "Police": a sentence opener, not a name
        if opens_sentence:
            run = run.split(" ", 1)[1] if run.split()[0] in ("The", "A", "An") else run
        return run
    return None


def first_place(title: str, text: str) -> str | None:
    gaz = gazetteer()
    for m in _CAP_RUN.finditer(title + "\n" + text):
        words = m.group().strip(" .").split()
        for n in range(min(len(words), gaz.max_words), 0, -1):  # longest name first
            for i in range(len(words) - n + 1):
                place = gaz.lookup(" ".join(words[i : i + n]))
                if place:
                    return place
    return None


# --- scoring ----------------------------------------------------------------------------


def load_gold(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _published(row: dict) -> datetime | None:
    value = row.get("published")
    return datetime.fromisoformat(value) if value and value != "None" else None


def _phrases(row: dict, key: str) -> list[str]:
    return [p["text"] for p in row[key] if p.get("text")]


def score_article(row: dict) -> dict[str, dict[str, bool | None]]:
    """{measure: {system: hit}}; None where the article does not count for that measure."""
    published = _published(row)
    facets = extract_facets(row["title"] or "", row["text"] or "", published, "en")
    who_gold, where_gold = _phrases(row, "who"), _phrases(row, "where")
    when_gold = {date.fromisoformat(p["parsed"]) for p in row["when"] if p.get("parsed")}

    def who_hit(name: str | None) -> bool | None:
        return None if not who_gold else bool(name) and any(
            phrase_match(name, g) for g in who_gold)

    def where_hit(name: str | None) -> bool | None:
        return None if not where_gold else bool(name) and any(
            place_match(name, g) for g in where_gold)

    def when_hit(day: date | None) -> bool | None:
        return None if not when_gold else day in when_gold

    ours_who = facets.who[0].name if facets.who else None
    ours_where = facets.where.name if facets.where else None
    return {
        "who@1": {"newsmon": who_hit(ours_who),
                  "baseline": who_hit(first_capitalised_name(row["text"] or ""))},
        "where@1": {"newsmon": where_hit(ours_where),
                    "baseline": where_hit(first_place(row["title"] or "", row["text"] or ""))},
        "when": {"newsmon": when_hit(facets.event_date),
                 "baseline": when_hit(published.date() if published else None)},
        "_answers": {"who": ours_who, "where": ours_where,  # type: ignore[dict-item]
                     "when": facets.event_date.isoformat() if facets.event_date else None},
    }


BASELINE_NAMES = {
    "who@1": "first capitalised name",
    "where@1": "first place mention",
    "when": "publication day",
}


def _rate(hits: list[bool | None]) -> tuple[float, int]:
    counted = [h for h in hits if h is not None]
    return (sum(counted) / len(counted) if counted else 0.0), len(counted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--smoke", action="store_true",
                        help=f"first {SMOKE_ARTICLES} articles only (seconds; for CI)")
    parser.add_argument("--show-misses", action="store_true",
                        help="print each article newsmon gets wrong, with the gold phrases")
    args = parser.parse_args(argv)
    if not args.gold.exists():
        print(f"skipped: {args.gold} is absent (see ../shared/data/README.md)")
        return 0
    rows = load_gold(args.gold)
    if args.smoke:
        rows = rows[:SMOKE_ARTICLES]
    gazetteer()  # built once, outside the timing
    started = time.process_time()
    scored = [(row, score_article(row)) for row in rows]
    seconds = time.process_time() - started

    stories = sorted({r["category"] for r in rows})
    print(f"{'story':24} {'n':>3} {'measure':8} {'newsmon':>8} {'baseline':>9}  baseline is")
    for story in ["ALL", *stories]:
        part = [s for r, s in scored if story == "ALL" or r["category"] == story]
        for measure in ("who@1", "where@1", "when"):
            ours, n = _rate([s[measure]["newsmon"] for s in part])
            base, _ = _rate([s[measure]["baseline"] for s in part])
            print(f"{story:24} {n:>3} {measure:8} {ours:8.3f} {base:9.3f}  "
                  f"{BASELINE_NAMES[measure]}")
    for measure in ("who@1", "where@1", "when"):
        ours, n = _rate([s[measure]["newsmon"] for _, s in scored])
        base, _ = _rate([s[measure]["baseline"] for _, s in scored])
        key = measure.replace("@", "_at_")
        print(f"facets_{key}_newsmon: {ours:.3f}")
        print(f"facets_{key}_baseline: {base:.3f}")
        print(f"facets_{key}_articles: {n}")
    print(f"facets_cpu_ms_per_article: {1000 * seconds / max(1, len(rows)):.1f}")

    if args.show_misses:
        for row, s in scored:
            missed = [m for m in ("who@1", "where@1", "when") if s[m]["newsmon"] is False]
            if missed:
                print(f"\n[{row['category']}] {row['title'][:90]}")
                print(f"  newsmon: {s['_answers']}  missed: {', '.join(missed)}")
                print(f"  gold who={_phrases(row, 'who')} where={_phrases(row, 'where')} "
                      f"when={sorted({p['parsed'] for p in row['when'] if p.get('parsed')})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
