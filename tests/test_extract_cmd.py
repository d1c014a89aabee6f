"""`newsmon extract` core: real pages in, one JSON line per input out, in input order."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from extractors.content.extract_cmd import run_extract
from extractors.fetch.http import FetchSettings

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"

# What a reader of each committed page sees: title, language, a sentence of the body, the date.
EXPECTED = {
    "orf-wien.html": {
        "title": "Chronik: Lotte Tobisch ist tot", "language": "de",
        "snippet": "Tobisch starb Samstagfrüh nach langer Krankheit im Badener Künstlerheim.",
        "day": "2019-10-19",
    },
    "lastampa-temperature.html": {
        "title": "Perturbazione polare al Centro e al Sud. Il Nord, scavalcato, mantiene "
                 "temperature alte - La Stampa",
        "language": "it",
        "snippet": "Una perturbazione di origine polare, accompagnata da venti di Maestrale",
        "day": "2020-02-19",
    },
    "politico-meadows.html": {
        "title": "Mark Meadows accused of timing retirement to help elect wife’s friend",
        "language": "en", "snippet": "revealed just 30 hours before the filing deadline",
        "day": "2019-12-30",
    },
    "jpost-weizsaecker.html.gz": {
        "title": "Son of former German president stabbed to death in Berlin", "language": "en",
        "snippet": "Fritz Eckart von Weizsäcker was stabbed to death",
        "day": "2019-11-20",
    },
}
KEYS = ["input", "url", "canonical_url", "status", "reason", "title", "author", "published",
        "date_source", "language", "site_name", "text", "actors", "places", "event_date",
        "keywords", "who", "where", "when", "where_confidence", "when_source"]


def _run(inputs: list[str], url: str | None = None,
         settings: FetchSettings | None = None) -> tuple[int, list[dict]]:
    out = io.StringIO()
    code = run_extract(inputs, url, out, settings)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def _check(record: dict, name: str) -> None:
    expected = EXPECTED[name]
    assert record["status"] == "extracted", record["reason"]
    assert record["title"] == expected["title"]
    assert record["language"] == expected["language"]
    assert expected["snippet"] in record["text"]
    assert record["published"][:10] == expected["day"]
    assert record["date_source"] == "meta"


def test_real_pages_give_expected_fields() -> None:
    names = list(EXPECTED)
    code, records = _run([str(PAGES / n) for n in names])
    assert code == 0
    assert [r["input"] for r in records] == [str(PAGES / n) for n in names]
    for record, name in zip(records, names, strict=True):
        assert list(record) == KEYS
        _check(record, name)
        assert record["url"] == (PAGES / name).resolve().as_uri()
        assert record["actors"] and record["keywords"]
        assert record["when"] == record["event_date"]
        assert record["when_source"] in ("dateline", "text", "published")
        assert record["where"] is None or 0 < record["where_confidence"] <= 1
        for actor in record["who"]:
            assert set(actor) == {"name", "type"}
            assert actor["type"] in ("person", "organisation", "country")
    berlin = records[names.index("jpost-weizsaecker.html.gz")]["where"]
    assert berlin["name"] == "Berlin" and berlin["country"] == "DE"
    assert berlin["id"].startswith("geonames:") and 52 < berlin["lat"] < 53
    # the gzip page's canonical link is honoured even though it was read from disk
    assert records[3]["canonical_url"].startswith("https://www.jpost.com/Breaking-News/")


def test_url_option_names_the_original_address() -> None:
    code, [record] = _run([str(PAGES / "orf-wien.html")], url="https://wien.orf.at/stories/3017954/")
    assert code == 0
    assert record["url"] == "https://wien.orf.at/stories/3017954/"
    _check(record, "orf-wien.html")


def test_url_option_with_several_inputs_is_a_usage_error() -> None:
    code, records = _run([str(PAGES / "orf-wien.html")] * 2, url="https://wien.orf.at/x")
    assert code == 2 and records == []


def test_missing_and_binary_files_fail_but_others_are_processed(tmp_path: Path) -> None:
    png = tmp_path / "image.html"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x00\x01\x02garbage\x00" * 100)
    text = tmp_path / "notes.txt"
    text.write_text("just a line of plain text, no markup at all\n", encoding="utf-8")
    missing = tmp_path / "missing.html"
    inputs = [str(missing), str(png), str(PAGES / "orf-wien.html"), str(blob), str(text)]
    code, records = _run(inputs)
    assert code == 1
    assert [r["input"] for r in records] == inputs
    assert [r["status"] for r in records] == ["failed", "failed", "extracted", "failed", "failed"]
    assert "cannot read" in records[0]["reason"]
    assert records[1]["reason"] == "not HTML: binary content"
    assert records[3]["reason"] == "not HTML: binary content"
    assert records[4]["reason"].startswith("not HTML")
    _check(records[2], "orf-wien.html")


def test_gzip_file_without_gz_suffix_is_read(tmp_path: Path) -> None:
    target = tmp_path / "page.html"
    target.write_bytes(gzip.compress((PAGES / "politico-meadows.html").read_bytes()))
    code, [record] = _run([str(target)])
    assert code == 0
    _check(record, "politico-meadows.html")


def test_many_inputs_keep_their_order_through_the_pool(tmp_path: Path) -> None:
    names = list(EXPECTED)
    inputs = []
    for i in range(12):  # above extractors.content.parallel.MIN_PAGES_FOR_POOL, so the pool is used
        name = names[i % len(names)]
        copy = tmp_path / f"{i:02d}-{name}"
        shutil.copyfile(PAGES / name, copy)
        inputs.append(str(copy))
    inputs.insert(5, str(tmp_path / "absent.html"))
    code, records = _run(inputs)
    assert code == 1
    assert [r["input"] for r in records] == inputs
    for record in records:
        if record["input"].endswith("absent.html"):
            assert record["status"] == "failed"
        else:
            _check(record, Path(record["input"]).name[3:])


@pytest.fixture()
def local_site() -> Iterator[int]:
    """The committed pages served by a real http.server on 127.0.0.1."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(PAGES))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_url_inputs_are_fetched_with_newsmons_fetcher(local_site: int, tmp_path: Path) -> None:
    settings = FetchSettings(resolve={"outlet-a.test": f"127.0.0.1:{local_site}"},
                             max_retries=0, connect_timeout_s=2, read_timeout_s=5)
    page = "http://outlet-a.test/politico-meadows.html"
    gone = "http://outlet-a.test/no-such-page.html"
    local = str(PAGES / "lastampa-temperature.html")
    code, records = _run([page, local, gone], settings=settings)
    assert code == 1
    assert [r["input"] for r in records] == [page, local, gone]
    assert records[0]["url"] == page
    _check(records[0], "politico-meadows.html")
    # Served from outlet-a.test, the page's rel=canonical on politico.com is another site's:
    # recorded, not adopted (issue #28).
    assert records[0]["canonical_url"] == page
    assert records[0]["reason"].startswith("canonical not adopted: https://www.politico.com/")
    _check(records[1], "lastampa-temperature.html")
    assert records[2]["status"] == "failed"
    assert "404" in records[2]["reason"]
