"""The flow's side of the coverage ledger: the warehouse reads and writes around the pure
decisions of `extractors.fetch.ledger`. Runs in the flow process (it opens the warehouse);
no task calls it.

    plan = plan_run(db, run_id, sources, discoveries, since, now)   # one batch of reads
    record_plan(db, run_id, plan, now)                                # before fetching
    ... fetch and extract plan.to_fetch ...
    settle_run(db, run_id, plan, discoveries, now)                    # after extracting
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from extractors.fetch.discover import Discovery, DocumentRead
from extractors.fetch.ledger import EntryPlan, documents_to_remember, plan_entries, settle
from extractors.models import Source
from warehouse import load, queries


def reads_of(discoveries: Sequence[Discovery]) -> list[DocumentRead]:
    return [read for found in discoveries for read in found.reads]


def plan_run(
    db: Path, run_id: str, sources: Sequence[Source], discoveries: Sequence[Discovery],
    since: datetime | None, now: datetime,
) -> EntryPlan:
    """Decide every entry the sources offered, plus the ledger's backlog, by identity."""
    candidates = [c for found in discoveries for c in found.candidates]
    candidates += queries.ledger_backlog(db, [s.name for s in sources])
    reads = reads_of(discoveries)
    guid_urls = queries.ledger_guids(db, {(c.source, c.guid) for c in candidates if c.guid})
    urls = {c.url for c in candidates} | set(guid_urls.values())
    return plan_entries(
        candidates, reads, queries.entry_facts(db, urls),
        now=now, since=since, guid_urls=guid_urls,
        read_before=queries.documents_read_before(db, [r.url for r in reads], run_id),
        sources_with_sitemaps=[s.name for s in sources if s.sitemaps],
    )


def record_plan(db: Path, run_id: str, plan: EntryPlan, now: datetime) -> None:
    """Record every entry's sighting and the overflows, before any page is fetched."""
    load.record_entries(db, run_id, [p.record() for p in plan.entries], now)
    load.record_overflows(db, run_id, plan.overflows)


def settle_run(
    db: Path, run_id: str, plan: EntryPlan, discoveries: Sequence[Discovery], now: datetime
) -> None:
    """Record what became of the fetched entries; keep the validators of the documents whose
    every entry is now handled, and forget those of the others."""
    settled = settle(plan, queries.entry_facts(db, [c.url for c in plan.to_fetch]))
    load.record_entries(db, run_id, settled, now)
    keep, forget = documents_to_remember(
        reads_of(discoveries), [*(p.record() for p in plan.entries), *settled]
    )
    validators = {url: v for found in discoveries for url, v in found.validators.items()}
    load.record_validators(db, {url: validators[url] for url in keep if url in validators})
    # A child sitemap is skipped while its index lists the same lastmod: if it was read in
    # full and handled, or answered 304 (unchanged since it was handled).
    unchanged = {d.url for found in discoveries for d in found.documents if d.status_code == 304}
    load.record_listed_lastmods(db, {
        url: when for found in discoveries for url, when in found.listed.items()
        if url in unchanged or url in keep
    })
    load.forget_validators(db, forget)
