"""The `newsmon cluster` contract: JSON lines of articles in, one assignment per article out.

Input lines: {"id", "title", "text", optional "url", "source", "published" (ISO 8601 date or
datetime), "language", "summary" (a feed summary: it stands in for an empty text)}. Output
lines, in input order: {"id", "event_id", "duplicate_of", "who", "where", "when", "story_id"},
where who / where / when are the record of the article's event, as its articles agree on it
(see extractors/events/records.py): who a list of {"name", "type"}, where {"name",
"country", "lat", "lon", "id"} or null, when an ISO date or null, and (additive keys)
where_confidence (0-1 or null) and when_source ("dateline", "text", "published" or null);
story_id names the story thread the event belongs to (extractors/events/stories.py). A
missing "published" or an empty "text" is unknown, not evidence against a match: see
ClusterSettings.
The whole input is validated before anything is written, and the output is written to a
temporary file and renamed, so a bad line never leaves a half-written result behind. The
input must be UTF-8 (a leading BOM is allowed); a line that is not is reported by number.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import TextIO, TypeVar

from extractors.content.facets import country_of_url, extract_facets, record_json
from extractors.content.text import content_hash
from extractors.events.clustering import DEFAULT_SETTINGS, ClusterSettings, cluster
from extractors.events.stories import build_stories
from extractors.models import Article, ClusterResult
from extractors.timezones import naive_as_utc

T = TypeVar("T")


class CorpusError(ValueError):
    """The input corpus has malformed lines; `problems` holds one message per bad line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_published(value: object) -> datetime | None:
    """ISO 8601 date or datetime; a bare date means midnight UTC, a naive time is UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"published must be an ISO 8601 string, got {type(value).__name__}")
    text = value.strip().replace("Z", "+00:00") if value.strip().endswith("Z") else value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            raise ValueError(f"bad 'published' date {value!r} (want ISO 8601)") from None
    return naive_as_utc(moment)


def article_from_record(record: dict) -> Article:
    """One validated input record as an Article with facets and content hash filled in."""
    for key in ("id", "title", "text"):
        if not isinstance(record.get(key), str):
            raise ValueError(f"missing or non-string {key!r}")
    if not record["id"].strip():
        raise ValueError("empty 'id'")
    published = parse_published(record.get("published"))
    url = record.get("url") or record["id"]
    language = record.get("language") or None
    title, text = record["title"], record["text"]
    summary = record.get("summary") or None
    if summary is not None and not isinstance(summary, str):
        raise ValueError("'summary' must be a string")
    return Article(
        id=record["id"],
        url=url,
        canonical_url=url,
        source=record.get("source") or "",
        title=title,
        text=text,
        content_hash=content_hash(text),
        published_at=published,
        language=language,
        description=summary,
        facets=extract_facets(title, text or summary or "", published, language,
                              source_country=country_of_url(record.get("url")),
                              url=record.get("url")),
    )


def read_corpus(path: str) -> list[Article]:
    """All articles of a JSON-lines file, or CorpusError listing every bad line by number."""
    return read_records(path, lambda record: _keyed(article_from_record(record)))


def _keyed(article: Article) -> tuple[str, Article]:
    return article.id, article


def read_records(path: str, parse: Callable[[dict], tuple[str, T]]) -> list[T]:
    """`parse` of every JSON object line of a UTF-8 file, as (id, item), or CorpusError
    listing every bad line by number (not UTF-8, not JSON, `parse` raised ValueError, an id
    seen before). Blank lines are skipped; a leading BOM is allowed."""
    items: list[T] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                problems.append(f"{path}:{number}: not UTF-8 text (byte 0x{raw[exc.start]:02x} "
                                f"at column {exc.start + 1}); newsmon cluster reads UTF-8")
                continue
            if "\x00" in line:  # valid UTF-8, but no JSON text has NULs: UTF-16 or binary
                problems.append(f"{path}:{number}: not UTF-8 text (NUL bytes: UTF-16?); "
                                "newsmon cluster reads UTF-8")
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                key, item = parse(record)
            except ValueError as exc:  # JSONDecodeError is a ValueError
                problems.append(f"{path}:{number}: {exc}")
                continue
            if key in seen:
                problems.append(f"{path}:{number}: duplicate id {key!r} "
                                f"(first on line {seen[key]})")
                continue
            seen[key] = number
            items.append(item)
    if problems:
        raise CorpusError(problems)
    return items


def assignments(articles: Sequence[Article], result: ClusterResult) -> list[dict]:
    """One {"id", "event_id", "duplicate_of", "who", "where", "when", "story_id"} record per
    article, in the given order; who / where / when are its event's agreed record; stories
    are built from the result's events."""
    stories = build_stories(result.events)
    event_of = {m.article_id: m.event_id for m in result.memberships}
    copy_of = {d.article_id: d.duplicate_of for d in result.duplicates}
    events = {e.id: e for e in result.events}
    rows = []
    for a in articles:
        event = events[event_of[a.id]]
        rows.append({
            "id": a.id, "event_id": event.id, "duplicate_of": copy_of.get(a.id),
            **record_json(event.who, event.where, event.event_date, event.where_confidence,
                          event.when_source),
            "story_id": stories.story_of[event.id],
        })
    return rows


def write_assignments(out: str | None, articles: Sequence[Article], result: ClusterResult) -> None:
    """Write assignments as JSON lines to `out` atomically (temp file + rename), or stdout."""
    write_lines(out, assignments(articles, result))


def write_lines(out: str | None, rows: Iterable[dict]) -> None:
    """Write `rows` as JSON lines to `out` atomically (temp file + rename), or stdout."""
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if out is None:
        sys.stdout.write(lines)
        return
    directory = os.path.dirname(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(prefix=".cluster-", suffix=".jsonl", dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a plain open would not
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(lines)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process's umask (reading it means setting it: put it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


SHOWN_PROBLEMS = 10  # malformed lines named one by one; the rest are counted


def cluster_jsonl(
    in_path: str,
    out_path: str | None,
    settings: ClusterSettings = DEFAULT_SETTINGS,
    stderr: TextIO | None = None,
) -> int:
    """Run `newsmon cluster`: 0 on success, 2 when the input has malformed lines."""
    return run_jsonl(in_path, out_path, read_corpus,
                     lambda articles: assignments(articles, cluster(articles, settings)), stderr)


def run_jsonl(
    in_path: str,
    out_path: str | None,
    read: Callable[[str], list[T]],
    rows: Callable[[list[T]], Iterable[dict]],
    stderr: TextIO | None = None,
) -> int:
    """Read the whole input (every bad line named on stderr: exit code 2, nothing written),
    then write `rows` of it as JSON lines, atomically."""
    err = stderr or sys.stderr
    try:
        items = read(in_path)
    except CorpusError as exc:
        for problem in exc.problems[:SHOWN_PROBLEMS]:
            print(problem, file=err)
        if len(exc.problems) > SHOWN_PROBLEMS:  # a binary file has a "line" every few bytes
            print(f"{in_path}: {len(exc.problems) - SHOWN_PROBLEMS} more malformed lines",
                  file=err)
        return 2
    except OSError as exc:
        print(f"{in_path}: cannot read: {exc.strerror or exc}", file=err)
        return 2
    write_lines(out_path, rows(items))
    return 0
