"""The article's address as place context (extractors/content/facets/outlet.py, #26): the
outlet's home town read from its host, and what it changes in `where`."""

from __future__ import annotations

from datetime import datetime

from extractors.content.facets import analyse, extract_facets
from extractors.content.facets.outlet import read_url
from extractors.events.cluster_io import article_from_record


def _homes(url: str) -> list[tuple[str, str, str | None]]:
    outlet = read_url(url)
    assert outlet is not None
    return [(e.name, e.state, e.code) for e in outlet.homes]


def test_a_host_names_its_town_at_either_end_of_a_label() -> None:
    assert _homes("https://www.nbcchicago.com/news/local/x")[0] == ("Chicago", "IL", "US")
    assert _homes("http://pittsburgh.cbslocal.com/2015/x")[0] == ("Pittsburgh", "PA", "US")
    assert _homes("http://www.houstonchronicle.com/news/x")[0] == ("Houston", "TX", "US")
    # two words run together, every sense kept (the text tells them apart)
    assert {("Kansas City", "MO", "US"), ("Kansas City", "KS", "US")} <= set(
        _homes("http://www.kansascity.com/news/x"))
    assert ("Athens", "GA", "US") in _homes("http://onlineathens.com/stories/1")


def test_a_host_without_a_town_or_no_address_gives_no_home() -> None:
    assert _homes("http://www.wral.com/four-people-shot/13334346/") == []
    assert _homes("https://www.bbc.co.uk/news/world-123") == []
    assert read_url(None) is None
    assert read_url("not a url") is None
    # a host of garbage is read in bounded time and names nothing
    assert _homes("http://" + "q" * 300 + ".com/x") == []


STORY = ("Man shot in Spring Branch. A man was shot early Sunday in Spring Branch, police "
         "said. Officers found the victim, 24, in the parking lot of an apartment complex on "
         "Long Point Road. He was taken to a hospital in critical condition. No arrests have "
         "been made.")
PUBLISHED = datetime(2016, 5, 8, 14, 0)


def test_the_outlets_town_is_the_place_of_a_story_naming_only_a_neighbourhood() -> None:
    title, text = STORY.split(". ", 1)
    alone = extract_facets(title, text, PUBLISHED, "en")
    local = extract_facets(title, text, PUBLISHED, "en",
                           url="https://www.houstonchronicle.com/news/houston-texas/x")
    assert local.where is not None and local.where.name == "Houston"
    assert alone.where is None or alone.where.name != "Houston"
    # a candidate only: it does not enter the article's mention list
    assert "Houston" not in local.places


def _senses(name: str, title: str, text: str, url: str | None) -> dict[str, dict]:
    """The features of each sense (by state) of the place candidates named `name`."""
    return {c.value.state: c.features for c in analyse(title, text, PUBLISHED, "en", url=url).where
            if c.value is not None and getattr(c.value, "name", "") == name}


def test_the_outlets_town_backs_the_senses_near_it_and_in_its_state() -> None:
    text = ("Jacksonville police arrested two men Saturday after a robbery at a gas station, "
            "police said.")
    senses = _senses("Jacksonville", "Two arrested", text, "http://www.palestineherald.com/x")
    assert senses["TX"].get("url_near") == 1.0 and senses["TX"].get("url_state") == 1.0
    assert "url_near" not in senses["FL"] and "url_state" not in senses["FL"]
    # the host's own name: its US senses are in the outlet's state, Athens, Greece is not
    text = "Athens police arrested two men Saturday after a robbery, police said."
    senses = _senses("Athens", "Two arrested", text, "http://onlineathens.com/stories/x")
    assert senses["GA"].get("url_state") == 1.0 and "url_state" not in senses["ESYE31"]
    # without an address, no such signal
    plain = _senses("Athens", "Two arrested", text, None)
    assert not any(k.startswith("url_") for f in plain.values() for k in f)


def test_an_input_records_url_reaches_the_facets() -> None:
    title, text = STORY.split(". ", 1)
    record = {"id": "r1", "title": title, "text": text, "published": "2016-05-08T14:00:00Z",
              "url": "https://www.houstonchronicle.com/news/houston-texas/x"}
    assert article_from_record(record).facets.where.name == "Houston"
    assert article_from_record({**record, "url": None}).facets.where != (
        article_from_record(record).facets.where)
