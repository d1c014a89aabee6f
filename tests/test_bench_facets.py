"""The facets benchmark's "what the gold allows" rules: general rules that set apart gold
answers no extractor could give from the text, tested on made-up rows (no shared data)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench import _data
from bench import _facet_corpora as fc
from bench.facets import Scored, main, names_no_one, unanswerable, where_miss_kind
from extractors.content.facets import ranking


def _row(text: str, published: str = "2016-11-11 09:00:00", title: str = "", who=(),
         where=(), when=()) -> dict:
    return {
        "title": title, "text": text, "published": published, "category": "x",
        "who": [{"text": w} for w in who], "where": [{"text": w} for w in where],
        "when": [{"parsed": d} for d in when],
    }


def test_a_when_after_publication_is_set_apart() -> None:
    """Coders dated an article published on the 8th to the 12th: no report can say that."""
    text = "The boy fell down the well on Sunday morning, his father said."
    assert unanswerable(_row(text, "2016-11-08 12:00:10", when=["2016-11-12"]))["when"] == (
        "after publication")
    assert unanswerable(_row(text, "2016-11-09 00:00:00", when=["2016-11-10"]))["when"] == (
        "after publication")  # a bare date: the whole day
    # 00:00 on the 12th at UTC+14 is 10:00 UTC on the 11th: after 09:00, before 22:00
    assert unanswerable(_row(text, "2016-11-11 09:00:00", when=["2016-11-12"]))["when"]
    assert unanswerable(_row(text, "2016-11-11 22:11:17", when=["2016-11-12"]))["when"] is None


def test_a_when_the_text_never_names_is_set_apart_unless_it_is_the_publication_day() -> None:
    text = "The Cubs won the World Series, ending a 108-year wait."
    assert unanswerable(_row(text, "2016-11-03 00:00:00", when=["2016-11-02"]))["when"] == (
        "not in the text")
    # 08:27 UTC on the 3rd is still the 2nd at UTC-11: the publication day somewhere
    assert unanswerable(_row(text, "2016-11-03 08:27:57", when=["2016-11-02"]))["when"] is None
    named = "The Cubs won the World Series on Wednesday night."
    assert unanswerable(_row(named, "2016-11-03 00:00:00", when=["2016-11-02"]))["when"] is None
    last_night = "The Cubs won the World Series last night."
    assert unanswerable(_row(last_night, "2016-11-03 00:00:00",
                             when=["2016-11-02"]))["when"] is None
    assert unanswerable(_row(text, "None", when=["2016-11-02"]))["when"] == "not in the text"


def test_where_answers_that_are_days_events_or_absent_are_set_apart() -> None:
    text = ("A suicide bomber struck the German consulate in Mazar-i-Sharif. Max Verstappen "
            "was third at the Brazilian Grand Prix.")
    assert unanswerable(_row(text, where=["Saturday"]))["where"] == "a day, not a place"
    assert unanswerable(_row(text, where=["Brazilian Grand Prix"]))["where"] == (
        "an event, not a place")
    assert unanswerable(_row(text, where=["Wrigley Field"]))["where"] == "not in the text"
    # another spelling of a place the text names is the same place
    assert unanswerable(_row(text, where=["Mazar-e-Sharif"]))["where"] is None
    assert unanswerable(_row(text, where=["Afghan City of Mazar-i-Sharif"]))["where"] is None
    assert unanswerable(_row(text, where=["Saturday", "Mazar-i-Sharif"]))["where"] is None
    assert unanswerable(_row(text))["where"] is None  # no gold where: not counted at all


def test_who_answers_absent_from_the_text_are_set_apart_and_unnamed_ones_counted() -> None:
    text = ("A gunman opened fire and wounded five people. Red Bull team principal Christian "
            "Horner watched.")
    assert unanswerable(_row(text, who=["Two people"]))["who"] == "not in the text"
    assert unanswerable(_row(text, who=["A gunman"]))["who"] is None
    assert names_no_one(_row(text, who=["A gunman"]))
    assert names_no_one(_row(text, who=["Dozens of rescuers", "five people"]))
    assert unanswerable(_row(text, who=["Red Bull boss Christian Horner"]))["who"] is None
    assert not names_no_one(_row(text, who=["Red Bull boss Christian Horner"]))


def test_smoke_run_prints_the_ceiling(capsys: pytest.CaptureFixture[str]) -> None:
    if not (_data.DATA / "facets").exists():
        pytest.skip(f"{_data.DATA / 'facets'} is absent")
    assert main(["--smoke"]) == 0
    out = capsys.readouterr().out
    assert "facets_when_ceiling:" in out and "after publication:" in out


def _scored(text: str, gold: tuple) -> Scored:
    doc = fc.Doc(id="x", corpus="gva", group="x", title="Man shot in Erie", text=text,
                 published=datetime(2017, 3, 7, 15, 0, tzinfo=UTC), url=None, who=None,
                 where=gold, when=None)
    return Scored(doc)


def test_where_misses_are_sorted_into_kinds() -> None:
    """The kinds `--where-misses` counts: a hit, an area around or inside the gold, a gold
    place no candidate is, with or without its name in the gazetteer."""
    text = ("ERIE, Pa. (AP) — A man was shot and wounded Tuesday night in Erie, Pa., police "
            "said. Erie police are looking for the gunman.")
    weights = ranking.WHERE_WEIGHTS
    erie = fc.GoldPlace("Erie", lat=42.129, lon=-80.085)
    assert where_miss_kind(_scored(text, (erie,)), weights) == "hit"
    state = fc.GoldPlace("Pennsylvania")  # an area coded by name, no position
    assert where_miss_kind(_scored(text, (state,)), weights) == (
        "granularity: city chosen inside the gold region")
    france = fc.GoldPlace("Paris", lat=48.857, lon=2.352)
    assert where_miss_kind(_scored(text, (france,)), weights) == (
        "no right candidate, gold name in the gazetteer")
    unknown = fc.GoldPlace("Zzyzx Flats", lat=35.14, lon=-116.10)
    assert where_miss_kind(_scored(text, (unknown,)), weights) == (
        "no right candidate, gold name not in the gazetteer")
