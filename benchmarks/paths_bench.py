"""The ``paths`` benchmark: ``cjkit paths`` against the same computation in DuckDB SQL.

    python benchmarks/paths_bench.py [--data benchmarks/data/events_10M.parquet] [--runs 3]
                                     [--steps 5] [--out benchmarks/paths_RESULTS.md]

Both sides are whole processes, run interleaved (cjkit, DuckDB, DuckDB, cjkit, …), and the
median wall time of each is reported with the ratio. The DuckDB side is the issue's
equivalent: per unit, events ordered by (time, event); a row is dropped when the next row of the
unit has the same event (a run keeps its last event, PostHog's de-duplication); ``row_number``
numbers the remaining nodes; nodes past ``--steps`` go; ``lag`` over the unit gives each node's
predecessor; edges are counted per (step, from, to). The script checks that both sides give
exactly the same edges and counts (exit 1 if not). It is kept apart from ``run.py`` (whose
tasks are the funnel, retention and metrics).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / "data" / "events_10M.parquet"


def duckdb_sql(src: str, steps: int) -> str:
    """Return the DuckDB query: one row per edge (step, source, target, paths)."""
    path = src.replace("'", "''")
    return f"""
WITH e AS (
    SELECT user_id AS u, event AS ev, timestamp AS ts FROM read_parquet('{path}')
    WHERE user_id IS NOT NULL AND timestamp IS NOT NULL
),
d AS (
    SELECT u, ev, ts, lead(ev) OVER (PARTITION BY u ORDER BY ts, ev) AS nxt FROM e
),
c AS (
    SELECT u, ev, row_number() OVER (PARTITION BY u ORDER BY ts, ev) AS k
    FROM d WHERE nxt IS NULL OR nxt <> ev
),
l AS (
    SELECT k, lag(ev) OVER (PARTITION BY u ORDER BY k) AS prev, ev FROM c WHERE k <= {steps}
)
SELECT k AS step, prev AS source, ev AS target, count(*) AS paths
FROM l WHERE prev IS NOT NULL GROUP BY ALL
"""


def run_duckdb(src: str, steps: int) -> list[tuple[int, str, str, int]]:
    """Return DuckDB's edges, sorted."""
    import duckdb

    rows = duckdb.connect().execute(duckdb_sql(src, steps)).fetchall()
    return sorted((int(k), str(a), str(b), int(n)) for k, a, b, n in rows)


def run_cjkit(src: str, steps: int) -> list[tuple[int, str, str, int]]:
    """Return cjkit's edges (every edge: --top large), sorted."""
    out = subprocess.run(
        ["cjkit", "paths", src, "--steps", str(steps), "--top", "1000000000", "-f", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    links = json.loads(out)["links"]
    return sorted((int(x["step"]), *_names(x), int(x["value"])) for x in links)


def _names(link: dict[str, object]) -> tuple[str, str]:
    source, target = str(link["source"]), str(link["target"])
    return source.split("_", 1)[1], target.split("_", 1)[1]


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Time both sides, check agreement, print (and optionally write) a Markdown summary."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--duckdb-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    src = str(args.data)
    if args.duckdb_only:
        run_duckdb(src, args.steps)
        return 0
    agree = run_cjkit(src, args.steps) == run_duckdb(src, args.steps)
    cj = ["cjkit", "paths", src, "--steps", str(args.steps), "-f", "json"]
    dk = [sys.executable, __file__, "--data", src, "--steps", str(args.steps), "--duckdb-only"]
    times: dict[str, list[float]] = {"cjkit": [], "duckdb": []}
    for i in range(args.runs):
        order = [("cjkit", cj), ("duckdb", dk)] if i % 2 == 0 else [("duckdb", dk), ("cjkit", cj)]
        for name, cmd in order:
            times[name].append(_timed(cmd))
    med = {k: statistics.median(v) for k, v in times.items()}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    text = (
        f"`python benchmarks/paths_bench.py --runs {args.runs} --steps {args.steps}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
        f"load average {load} at the end (whole processes, wall time).\n\n"
        f"| task | data | runs | median s | ratio to DuckDB | edges agree |\n"
        f"| --- | --- | ---: | ---: | ---: | --- |\n"
        f"| cjkit paths | {args.data.name} | {args.runs} | {med['cjkit']:.2f} | "
        f"{med['cjkit'] / med['duckdb']:.2f}x | {'yes' if agree else 'NO'} |\n"
        f"| duckdb paths | {args.data.name} | {args.runs} | {med['duckdb']:.2f} | 1.00x | |\n"
    )
    sys.stdout.write(text)
    if args.out is not None:
        args.out.write_text(text)
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
