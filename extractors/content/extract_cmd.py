"""The core of `newsmon extract`: local files or URLs in, one JSON line per input out.

Pages go through the monitor's own code path (`extract_article` on a FetchResult, in the
shared process pool of extractors.content.parallel when there are enough of them), so what this
command prints is what the pipeline would store. Inputs are handled in batches to bound memory;
output order is input order. Any input that fails (unreadable, not HTML, fetch error, parser
crash) still gets its line, one line on stderr names the input and the reason, and the return
code tells the caller something failed. Local
files get the same size cap as fetched pages (`FetchSettings.max_bytes`, also after gunzip).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import zlib
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from extractors.content.article import DEFAULT_EXTRACTION, ExtractionSettings, extract_article
from extractors.content.facets import record_json
from extractors.content.parallel import extract_pages, shutdown_pool
from extractors.fetch.http import Fetcher, FetchSettings, decode_html
from extractors.fetch.limits import describe_bytes
from extractors.fetch.urls import is_fetchable_scheme
from extractors.models import Candidate, ExtractionOutcome, FetchResult

SOURCE = "cli"  # the `source` of pages named on the command line
BATCH = 64  # inputs read, fetched and extracted together; bounds memory on long lists

_GZIP_MAGIC = b"\x1f\x8b"
# Signatures of common non-HTML files someone might pass by mistake.
_BINARY_MAGIC = (
    b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"RIFF", b"\x7fELF",
    b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf", b"OggS", b"ID3", b"\x00\x00\x01\x00", b"wOFF",
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_MARKUP = re.compile(
    r"<\s*(!doctype|html|head|body|title|meta|p|div|article|main|section|span|a|h[1-6]|br)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Input:
    """One command-line input after reading: a page to extract, or why there is none."""

    input: str
    url: str | None
    page: FetchResult | None = None
    error: str | None = None


def run_extract(
    inputs: Sequence[str],
    url: str | None,
    out: TextIO,
    fetch_settings: FetchSettings | None = None,
    settings: ExtractionSettings = DEFAULT_EXTRACTION,
    errors: TextIO | None = None,
) -> int:
    """Extract every input and write one JSON object per line to `out`, in input order.

    `url` is the original address of a single local file (metadata, relative links). Each
    failed input is also named on `errors` (default stderr): `error: INPUT: reason`. Returns 0
    when every input was extracted or skipped, 1 when any failed, 2 on a usage error.
    """
    errors = errors or sys.stderr
    n_files = sum(not is_fetchable_scheme(item) for item in inputs)
    if url is not None and (n_files != 1 or len(inputs) != 1):
        print("error: --url applies to exactly one local file input", file=errors)
        return 2
    failed = False
    for start in range(0, len(inputs), BATCH):
        batch = inputs[start : start + BATCH]
        read = _read_inputs(batch, url, fetch_settings)
        pages = [item.page for item in read if item.page is not None]
        outcomes = iter(_extract_all(pages, settings))
        for item in read:
            record = _record(item, next(outcomes) if item.page is not None else None)
            if record["status"] == "failed":
                failed = True
                print(f"error: {item.input}: {record['reason'] or 'failed'}", file=errors,
                      flush=True)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
    return 1 if failed else 0


def _extract_all(
    pages: list[FetchResult], settings: ExtractionSettings
) -> list[ExtractionOutcome]:
    """The monitor's extraction (pooled when it pays); a dead pool falls back to this process."""
    try:
        return extract_pages(pages, settings=settings)
    except BrokenProcessPool:
        shutdown_pool()
        return [extract_article(page, settings) for page in pages]


def _read_inputs(
    batch: Sequence[str], url: str | None, fetch_settings: FetchSettings | None
) -> list[_Input]:
    remote = [item for item in batch if is_fetchable_scheme(item)]
    fetched = dict(zip(remote, _fetch_all(remote, fetch_settings), strict=True)) if remote else {}
    max_bytes = (fetch_settings or FetchSettings()).max_bytes
    return [
        _Input(item, item, page=fetched[item]) if item in fetched
        else read_file(item, url, max_bytes)
        for item in batch
    ]


def _fetch_all(urls: Sequence[str], settings: FetchSettings | None) -> list[FetchResult]:
    """Fetch with newsmon's own Fetcher: same politeness, limits and decoding as the monitor."""

    async def fetch() -> list[FetchResult]:
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch_pages(
                [Candidate(url=u, source=SOURCE, via="list") for u in dict.fromkeys(urls)]
            )

    results = {result.url: result for result in asyncio.run(fetch())}
    return [results[u] for u in urls]


def _too_large(max_bytes: int) -> str:
    return (f"too large: over the {describe_bytes(max_bytes)} cap of fetched pages"
            " (--max-bytes raises it)")


def _gunzip(body: bytes, max_bytes: int) -> bytes | None:
    """Decompress every gzip member of `body`; None as soon as the result passes `max_bytes`."""
    out = bytearray()
    while body:
        inflater = zlib.decompressobj(wbits=31)
        out += inflater.decompress(body, max_bytes + 1 - len(out))
        if len(out) > max_bytes or inflater.unconsumed_tail:
            return None
        if not inflater.eof:
            raise EOFError("compressed file ended before the end-of-stream marker was reached")
        body = inflater.unused_data
    return bytes(out)


def read_file(path: str, url: str | None = None, max_bytes: int | None = None) -> _Input:
    """A local HTML file (gzip or not) as a FetchResult, or the reason it cannot be one.

    `max_bytes` (default: the fetcher's page cap) bounds the file and its decompressed body.
    """
    max_bytes = FetchSettings().max_bytes if max_bytes is None else max_bytes
    file = Path(path)
    try:
        page_url = url or file.resolve().as_uri()
    except (OSError, ValueError):
        page_url = url or path
    try:
        if file.is_dir():
            return _Input(path, page_url, error="not a file: is a directory")
        with file.open("rb") as handle:
            body = handle.read(max_bytes + 1)
    except OSError as exc:
        return _Input(path, page_url, error=f"cannot read: {exc.strerror or exc}")
    if len(body) > max_bytes:
        return _Input(path, page_url, error=_too_large(max_bytes))
    if body.startswith(_GZIP_MAGIC):
        try:
            unpacked = _gunzip(body, max_bytes)
        except (OSError, EOFError, zlib.error) as exc:
            return _Input(path, page_url, error=f"broken gzip file: {exc}")
        if unpacked is None:
            return _Input(path, page_url, error=_too_large(max_bytes))
        body = unpacked
    problem = _not_html(body)
    if problem:
        return _Input(path, page_url, error=problem)
    html = decode_html(body, None)
    if not _MARKUP.search(html[:100_000]):
        return _Input(path, page_url, error="not HTML: no markup found")
    page = FetchResult(url=page_url, source=SOURCE, final_url=page_url, html=html,
                       content_type="text/html", n_bytes=len(body))
    return _Input(path, page_url, page=page)


def _not_html(body: bytes) -> str | None:
    if not body.strip():
        return "not HTML: empty file"
    if body.startswith(_BINARY_MAGIC):
        return "not HTML: binary content"
    if b"\x00" in body[:8192] and not body.startswith(_UTF16_BOMS):
        return "not HTML: binary content"
    return None


def _record(item: _Input, outcome: ExtractionOutcome | None) -> dict[str, Any]:
    """The JSON line for one input; every key is present whatever the status."""
    article = outcome.article if outcome else None
    facets = article.facets if article else None
    page = item.page
    if outcome is None:
        status, reason = "failed", item.error
    else:
        status, reason = outcome.status, outcome.reason
    return {
        "input": item.input,
        "url": (article.url if article else (page.final_url or page.url) if page else item.url),
        "canonical_url": article.canonical_url if article else None,
        "status": status,
        "reason": reason,
        "title": article.title if article else None,
        "author": article.author if article else None,
        "published": article.published_at.isoformat() if article and article.published_at
        else None,
        "date_source": article.date_source if article else None,
        "language": article.language if article else None,
        "site_name": article.site_name if article else None,
        "text": article.text if article else None,
        "actors": list(facets.actors) if facets else [],
        "places": list(facets.places) if facets else [],
        "event_date": facets.event_date.isoformat() if facets and facets.event_date else None,
        "keywords": list(facets.keywords) if facets else [],
        # the main answers: who (list of {name, type}), where ({name, country, lat, lon, id}
        # or null), when (ISO date or null); actors/places/event_date above are the mentions
        **(record_json(facets.who, facets.where, facets.event_date) if facets
           else record_json((), None, None)),
    }
