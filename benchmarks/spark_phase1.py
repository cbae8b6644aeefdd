"""The ``spark`` benchmark task: funnel phase 1 on Spark (local mode) against local Polars.

    python benchmarks/spark_phase1.py --events 10M [--master local[2]] [--buckets B] [--runs 2]

Generates ``benchmarks/data/events_<N>.parquet`` when missing (benchmarks/generate.py), then
times, for the 4-step funnel visit → signup → purchase → invite_sent (7-day window, by
channel):

* local: ``journeys()`` on the Parquet file in this process;
* spark cold: the first Spark job (JVM up, Python workers started, Parquet read, shuffle,
  phase 1 per bucket, per-unit table collected to the driver through Arrow);
* spark warm: the same job again on the running session.

It prints one JSON object: the times, events per second per core, the shuffle bytes written
(from the Spark UI's REST API on 127.0.0.1) per event, and whether the per-unit tables are
equal. Not timed in CI: run it by hand; docs/scale.md records the figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cjkit import spark as cjspark  # noqa: E402
from cjkit.engine.funnel.journeys import FunnelSpec, Step, journeys  # noqa: E402
from cjkit.engine.matchers import Matcher  # noqa: E402

STEPS = ("visit", "signup", "purchase", "invite_sent")


def _data(events: str) -> Path:
    out = ROOT / "benchmarks" / "data"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--events", events,
         "--out", str(out), "--if-missing", "-q"],
        check=True,
    )
    return out / f"events_{events}.parquet"


def _shuffle_bytes(spark: Any) -> int:
    """Return the shuffle bytes written by every stage so far (Spark UI REST API)."""
    url = spark.sparkContext.uiWebUrl
    app = spark.sparkContext.applicationId
    with urllib.request.urlopen(f"{url}/api/v1/applications/{app}/stages", timeout=120) as r:
        stages = json.load(r)
    return sum(int(s.get("shuffleWriteBytes", 0)) for s in stages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", default="10M")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--buckets", type=int, default=None)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    path = _data(args.events)
    rows = pl.scan_parquet(path).select(pl.len()).collect().item()
    spec = FunnelSpec(
        steps=tuple(Step(n, (Matcher(n),)) for n in STEPS), window_s=7 * 86400, by=("channel",)
    )

    start = time.perf_counter()
    local = journeys(pl.scan_parquet(path), spec).collect()
    local_s = time.perf_counter() - start

    start = time.perf_counter()
    spark = cjspark.session(
        args.master,
        {"spark.ui.enabled": "true", "spark.ui.port": "0", "spark.driver.host": "127.0.0.1",
         "spark.driver.bindAddress": "127.0.0.1", "spark.driver.memory": "6g"},
    )
    session_s = time.perf_counter() - start
    cores = int(spark.sparkContext.defaultParallelism)
    buckets = args.buckets or cjspark._buckets.bucket_count(spark, rows)
    times = []
    remote = None
    for _ in range(args.runs):
        start = time.perf_counter()
        units = cjspark.journeys(spark.read.parquet(str(path)), spec, buckets=buckets)
        remote = cjspark.to_polars(units)
        times.append(time.perf_counter() - start)
    try:
        shuffle: float | None = _shuffle_bytes(spark) / args.runs
    except OSError:  # the UI can be too slow to answer on a loaded machine: leave it out
        shuffle = None
    spark.stop()
    assert remote is not None
    equal = remote.sort("unit").equals(local.sort("unit"))
    warm = min(times[1:] or times)
    print(json.dumps({
        "events": rows,
        "units_out": local.height,
        "master": args.master,
        "cores": cores,
        "buckets": buckets,
        "local_polars_s": round(local_s, 2),
        "spark_session_start_s": round(session_s, 2),
        "spark_cold_s": round(times[0], 2),
        "spark_warm_s": round(warm, 2),
        "spark_events_per_core_s": round(rows / (warm * cores)),
        "shuffle_bytes_per_event": round(shuffle / rows, 1) if shuffle is not None else None,
        "equal_to_local": equal,
    }, indent=2))


if __name__ == "__main__":
    main()
