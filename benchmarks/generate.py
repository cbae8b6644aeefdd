"""Deterministic synthetic e-commerce event logs for cjkit's benchmarks.

    python benchmarks/generate.py --events 10M --out benchmarks/data [--csv]

writes ``events_10M.parquet`` (zstd), with ``--csv`` also ``events_10M.csv``, and a small
``events_10M.meta.json`` sidecar (generator version, seed, rows, users, sizes) that the runner
reads to decide whether a file is current.

Columns
-------
``user_id`` (String, ``u0000123``), ``event`` (String), ``timestamp`` (Datetime[us, UTC]; in the
CSV ISO-8601 text such as ``2025-01-03T10:11:12Z``), ``channel`` (String), ``amount`` (Float64,
null except on ``purchase``), ``referrer_id`` (String, null except on the first visit and the
signup of users who came by ``referral``).

What it models
--------------
``events / 20`` users (500k at 10M, 5M at 100M) arrive between 2025-01-01 and 2025-06-30 (UTC),
a little more of them later in the half-year, each through one of seven channels. Activity per
user is power-law (Lomax sessions per user, capped at 400): most users come once or twice, a
few come hundreds of times. Each session starts with a ``visit`` (at an evening-heavy hour of
day) and has a Poisson number of ``product_view`` and some ``add_to_cart`` events, seconds to
minutes apart. On top of that a funnel with real drop-off, dependent on channel and activity::

    visit → signup (≈28%) → onboarding_complete (≈62%) → purchase (≈50%) → invite_sent (≈35%)

with delays from seconds to weeks, so that the 7-day window matters; some signups happen in a
later session (the later visit re-anchors the funnel), some before the first visit (app
sign-ups), some purchases without onboarding, repeat purchases (each after a fresh visit and an
``add_to_cart``), several invites, double-submitted signups, and equal timestamps between steps
(a step at the same second as the previous one, in random file order). Events after
2025-06-30 23:59:59 are cut off, as in a real export.

How it is built
---------------
Vectorized with numpy, one chunk of users at a time (250k users, about 5M events), so memory
stays bounded at 100M events. Each chunk has its own seed derived from ``--seed`` and its index,
so the output depends only on ``--events`` and ``--seed`` (and the numpy/polars versions). The
file is sorted by timestamp (as an export would be); rows with equal timestamps are in random
order, so a reader that breaks ties by file order gets different answers than one that breaks
them by step. The global sort goes week by week over the chunk parts (one week in memory at a
time), and the sorted weeks are streamed into the final file in row groups of 262,144 rows
(Polars' ``write_parquet`` default).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

GENERATOR_VERSION = 2
ROW_GROUP_ROWS = (
    262_144  # polars write_parquet's default; the streaming sink would write uneven ones
)
DEFAULT_SEED = 20250101
EVENTS_PER_USER = 20
CHUNK_USERS = 250_000

DAY = 86_400
START = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
END = int(datetime(2025, 7, 1, tzinfo=UTC).timestamp())  # exclusive

EVENTS = [
    "visit",
    "product_view",
    "add_to_cart",
    "signup",
    "onboarding_complete",
    "purchase",
    "invite_sent",
]
EV = {name: i for i, name in enumerate(EVENTS)}
FUNNEL = ["visit", "signup", "onboarding_complete", "purchase", "invite_sent"]

CHANNELS = [
    "organic_search",
    "paid_search",
    "paid_social",
    "direct",
    "email",
    "referral",
    "affiliate",
]
CH_SHARE = np.array([0.27, 0.18, 0.16, 0.14, 0.10, 0.08, 0.07])
CH_SIGNUP = np.array([0.26, 0.24, 0.14, 0.24, 0.34, 0.40, 0.18])  # before the activity factor
REFERRAL = CHANNELS.index("referral")

# Session start hour of day (UTC): evening-heavy.
HOUR_W = np.array(
    [
        *[0.5, 0.35, 0.25, 0.2, 0.2, 0.25, 0.4, 0.6, 0.8, 0.95, 1.0, 1.05],
        *[1.1, 1.1, 1.05, 1.05, 1.1, 1.2, 1.35, 1.5, 1.55, 1.4, 1.1, 0.8],
    ]
)
HOUR_P = HOUR_W / HOUR_W.sum()


# ------------------------------------------------------------------------------------ helpers
def parse_count(text: str) -> int:
    """'1M' → 1_000_000, '20k' → 20_000, '1B' → 1_000_000_000, '12345' → 12345."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMbB]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not an event count: {text!r} (try 1M, 10M, 100M)")
    mult = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}[m.group(2).lower()]
    return round(float(m.group(1)) * mult)


def count_label(n: int) -> str:
    """1_000_000 → '1M', 20_000 → '20k', 12345 → '12345' (the file-name tag)."""
    for div, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if n % div == 0:
            return f"{n // div}{suffix}"
    return str(n)


def seg_starts(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(counts) - counts


def seg_rank(counts: np.ndarray) -> np.ndarray:
    """Position of each element inside its segment of a np.repeat(…, counts) layout."""
    return np.arange(int(counts.sum())) - np.repeat(seg_starts(counts), counts)


def seg_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``values`` restarting at each segment."""
    c = np.concatenate([[0], np.cumsum(values)])
    return c[1:] - np.repeat(c[seg_starts(counts)], counts)


def exp_s(rng: np.random.Generator, mean_s: float, n: int) -> np.ndarray:
    """Whole seconds ≥ 0, exponential around ``mean_s`` (0 happens: equal timestamps)."""
    return np.floor(rng.exponential(mean_s, size=n)).astype(np.int64)


def mixture_s(rng: np.random.Generator, n: int, p_zero: float, comps: list[tuple[float, float]]):
    """Delays: 0 s with probability ``p_zero``, else exponential with a mean drawn from
    ``comps`` = [(weight, mean_seconds), …]."""
    w = np.array([c[0] for c in comps])
    means = np.array([c[1] for c in comps])
    pick = rng.choice(len(comps), size=n, p=w / w.sum())
    d = np.floor(rng.exponential(1.0, size=n) * means[pick]).astype(np.int64) + 1
    d[rng.random(n) < p_zero] = 0
    return d


class Parts:
    """Columns of generated events, as lists of numpy arrays to concatenate once."""

    def __init__(self) -> None:
        self.uid: list[np.ndarray] = []
        self.ev: list[np.ndarray] = []
        self.ts: list[np.ndarray] = []
        self.ch: list[np.ndarray] = []
        self.amount: list[np.ndarray] = []
        self.ref: list[np.ndarray] = []

    def add(self, uid, ev, ts, ch, amount=None, ref=None) -> None:
        n = len(uid)
        self.uid.append(np.asarray(uid, dtype=np.int64))
        self.ev.append(np.full(n, ev, dtype=np.int8) if np.isscalar(ev) else ev.astype(np.int8))
        self.ts.append(np.asarray(ts, dtype=np.int64))
        self.ch.append(np.asarray(ch, dtype=np.int8))
        self.amount.append(np.full(n, np.nan) if amount is None else amount)
        self.ref.append(np.full(n, -1, dtype=np.int64) if ref is None else ref)

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "uid": np.concatenate(self.uid),
            "ev": np.concatenate(self.ev),
            "ts": np.concatenate(self.ts),
            "ch": np.concatenate(self.ch),
            "amount": np.concatenate(self.amount),
            "ref": np.concatenate(self.ref),
        }


# ------------------------------------------------------------------------------ one user chunk
def gen_chunk(rng: np.random.Generator, first_uid: int, n: int) -> dict[str, np.ndarray]:
    """Events of users ``first_uid … first_uid + n - 1`` as numpy columns (unsorted)."""
    out = Parts()
    uid = first_uid + np.arange(n, dtype=np.int64)
    span = END - START

    # --- users: arrival, channel, activity (power law), active lifetime
    t0_day = np.floor((span // DAY) * rng.random(n) ** 0.85).astype(np.int64)
    t0 = START + t0_day * DAY + rng.choice(24, size=n, p=HOUR_P) * 3600 + rng.integers(0, 3600, n)
    ch = rng.choice(len(CHANNELS), size=n, p=CH_SHARE).astype(np.int8)
    sessions = np.minimum(1 + np.floor(rng.pareto(1.45, size=n) * 2.5), 400).astype(np.int64)
    life = rng.exponential(40 * DAY, size=n) * (1 + np.log(sessions)) + DAY
    life = np.minimum(life, END - 1 - t0).astype(np.int64)

    # --- sessions: the first at arrival, the rest spread over the active lifetime
    s_user = np.repeat(np.arange(n), sessions)
    s_rank = seg_rank(sessions)
    s_first = seg_starts(sessions)
    off = np.floor(rng.random(len(s_user)) * life[s_user]).astype(np.int64)
    # later sessions: snap the start to an evening-heavy hour of that day
    day_start = (t0[s_user] + off) // DAY * DAY
    later = day_start + rng.choice(24, size=len(s_user), p=HOUR_P) * 3600
    later += rng.integers(0, 3600, len(s_user))
    s_start = np.where(s_rank == 0, t0[s_user], later)
    s_ch = np.where(
        rng.random(len(s_user)) < 0.8,
        ch[s_user],
        rng.choice(len(CHANNELS), size=len(s_user), p=CH_SHARE),
    ).astype(np.int8)

    # --- events inside sessions: visit, product views, add-to-carts, seconds to minutes apart
    views = rng.poisson(1.9, size=len(s_user))
    carts = rng.binomial(views, 0.28)
    per = 1 + views + carts
    e_sess = np.repeat(np.arange(len(s_user)), per)
    e_pos = seg_rank(per)
    gaps = np.where(e_pos == 0, 0, exp_s(rng, 45.0, len(e_sess)))
    e_ts = s_start[e_sess] + seg_cumsum(gaps, per)
    e_ev = np.where(e_pos == 0, EV["visit"], EV["product_view"])
    # carts come after the views of the session
    e_ev = np.where(e_pos > views[e_sess], EV["add_to_cart"], e_ev)
    ref_user = np.where(ch == REFERRAL, np.floor(rng.random(n) * np.maximum(uid, 1)), -1)
    ref_user = np.where(uid == 0, -1, ref_user).astype(np.int64)
    e_ref = np.where((e_pos == 0) & (s_rank[e_sess] == 0), ref_user[s_user[e_sess]], -1)
    out.add(uid[s_user[e_sess]], e_ev, e_ts, s_ch[e_sess], ref=e_ref)

    # --- signup: more likely for active users; usually in the first session
    act = np.minimum(1.7, 0.75 + 0.12 * sessions)
    has_su = rng.random(n) < CH_SIGNUP[ch] * act
    su_rank = np.where(rng.random(n) < 0.7, 0, np.floor(rng.random(n) * sessions)).astype(np.int64)
    t_su = s_start[s_first + su_rank] + mixture_s(rng, n, 0.05, [(0.8, 240), (0.2, 1800)])
    app = rng.random(n) < 0.03  # signed up in the app before any tracked visit
    t_su = np.where(app, t0 - 1 - exp_s(rng, 1.5 * DAY, n), t_su)
    i = np.flatnonzero(has_su)
    out.add(uid[i], EV["signup"], t_su[i], ch[i], ref=ref_user[i])
    dup = i[rng.random(len(i)) < 0.01]  # double-submitted form: same second or one later
    out.add(uid[dup], EV["signup"], t_su[dup] + rng.integers(0, 2, len(dup)), ch[dup])

    # --- onboarding
    has_on = has_su & (rng.random(n) < 0.62)
    t_on = t_su + mixture_s(rng, n, 0.03, [(0.5, 1800), (0.3, 1.5 * DAY), (0.2, 9 * DAY)])
    i = np.flatnonzero(has_on)
    out.add(uid[i], EV["onboarding_complete"], t_on[i], ch[i])

    # --- first purchase (some without onboarding), with a return visit if it came days later
    has_p = (has_on & (rng.random(n) < 0.5)) | (has_su & ~has_on & (rng.random(n) < 0.12))
    base = np.where(has_on, t_on, t_su)
    d_p = mixture_s(rng, n, 0.02, [(0.45, 2 * 3600), (0.35, 3 * DAY), (0.2, 15 * DAY)])
    t_p = base + d_p
    i = np.flatnonzero(has_p)
    amt = np.round(rng.lognormal(3.7, 0.8, size=len(i)), 2)
    out.add(uid[i], EV["purchase"], t_p[i], ch[i], amount=amt)
    cart = t_p[i] - exp_s(rng, 300.0, len(i))
    out.add(uid[i], EV["add_to_cart"], cart, ch[i])
    back = i[d_p[i] > DAY]
    out.add(uid[back], EV["visit"], t_p[back] - 1 - exp_s(rng, 900.0, len(back)), ch[back])

    # --- repeat purchases over the rest of the lifetime, each after a visit and a cart
    reps = np.where(has_p, np.minimum(rng.poisson(0.12 * sessions), 60), 0)
    r_user = np.repeat(np.arange(n), reps)
    room = np.maximum(t0[r_user] + life[r_user] - t_p[r_user], DAY)
    t_r = t_p[r_user] + 60 + np.floor(rng.random(len(r_user)) * room).astype(np.int64)
    amt = np.round(rng.lognormal(3.6, 0.8, size=len(r_user)), 2)
    out.add(uid[r_user], EV["purchase"], t_r, ch[r_user], amount=amt)
    t_rc = t_r - exp_s(rng, 240.0, len(r_user))
    out.add(uid[r_user], EV["add_to_cart"], t_rc, ch[r_user])
    out.add(uid[r_user], EV["visit"], t_rc - exp_s(rng, 600.0, len(r_user)), ch[r_user])

    # --- invites: mostly buyers, a few before buying
    inv_from = np.where(has_p, t_p, t_su)
    has_i = (has_p & (rng.random(n) < 0.35)) | (has_su & ~has_p & (rng.random(n) < 0.05))
    n_inv = np.where(has_i, 1 + rng.poisson(0.6, size=n), 0)
    v_user = np.repeat(np.arange(n), n_inv)
    d_inv = mixture_s(rng, len(v_user), 0.01, [(0.6, DAY), (0.4, 12 * DAY)])
    out.add(uid[v_user], EV["invite_sent"], inv_from[v_user] + d_inv, ch[v_user])

    cols = out.arrays()
    keep = (cols["ts"] >= START) & (cols["ts"] < END)
    return {k: v[keep] for k, v in cols.items()}


def chunk_frame(cols: dict[str, np.ndarray], id_width: int, tie: np.ndarray) -> pl.DataFrame:
    """numpy columns → the output schema (plus the ``_tie`` sort key)."""
    ev_names = pl.Series(EVENTS, dtype=pl.String)
    ch_names = pl.Series(CHANNELS, dtype=pl.String)
    df = pl.DataFrame(
        {
            "uid": cols["uid"],
            "ev": cols["ev"].astype(np.uint32),
            "ts": cols["ts"] * 1_000_000,
            "ch": cols["ch"].astype(np.uint32),
            "amount": cols["amount"],
            "ref": cols["ref"],
            "_tie": tie,
        }
    )

    def uid_text(c: pl.Expr) -> pl.Expr:
        return pl.lit("u") + c.cast(pl.String).str.zfill(id_width)

    return df.select(
        user_id=uid_text(pl.col("uid")),
        event=ev_names.gather(df["ev"]),  # type: ignore[arg-type]
        timestamp=pl.col("ts").cast(pl.Datetime("us", "UTC")),
        channel=ch_names.gather(df["ch"]),  # type: ignore[arg-type]
        amount=pl.col("amount").fill_nan(None),
        referrer_id=pl.when(pl.col("ref") >= 0).then(uid_text(pl.col("ref"))),
        _tie=pl.col("_tie"),
    )


# ------------------------------------------------------------------------------------ driver
def generate(
    events: int,
    out_dir: Path,
    *,
    csv: bool = False,
    seed: int = DEFAULT_SEED,
    chunk_users: int = CHUNK_USERS,
    quiet: bool = False,
) -> dict[str, object]:
    """Write ``events_<label>.parquet`` (and ``.csv``) into ``out_dir``; return the metadata."""
    t_start = time.perf_counter()
    label = count_label(events)
    out_dir.mkdir(parents=True, exist_ok=True)
    parquet = out_dir / f"events_{label}.parquet"
    n_users = max(1, events // EVENTS_PER_USER)
    id_width = max(7, len(str(n_users - 1)))
    tmp = out_dir / f".parts_{label}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()

    def say(msg: str) -> None:
        if not quiet:
            print(f"[generate {label}] {msg}", file=sys.stderr, flush=True)

    try:
        parts = []
        for k, first in enumerate(range(0, n_users, chunk_users)):
            n = min(chunk_users, n_users - first)
            rng = np.random.default_rng([seed, k])
            cols = gen_chunk(rng, first, n)
            tie = rng.integers(0, 2**62, size=len(cols["ts"]), dtype=np.int64)
            df = chunk_frame(cols, id_width, tie).sort("timestamp", "_tie")
            part = tmp / f"part_{k:05d}.parquet"
            df.write_parquet(part, compression="lz4", statistics=True)
            parts.append(part)
            say(f"chunk {k}: {n:,} users, {df.height:,} events")
            del df, cols
        # Week by week: each slice of time is sorted on its own (one week of events in memory)
        # and written out, then the sorted slices are streamed into the final file in order.
        scan = pl.scan_parquet(parts)
        slices = []
        for i, lo in enumerate(range(START, END, 7 * DAY)):
            hi = min(lo + 7 * DAY, END)
            week = (
                scan.filter(
                    pl.col("timestamp").is_between(
                        pl.lit(lo * 1_000_000).cast(pl.Datetime("us", "UTC")),
                        pl.lit(hi * 1_000_000).cast(pl.Datetime("us", "UTC")),
                        closed="left",
                    )
                )
                .collect()
                .sort("timestamp", "_tie")
                .drop("_tie")
            )
            slices.append(tmp / f"week_{i:03d}.parquet")
            week.write_parquet(slices[-1], compression="lz4")
            del week
        tmp_out = parquet.with_suffix(".parquet.tmp")
        pl.scan_parquet(slices).sink_parquet(
            tmp_out, compression="zstd", row_group_size=ROW_GROUP_ROWS, maintain_order=True
        )
        tmp_out.replace(parquet)
        say(f"wrote {parquet}")
        csv_path = None
        if csv:
            csv_path = out_dir / f"events_{label}.csv"
            tmp_csv = csv_path.with_suffix(".csv.tmp")
            pl.scan_parquet(parquet).with_columns(
                pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            ).sink_csv(tmp_csv, maintain_order=True)
            tmp_csv.replace(csv_path)
            say(f"wrote {csv_path}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows = pl.scan_parquet(parquet).select(pl.len()).collect().item()
    meta: dict[str, object] = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "events_target": events,
        "label": label,
        "rows": rows,
        "users": n_users,
        "parquet": parquet.name,
        "parquet_bytes": parquet.stat().st_size,
        "csv": csv_path.name if csv_path else None,
        "csv_bytes": csv_path.stat().st_size if csv_path else None,
        "numpy": np.__version__,
        "polars": pl.__version__,
        "seconds": round(time.perf_counter() - t_start, 2),
    }
    (out_dir / f"events_{label}.meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    say(
        f"{rows:,} rows, {n_users:,} users, {meta['parquet_bytes'] / 1e6:.1f} MB parquet "
        f"in {meta['seconds']} s"
    )
    return meta


def ensure(
    events: int, out_dir: Path, *, csv: bool = False, seed: int = DEFAULT_SEED, quiet: bool = False
) -> dict[str, object]:
    """Reuse ``events_<label>.*`` in ``out_dir`` when its sidecar says it is current; else
    generate it. Returns the metadata."""
    label = count_label(events)
    meta_path = out_dir / f"events_{label}.meta.json"
    try:
        meta = json.loads(meta_path.read_text())
        current = (
            meta.get("generator_version") == GENERATOR_VERSION
            and meta.get("seed") == seed
            and meta.get("events_target") == events
            and (out_dir / str(meta["parquet"])).is_file()
            and (out_dir / str(meta["parquet"])).stat().st_size == meta["parquet_bytes"]
            and (not csv or (meta.get("csv") and (out_dir / str(meta["csv"])).is_file()))
        )
        if current:
            return dict(meta)
    except (OSError, ValueError, KeyError):
        pass
    return generate(events, out_dir, csv=csv, seed=seed, quiet=quiet)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=parse_count, required=True, help="1M, 10M, 100M (or any N)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "data")
    ap.add_argument("--csv", action="store_true", help="also write events_<N>.csv")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--chunk-users", type=int, default=CHUNK_USERS, help=argparse.SUPPRESS)
    ap.add_argument(
        "--if-missing", action="store_true", help="do nothing when a current file is already there"
    )
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    if a.if_missing:
        meta = ensure(a.events, a.out, csv=a.csv, seed=a.seed, quiet=a.quiet)
    else:
        meta = generate(
            a.events, a.out, csv=a.csv, seed=a.seed, chunk_users=a.chunk_users, quiet=a.quiet
        )
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
