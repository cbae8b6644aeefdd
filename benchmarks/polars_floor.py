"""The Polars read floor: scan user_id, event and timestamp, count distinct users.

    python benchmarks/polars_floor.py DATA… [--engine streaming|in-memory|auto]

Same query as DuckDB's floor in ``duckdb_queries.py``: distinct users, plus the largest event
name and the latest timestamp so that all three columns are really read. For CSV the timestamp
is read as text and parsed (ISO-8601 with ``Z``), as an engine would have to. Prints one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import polars as pl


def scan(paths: list[str]) -> pl.LazyFrame:
    cols = ["user_id", "event", "timestamp"]
    if all(p.endswith((".csv", ".csv.gz")) for p in paths):
        lf = pl.scan_csv(paths, schema_overrides={"timestamp": pl.String}).select(cols)
        return lf.with_columns(
            pl.col("timestamp").str.to_datetime(
                "%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC"
            )
        )
    return pl.scan_parquet(paths).select(cols)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Polars read floor")
    ap.add_argument("data", nargs="+")
    ap.add_argument("--engine", default="auto", choices=["auto", "streaming", "in-memory"])
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    df = (
        scan(a.data)
        .select(
            users=pl.col("user_id").n_unique(),
            max_event=pl.col("event").max(),
            last_us=pl.col("timestamp").max().dt.epoch("us"),
        )
        .collect(engine=a.engine)
    )
    row = df.row(0, named=True)
    out = {
        "engine": "polars",
        "polars": pl.__version__,
        "task": "floor",
        "users": int(row["users"]),
        "max_event": row["max_event"],
        "last_us": int(row["last_us"]),
        "query_seconds": round(time.perf_counter() - t0, 4),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
