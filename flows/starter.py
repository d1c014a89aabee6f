"""`newsmon init`: the starter configuration a new user edits (sources and watchlists).

The starter sources.toml lists the bundled demo outlets (from demosite/sources.toml, so they
stay in step with the demo site) under a header that shows how to add real feeds.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates")
DEMO_SOURCES = Path(__file__).resolve().parent.parent / "demosite" / "sources.toml"


def _demo_sources() -> str:
    """The demo outlets' [[source]] tables without the file's own comment header."""
    lines = DEMO_SOURCES.read_text(encoding="utf-8").splitlines(keepends=True)
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    return "".join(lines)


def starter_files() -> dict[str, str]:
    """File name -> content of every file `newsmon init` writes."""
    header = (TEMPLATES / "sources.toml").read_text(encoding="utf-8")
    return {
        "sources.toml": f"{header}\n{_demo_sources()}",
        "watchlists.toml": (TEMPLATES / "watchlists.toml").read_text(encoding="utf-8"),
    }
