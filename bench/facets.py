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

What the gold allows: some coders' answers cannot be given from the article by any
extractor (a `when` after the article was published, a `where` the text never names). Rules
written for any article, never a list of ids (`unanswerable`, printed with the figures), set
those apart; the figures are also given on the answerable rest, and the ceiling is the share
an extractor that got every answerable article right would score.

Run: .venv/bin/python -m bench.facets [--smoke] [--show-misses]
Prints a table (overall and per story, all articles and answerable ones), the ceiling with
its rules, and `name: value` lines.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
import time
import unicodedata
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench._data import DATA
from bench._smoke import add_smoke_flag, smoke_requested
from extractors.content.dates import MONTHS, WEEKDAYS
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


# --- what the gold allows -----------------------------------------------------------------

# Last words of event names: "Brazilian Grand Prix" names an event, not a place.
EVENT_WORDS = frozenset(
    """prix series cup championship games olympics open tournament final summit election
    elections festival race match""".split()  # noqa: SIM905
)
# Articles and counts open phrases about unnamed people: "A gunman", "Dozens of rescuers".
COUNT_WORDS = frozenset(
    """a an the one two three four five six seven eight nine ten eleven twelve dozens hundreds
    thousands millions scores several some many few""".split()  # noqa: SIM905
)
# Words naming the day relative to publication, and how many days back they point.
RELATIVE_DAYS = {"today": 0, "tonight": 0, "this morning": 0, "this evening": 0,
                 "yesterday": 1, "last night": 1, "tomorrow": -1}
EARLIEST_ZONE, LATEST_ZONE = timedelta(hours=14), timedelta(hours=-11)  # inhabited time zones

RULES = {
    "who": [
        ("not in the text", "no gold who phrase, nor any name in it, occurs in the headline "
                            "or body (whole words, case and accents folded)"),
    ],
    "where": [
        ("a day, not a place", "every gold where phrase is a weekday or month name"),
        ("an event, not a place", "every gold where phrase ends in an event word (Prix, "
                                  "Series, Cup, summit ...) and names no gazetteer place"),
        ("not in the text", "no name in any gold where phrase (a capitalised word that is no "
                            "demonym, weekday or month, nor written in lower case in the "
                            "article), nor another gazetteer name of it, occurs in the text"),
    ],
    "when": [
        ("after publication", "the gold date begins, in the earliest time zone (UTC+14), "
                              "after the article was published (a bare date: after that "
                              "day)"),
        ("not in the text", "the text names no gold date (by its weekday, its day and month, "
                            "ISO form, or today / yesterday / last night / tomorrow against "
                            "the publication day) and none is the publication day in any "
                            "inhabited time zone (UTC-11 to UTC+14; a bare date: that day)"),
    ],
}
# Who phrases that name no one ("a gunman", "five people") are answerable by an unnamed actor,
# not by a name: counted apart (`names_no_one`) but not set aside.


def _contains(text_tokens: list[str], phrase: str) -> bool:
    return _inside(tokens(phrase), text_tokens)


def _name_words(phrase: str, lower_words: set[str]) -> list[str]:
    """The words of a gold phrase that name someone or somewhere: capitalised, no demonym,
    weekday, month, article or count, and not an ordinary word of the article ("City",
    "Militants")."""
    gaz = gazetteer()
    out = []
    for word in re.findall(r"[^\W\d_][\w'’-]*", phrase):
        key = word.casefold()
        if not word[:1].isupper() or key in lower_words or gaz.demonym(word):
            continue
        if key in WEEKDAYS or key in MONTHS or key in COUNT_WORDS:
            continue
        out.append(word)
    return out


def names_no_one(row: dict) -> bool:
    """Every gold who phrase is unnamed people ("A gunman", "five people", "Chinese boy")."""
    lower = _lower_words(row)
    phrases = _phrases(row, "who")
    return bool(phrases) and not any(_name_words(p, lower) for p in phrases)


def _lower_words(row: dict) -> set[str]:
    text = f"{row['title'] or ''} {row['text'] or ''}"
    return {w for w in re.findall(r"[^\W\d_][\w'’-]*", text) if w.islower()}


def unanswerable(row: dict) -> dict[str, str | None]:
    """For who / where / when: the first rule of RULES that sets this article's gold answer
    apart as one no extractor could give from the text, or None."""
    text_tokens = tokens(f"{row['title'] or ''} {row['text'] or ''}")
    lower = _lower_words(row)
    return {
        "who": _who_reason(_phrases(row, "who"), text_tokens, lower),
        "where": _where_reason(_phrases(row, "where"), text_tokens, lower),
        "when": _when_reason(row, text_tokens),
    }


def _who_reason(phrases: list[str], text_tokens: list[str], lower: set[str]) -> str | None:
    if not phrases:
        return None
    found = any(_contains(text_tokens, p) or any(_contains(text_tokens, w)
                                                 for w in _name_words(p, lower))
                for p in phrases)
    return None if found else "not in the text"


def _where_reason(phrases: list[str], text_tokens: list[str], lower: set[str]) -> str | None:
    if not phrases:
        return None
    gaz = gazetteer()

    def is_day(p: str) -> bool:
        return all(t in WEEKDAYS or t in MONTHS for t in tokens(p))

    def is_event(p: str) -> bool:
        words = tokens(p)
        return bool(words) and words[-1] in EVENT_WORDS and not any(
            gaz.lookup(" ".join(words[i:j])) for i in range(len(words))
            for j in range(i + 1, len(words) + 1))

    def in_text(p: str) -> bool:
        return any(_contains(text_tokens, n) for w in _name_words(p, lower)
                   for n in place_names(w))

    places = [p for p in phrases if not is_day(p)]
    if not places:
        return "a day, not a place"
    places = [p for p in places if not is_event(p)]
    if not places:
        return "an event, not a place"
    return None if any(in_text(p) for p in places) else "not in the text"


def _when_reason(row: dict, text_tokens: list[str]) -> str | None:
    golds = {date.fromisoformat(p["parsed"]) for p in row["when"] if p.get("parsed")}
    if not golds:
        return None
    published = _published(row)
    bare = published is not None and published.time() == datetime.min.time()
    moment = None
    if published is not None:
        moment = published if published.tzinfo else published.replace(tzinfo=UTC)

    def after_publication(day: date) -> bool:
        if moment is None:
            return False
        if bare:
            return day > moment.date()
        begins = datetime.combine(day, datetime.min.time(), UTC) - EARLIEST_ZONE
        return begins > moment

    if all(after_publication(d) for d in golds):
        return "after publication"

    def publication_day(day: date) -> bool:
        if moment is None:
            return False
        if bare:
            return day == moment.date()
        return (moment + LATEST_ZONE).date() <= day <= (moment + EARLIEST_ZONE).date()

    def named(day: date) -> bool:
        month = day.strftime("%B").casefold()
        forms = [day.strftime("%A"), day.isoformat(), f"{month} {day.day}",
                 f"{day.day} {month}", f"{month[:3]} {day.day}", f"{day.day} {month[:3]}"]
        if any(_contains(text_tokens, f) for f in forms):
            return True
        if moment is None:
            return False
        return any(_contains(text_tokens, word) and abs(
            (moment.date() - timedelta(days=back) - day).days) <= 1
            for word, back in RELATIVE_DAYS.items())

    if any(named(d) or publication_day(d) for d in golds):
        return None
    return "not in the text"


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
    reasons = unanswerable(row)
    return {
        "_unanswerable": {"who@1": reasons["who"], "where@1": reasons["where"],  # type: ignore[dict-item]
                          "when": reasons["when"]},
        "_names_no_one": names_no_one(row),  # type: ignore[dict-item]
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
    add_smoke_flag(parser)  # the first SMOKE_ARTICLES articles only
    parser.add_argument("--show-misses", action="store_true",
                        help="print each article newsmon gets wrong, with the gold phrases")
    args = parser.parse_args(argv)
    if not args.gold.exists():
        print(f"skipped: {args.gold} is absent (see ../shared/data/README.md)")
        return 0
    rows = load_gold(args.gold)
    if smoke_requested(args):
        rows = rows[:SMOKE_ARTICLES]
    gazetteer()  # built once, outside the timing
    started = time.process_time()
    scored = [(row, score_article(row)) for row in rows]
    seconds = time.process_time() - started

    stories = sorted({r["category"] for r in rows})
    measures = ("who@1", "where@1", "when")
    print(f"{'story':24} {'n':>3} {'measure':8} {'newsmon':>8} {'baseline':>9}   "
          f"{'answerable':>10} {'newsmon':>8} {'baseline':>9}  baseline is")
    for story in ["ALL", *stories]:
        part = [s for r, s in scored if story == "ALL" or r["category"] == story]
        for measure in measures:
            ours, n = _rate([s[measure]["newsmon"] for s in part])
            base, _ = _rate([s[measure]["baseline"] for s in part])
            fair = [s for s in part if not s["_unanswerable"][measure]]
            ours_a, n_a = _rate([s[measure]["newsmon"] for s in fair])
            base_a, _ = _rate([s[measure]["baseline"] for s in fair])
            print(f"{story:24} {n:>3} {measure:8} {ours:8.3f} {base:9.3f}   {n_a:>10} "
                  f"{ours_a:8.3f} {base_a:9.3f}  {BASELINE_NAMES[measure]}")
    print("\nWhat the gold allows (an article counts for a measure when the coders gave an "
          "answer;\nit is set apart when a rule below says no extractor could give that answer "
          "from the text):")
    for measure, facet in zip(measures, ("who", "where", "when"), strict=True):
        counted = [s for _, s in scored if s[measure]["newsmon"] is not None]
        reasons = [s["_unanswerable"][measure] for s in counted]
        apart = sum(1 for r in reasons if r)
        ceiling = (len(counted) - apart) / max(1, len(counted))
        print(f"  {measure}: {apart} of {len(counted)} set apart, ceiling {ceiling:.3f}")
        for reason, rule in RULES[facet]:
            print(textwrap.fill(f"{reasons.count(reason):>3}  {reason}: {rule}", width=100,
                                initial_indent="    ", subsequent_indent=" " * 9))
    unnamed = [s for _, s in scored if s["_names_no_one"] and not s["_unanswerable"]["who@1"]]
    print(f"  who@1: {len(unnamed)} answerable gold answers name no one (\"a gunman\"): a "
          f"named-actor extractor cannot give them; newsmon hits "
          f"{sum(1 for s in unnamed if s['who@1']['newsmon'])}")
    for measure in measures:
        ours, n = _rate([s[measure]["newsmon"] for _, s in scored])
        base, _ = _rate([s[measure]["baseline"] for _, s in scored])
        fair = [s for _, s in scored if not s["_unanswerable"][measure]]
        ours_a, n_a = _rate([s[measure]["newsmon"] for s in fair])
        base_a, _ = _rate([s[measure]["baseline"] for s in fair])
        key = measure.replace("@", "_at_")
        print(f"facets_{key}_newsmon: {ours:.3f}")
        print(f"facets_{key}_baseline: {base:.3f}")
        print(f"facets_{key}_articles: {n}")
        print(f"facets_{key}_ceiling: {n_a / max(1, n):.3f}")
        print(f"facets_{key}_answerable_articles: {n_a}")
        print(f"facets_{key}_answerable_newsmon: {ours_a:.3f}")
        print(f"facets_{key}_answerable_baseline: {base_a:.3f}")
    print(f"facets_cpu_ms_per_article: {1000 * seconds / max(1, len(rows)):.1f}")

    if args.show_misses:
        for row, s in scored:
            missed = [m for m in ("who@1", "where@1", "when") if s[m]["newsmon"] is False]
            if missed:
                apart = [f"{m} ({s['_unanswerable'][m]})" for m in missed
                         if s["_unanswerable"][m]]
                print(f"\n[{row['category']}] {row['title'][:90]}")
                print(f"  newsmon: {s['_answers']}  missed: {', '.join(missed)}"
                      + (f"  set apart: {', '.join(apart)}" if apart else ""))
                print(f"  gold who={_phrases(row, 'who')} where={_phrases(row, 'where')} "
                      f"when={sorted({p['parsed'] for p in row['when'] if p.get('parsed')})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
