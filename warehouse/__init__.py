"""newsmon warehouse: DuckDB storage of runs, fetches, raw pages, articles and events.

Only the flow process (and the CLI) opens the file. The API is small:

- `db.open_writer(path)` / `db.open_reader(path)`: a `db.Connection` for one batch, whose
  reads come back by column name (`rows`, `one`, `value`, `column`) and whose
  `transaction()` makes several loads one commit;
- `load.*(con, ...)`: idempotent batch upserts; `queries.*(con, ...)`: typed reads;
- `alerts.*(con, ...)`: the watchlists' alerts and deliveries; `digest_queries`: the digest;
- `maintenance.export_parquet` / `prune_raw` and `queries.run_readonly_sql`: whole commands
  that open the file themselves.
"""

from warehouse.db import (
    Connection,
    ReadOnlyViolation,
    RunInProgress,
    WarehouseBusy,
    WarehouseError,
    open_reader,
    open_writer,
)

__all__ = [
    "Connection",
    "ReadOnlyViolation",
    "RunInProgress",
    "WarehouseBusy",
    "WarehouseError",
    "open_reader",
    "open_writer",
]
