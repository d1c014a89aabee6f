"""The simulated world (scripts/simworld.py) in its smoke size: nothing visible is lost,
and source health flags what the world did, nothing else.

Keeps the script from rotting (CI runs this, not the 30-day run) and checks its accounting:
every story published is counted once, and everything visible at a run is stored in its
latest visible version.
"""

from __future__ import annotations

import pytest

from scripts.simworld import simulate

pytestmark = pytest.mark.slow


def test_a_few_simulated_days_lose_nothing_that_was_visible(prefect_server, tmp_path):
    report = simulate(days=4, n_outlets=3, seed=7, workdir=tmp_path)
    assert report.published == report.visible + sum(report.never_visible.values())
    assert report.visible > 50 and report.updates_visible > 0
    assert report.lost_visible == [] and report.stored_older_version == 0
    assert report.stored_latest == report.visible
    assert 0 < report.refetched <= report.stories_updated  # updates refetched, once each
    assert report.ok and report.lines()[-1] == "RESULT: ok"
    # source health: the outlet that died is failing from the run it died, for every run
    # after; nothing else is flagged but what the world did (every document down at a run)
    assert report.first_flag("dies.test", "failing") == report.die_day == 2
    assert report.false_alarms == [] and report.missed == []
    assert [d for (h, d), s in report.flagged.items() if h == "dies.test"] == [2, 3]
    # the first run was a --since backfill; the second fetched what it left out
    assert report.runs[1]["articles_new"] > report.runs[2]["articles_new"]
