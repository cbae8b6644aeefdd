"""Convert the CDNOW master file into cjkit events: ``examples/cdnow/events.parquet``.

CDNOW (Fader & Hardie, Interfaces 31(3), 2001) is the purchase history of the 23,570 people who
first bought at the online music retailer CDNOW in January–March 1997, followed to June 1998.
``CDNOW_master.txt`` has one line per transaction, whitespace-separated (runs of spaces, CRLF
line ends) under a header line: ``customer_id date number_of_cds dollar_value``.

Each transaction becomes a ``purchase`` event. Two derived events make journeys out of it:

* ``first_purchase``: one per customer, on the day of their first purchase (no amount: it marks
  the customer's acquisition, the transactions themselves are the ``purchase`` events);
* ``repeat_purchase``: one per transaction on a later day than the customer's first (with the
  transaction's amount, cds and order_id, like its ``purchase``).

Columns: ``user_id`` (String, zero-padded as in the file), ``event`` (String), ``timestamp``
(Datetime[us, UTC], the day at 00:00), ``amount`` (Float64, dollars), ``cds`` (Int64),
``order_id`` (String, ``t00001`` = the file's first transaction), ``currency`` ("USD") and
``cohort`` (String, the first-purchase month: "1997-01", "1997-02" or "1997-03"). Rows are sorted
by user, time, then first_purchase / purchase / repeat_purchase, then order.

Run from the repository root::

    .venv/bin/python examples/cdnow/convert.py [SOURCE] [--out PATH]
    .venv/bin/python examples/cdnow/convert.py --sample   # CDNOW_sample.txt -> sample.parquet

``--sample`` converts the 1/10 sample (2,357 customers, 6,919 transactions, no header; columns
``master_id sample_id date number_of_cds dollar_value``) that the published BG/NBD figures use;
``user_id`` is the master id.

SOURCE defaults to the copy of ``CDNOW_master.txt`` beside this script; the output defaults to
``events.parquet`` beside it. A rerun reproduces the file byte for byte.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE / "CDNOW_master.txt"
DEFAULT_OUT = HERE / "events.parquet"
SAMPLE_SOURCE = HERE / "CDNOW_sample.txt"
SAMPLE_OUT = HERE / "sample.parquet"
SAMPLE_LINE = r"^(\d+)\s+\d+\s+(\d{8})\s+(\d+)\s+(-?\d+(?:\.\d+)?)$"
HEADER = ["customer_id", "date", "number_of_cds", "dollar_value"]
LINE = r"^(\d+)\s+(\d{8})\s+(\d+)\s+(-?\d+(?:\.\d+)?)$"
EVENT_ORDER = ["first_purchase", "purchase", "repeat_purchase"]


def read_transactions(source: Path, *, sample: bool = False) -> pl.DataFrame:
    """Return one row per transaction: user_id, timestamp, cds, amount, order_id."""
    lines = pl.DataFrame({"line": source.read_text(encoding="ascii").splitlines()})
    lines = lines.with_columns(pl.col("line").str.strip_chars()).filter(pl.col("line") != "")
    if not sample:
        header = lines["line"][0].split()
        if header != HEADER:
            sys.exit(f"{source}: expected the header {' '.join(HEADER)}, got {lines['line'][0]!r}")
        lines = lines.slice(1)
    body = lines.with_row_index("row", offset=1)
    pattern = SAMPLE_LINE if sample else LINE
    fields = body.with_columns(pl.col("line").str.extract_groups(pattern).alias("f")).unnest("f")
    bad = fields.filter(pl.col("1").is_null())
    if bad.height:
        first = bad.row(0, named=True)
        sys.exit(f"{source}: {bad.height} malformed line(s), first: {first['line']!r}")
    return fields.select(
        pl.col("1").alias("user_id"),
        pl.col("2")
        .str.to_date("%Y%m%d")
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .alias("timestamp"),
        pl.col("3").cast(pl.Int64).alias("cds"),
        pl.col("4").cast(pl.Float64).alias("amount"),
        (pl.lit("t") + pl.col("row").cast(pl.String).str.zfill(5)).alias("order_id"),
    )


def to_events(tx: pl.DataFrame) -> pl.DataFrame:
    """Return the purchase, first_purchase and repeat_purchase events."""
    first = pl.col("timestamp").min().over("user_id")
    tx = tx.with_columns(
        first.alias("_first"),
        first.dt.strftime("%Y-%m").alias("cohort"),
        pl.lit("USD").alias("currency"),
    )
    purchase = tx.with_columns(pl.lit("purchase").alias("event"))
    repeat = tx.filter(pl.col("timestamp") > pl.col("_first")).with_columns(
        pl.lit("repeat_purchase").alias("event")
    )
    first_purchase = (
        tx.group_by("user_id")
        .agg(pl.col("_first").first().alias("timestamp"), pl.col("cohort").first())
        .with_columns(
            pl.lit("first_purchase").alias("event"),
            pl.lit(None, pl.Float64).alias("amount"),
            pl.lit(None, pl.Int64).alias("cds"),
            pl.lit(None, pl.String).alias("order_id"),
            pl.lit("USD").alias("currency"),
        )
    )
    columns = ["user_id", "event", "timestamp", "amount", "cds", "order_id", "currency", "cohort"]
    events = pl.concat([f.select(columns) for f in (first_purchase, purchase, repeat)])
    rank = pl.col("event").replace_strict(EVENT_ORDER, [0, 1, 2], return_dtype=pl.Int8)
    return events.sort(["user_id", "timestamp", rank, "order_id"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        default=None,
        help="CDNOW_master.txt (default: the copy beside this script)",
    )
    parser.add_argument("--out", type=Path, default=None, help="the Parquet file to write")
    parser.add_argument(
        "--sample", action="store_true", help="convert CDNOW_sample.txt to sample.parquet"
    )
    args = parser.parse_args(argv)
    source = args.source or (SAMPLE_SOURCE if args.sample else DEFAULT_SOURCE)
    args.out = args.out or (SAMPLE_OUT if args.sample else DEFAULT_OUT)
    events = to_events(read_transactions(source, sample=args.sample))
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    events.write_parquet(tmp, compression="zstd", compression_level=19, statistics=True)
    tmp.replace(args.out)
    counts = dict(events.group_by("event").len().sort("event").iter_rows())
    print(
        f"wrote {args.out} ({args.out.stat().st_size:,} bytes): "
        f"{events['user_id'].n_unique():,} customers, "
        + ", ".join(f"{n:,} {name}" for name, n in counts.items()),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
