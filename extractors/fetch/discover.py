"""Discover candidate article URLs of sources from their feeds, sitemaps and URL lists.

Many sources are discovered at once (`discover_sources`): their hosts are independent, so
their robots.txt, feeds and sitemaps are fetched side by side under the Fetcher's global bound
and each host's own gate. `chunk_sources` splits a long source list into a few chunks (one
task each), keeping every host in one chunk.

Feeds and sitemaps are fetched with conditional GET (ETag / Last-Modified from an earlier
run): an unchanged document costs one 304 and yields nothing. That is safe only because the
flow stores a document's validators once every entry it held was stored or recorded (see
extractors/fetch/ledger.py). Sitemap indexes are followed two levels deep at most.

Discovery offers every entry it read; it never drops one for its date. Which entries are new
is decided by identity against the warehouse (`extractors.fetch.ledger.plan_entries`).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

from extractors.fetch.feeds import ParsedFeed, ParsedSitemap, parse_feed, parse_sitemap
from extractors.fetch.http import Fetcher, Validators, host_key
from extractors.fetch.urls import canonicalize
from extractors.models import Candidate, FetchResult, Source
from extractors.timezones import naive_as_utc

MAX_SITEMAP_DEPTH = 2  # index (0) -> child (1) -> grandchild (2); deeper is ignored
MAX_CHILD_SITEMAPS = 50  # per index: news sites list years of archives; newest lastmod first
SOURCES_PER_CHUNK = 50  # discovery tasks: about this many sources each ...
MIN_CHUNKS = 8  # ... but at least this many (a slow host holds back only its chunk) ...
MAX_CHUNKS = 24  # ... and at most this many (each costs a task run and a ledger write)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DocumentRead:
    """The entries of one feed or sitemap read in full this run (a 200, not a 304)."""

    url: str
    source: str
    kind: Literal["feed", "sitemap"]
    entries: tuple[Candidate, ...]


@dataclass
class Discovery:
    """What one source offered this run: candidates (not yet checked against the warehouse),
    every document fetch, the feeds' new validators and what went wrong."""

    candidates: list[Candidate] = field(default_factory=list)
    documents: list[FetchResult] = field(default_factory=list)
    validators: dict[str, Validators] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    reads: list[DocumentRead] = field(default_factory=list)
    # child sitemap -> the lastmod its index lists now, for the children fetched this run
    listed: dict[str, datetime] = field(default_factory=dict)
    # document -> why its body is no feed or sitemap (fetched, but nothing could be read)
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every feed and sitemap was read (or answered 304): nothing of it was missed."""
        return not self.unreadable and all(doc.error_class is None for doc in self.documents)


async def discover_sources(
    fetcher: Fetcher,
    sources: Sequence[Source],
    *,
    since: datetime | None,
    validators: Mapping[str, Validators],
    listed: Mapping[str, datetime] | None = None,
) -> dict[str, Discovery]:
    """source name -> its Discovery, all sources side by side."""
    found = await asyncio.gather(*(
        discover_source(fetcher, source, since=since, validators=validators,
                        listed=listed)
        for source in sources
    ))
    return {source.name: discovery for source, discovery in zip(sources, found, strict=True)}


async def discover_source(
    fetcher: Fetcher,
    source: Source,
    *,
    since: datetime | None,
    validators: Mapping[str, Validators],
    listed: Mapping[str, datetime] | None = None,
) -> Discovery:
    """Every entry of `source` (canonical URLs, deduplicated), whatever its date.

    A child sitemap is not fetched when its index lists the lastmod `listed` holds for it
    (the lastmod it had when all its entries were last handled), nor, on a backfill, when
    that lastmod is before `since`.
    """
    listed = listed or {}
    fetcher.register_source(source)
    found = Discovery()
    raw: list[Candidate] = [Candidate(u, source.name, "list") for u in source.urls]

    feeds = await asyncio.gather(
        *(_document(fetcher, source, url, validators, found) for url in source.feeds)
    )
    for url, body in zip(source.feeds, feeds, strict=True):
        if body is not None:
            entries = _collect(parse_feed(body, url, source.name), url, found)
            found.reads.append(DocumentRead(url, source.name, "feed", tuple(entries)))
            raw.extend(entries)

    level = list(dict.fromkeys(source.sitemaps))
    seen = set(level)
    for depth in range(MAX_SITEMAP_DEPTH + 1):
        bodies = await asyncio.gather(
            *(_document(fetcher, source, url, validators, found) for url in level)
        )
        children: list[str] = []
        for url, body in zip(level, bodies, strict=True):
            if body is None:
                continue
            parsed = parse_sitemap(body, url, source.name)
            entries = _collect(parsed, url, found)
            raw.extend(entries)
            if not parsed.sitemaps:
                found.reads.append(DocumentRead(url, source.name, "sitemap", tuple(entries)))
                continue
            # An index can stay unchanged while its children change: always re-read it.
            found.validators.pop(url, None)
            newest_first = sorted(parsed.sitemaps, key=lambda c: c.lastmod or _EPOCH, reverse=True)
            fresh = [c.url for c in newest_first
                     if not older(c.lastmod, since) and c.url not in seen
                     and (c.lastmod is None or listed.get(c.url) != c.lastmod)]
            found.listed.update({c.url: c.lastmod for c in parsed.sitemaps
                                 if c.lastmod is not None and c.url in fresh})
            if fresh and depth == MAX_SITEMAP_DEPTH:
                found.errors.append(f"{url}: sitemap index nested deeper than "
                                    f"{MAX_SITEMAP_DEPTH} levels; not followed")
                continue
            if len(fresh) > MAX_CHILD_SITEMAPS:
                found.errors.append(f"{url}: {len(fresh)} child sitemaps; following the first "
                                    f"{MAX_CHILD_SITEMAPS}")
            children.extend(fresh[:MAX_CHILD_SITEMAPS])
            seen.update(fresh[:MAX_CHILD_SITEMAPS])
        level = children
        if not level:
            break

    found.candidates = merge_candidates(raw)
    return found


async def _document(
    fetcher: Fetcher, source: Source, url: str, validators: Mapping[str, Validators],
    found: Discovery,
) -> bytes | None:
    """Fetch one feed/sitemap, recording its outcome; the body when it is new, else None."""
    result, body, new_validators, not_modified = await fetcher.fetch_document(
        url, source.name, validators.get(url)
    )
    found.documents.append(result)
    if result.error_class is not None:
        found.errors.append(f"{url}: {result.error}")
        return None
    if new_validators is not None and not not_modified:
        found.validators[url] = new_validators
    return None if not_modified else body


def _collect(parsed: ParsedFeed | ParsedSitemap, url: str, found: Discovery) -> list[Candidate]:
    if parsed.error:
        found.errors.append(f"{url}: {parsed.error}")
        if not parsed.candidates and not getattr(parsed, "sitemaps", None):
            found.unreadable[url] = parsed.error
    return parsed.candidates


def older(moment: datetime | None, since: datetime | None) -> bool:
    """True only when both are known and `moment` is before `since` (undated entries stay)."""
    if moment is None or since is None:
        return False
    return naive_as_utc(moment) < naive_as_utc(since)


def source_hosts(source: Source) -> set[str]:
    """The hosts (scheme://host[:port]) a source's discovery asks."""
    return {host_key(url) for url in (*source.feeds, *source.sitemaps)}


def chunk_sources(sources: Sequence[Source]) -> list[list[Source]]:
    """A few chunks of sources, one discovery task each, in the configured order.

    Sources sharing a host go in the same chunk, so each host's robots.txt is read once and
    its requests are spaced by one Fetcher; otherwise chunks are about equal in size.
    """
    groups: dict[str, list[Source]] = {}  # first host of a group -> its sources
    owner: dict[str, str] = {}  # host -> the group it belongs to
    for source in sources:
        hosts = sorted(source_hosts(source)) or [f"source:{source.name}"]
        joined = list(dict.fromkeys(owner[h] for h in hosts if h in owner))
        key = joined[0] if joined else hosts[0]
        group = groups.setdefault(key, [])
        for other in joined[1:]:  # this source links groups: fold them into one
            group.extend(groups.pop(other))
            owner.update({h: key for h, g in owner.items() if g == other})
        group.append(source)
        owner.update(dict.fromkeys(hosts, key))
    n_chunks = max(1, min(MAX_CHUNKS, len(groups),
                          max(MIN_CHUNKS, math.ceil(len(sources) / SOURCES_PER_CHUNK))))
    size = math.ceil(len(sources) / n_chunks)
    position = {source.name: i for i, source in enumerate(sources)}
    chunks: list[list[Source]] = [[]]
    for group in sorted(groups.values(), key=lambda g: min(position[s.name] for s in g)):
        if chunks[-1] and len(chunks[-1]) + len(group) > size:
            chunks.append([])
        chunks[-1].extend(group)
    return [sorted(chunk, key=lambda s: position[s.name]) for chunk in chunks if chunk]


def merge_candidates(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per canonical URL, in first-seen order, keeping the richest metadata.

    The entry with the most fields (title, date) wins; it borrows a missing title, date or
    guid from the others, so a feed's title and a sitemap's date of one article end up
    together. `updated` is the latest any of them carries.
    """
    by_url: dict[str, list[Candidate]] = {}
    for cand in candidates:
        by_url.setdefault(canonicalize(cand.url), []).append(cand)
    merged = []
    for url, group in by_url.items():
        best = max(group, key=lambda c: (c.title is not None) + (c.published is not None))
        title = best.title or next((c.title for c in group if c.title), None)
        published = best.published or next((c.published for c in group if c.published), None)
        guid = best.guid or next((c.guid for c in group if c.guid), None)
        updated = max((c.updated for c in group if c.updated), default=None)
        merged.append(replace(best, url=url, title=title, published=published, guid=guid,
                              updated=updated))
    return merged
