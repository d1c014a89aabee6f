"""A fetched page's HTML as UTF-8 bytes (what the extraction workers receive instead of a
pickled string), and the HTML of raw pages stored inside the warehouse before migration 0018
(`raw_pages.html_zstd`; newer ones live in Parquet files, warehouse/raw_store.py)."""

from __future__ import annotations

import pyarrow as pa


def html_bytes(html: str) -> bytes:
    """The page's UTF-8 bytes (a lone surrogate, which no decoder of ours produces, is kept
    as is rather than failing the page)."""
    return html.encode("utf-8", "surrogatepass")


def html_text(body: bytes) -> str:
    return body.decode("utf-8", "surrogatepass")


def decompress_page(blob: bytes, n_bytes: int) -> str:
    """The HTML of a stored page (`n_bytes`: its UTF-8 length)."""
    return html_text(pa.decompress(blob, decompressed_size=n_bytes, codec="zstd",
                                   asbytes=True))
