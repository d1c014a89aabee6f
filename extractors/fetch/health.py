"""How each source fared in one run, and what that makes of the run. Pure.

A monitor is trusted when its silence means "nothing happened". So every run counts, per
source, what it tried and what failed, and a run whose sources could not be read does not
call itself a success. Words used here (README "Exit codes", docs/reliability.md):

- a source **failed** in a run when nothing of it could be read: every feed and sitemap it
  has (sitemap children included) failed, by a fetch error (a host that does not resolve, a
  refused connection, a timeout, an HTTP error, a robots.txt refusal) or by a body that is no
  feed or sitemap at all. A source with only a URL list failed when every page it fetched did.
- a source is **degraded** when some of it was read but not all: some of its feeds or
  sitemaps failed, or every article page it fetched failed (at least one).
- otherwise it is **ok**: an unchanged document (304) counts as read. Single article pages
  that fail do not make a source degraded: the coverage ledger counts them and the next runs
  fetch them again.

A run **failed** when every source failed; it is **partial** when some source failed or is
degraded; **healthy** otherwise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from extractors.fetch.discover import Discovery
from extractors.fetch.ledger import error_label
from extractors.models import Candidate, FetchResult, Source, SourceOutcome
from extractors.timezones import naive_as_utc

SourceStatus = Literal["ok", "degraded", "failed"]
RunVerdict = Literal["healthy", "partial", "failed"]


def reason_counts(counts: Mapping[str, int] | None) -> str:
    """{'HTTP 404': 2, ...} as "HTTP 404 x2, ..." for a table cell or a line."""
    return ", ".join(f"{reason} x{n}" for reason, n in sorted((counts or {}).items()))


@dataclass
class Tally:
    """Fetches of one kind (feeds and sitemaps, or article pages) of one source in a run."""

    tried: int = 0
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # reason -> failures
    example: str | None = None  # the first failure, "url: message"

    def add(self, url: str, reason: str | None, message: str | None = None) -> None:
        self.tried += 1
        if reason is None:
            return
        self.failed += 1
        self.errors[reason] += 1
        if self.example is None:
            self.example = f"{url}: {message or reason}"

    def add_fetch(self, result: FetchResult) -> None:
        """One fetch outcome: failed with its error (`HTTP 500`, `ConnectError`...)."""
        if result.error_class is None:
            self.add(result.url, None)
        else:
            self.add(result.url, error_label(result.error_class, result.status_code),
                     result.error)

    @property
    def all_failed(self) -> bool:
        return self.tried > 0 and self.failed == self.tried


def describe_failures(status: SourceStatus, documents: Tally, pages: Tally) -> str | None:
    """One line saying what went wrong with a source (None when it is ok)."""
    if status == "ok":
        return None
    if documents.failed:
        what = (f"every feed and sitemap failed ({documents.tried})" if documents.all_failed
                else f"{documents.failed} of {documents.tried} feeds and sitemaps failed")
        tally = documents
    else:
        what = f"every page failed ({pages.tried})"
        tally = pages
    return f"{what}: {reason_counts(tally.errors)}; e.g. {tally.example}"


def source_status(has_documents: bool, documents: Tally, pages: Tally) -> SourceStatus:
    """ok, degraded or failed, by the rules in this module's docstring."""
    if has_documents:
        if documents.all_failed:
            return "failed"
        if documents.failed or pages.all_failed:
            return "degraded"
        return "ok"
    return "failed" if pages.all_failed else "ok"


@dataclass
class SourceTallies:
    """A run's per-source counts, added to as discovery and fetching go (the pipeline keeps
    counts, not pages, so a run's memory does not grow with what it handled)."""

    documents: dict[str, Tally] = field(default_factory=dict)
    pages: dict[str, Tally] = field(default_factory=dict)
    seen: dict[str, set[str]] = field(default_factory=dict)  # entry URLs offered
    new_times: dict[str, list[datetime]] = field(default_factory=dict)

    def add_discovery(self, source: str, discovery: Discovery) -> None:
        """A source's feeds and sitemaps read by one discovery pass, and what they offered."""
        tally = self.documents.setdefault(source, Tally())
        for doc in discovery.documents:
            unreadable = discovery.unreadable.get(doc.url)
            if doc.error_class is None and unreadable is not None:
                tally.add(doc.url, unreadable.split(":")[0], unreadable)
            else:
                tally.add_fetch(doc)
        self.seen.setdefault(source, set()).update(c.url for c in discovery.candidates)

    def add_new_entries(self, entries: Iterable[Candidate], now: datetime) -> None:
        """Entries seen for the first time: each at its date, never later than `now`."""
        for entry in entries:
            published = naive_as_utc(entry.published) if entry.published else now
            self.new_times.setdefault(entry.source, []).append(min(published, now))

    def add_page(self, page: FetchResult) -> None:
        self.pages.setdefault(page.source, Tally()).add_fetch(page)

    def outcomes(self, sources: Sequence[Source]) -> list[SourceOutcome]:
        """One outcome per configured source, in the configured order."""
        out = []
        for source in sources:
            documents = self.documents.get(source.name, Tally())
            pages = self.pages.get(source.name, Tally())
            status = source_status(bool(source.feeds or source.sitemaps), documents, pages)
            out.append(SourceOutcome(
                source=source.name,
                status=status,
                reason=describe_failures(status, documents, pages),
                documents=documents.tried,
                documents_failed=documents.failed,
                document_errors=dict(documents.errors),
                pages=pages.tried,
                pages_failed=pages.failed,
                page_errors=dict(pages.errors),
                entries_seen=len(self.seen.get(source.name, ())),
                entry_times=tuple(sorted(self.new_times.get(source.name, ()))),
            ))
        return out


def with_gaps(outcome: SourceOutcome, latest_before: datetime | None) -> SourceOutcome:
    """The outcome with the gaps its new entries add to the source's publishing history:
    from `latest_before` (the latest date of its earlier entries) to the first later entry,
    then between those. An entry dated before `latest_before` (late, or back-dated) falls
    inside a gap already counted and adds none: the history errs towards longer gaps (a
    slower alarm), never shorter ones. Counting them at write time keeps the source_health
    view from sorting every entry of every source."""
    later = sorted(t for t in outcome.entry_times if latest_before is None or t > latest_before)
    chain = ([latest_before] if latest_before is not None else []) + later
    gaps = tuple((b - a).total_seconds() for a, b in zip(chain, chain[1:], strict=False))
    return replace(outcome, entry_gaps=gaps)


def run_verdict(outcomes: Sequence[SourceOutcome]) -> RunVerdict:
    """failed when every source failed, partial when some failed or are degraded."""
    if outcomes and all(o.status == "failed" for o in outcomes):
        return "failed"
    if any(o.status != "ok" for o in outcomes):
        return "partial"
    return "healthy"
