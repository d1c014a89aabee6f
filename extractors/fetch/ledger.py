"""Which entries a run fetches, decided by identity, and what became of each one. Pure.

A news monitor is trusted for one thing: every article a source lists ends up stored, or in a
ledger that says why not. So "seen" means stored or recorded, by identity (the canonical URL,
or a feed GUID where it is stable) and never by a date: feeds publish late, back-date and
re-order entries. Dates only bound how far back an explicit backfill (`--since`) reaches, and
an entry a `--since` run left out stays due for later runs.

Words used here:

- entry: one URL a feed, a sitemap or the source's URL list offered (a `Candidate`);
- outcome: what became of an entry, with a reason: `stored`; `failed` (a final fetch error,
  an extraction failure); `skipped` (extraction found no article, `before --since`, the same
  GUID as a stored article); `pending` (`retry: <error>` due again, or `not fetched yet`);
- decision: what this run does with an entry: fetch it as `new`, `updated` (stored, but its
  feed/sitemap `updated`/`lastmod` moved forward) or `retry`; leave it as `seen`; or leave it
  `before-since`.

The warehouse supplies `EntryFacts` (warehouse.queries.entry_facts); the flow records the
plan's `EntryRecord`s in the `entries` table, and after fetching records what `settle` makes
of the fetched entries. It stores a document's conditional-GET validators only when
`documents_to_remember` says every entry the document held is handled.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from extractors.fetch.discover import Discovery, DocumentRead, merge_candidates, older
from extractors.fetch.errors import HTTPStatusError, is_worth_retrying_later
from extractors.fetch.http import Validators
from extractors.models import Candidate, EntryFacts, EntryRecord, Overflow

Outcome = Literal["stored", "failed", "skipped", "pending"]
Decision = Literal["new", "updated", "retry", "seen", "before-since"]

MAX_RUNS_PER_FAILED_PAGE = 3  # a page failing in this many runs is given up (outcome failed)
BEFORE_SINCE = "before --since"
NOT_FETCHED = "not fetched yet"
RETRY = "retry: "
SAME_GUID = "same guid as "
FETCH_DECISIONS = ("new", "updated", "retry")
_DETAIL = re.compile(r"\s*[(:].*$")  # "too short (12 words)" -> "too short"


@dataclass(frozen=True)
class PlannedEntry:
    """One entry, what this run does with it, and what the ledger records for it now."""

    entry: Candidate
    decision: Decision
    outcome: Outcome
    reason: str | None = None
    baseline: datetime | None = None  # `updated` of the version stored, if known

    def record(self) -> EntryRecord:
        return EntryRecord(self.entry, self.outcome, self.reason, self.baseline)


@dataclass(frozen=True)
class EntryPlan:
    """What a run does with every entry it saw (and with the ledger's backlog)."""

    entries: tuple[PlannedEntry, ...] = ()
    overflows: tuple[Overflow, ...] = ()

    @property
    def to_fetch(self) -> list[Candidate]:
        return [p.entry for p in self.entries if p.decision in FETCH_DECISIONS]

    @property
    def size(self) -> int:
        """Distinct entries (a run may plan an entry twice: feed, then sitemaps read again)."""
        return len({(p.entry.source, p.entry.url) for p in self.entries})

    def count(self, decision: Decision) -> int:
        """Distinct entries whose (latest) decision is `decision`."""
        latest = {(p.entry.source, p.entry.url): p.decision for p in self.entries}
        return sum(d == decision for d in latest.values())

    def count_seen(self, outcome: Outcome) -> int:
        """Distinct entries left as `seen` because earlier runs already had this outcome."""
        latest = {(p.entry.source, p.entry.url): p for p in self.entries}
        return sum(p.decision == "seen" and p.outcome == outcome for p in latest.values())


def retry_due(error_class: str | None, status_code: int | None, failed_runs: int) -> bool:
    """Whether a page whose latest fetch failed should be fetched again by the next run."""
    return failed_runs < MAX_RUNS_PER_FAILED_PAGE and is_worth_retrying_later(
        error_class, status_code
    )


def error_label(error_class: str, status_code: int | None) -> str:
    """`HTTP 404` for status errors, the error class otherwise."""
    if error_class == HTTPStatusError.__name__ and status_code is not None:
        return f"HTTP {status_code}"
    return error_class


def outcome_of(facts: EntryFacts | None) -> tuple[Outcome, str | None]:
    """What became of an entry so far, from what the warehouse knows about its URL."""
    if facts is None:
        return "pending", NOT_FETCHED
    if facts.stored:
        return "stored", None
    if facts.fetch_error is not None:
        label = error_label(facts.fetch_error, facts.fetch_status)
        if retry_due(facts.fetch_error, facts.fetch_status, facts.failed_runs):
            return "pending", RETRY + label
        return "failed", label
    if facts.extraction == "skipped":
        return "skipped", _short(facts.extraction_reason)
    if facts.extraction == "failed":
        return "failed", _short(facts.extraction_reason)
    return "pending", NOT_FETCHED


def _short(reason: str | None) -> str:
    """A reason without its details, so that reasons can be counted."""
    return _DETAIL.sub("", reason or "") or "no reason given"


def is_handled(outcome: Outcome, reason: str | None) -> bool:
    """Stored or recorded for good: nothing a later read of its document could add.

    A pending retry counts (the ledger queues it whatever the document says); an entry left
    `before --since` or not fetched yet does not.
    """
    if outcome in ("stored", "failed"):
        return True
    if outcome == "skipped":
        return reason != BEFORE_SINCE
    return outcome == "pending" and (reason or "").startswith(RETRY)


def moved_forward(updated: datetime | None, baseline: datetime | None) -> bool:
    """The entry's `updated` is later than the stored version's; unknown is not evidence."""
    return updated is not None and baseline is not None and updated > baseline


def stable_guids(entries: Iterable[Candidate], facts: Mapping[str, EntryFacts]) -> bool:
    """A source's GUIDs identify its articles if none moved: every entry the ledger knows
    carries the GUID recorded for it, and no GUID names two URLs at once."""
    urls_of: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if entry.guid is None:
            continue
        urls_of[entry.guid].add(entry.url)
        known = facts.get(entry.url)
        if known is not None and known.guid is not None and known.guid != entry.guid:
            return False
    return all(len(urls) == 1 for urls in urls_of.values())


def decide(entry: Candidate, known: EntryFacts | None, since: datetime | None) -> PlannedEntry:
    """What to do with one entry, given what the warehouse knows about its URL."""
    outcome, reason = outcome_of(known)
    if outcome == "stored":
        baseline = known.baseline if known is not None else None
        if moved_forward(entry.updated, baseline):
            return PlannedEntry(entry, "updated", outcome, reason, baseline)
        # The first `updated` seen of a stored article is its baseline (nothing to compare).
        return PlannedEntry(entry, "seen", outcome, reason, baseline or entry.updated)
    if outcome in ("failed", "skipped"):
        return PlannedEntry(entry, "seen", outcome, reason)
    if reason is not None and reason.startswith(RETRY):
        return PlannedEntry(entry, "retry", outcome, reason)
    if older(entry.published, since):
        return PlannedEntry(entry, "before-since", "skipped", BEFORE_SINCE)
    return PlannedEntry(entry, "new", "pending", NOT_FETCHED)


def plan_entries(
    candidates: Iterable[Candidate],
    reads: Sequence[DocumentRead],
    facts: Mapping[str, EntryFacts],
    *,
    now: datetime,
    since: datetime | None = None,
    guid_urls: Mapping[tuple[str, str], str] | None = None,
    read_before: Mapping[str, datetime] | None = None,
    sources_with_sitemaps: Iterable[str] = (),
) -> EntryPlan:
    """Decide every entry of a run (discovered ones and the ledger's backlog) by identity.

    `facts`: what the warehouse knows per URL; `guid_urls`: (source, GUID) -> the URL the
    ledger knows it at; `read_before`: document URL -> when an earlier run last read it;
    `since`: this run's backfill bound, if any. Dates never make an entry "seen".
    """
    entries = merge_candidates(candidates)
    by_source: dict[str, list[Candidate]] = defaultdict(list)
    for entry in entries:
        by_source[entry.source].append(entry)
    trusted = {name for name, group in by_source.items() if stable_guids(group, facts)}
    guid_urls = guid_urls or {}
    planned = []
    for entry in entries:
        decided = decide(entry, facts.get(entry.url), since)
        moved_from = guid_urls.get((entry.source, entry.guid or "")) \
            if entry.source in trusted else None
        if decided.decision == "new" and moved_from not in (None, entry.url):
            # A stable GUID the ledger knows at another URL: the same article, moved.
            earlier = decide(entry, facts.get(moved_from), since)
            if earlier.outcome == "stored":
                decided = replace(earlier, outcome="skipped", reason=SAME_GUID + moved_from,
                                  decision="updated" if earlier.decision == "updated" else "seen")
        planned.append(decided)
    overflows = find_overflows(reads, facts, guid_urls, read_before or {}, now,
                               set(sources_with_sitemaps))
    return EntryPlan(tuple(planned), tuple(overflows))


def find_overflows(
    reads: Sequence[DocumentRead],
    facts: Mapping[str, EntryFacts],
    guid_urls: Mapping[tuple[str, str], str],
    read_before: Mapping[str, datetime],
    now: datetime,
    sources_with_sitemaps: set[str],
) -> list[Overflow]:
    """Documents read before whose every entry is unknown to the warehouse.

    A feed that lists its last N entries loses the older ones between two reads when more
    than N were published meanwhile; every entry being new is the sign. The first read of a
    document is not (everything is new then).
    """
    found = []
    for read in reads:
        last = read_before.get(read.url)
        if last is None or not read.entries:
            continue
        if any(e.url in facts or (e.source, e.guid or "") in guid_urls for e in read.entries):
            continue
        fallback: Literal["sitemaps", "none"] = (
            "sitemaps" if read.kind == "feed" and read.source in sources_with_sitemaps
            else "none"
        )
        found.append(Overflow(read.source, read.url, read.kind, len(read.entries), last, now,
                              fallback))
    return found


def settle(plan: EntryPlan, facts: Mapping[str, EntryFacts]) -> list[EntryRecord]:
    """What became of each entry the run fetched, from the warehouse after fetching.

    A fetched entry's `updated` becomes the stored version's baseline, except when the
    fetch of an update failed and is due for a retry: then the old baseline stays, so the
    next run fetches the update again.
    """
    records = []
    for planned in plan.entries:
        if planned.decision not in FETCH_DECISIONS:
            continue
        after = facts.get(planned.entry.url)
        outcome, reason = outcome_of(after)
        if planned.reason is not None and planned.reason.startswith(SAME_GUID) \
                and outcome != "stored":
            outcome, reason = planned.outcome, planned.reason
        retrying = after is not None and after.fetch_error is not None and retry_due(
            after.fetch_error, after.fetch_status, after.failed_runs)
        keep_old = outcome == "pending" or (planned.decision == "updated" and retrying)
        baseline = planned.baseline if keep_old else planned.entry.updated
        refetched = planned.decision == "updated" and not retrying
        records.append(EntryRecord(planned.entry, outcome, reason, baseline, refetched))
    return records


@dataclass(frozen=True)
class DocumentsAfter:
    """What the next run may skip: validators and listed lastmods to store, documents whose
    stored validators must go (the next run reads them in full)."""

    validators: dict[str, Validators]
    listed: dict[str, datetime]
    forget: list[str]


def documents_after(
    discoveries: Iterable[Discovery], records: Iterable[EntryRecord]
) -> DocumentsAfter:
    """The documents' state to keep once a run has settled its entries (`records`: the run's
    latest records, settled ones after planned ones).

    A document read in full keeps its new validators only if every entry it held is handled;
    a child sitemap keeps the lastmod its index listed if it was read and handled so, or
    answered 304 (unchanged since it was handled).
    """
    found = list(discoveries)
    keep, forget = documents_to_remember([r for d in found for r in d.reads], records)
    kept = set(keep)
    unchanged = {doc.url for d in found for doc in d.documents if doc.status_code == 304}
    return DocumentsAfter(
        validators={url: v for d in found for url, v in d.validators.items() if url in kept},
        listed={url: when for d in found for url, when in d.listed.items()
                if url in kept or url in unchanged},
        forget=forget,
    )


def combine(plans: Iterable[EntryPlan]) -> EntryPlan:
    """One plan of a run planned chunk by chunk."""
    plans = list(plans)
    return EntryPlan(tuple(e for p in plans for e in p.entries),
                     tuple(o for p in plans for o in p.overflows))


def documents_to_remember(
    reads: Sequence[DocumentRead], records: Iterable[EntryRecord]
) -> tuple[list[str], list[str]]:
    """(documents whose validators may be stored, documents whose validators must go).

    A later conditional GET may skip a document only if every entry it held at this version
    is handled (`is_handled`); otherwise the next run must read it in full. `records` are
    the run's latest records (settled ones after planned ones).
    """
    latest = {(r.entry.source, r.entry.url): (r.outcome, r.reason) for r in records}
    keep, forget = [], []
    for read in reads:
        handled = all(
            is_handled(*latest.get((e.source, e.url), ("pending", NOT_FETCHED)))
            for e in read.entries
        )
        (keep if handled else forget).append(read.url)
    return keep, forget
