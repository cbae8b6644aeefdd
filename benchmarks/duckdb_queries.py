"""DuckDB SQL for the benchmark tasks (the peer cjkit must beat), and pure-Python references.

As a library: ``funnel(paths, steps, window_s)``, ``retention(paths, periods)`` and
``read_floor(paths)`` return result rows. As a script, one process per task, as the runner
times it::

    python benchmarks/duckdb_queries.py funnel    DATA… [--step E …] [--window 7d]
    python benchmarks/duckdb_queries.py retention DATA… [--periods 8]
    python benchmarks/duckdb_queries.py floor     DATA…
    python benchmarks/duckdb_queries.py selfcheck [DATA] [--events 20000]

Each task prints one JSON object on stdout. ``selfcheck`` compares the SQL with the Python
references below on a sample (all events of ~1000 users, about 20k events) and on hand-made
edge cases, and exits 1 on any difference.

Funnel semantics (ClickHouse ``windowFunnel`` / PostHog, ordered, window inclusive)
--------------------------------------------------------------------------------
A user's level is the largest k such that there are events e1..ek of steps 1..k with
t1 ≤ t2 ≤ … ≤ tk and tk − t1 ≤ window. Equal timestamps count as in order; the steps are distinct
event names, so one event never fills two steps. Step k's count is the number of users with
level ≥ k. A later step-1 event re-anchors: it starts a new chain, and the best chain wins.

The SQL is a chain of ASOF joins, one per step, run backward: d1 holds the step-1 events, each
the start of its own chain (t1 = t). For k ≥ 2, every step-k event is joined to the latest row of
d_{k-1} at or before it (``ASOF JOIN … ON b.u = c.u AND b.t >= c.t``) and inherits that row's
start t1; the row is dropped when t − t1 > window. d_k thus holds, for each step-k event, the
latest start of a chain reaching step k at that event. That is exact: a later start leaves more
room in the window, and within a user the start in d_k never decreases as t grows (by induction:
a step-2 row takes the latest step-1 time before it; a step-k row takes the start of the latest
d_{k-1} row before it, and those starts are non-decreasing), so the latest d_{k-1} row at or
before t carries the best start of all of them. Step k's count is count(DISTINCT user) of d_k.
(The forward formulation — from each step-1 event the earliest step-2 event at or after it, and
so on, then the max over chains — gives the same counts; the selfcheck compares both with the
state-machine reference and with a brute-force search of the definition.)

Retention semantics (recurring cohorts, calendar weeks from Monday 00:00 UTC)
----------------------------------------------------------------------------
A user is active in a week if they have any event in it. Cohort week c holds the users active in
c; cell (c, k) counts those also active in week c + k, k = 0..periods; cell 0 is the cohort size.
Weeks are numbered ``floor((epoch_day + 3) / 7)`` (1970-01-05 was a Monday), which is
``date_trunc('week', …)`` in UTC, in integer arithmetic.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path

import duckdb

FUNNEL_STEPS = ["visit", "signup", "onboarding_complete", "purchase", "invite_sent"]
WINDOW_7D = 7 * 86_400
US = 1_000_000
EPOCH = date(1970, 1, 1)

CSV_COLUMNS = {
    "user_id": "VARCHAR",
    "event": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "channel": "VARCHAR",
    "amount": "DOUBLE",
    "referrer_id": "VARCHAR",
}


# ------------------------------------------------------------------------------------ sources
def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def source(paths: str | Path | Sequence[str | Path]) -> str:
    """A FROM-clause table function reading the event files (Parquet or CSV, globs allowed)."""
    if isinstance(paths, str | Path):
        paths = [paths]
    names = [str(p) for p in paths]
    lst = "[" + ", ".join(_sql_str(n) for n in names) + "]"
    if all(n.endswith((".csv", ".csv.gz")) for n in names):
        cols = (
            "{" + ", ".join(f"{_sql_str(k)}: {_sql_str(v)}" for k, v in CSV_COLUMNS.items()) + "}"
        )
        return f"read_csv({lst}, header = true, columns = {cols})"
    return f"read_parquet({lst})"


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


# ------------------------------------------------------------------------------------- funnel
def funnel_sql(src: str, steps: Sequence[str], window_s: int) -> str:
    """SQL for the ordered funnel: one row (k, users) per step, users = count with level ≥ k.

    Backward chain: d1 = the step-1 events, each its own chain start (t1 = t). For k ≥ 2, d_k =
    every step-k event joined (ASOF, ``b.t >= c.t``) to the latest row of d_{k-1} at or before
    it, keeping that row's start t1, and dropped when t − t1 > window."""
    n = len(steps)
    if n < 2 or len(set(steps)) != n:
        raise ValueError("need at least two distinct step events")
    w_us = int(window_s) * US
    in_list = ", ".join(_sql_str(s) for s in steps)
    case = " ".join(f"WHEN {_sql_str(s)} THEN {i + 1}" for i, s in enumerate(steps))
    ctes = [
        f"e AS MATERIALIZED (SELECT user_id AS u, epoch_us(timestamp) AS t, "
        f"CASE event {case} END AS s FROM {src} WHERE event IN ({in_list}))",
        "d1 AS (SELECT u, t, t AS t1 FROM e WHERE s = 1)",
    ]
    for k in range(2, n + 1):
        ctes.append(
            f"d{k} AS MATERIALIZED (SELECT b.u, b.t, c.t1 "
            f"FROM (SELECT u, t FROM e WHERE s = {k}) b ASOF JOIN d{k - 1} c "
            f"ON b.u = c.u AND b.t >= c.t WHERE b.t - c.t1 <= {w_us})"
        )
    counts = " UNION ALL ".join(
        ["SELECT 1 AS k, count(DISTINCT u) AS users FROM e WHERE s = 1"]
        + [f"SELECT {k} AS k, count(DISTINCT u) AS users FROM d{k}" for k in range(2, n + 1)]
    )
    return "WITH " + ",\n".join(ctes) + f"\nSELECT k, users FROM ({counts}) ORDER BY k"


def funnel_forward_sql(src: str, steps: Sequence[str], window_s: int) -> str:
    """The forward formulation, for the selfcheck: from every distinct (user, step-1 time), the
    earliest step-2 event at or after it, then the earliest step-3 event at or after that, …,
    collapsing to one row per (user, step-k time) with the latest start."""
    n = len(steps)
    w_us = int(window_s) * US
    in_list = ", ".join(_sql_str(s) for s in steps)
    case = " ".join(f"WHEN {_sql_str(s)} THEN {i + 1}" for i, s in enumerate(steps))
    ctes = [
        f"e AS MATERIALIZED (SELECT user_id AS u, epoch_us(timestamp) AS t, "
        f"CASE event {case} END AS s FROM {src} WHERE event IN ({in_list}))",
        "d1 AS MATERIALIZED (SELECT DISTINCT u, t AS t1, t AS t FROM e WHERE s = 1)",
    ]
    for k in range(2, n + 1):
        ctes.append(
            f"d{k} AS MATERIALIZED (SELECT c.u, b.t, max(c.t1) AS t1 "
            f"FROM d{k - 1} c ASOF JOIN (SELECT u, t FROM e WHERE s = {k}) b "
            f"ON c.u = b.u AND c.t <= b.t "
            f"WHERE b.t - c.t1 <= {w_us} GROUP BY c.u, b.t)"
        )
    counts = " UNION ALL ".join(
        f"SELECT {k} AS k, count(DISTINCT u) AS users FROM d{k}" for k in range(1, n + 1)
    )
    return "WITH " + ",\n".join(ctes) + f"\nSELECT k, users FROM ({counts}) ORDER BY k"


def funnel(
    paths: str | Path | Sequence[str | Path],
    steps: Sequence[str] = FUNNEL_STEPS,
    window_s: int = WINDOW_7D,
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[tuple[int, int]]:
    """[(k, users with level ≥ k)] for k = 1..len(steps)."""
    con = con or connect()
    rows = con.execute(funnel_sql(source(paths), steps, window_s)).fetchall()
    return [(int(k), int(u)) for k, u in rows]


# ---------------------------------------------------------------------------------- retention
def _week_expr(ts: str) -> str:
    # Monday-based week number in UTC: day 0 (1970-01-01) was a Thursday
    return f"(epoch_us({ts}) // {86_400 * US} + 3) // 7"


def retention_sql(
    src: str, periods: int, start_event: str | None = None, return_event: str | None = None
) -> str:
    """SQL for weekly recurring-cohort retention: rows (cohort_week, k, users)."""

    def active(event: str | None) -> str:
        where = f" WHERE event = {_sql_str(event)}" if event and event != "*" else ""
        return f"SELECT DISTINCT user_id AS u, {_week_expr('timestamp')} AS w FROM {src}{where}"

    if (start_event or "*") == (return_event or "*"):
        ctes = f"a AS MATERIALIZED ({active(start_event)})"
        c_tab, r_tab = "a", "a"
    else:
        ctes = (
            f"c AS MATERIALIZED ({active(start_event)}), r AS MATERIALIZED ({active(return_event)})"
        )
        c_tab, r_tab = "c", "r"
    return (
        f"WITH {ctes}\n"
        f"SELECT (DATE '1970-01-01' + CAST(c.w * 7 - 3 AS INTEGER)) AS cohort_week, "
        f"r.w - c.w AS k, count(*) AS users\n"
        f"FROM {c_tab} c JOIN {r_tab} r ON c.u = r.u AND r.w >= c.w AND r.w <= c.w + {int(periods)}\n"
        f"GROUP BY ALL ORDER BY 1, 2"
    )


def retention(
    paths: str | Path | Sequence[str | Path],
    periods: int = 8,
    start_event: str | None = None,
    return_event: str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[tuple[date, int, int]]:
    """[(cohort week start, k, users)]; with start = return event, (c, 0) is the cohort size.
    Cells with no user are absent."""
    con = con or connect()
    sql = retention_sql(source(paths), periods, start_event, return_event)
    return [(c, int(k), int(u)) for c, k, u in con.execute(sql).fetchall()]


def retention_table(rows: Iterable[tuple[date, int, int]], periods: int) -> dict[str, list[int]]:
    """{cohort 'YYYY-MM-DD': [users at k = 0..periods]} with absent cells as 0."""
    table: dict[str, list[int]] = {}
    for c, k, u in rows:
        table.setdefault(c.isoformat(), [0] * (periods + 1))[k] = u
    return dict(sorted(table.items()))


# ------------------------------------------------------------------------------------- floor
def floor_sql(src: str) -> str:
    """The read floor: read user_id, event, timestamp; count distinct users. The max of the other
    two columns makes sure they are really read (``count(col)`` would come from statistics)."""
    return (
        "SELECT count(DISTINCT user_id) AS users, max(event) AS max_event, "
        f"epoch_us(max(timestamp)) AS last FROM {src}"
    )


def read_floor(
    paths: str | Path | Sequence[str | Path], con: duckdb.DuckDBPyConnection | None = None
) -> tuple[int, str, int]:
    """(distinct users, largest event name, latest timestamp in epoch µs)."""
    con = con or connect()
    users, max_event, last = con.execute(floor_sql(source(paths))).fetchone()  # type: ignore[misc]
    return int(users), str(max_event), int(last)


# --------------------------------------------------------------------- pure-Python references
def ref_funnel_levels(
    events: Iterable[tuple[str, str, int]], steps: Sequence[str], window_s: int
) -> dict[str, int]:
    """Per-user level by a state machine (test-only reference; loops are fine here).

    ``events`` = (user, event, t) with t in any integer unit consistent with ``window_s``.
    Each user's step events are sorted by (t, step index), so ties count as in order.
    ``best[k]`` is the latest start of a chain that reached step k so far: a step-1 event starts
    a chain at t; a step-k event extends the chain at k-1 when t − start ≤ window. Keeping the
    latest start per level is exact, because a later start leaves more room in the window."""
    idx = {s: i for i, s in enumerate(steps)}
    per_user: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for u, e, t in events:
        if e in idx:
            per_user[u].append((t, idx[e]))
    levels: dict[str, int] = {}
    for u, evs in per_user.items():
        evs.sort()
        best: list[int | None] = [None] * len(steps)
        level = 0
        for t, k in evs:
            if k == 0:
                best[0] = t
            else:
                start = best[k - 1]
                if start is not None and t - start <= window_s:
                    cur = best[k]
                    best[k] = start if cur is None else max(cur, start)
            if best[k] is not None:
                level = max(level, k + 1)
        levels[u] = level
    return levels


def ref_funnel(
    events: Iterable[tuple[str, str, int]], steps: Sequence[str], window_s: int
) -> list[tuple[int, int]]:
    levels = ref_funnel_levels(events, steps, window_s).values()
    return [(k, sum(1 for v in levels if v >= k)) for k in range(1, len(steps) + 1)]


def ref_funnel_bruteforce(
    events: Iterable[tuple[str, str, int]], steps: Sequence[str], window_s: int
) -> list[tuple[int, int]]:
    """The definition itself, by search over all chains (tiny inputs only)."""
    idx = {s: i for i, s in enumerate(steps)}
    per_user: dict[str, list[list[int]]] = defaultdict(lambda: [[] for _ in steps])
    for u, e, t in events:
        if e in idx:
            per_user[u][idx[e]].append(t)
    levels = []
    for times in per_user.values():
        best = 0
        for t1 in times[0]:
            frontier = {t1}
            level = 1
            for k in range(1, len(steps)):
                frontier = {t for t in times[k] for p in frontier if p <= t <= t1 + window_s}
                if not frontier:
                    break
                level = k + 1
            best = max(best, level)
        levels.append(best)
    return [(k, sum(1 for v in levels if v >= k)) for k in range(1, len(steps) + 1)]


def ref_retention(events: Iterable[tuple[str, str, int]], periods: int) -> dict[str, list[int]]:
    """{cohort week: [users at k = 0..periods]}, any event; t in epoch seconds."""
    weeks: dict[str, set[int]] = defaultdict(set)
    for u, _e, t in events:
        weeks[u].add((t // 86_400 + 3) // 7)
    table: dict[int, list[int]] = {}
    for ws in weeks.values():
        for c in ws:
            row = table.setdefault(c, [0] * (periods + 1))
            for k in range(periods + 1):
                if c + k in ws:
                    row[k] += 1
    return {
        (EPOCH + timedelta(days=c * 7 - 3)).isoformat(): row for c, row in sorted(table.items())
    }


# ------------------------------------------------------------------------------------ selfcheck
def _edge_cases() -> list[tuple[str, str, int]]:
    """Hand-made users: (user, event, seconds). Expected levels in EDGE_EXPECTED."""
    d = 86_400
    v, s, o, p, i = FUNNEL_STEPS
    return [
        # a: full funnel inside the window, exactly 7 days from visit to invite (inclusive)
        ("a", v, 0),
        ("a", s, 10),
        ("a", o, 20),
        ("a", p, 30),
        ("a", i, 7 * d),
        # b: invite one second too late
        ("b", v, 0),
        ("b", s, 10),
        ("b", o, 20),
        ("b", p, 30),
        ("b", i, 7 * d + 1),
        # c: all five steps at the same second (ties count as in order)
        ("c", i, 5),
        ("c", p, 5),
        ("c", o, 5),
        ("c", s, 5),
        ("c", v, 5),
        # d: wrong order: signup before visit, then nothing
        ("d", s, 0),
        ("d", v, 10),
        # e: a later visit re-anchors: visit, 10 days, visit, signup, onboarding
        ("e", v, 0),
        ("e", v, 10 * d),
        ("e", s, 10 * d + 5),
        ("e", o, 11 * d),
        # f: re-anchoring must not lose an earlier chain: v s o at day 0, then v at day 2,
        #    purchase at day 8 (> 7 d from the first visit, ≤ 7 d from the second, but the second
        #    visit has no signup after it) → 3
        ("f", v, 0),
        ("f", s, 1),
        ("f", o, 2),
        ("f", v, 2 * d),
        ("f", p, 8 * d),
        # g: two chains; the second, later start reaches further
        ("g", v, 0),
        ("g", s, 1),
        ("g", o, 6 * d),
        ("g", v, 5 * d),
        ("g", s, 5 * d + 1),
        ("g", o, 6 * d + 1),
        ("g", p, 11 * d),
        ("g", i, 12 * d),
        # h: no visit at all
        ("h", s, 0),
        ("h", o, 1),
        # k: purchase before onboarding at the same second as signup
        ("k", v, 0),
        ("k", p, 1),
        ("k", s, 1),
        ("k", o, 2),
        ("k", p, 3),
    ]


EDGE_EXPECTED = {"a": 5, "b": 4, "c": 5, "d": 1, "e": 3, "f": 3, "g": 5, "h": 0, "k": 4}


def selfcheck(data: Path | None, sample_events: int = 20_000, quiet: bool = False) -> bool:
    """SQL vs the Python references on hand-made cases and a ~20k-event sample of real-looking
    data (all events of the first users of ``data``, or of a freshly generated log)."""
    import tempfile

    import polars as pl

    ok = True

    def say(msg: str) -> None:
        if not quiet:
            print(msg, file=sys.stderr)

    con = connect()
    with tempfile.TemporaryDirectory(prefix="cjkit-selfcheck-") as tmpd:
        tmp = Path(tmpd)
        # 1. hand-made edge cases: SQL vs state machine vs brute force vs expected levels
        edge = _edge_cases()
        levels = ref_funnel_levels(edge, FUNNEL_STEPS, WINDOW_7D)
        if {u: levels.get(u, 0) for u in EDGE_EXPECTED} != EDGE_EXPECTED:
            say(f"selfcheck: reference levels {levels} != expected {EDGE_EXPECTED}")
            ok = False
        exp_counts = [(k, sum(1 for v in EDGE_EXPECTED.values() if v >= k)) for k in range(1, 6)]
        edge_pq = tmp / "edge.parquet"
        pl.DataFrame(
            {
                "user_id": [u for u, _, _ in edge],
                "event": [e for _, e, _ in edge],
                "timestamp": [1_735_689_600 * US + t * US for _, _, t in edge],
            },
            schema_overrides={"timestamp": pl.Int64},
        ).with_columns(pl.col("timestamp").cast(pl.Datetime("us", "UTC"))).write_parquet(edge_pq)
        got = funnel(edge_pq, FUNNEL_STEPS, WINDOW_7D, con)
        fwd_sql = funnel_forward_sql(source(edge_pq), FUNNEL_STEPS, WINDOW_7D)
        fwd = [(int(k), int(u)) for k, u in con.execute(fwd_sql).fetchall()]
        brute = ref_funnel_bruteforce(edge, FUNNEL_STEPS, WINDOW_7D)
        for name, val in (("sql", got), ("forward sql", fwd), ("bruteforce", brute)):
            if val != exp_counts:
                say(f"selfcheck: edge cases {name} {val} != expected {exp_counts}")
                ok = False
        say(f"selfcheck: edge cases  sql={got} expected={exp_counts}")

        # 2. random dense users: few distinct times (whole days), so ties and events exactly
        #    at the 7-day boundary are common; SQL vs state machine vs brute force
        import random

        rnd = random.Random(7)
        fz = [
            (f"z{u}", rnd.choice(FUNNEL_STEPS), rnd.randrange(0, 20) * 86_400)
            for u in range(3_000)
            for _ in range(rnd.randrange(1, 12))
        ]
        fz_pq = tmp / "fuzz.parquet"
        pl.DataFrame(
            {
                "user_id": [u for u, _, _ in fz],
                "event": [e for _, e, _ in fz],
                "timestamp": [1_735_689_600 * US + t * US for _, _, t in fz],
            },
            schema_overrides={"timestamp": pl.Int64},
        ).with_columns(pl.col("timestamp").cast(pl.Datetime("us", "UTC"))).write_parquet(fz_pq)
        got = funnel(fz_pq, FUNNEL_STEPS, WINDOW_7D, con)
        fwd_sql = funnel_forward_sql(source(fz_pq), FUNNEL_STEPS, WINDOW_7D)
        fwd = [(int(k), int(u)) for k, u in con.execute(fwd_sql).fetchall()]
        ref = ref_funnel(fz, FUNNEL_STEPS, WINDOW_7D)
        brute = ref_funnel_bruteforce(fz, FUNNEL_STEPS, WINDOW_7D)
        say(f"selfcheck: dense random users ({len(fz):,} events)  sql={got} ref={ref}")
        if not got == fwd == ref == brute:
            ok = False
            say(
                f"selfcheck: FUNNEL DISAGREES: sql={got} reference={ref} forward sql={fwd} "
                f"bruteforce={brute}"
            )

        # 3. a ~20k-event sample: all events of the first users of the data (users are drawn
        #    whole, so every user's funnel is complete)
        if data is None:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from generate import generate  # type: ignore[import-not-found]

            meta = generate(sample_events, tmp, quiet=True)
            data = tmp / str(meta["parquet"])
        lf = (
            pl.scan_parquet(data)
            if str(data).endswith(".parquet")
            else pl.scan_csv(data, schema_overrides={"timestamp": pl.String}).with_columns(
                pl.col("timestamp").str.to_datetime(time_zone="UTC", time_unit="us")
            )
        )
        per_user = lf.group_by("user_id").len().sort("user_id").collect()
        n_users = int((per_user["len"].cum_sum() <= sample_events).sum()) or 1
        keep = per_user["user_id"].head(n_users)
        sample = (
            lf.select("user_id", "event", "timestamp")
            .filter(pl.col("user_id").is_in(keep.implode()))
            .collect()
        )
        sample_pq = tmp / "sample.parquet"
        sample.write_parquet(sample_pq)
        rows = list(
            zip(
                sample["user_id"].to_list(),
                sample["event"].to_list(),
                (sample["timestamp"].dt.epoch("us")).to_list(),
                strict=True,
            )
        )
        ref = ref_funnel(rows, FUNNEL_STEPS, WINDOW_7D * US)
        got = funnel(sample_pq, FUNNEL_STEPS, WINDOW_7D, con)
        say(f"selfcheck: sample of {len(rows):,} events / {n_users:,} users  sql={got} ref={ref}")
        fwd_sql = funnel_forward_sql(source(sample_pq), FUNNEL_STEPS, WINDOW_7D)
        fwd = [(int(k), int(u)) for k, u in con.execute(fwd_sql).fetchall()]
        brute = ref_funnel_bruteforce(rows, FUNNEL_STEPS, WINDOW_7D * US)
        if not got == ref == fwd == brute:
            ok = False
            say(
                f"selfcheck: FUNNEL DISAGREES: sql={got} reference={ref} forward sql={fwd} "
                f"bruteforce={brute}"
            )
        for w in (3_600, 86_400, 30 * 86_400):  # other windows, to exercise the boundary logic
            r2 = ref_funnel(rows, FUNNEL_STEPS, w * US)
            g2 = funnel(sample_pq, FUNNEL_STEPS, w, con)
            if r2 != g2:
                ok = False
                say(f"selfcheck: FUNNEL DISAGREES at window {w}s: sql={g2} ref={r2}")
        rows_s = [(u, e, t // US) for u, e, t in rows]
        ref_ret = ref_retention(rows_s, 8)
        got_ret = retention_table(retention(sample_pq, 8, con=con), 8)
        if got_ret != ref_ret:
            ok = False
            say("selfcheck: RETENTION DISAGREES")
        say(f"selfcheck: retention {len(got_ret)} cohorts agree: {got_ret == ref_ret}")
        users, _, _ = read_floor(sample_pq, con)
        if users != n_users:
            ok = False
            say(f"selfcheck: floor users {users} != {n_users}")
    say("selfcheck: OK" if ok else "selfcheck: FAILED")
    return ok


# ---------------------------------------------------------------------------------------- CLI
def parse_window(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}
    text = text.strip().lower()
    if text[-1:] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="DuckDB SQL for cjkit's benchmark tasks.")
    ap.add_argument("task", choices=["funnel", "retention", "floor", "selfcheck", "sql"])
    ap.add_argument("data", nargs="*", help="event files (Parquet or CSV)")
    ap.add_argument("--step", action="append", help="funnel step event (repeat)")
    ap.add_argument("--window", default="7d")
    ap.add_argument("--periods", type=int, default=8)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--events", type=int, default=20_000, help="selfcheck sample size")
    a = ap.parse_args(argv)
    steps = a.step or FUNNEL_STEPS
    t0 = time.perf_counter()
    if a.task == "selfcheck":
        return 0 if selfcheck(Path(a.data[0]) if a.data else None, a.events) else 1
    if not a.data:
        ap.error("DATA is required")
    if a.task == "sql":  # print the SQL, for reading and EXPLAIN
        src = source(a.data)
        print(funnel_sql(src, steps, parse_window(a.window)) + ";\n")
        print(retention_sql(src, a.periods) + ";\n")
        print(floor_sql(src) + ";")
        return 0
    con = connect(a.threads)
    out: dict[str, object] = {"engine": "duckdb", "duckdb": duckdb.__version__, "task": a.task}
    if a.task == "funnel":
        rows = funnel(a.data, steps, parse_window(a.window), con)
        out["steps"] = [{"index": k, "name": steps[k - 1], "count": u} for k, u in rows]
    elif a.task == "retention":
        table = retention_table(retention(a.data, a.periods, con=con), a.periods)
        out["cohorts"] = [{"cohort": c, "size": v[0], "counts": v} for c, v in table.items()]
    else:
        users, max_event, last = read_floor(a.data, con)
        out["users"] = users
        out["max_event"] = max_event
        out["last_us"] = last
    out["query_seconds"] = round(time.perf_counter() - t0, 4)
    out["threads"] = os.cpu_count()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
