"""The event facts of the demo site, as the monitor flow stores them (issue #26).

Before the ranked facets the demo's events listed page furniture and fragments as actors
("La" of "Slidell, La.", "Picayune" of "The Times-Picayune", "Rapid" opening a quoted paper
title, "Harvest" named once in passing, "July-September" a stretch of months), typed
"Amazon Ring" and "Japan Display" as persons and placed the Amazon Ring story in Tokyo (named
only as the home of a university). Every stored fact also carries its evidence.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse.db import open_reader

FURNITURE = {"La", "Picayune", "Rapid", "Harvest", "July-September", "September-quarter"}


def _rows(db: Path, query: str) -> list[tuple]:
    with open_reader(db) as con:
        return con.execute(query).fetchall()


@pytest.mark.slow
def test_demo_events_have_clean_typed_actors_and_evidence(demo_run) -> None:
    db = demo_run["db"]
    events = _rows(db, "SELECT headline, actors, who, where_name, where_confidence, event_date, "
                       "when_source FROM events")
    assert events
    for headline, actors, who, where, confidence, when, source in events:
        names = set(actors or ()) | {w["name"] for w in who or ()}
        assert not names & FURNITURE, (headline, names & FURNITURE)
        assert not [n for n in names if n.endswith((".com", "Times", "Post"))], names
        assert (where is None) == (confidence is None) and (confidence is None
                                                            or 0 < confidence <= 1)
        assert when is None or source in ("dateline", "text", "published"), (headline, source)
    typed = _rows(db, "SELECT w.name, w.type FROM (SELECT unnest(who) AS w FROM articles) "
                      "UNION ALL SELECT w.name, w.type FROM (SELECT unnest(who) AS w FROM events)")
    for name, kind in typed:
        if "Amazon Ring" in name or "Japan Display" in name:
            assert kind == "organisation", (name, kind)
    ring = _rows(db, "SELECT where_name FROM articles WHERE title ILIKE '%Amazon Ring%' "
                     "UNION ALL SELECT e.where_name FROM events AS e JOIN event_articles AS ea "
                     "ON ea.event_id = e.id JOIN articles AS a ON a.id = ea.article_id "
                     "WHERE a.title ILIKE '%Amazon Ring%'")
    assert ring and all(place != "Tokyo" for (place,) in ring), ring


@pytest.mark.slow
def test_demo_articles_record_the_evidence_of_their_facts(demo_run) -> None:
    rows = _rows(demo_run["db"], "SELECT event_date, published_at, when_source, where_name, "
                                 "where_confidence FROM articles")
    assert rows
    for event_date, published, source, where, confidence in rows:
        if published is not None:  # no evidence of another day: the publication day
            assert event_date is not None and source in ("dateline", "text", "published")
        if source == "published":  # the publication day where the story is set
            assert abs((event_date - published.date()).days) <= 1
        assert (where is None) == (confidence is None)
