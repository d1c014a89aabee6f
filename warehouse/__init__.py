"""newsmon warehouse: DuckDB storage of runs, fetches, raw pages, articles and events.

Public surface (each function takes the warehouse file path and opens/closes it itself):
db.open_writer / db.open_reader, load.* (batch upserts), queries.* (reads),
maintenance.export_parquet / prune_raw.
"""

from warehouse.db import (
    ReadOnlyViolation,
    RunInProgress,
    WarehouseBusy,
    WarehouseError,
    open_reader,
    open_writer,
)
from warehouse.load import (
    finish_run,
    load_validators,
    mark_source_success,
    record_extractions,
    record_fetches,
    record_validators,
    replace_clusters,
    start_run,
    upsert_sources,
)
from warehouse.maintenance import export_parquet, prune_raw
from warehouse.queries import (
    articles_in_window,
    known_urls,
    last_success,
    raw_pages,
    run_readonly_sql,
    stored_canonical_urls,
    table_counts,
    top_events,
)

__all__ = [
    "ReadOnlyViolation",
    "RunInProgress",
    "WarehouseBusy",
    "WarehouseError",
    "articles_in_window",
    "export_parquet",
    "finish_run",
    "known_urls",
    "last_success",
    "load_validators",
    "mark_source_success",
    "open_reader",
    "open_writer",
    "prune_raw",
    "raw_pages",
    "record_extractions",
    "record_fetches",
    "record_validators",
    "replace_clusters",
    "run_readonly_sql",
    "start_run",
    "stored_canonical_urls",
    "table_counts",
    "top_events",
    "upsert_sources",
]
