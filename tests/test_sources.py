"""sources.toml: valid files load; every mistake names the file, the source and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.fetch.errors import SourcesConfigError
from extractors.fetch.sources import load_sources
from extractors.models import Source

GOOD = """
[[source]]
name = "outlet-a"
feeds = ["http://outlet-a.test/rss.xml"]
sitemaps = ["http://outlet-a.test/news-sitemap.xml"]
language = "en"
country = "GB"
requests_per_second = 2

[[source]]
name = "outlet-b"
urls = ["https://outlet-b.test/story/1", " https://outlet-b.test/story/2 "]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_sources_reads_every_field(tmp_path: Path) -> None:
    sources = load_sources(write(tmp_path, GOOD))
    assert sources == [
        Source(
            name="outlet-a",
            feeds=("http://outlet-a.test/rss.xml",),
            sitemaps=("http://outlet-a.test/news-sitemap.xml",),
            language="en",
            country="GB",
            requests_per_second=2.0,
        ),
        Source(name="outlet-b",
               urls=("https://outlet-b.test/story/1", "https://outlet-b.test/story/2")),
    ]


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ('[[source]]\nname = "a"\nfeeds = ["ftp://a.test/rss"]\n',
         ["source 'a' (#1)", "field 'feeds'", "item 0", "ftp://a.test/rss"]),
        ('[[source]]\nname = "a"\n\n[[source]]\nname = "b"\nsitemaps = ["a.test/s.xml"]\n',
         ["source 'b' (#2)", "field 'sitemaps'", "a.test/s.xml"]),
        ('[[source]]\nname = "a"\nrequests_per_second = 0\n',
         ["source 'a' (#1)", "field 'requests_per_second'", "greater than 0"]),
        ('[[source]]\nname = "a"\nfeed = ["http://a.test/rss"]\n',
         ["source 'a' (#1)", "field 'feed'", "unknown key"]),
        ('[[source]]\nfeeds = ["http://a.test/rss"]\n', ["source #1", "field 'name'", "required"]),
        ('[[source]]\nname = "  "\n', ["source #1", "field 'name'", "blank"]),
        ('[[source]]\nname = "a"\n[[source]]\nname = "a"\n',
         ["source 'a' (#2)", "field 'name'", "duplicate of source #1"]),
        ('[[source]]\nname = "a"\nurls = "http://a.test/x"\n',
         ["source 'a' (#1)", "field 'urls'", "list"]),
        ('[[sources]]\nname = "a"\n', ["[[source]]", "sources", "unknown key"]),
        ("", ["[[source]]", "field 'source'"]),
        ('[[source]\nname = "a"\n', ["not valid TOML", "line 1"]),
    ],
)
def test_invalid_config_names_file_source_and_field(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SourcesConfigError) as info:
        load_sources(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(SourcesConfigError, match="nope.toml: file not found"):
        load_sources(tmp_path / "nope.toml")
