"""Pages the flow fetches stay in their bytes as served: the extraction worker decodes them,
and the raw store keeps the same decoded HTML as for a page decoded by the fetcher."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from extractors.content.parallel import extract_pages
from extractors.fetch.charset import decode_html, page_html, utf8_as_served
from extractors.models import FetchResult
from warehouse import raw_store

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
TEXT = " ".join(["Les ministres réunis à Bruxelles ont discuté du budget mardi."] * 12)
HTML = (f"<html><head><title>Réunion</title></head><body><article><h1>Réunion à Bruxelles"
        f"</h1><p>{TEXT}</p></article></body></html>")

# (body, Content-Type): every way a page says, or does not say, what it is
SERVED = [
    (HTML.encode(), "text/html; charset=utf-8"),
    (HTML.encode(), "text/html"),  # undeclared, valid UTF-8
    (HTML.encode(), "text/html; charset=UTF8"),
    (HTML.encode("cp1252"), "text/html; charset=iso-8859-1"),
    (HTML.encode(), "text/html; charset=windows-1252"),  # valid UTF-8, said to be cp1252
    (HTML.encode("cp1252"), "text/html"),  # undeclared, not UTF-8: guessed
    (b"\xef\xbb\xbf" + HTML.encode(), "text/html"),  # BOM
    ("\ufeff".encode("utf-16") + HTML.encode("utf-16-le"), "text/html"),
    (HTML.encode(), "text/html; charset=nonsense"),  # unknown label, then UTF-8
    (b"<meta charset='koi8-r'>" + "<p>Привет</p>".encode("koi8-r"), "text/html"),
    (b"<meta charset='utf-8'>" + HTML.encode("cp1252"), "text/html"),  # says UTF-8, is not
    (HTML.encode() + b"\xed\xa0\x80", "text/html; charset=utf-8"),  # an encoded surrogate
    (HTML.encode(), "text/html; charset=utf-8-sig"),
    (HTML.encode(), "text/html; charset=base64"),  # a codec Python knows, not a charset
    (b"", "text/html"),
]


def _served(i: int, body: bytes, content_type: str) -> FetchResult:
    return FetchResult(url=f"https://outlet.test/news/{i}", source="Outlet", status_code=200,
                       content_type=content_type, body=body, n_bytes=len(body),
                       fetched_at=T0)


def _decoded(page: FetchResult) -> FetchResult:
    return FetchResult(url=page.url, source=page.source, status_code=200,
                       content_type=page.content_type, fetched_at=T0, n_bytes=page.n_bytes,
                       html=decode_html(page.body or b"", page.content_type))


@pytest.mark.parametrize(("body", "content_type"), SERVED)
def test_bytes_stored_as_served_are_what_decoding_gives(body, content_type):
    """Where the raw store keeps the bytes as they came, decoding them gives the same HTML."""
    if utf8_as_served(body, content_type):
        try:
            as_utf8 = body.decode("utf-8")
        except UnicodeDecodeError:
            return  # not valid: the store decodes it
        assert decode_html(body, content_type) == as_utf8


def test_raw_pages_stored_from_served_bytes_equal_decoded_ones(tmp_path):
    served = [_served(i, body, ct) for i, (body, ct) in enumerate(SERVED)]
    decoded = [_decoded(p) for p in served]
    assert all(p.ok for p in served)
    files = {}
    for kind, pages in (("served", served), ("decoded", decoded)):
        written = raw_store.write_pages(tmp_path / f"{kind}.duckdb", "run-1", pages)
        files[kind] = written
        table = pq.read_table(raw_store.raw_dir(tmp_path / f"{kind}.duckdb")
                              / written[pages[0].url].file)
        files[kind + "_rows"] = dict(zip(table.column("url").to_pylist(),
                                         zip(table.column("html").to_pylist(),
                                             table.column("n_bytes").to_pylist(),
                                             strict=True), strict=True))
    assert files["served_rows"] == files["decoded_rows"]
    assert {u: w.n_bytes for u, w in files["served"].items()} == {
        u: w.n_bytes for u, w in files["decoded"].items()}
    assert [files["served_rows"][p.url][0] for p in served] == [page_html(p) for p in served]


def test_the_worker_decodes_served_bytes_as_the_fetcher_would():
    """A page handed to the pool in its bytes as served gets the outcome of its decoded
    self (the worker decodes it within the page's budget)."""
    served = [_served(i, body, ct) for i, (body, ct) in enumerate(SERVED)]
    decoded = [_decoded(p) for p in served]
    from_served = extract_pages(served)
    from_decoded = extract_pages(decoded)
    assert from_served == from_decoded
    assert sum(o.status == "extracted" for o in from_served) >= 5
