"""The clustering quality benchmark's smoke mode runs, so the benchmark does not rot."""

from __future__ import annotations

import pytest

from bench import _data
from bench.cluster_quality import main


@pytest.mark.skipif(not _data.DATA.exists(), reason=f"needs the dev data at {_data.DATA}")
def test_cluster_quality_smoke_prints_story_and_uci_variant_figures(capsys) -> None:
    assert main(["--smoke", "--corpora", "giveme", "uci"]) == 0
    out = capsys.readouterr().out
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    for name in ("giveme5w1h_story_f1", "giveme5w1h_event_b3_precision",
                 "uci_title_date_newsmon_f1", "uci_title_newsmon_f1",
                 "uci_title_text_newsmon_f1", "uci_title_text_date_newsmon_f1"):
        assert 0.0 <= float(lines[name]) <= 1.0, name
    assert lines["uci_every_variant_beats_oracle_headline"] in ("True", "False")
