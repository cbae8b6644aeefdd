"""cjkit's benchmark runner: whole processes, interleaved, medians, peak RSS, agreement checks.

    python benchmarks/run.py [--sizes 1M,10M] [--runs 3] [--tasks cjkit-funnel,duckdb-funnel,…]
                             [--formats parquet,csv] [--csv-sizes 10M] [--out benchmarks/RESULTS.md]
    python benchmarks/run.py --smoke        # CI: 1M events, 1 run, exit 1 on disagreement

Every task is a separate process (``python …`` or the ``cjkit`` CLI), so imports and start-up
are included. Runs are interleaved: round 1 runs every task once, then round 2, …, and each
round starts one task later than the previous one, so no task always runs first or last. The
median wall time per task is reported, with the peak RSS of the process (``/usr/bin/time -v``;
without it, ``os.wait4``'s rusage of the child). Before timing, one untimed pass on a tiny file
warms up bytecode caches (children get ``PYTHONPYCACHEPREFIX`` under the data folder, since the
environment may forbid writing ``.pyc`` next to the sources) and the data file is read once
into the page cache.

The runner checks that cjkit's funnel step counts equal DuckDB's, that cjkit's retention
``cohorts[].counts`` equal DuckDB's, and that both read floors count the same users, and writes
a Markdown report (``RESULTS.md``) with the versions, machine, data sizes, medians, ratios to
DuckDB and to the read floors, peak RSS, agreement and the issue's targets. A task that fails
(non-zero exit, bad JSON, timeout) is reported as failed and the rest goes on; a cjkit command
that does not exist yet is reported as "missing".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (benchmarks/generate.py, beside this file)

FUNNEL_STEPS = ["visit", "signup", "onboarding_complete", "purchase", "invite_sent"]
WINDOW = "7d"
PERIODS = 8  # cjkit retention's default --periods; DuckDB computes the same k = 0..8

TASKS = [
    "cjkit-funnel",
    "cjkit-retention",
    "cjkit-metrics",
    "duckdb-funnel",
    "duckdb-retention",
    "duckdb-floor",
    "polars-floor",
]
TASK_HELP = {
    "cjkit-funnel": "cjkit funnel DATA --step visit … --step invite_sent --window 7d --format json",
    "cjkit-retention": "cjkit retention DATA --period week --format json",
    "cjkit-metrics": "cjkit metrics DATA --model aarrr --format json",
    "duckdb-funnel": "duckdb_queries.py funnel: the same 5-step funnel in SQL (ASOF joins)",
    "duckdb-retention": "duckdb_queries.py retention: weekly recurring cohorts, k = 0..8",
    "duckdb-floor": "duckdb_queries.py floor: read user_id, event, timestamp; count distinct users",
    "polars-floor": "polars_floor.py: the same read floor in Polars (scan, n_unique)",
}
TIME_BIN = shutil.which("time", path="/usr/bin:/bin")


# ------------------------------------------------------------------------------ commands
def cjkit_cmd(override: str | None) -> list[str]:
    if override:
        return shlex.split(override)
    exe = Path(sys.executable).parent / "cjkit"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "cjkit"]


def task_argv(task: str, data: Path, cjkit: list[str]) -> list[str]:
    py = sys.executable
    d = str(data)
    steps = [a for s in FUNNEL_STEPS for a in ("--step", s)]
    if task == "cjkit-funnel":
        return [*cjkit, "funnel", d, *steps, "--window", WINDOW, "--format", "json"]
    if task == "cjkit-retention":
        return [*cjkit, "retention", d, "--period", "week", "--format", "json"]
    if task == "cjkit-metrics":
        return [*cjkit, "metrics", d, "--model", "aarrr", "--format", "json"]
    if task == "duckdb-funnel":
        return [py, str(HERE / "duckdb_queries.py"), "funnel", d, *steps, "--window", WINDOW]
    if task == "duckdb-retention":
        return [py, str(HERE / "duckdb_queries.py"), "retention", d, "--periods", str(PERIODS)]
    if task == "duckdb-floor":
        return [py, str(HERE / "duckdb_queries.py"), "floor", d]
    if task == "polars-floor":
        return [py, str(HERE / "polars_floor.py"), d]
    raise ValueError(task)


def child_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(data_dir / ".pycache")
    env["NO_COLOR"] = "1"
    return env


# ------------------------------------------------------------------------------ one run
@dataclass
class Run:
    wall: float
    rss_kb: int | None
    rc: int
    cpu: float | None  # user + system seconds of the process and its children
    stdout: str
    stderr: str
    timed_out: bool = False


def run_once(argv: list[str], env: dict[str, str], timeout: float) -> Run:
    """Run one process; wall time measured here, peak RSS from /usr/bin/time -v or wait4."""
    rss_file = None
    cmd = argv
    if TIME_BIN:
        fd, rss_file = tempfile.mkstemp(prefix="cjkit-bench-time-")
        os.close(fd)
        cmd = [TIME_BIN, "-v", "-o", rss_file, *argv]
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:  # no such executable (without /usr/bin/time in front)
            return Run(
                time.perf_counter() - t0, None, 127, None, "", f"cannot run {argv[0]}: {exc}"
            )
        killed: list[bool] = []

        def kill() -> None:  # on timeout: the whole process group (time, python, threads)
            killed.append(True)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # blocks; rusage of this child only
        finally:
            wall = time.perf_counter() - t0
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        timed_out = bool(killed)
        rss_kb: int | None = int(usage.ru_maxrss)  # kB on Linux; time -v's figure below wins
        cpu: float | None = usage.ru_utime + usage.ru_stime
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if rss_file:
        try:
            text = Path(rss_file).read_text()
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
            if m:
                rss_kb = int(m.group(1))
            u = re.search(r"User time \(seconds\): ([\d.]+)", text)
            k = re.search(r"System time \(seconds\): ([\d.]+)", text)
            if u and k:
                cpu = float(u.group(1)) + float(k.group(1))
            # time -v reports a kill by a signal (e.g. the OOM killer) in its own output
            killed = [ln for ln in text.splitlines() if ln.startswith("Command terminated")]
            if killed:
                stderr = stderr + ("\n" if stderr else "") + "\n".join(killed)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                os.unlink(rss_file)
    return Run(wall, rss_kb, proc.returncode, cpu, stdout, stderr, timed_out)


# ------------------------------------------------------------------------------ results
@dataclass
class TaskResult:
    task: str
    size: str
    fmt: str
    argv: list[str]
    runs: list[Run] = field(default_factory=list)
    status: str = "ok"  # ok | failed | missing | skipped
    error: str = ""
    output: dict[str, Any] | None = None

    @property
    def walls(self) -> list[float]:
        return [r.wall for r in self.runs if r.rc == 0 and not r.timed_out]

    @property
    def median(self) -> float | None:
        return statistics.median(self.walls) if self.status == "ok" and self.walls else None

    @property
    def cpu_median(self) -> float | None:
        vals = [r.cpu for r in self.runs if r.rc == 0 and not r.timed_out and r.cpu is not None]
        return statistics.median(vals) if self.status == "ok" and vals else None

    @property
    def rss_mb(self) -> float | None:
        vals = [r.rss_kb for r in self.runs if r.rss_kb]
        return max(vals) / 1024 if vals else None


def classify_failure(task: str, run: Run) -> tuple[str, str]:
    tail = [ln.strip() for ln in run.stderr.strip().splitlines() if ln.strip()]
    msg = " | ".join(tail[-3:])[-400:] if tail else "(no message)"
    if run.timed_out:
        return "failed", f"timed out after {run.wall:.0f} s"
    if task.startswith("cjkit") and "No such command" in run.stderr:
        return "missing", f"not available yet (exit {run.rc}): {msg}"
    if run.rc != 0:
        return "failed", f"exit {run.rc}: {msg}"
    return "failed", f"output is not JSON: {run.stdout[:200]!r}"


def parse_output(run: Run) -> dict[str, Any] | None:
    if run.rc != 0 or run.timed_out:
        return None
    text = run.stdout.strip()
    try:
        val = json.loads(text)
    except ValueError:
        # tolerate stray lines before the JSON object
        i = text.find("{")
        try:
            val = json.loads(text[i:]) if i >= 0 else None
        except ValueError:
            return None
    return val if isinstance(val, dict) else None


# ------------------------------------------------------------------------------ agreement
@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    hard: bool = True  # a hard check fails --smoke when it disagrees


def funnel_counts(out: dict[str, Any]) -> list[int]:
    return [int(s["count"]) for s in out["steps"]]


def retention_counts(out: dict[str, Any]) -> dict[str, list[int | None]]:
    return {str(c["cohort"])[:10]: list(c["counts"]) for c in out["cohorts"]}


def compare_retention(cj: dict[str, Any], dd: dict[str, Any]) -> tuple[bool, str]:
    a, b = retention_counts(cj), retention_counts(dd)
    if set(a) != set(b):
        only_a = sorted(set(a) - set(b))[:5]
        only_b = sorted(set(b) - set(a))[:5]
        return False, f"cohort weeks differ: only cjkit {only_a}, only DuckDB {only_b}"
    last = max(b) if b else ""
    bad = []
    for c in sorted(a):
        ca, cb = a[c], b[c]
        n = min(len(ca), len(cb))
        for k in range(n):
            va = ca[k]
            # a null cell is fine only where week c+k has no data at all (after the last week)
            if va is None and cb[k] == 0 and _week_after(c, k) > last:
                continue
            if va != cb[k]:
                bad.append(f"{c} k={k}: cjkit {va} vs DuckDB {cb[k]}")
        if len(ca) != len(cb):
            bad.append(f"{c}: cjkit has {len(ca)} cells, DuckDB {len(cb)}")
    if bad:
        return False, f"{len(bad)} cells differ, e.g. " + "; ".join(bad[:4])
    cells = sum(len(v) for v in a.values())
    return True, f"{len(a)} cohorts, {cells} cells equal"


def _week_after(cohort: str, k: int) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(cohort) + timedelta(weeks=k)).isoformat()


def checks_for(results: dict[str, TaskResult]) -> list[Check]:
    out: list[Check] = []

    def got(task: str) -> dict[str, Any] | None:
        r = results.get(task)
        return r.output if r and r.status == "ok" else None

    cf, df = got("cjkit-funnel"), got("duckdb-funnel")
    if cf and df:
        try:
            a, b = funnel_counts(cf), funnel_counts(df)
            out.append(Check("funnel counts: cjkit = DuckDB", a == b, f"cjkit {a}, DuckDB {b}"))
        except (KeyError, TypeError, ValueError) as exc:
            out.append(Check("funnel counts: cjkit = DuckDB", False, f"bad cjkit JSON: {exc!r}"))
    cr, dr = got("cjkit-retention"), got("duckdb-retention")
    if cr and dr:
        try:
            ok, detail = compare_retention(cr, dr)
        except (KeyError, TypeError, ValueError) as exc:
            ok, detail = False, f"bad cjkit JSON: {exc!r}"
        out.append(Check("retention counts: cjkit = DuckDB", ok, detail))
    fd, fp = got("duckdb-floor"), got("polars-floor")
    if fd and fp:
        a, b = fd.get("users"), fp.get("users")
        out.append(Check("read floor users: DuckDB = Polars", a == b, f"DuckDB {a}, Polars {b}"))
    cm = got("cjkit-metrics")
    if cm and df:
        # informational: the AARRR model's first stage (acquisition = visit) counts the visitors
        try:
            first = cm["stages"][0]
            a, b = int(first["count"]), funnel_counts(df)[0]
            out.append(
                Check(
                    "metrics acquisition count = DuckDB visitors",
                    a == b,
                    f"cjkit {first.get('id')} {a}, DuckDB {b}",
                    hard=False,
                )
            )
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            out.append(
                Check(
                    "metrics acquisition count = DuckDB visitors",
                    False,
                    f"could not read stages[0].count: {exc!r}",
                    hard=False,
                )
            )
    return out


# ------------------------------------------------------------------------------ report
def fmt_s(v: float | None) -> str:
    return "–" if v is None else (f"{v:.2f}" if v >= 0.1 else f"{v:.3f}")


def fmt_x(a: float | None, b: float | None) -> str:
    return "–" if a is None or not b else f"{a / b:.2f}×"


def versions() -> dict[str, str]:
    v = {"python": platform.python_version()}
    for pkg in ("polars", "duckdb", "numpy", "cjkit"):
        try:
            v[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            v[pkg] = "not installed"
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "src"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        if rev:
            v["cjkit"] += f" (git {rev}{', src/ modified' if dirty else ''})"
    except (OSError, subprocess.SubprocessError):
        pass
    return v


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem = f"{kb / 1024**2:.1f} GiB"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "rss": "/usr/bin/time -v" if TIME_BIN else "os.wait4 rusage",
    }


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


# issues 6 and 16's targets: (description, kind, numerator, denominator, limit, sizes, format)
TARGETS = [
    (
        "ordered funnel ≤ 0.85× DuckDB",
        "ratio",
        "cjkit-funnel",
        ["duckdb-funnel"],
        0.85,
        ["10M", "100M"],
        "parquet",
    ),
    (
        "ordered funnel ≤ 2× DuckDB read floor (moonshot)",
        "ratio",
        "cjkit-funnel",
        ["duckdb-floor"],
        2.0,
        ["10M", "100M"],
        "parquet",
    ),
    (
        "weekly retention ≤ 0.9× DuckDB",
        "ratio",
        "cjkit-retention",
        ["duckdb-retention"],
        0.9,
        ["10M", "100M"],
        "parquet",
    ),
    (
        "metrics --model aarrr ≤ DuckDB funnel + retention",
        "ratio",
        "cjkit-metrics",
        ["duckdb-funnel", "duckdb-retention"],
        1.0,
        ["10M", "100M"],
        "parquet",
    ),
    (
        "CSV funnel ≤ 1.0× DuckDB on the same CSV",
        "ratio",
        "cjkit-funnel",
        ["duckdb-funnel"],
        1.0,
        ["10M"],
        "csv",
    ),
    ("funnel peak RSS ≤ 6 GB", "rss", "cjkit-funnel", [], 6.0, ["100M"], "parquet"),
    ("retention peak RSS ≤ 4 GB", "rss", "cjkit-retention", [], 4.0, ["100M"], "parquet"),
    ("metrics peak RSS ≤ 4 GiB", "rss", "cjkit-metrics", [], 4.0, ["100M"], "parquet"),
    ("funnel peak RSS ≤ 4 GiB (moonshot)", "rss", "cjkit-funnel", [], 4.0, ["100M"], "parquet"),
]


def write_report(
    path: Path,
    all_results: list[dict[str, TaskResult]],
    all_checks: list[tuple[str, str, list[Check]]],
    data_meta: dict[str, dict[str, Any]],
    args: argparse.Namespace,
    started: datetime,
    load_before: str,
    selfcheck: tuple[bool, str] | None,
) -> str:
    v = versions()
    m = machine()
    lines: list[str] = []
    add = lines.append
    add("# cjkit benchmark results")
    add("")
    add(
        f"Written by `benchmarks/run.py` on {started:%Y-%m-%d %H:%M} UTC"
        f"{' (smoke run: 1M events, 1 run; timings are not meaningful)' if args.smoke else ''}."
    )
    add("")
    add(f"- Command: `python benchmarks/run.py {shlex.join(args.argv)}`".rstrip())
    add(
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}; "
        f"load average before {load_before}, after {loadavg()}"
    )
    add(
        f"- Versions: Python {v['python']}, polars {v['polars']}, duckdb {v['duckdb']}, "
        f"numpy {v['numpy']}, cjkit {v['cjkit']}"
    )
    add(
        f"- Method: each task is a whole process (imports included), {args.runs} run(s) each, "
        "interleaved (every round runs all tasks, starting one task later each round); the "
        f"median wall time is reported (CPU s = median user + system time, less sensitive to "
        f"other load on the machine); peak RSS is the largest over the runs ({m['rss']})."
    )
    add("")
    add("## Data")
    add("")
    add("| data | rows | users | Parquet MB | CSV MB |")
    add("|---|---:|---:|---:|---:|")
    for label, meta in data_meta.items():
        csv_mb = f"{meta['csv_bytes'] / 1e6:.0f}" if meta.get("csv_bytes") else "–"
        add(
            f"| `events_{label}` | {meta['rows']:,} | {meta['users']:,} | "
            f"{meta['parquet_bytes'] / 1e6:.1f} | {csv_mb} |"
        )
    add("")
    add(
        "Generated by `benchmarks/generate.py` (seed "
        f"{next(iter(data_meta.values()))['seed'] if data_meta else '?'}): ~20 events per user, "
        "2025-01-01..2025-06-30, sorted by time."
    )
    add("")
    add("## Timings")
    add("")
    add(
        "Ratios: ×DuckDB is against the DuckDB query for the same task (for `cjkit-metrics`, "
        "DuckDB funnel + retention together); ×floor is against each engine's read floor."
    )
    add("")
    add(
        "| data | task | median s | min–max s | runs | CPU s | peak RSS MB | ×DuckDB "
        "| ×DuckDB floor | ×Polars floor | status |"
    )
    add("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for res in all_results:
        for task in [t for t in TASKS if t in res]:
            r = res[task]
            label = f"{r.size} {r.fmt}"
            med = r.median
            peer: float | None = None
            if task in ("cjkit-funnel",):
                peer = res["duckdb-funnel"].median if "duckdb-funnel" in res else None
            elif task == "cjkit-retention":
                peer = res["duckdb-retention"].median if "duckdb-retention" in res else None
            elif task == "cjkit-metrics":
                a = res["duckdb-funnel"].median if "duckdb-funnel" in res else None
                b = res["duckdb-retention"].median if "duckdb-retention" in res else None
                peer = a + b if a and b else None
            dfl = res["duckdb-floor"].median if "duckdb-floor" in res else None
            pfl = res["polars-floor"].median if "polars-floor" in res else None
            walls = r.walls
            rng = f"{min(walls):.2f}–{max(walls):.2f}" if walls else "–"
            rss = f"{r.rss_mb:,.0f}" if r.rss_mb and r.status == "ok" else "–"
            status = r.status if r.status == "ok" else f"**{r.status.upper()}**: {r.error}"
            add(
                f"| {label} | `{task}` | {fmt_s(med)} | {rng} | {len(walls)} | "
                f"{fmt_s(r.cpu_median)} | {rss} | "
                f"{fmt_x(med, peer) if task.startswith('cjkit') else '–'} | "
                f"{fmt_x(med, dfl) if task != 'duckdb-floor' else '1.00×' if med else '–'} | "
                f"{fmt_x(med, pfl) if task != 'polars-floor' else '1.00×' if med else '–'} | "
                f"{status.replace('|', '/')} |"
            )
    add("")
    add("## Agreement")
    add("")
    if selfcheck is not None:
        add(
            f"- DuckDB SQL vs the pure-Python references (edge cases, dense random users, a "
            f"~20k-event sample): **{'agree' if selfcheck[0] else 'DISAGREE'}**."
        )
    for label, fmt, checks in all_checks:
        if not checks:
            add(f"- {label} {fmt}: nothing to compare (a side failed or was not run).")
        for c in checks:
            verdict = "agree" if c.ok else ("DISAGREE" if c.hard else "differ (informational)")
            add(f"- {label} {fmt}, {c.name}: **{verdict}** ({c.detail})")
    add("")
    add(
        "Results, for comparing engines by eye (funnel: users reaching each step; retention: the "
        "first cohorts' counts for k = 0..8):"
    )
    add("")
    for res in all_results:
        for task in ("duckdb-funnel", "cjkit-funnel"):
            r = res.get(task)
            if r and r.output and r.status == "ok":
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    add(f"- {r.size} {r.fmt} `{task}`: {funnel_counts(r.output)}")
        for task in ("duckdb-retention", "cjkit-retention"):
            r = res.get(task)
            if r and r.output and r.status == "ok":
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    rows = list(retention_counts(r.output).items())
                    head = "; ".join(f"{c}: {v}" for c, v in rows[:2])
                    add(f"- {r.size} {r.fmt} `{task}`: {len(rows)} cohorts; {head}; …")
    add("")
    add("## Targets (issues 6 and 16)")
    add("")
    add("| target | data | measured | verdict |")
    add("|---|---|---:|---|")
    by_key = {(r[next(iter(r))].size, r[next(iter(r))].fmt): r for r in all_results if r}
    for desc, kind, num, dens, limit, sizes, fmt in TARGETS:
        for size in sizes:
            res = by_key.get((size, fmt))
            if not res:
                add(f"| {desc} | {size} {fmt} | – | not measured |")
                continue
            n = res.get(num)
            if kind == "rss":
                val = n.rss_mb / 1024 if n and n.status == "ok" and n.rss_mb else None
                shown = f"{val:.2f} GiB" if val is not None else "–"
            else:
                meds = [res[d].median if d in res else None for d in dens]
                val = (
                    n.median / sum(meds)  # type: ignore[operator]
                    if n and n.median and all(meds)
                    else None
                )
                shown = f"{val:.2f}×" if val is not None else "–"
            if val is None:
                verdict = "not measured (a task failed or was not run)"
            else:
                verdict = "met" if val <= limit else f"not met ({val / limit:.2f}× the limit)"
            add(f"| {desc} | {size} {fmt} | {shown} | {verdict} |")
    add(
        "| 1B events (e.g. ten 100M files) complete in 24 GiB; metrics in 16 GiB | 1B | – | "
        'measured by hand: see README.md, "1B" |'
    )
    add("")
    add(
        "Where the time goes for each target not met (the profile), and the 1B runs: "
        '[README.md](README.md), "Where cjkit stands".'
    )
    add("")
    add("## All runs (wall s, in run order)")
    add("")
    for res in all_results:
        for task in [t for t in TASKS if t in res]:
            r = res[task]
            runs = ", ".join(
                f"{x.wall:.2f}" + ("" if x.rc == 0 else f" (exit {x.rc})") for x in r.runs
            )
            add(f"- {r.size} {r.fmt} `{task}`: {runs or '–'}")
    add("")
    text = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return text


# ------------------------------------------------------------------------------ driver
def parse_list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def run_selfcheck(env: dict[str, str], data: Path | None) -> tuple[bool, str]:
    argv = [sys.executable, str(HERE / "duckdb_queries.py"), "selfcheck"]
    if data:
        argv.append(str(data))
    r = run_once(argv, env, 300)
    return r.rc == 0, (r.stderr.strip() or r.stdout.strip())


def warm_cache(path: Path) -> None:
    with path.open("rb") as f:
        while f.read(1 << 24):
            pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Time cjkit against DuckDB SQL and the read floors (whole processes).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="tasks:\n" + "\n".join(f"  {t:17s} {h}" for t, h in TASK_HELP.items()),
    )
    ap.add_argument("--sizes", default="1M,10M", help="event counts, e.g. 1M,10M,100M")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per task (median reported)")
    ap.add_argument("--tasks", default=",".join(TASKS), help="comma-separated task names")
    ap.add_argument("--formats", default="parquet", help="parquet, csv or parquet,csv")
    ap.add_argument(
        "--csv-sizes",
        default="",
        help="also run on CSV at these sizes only (e.g. 10M: a 100M CSV is 5.5 GB)",
    )
    ap.add_argument("--data-dir", type=Path, default=HERE / "data")
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="report path (default benchmarks/RESULTS.md; smoke: DATA_DIR/RESULTS-smoke.md)",
    )
    ap.add_argument("--json", type=Path, default=None, help="also write raw results as JSON")
    ap.add_argument("--cjkit", default=None, help="how to run cjkit (default: .venv/bin/cjkit)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per process")
    ap.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up pass")
    ap.add_argument("--no-selfcheck", action="store_true", help="skip the SQL self-check")
    ap.add_argument(
        "--smoke",
        action="store_true",
        help="CI: 1M events, 1 run, exit 1 on any disagreement or failed task",
    )
    args = ap.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    if args.smoke:
        args.sizes, args.runs = "1M", 1
    sizes = [generate.parse_count(s) for s in parse_list(args.sizes)]
    tasks = parse_list(args.tasks)
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        ap.error(f"unknown task(s) {unknown}; known: {', '.join(TASKS)}")
    formats = parse_list(args.formats)
    if any(f not in ("parquet", "csv") for f in formats):
        ap.error("--formats takes parquet and/or csv")
    csv_sizes = {generate.parse_count(s) for s in parse_list(args.csv_sizes)}
    sizes += [n for n in sorted(csv_sizes) if n not in sizes]

    def formats_of(n: int) -> list[str]:
        return formats + (["csv"] if n in csv_sizes and "csv" not in formats else [])

    out_path = args.out or (
        args.data_dir / "RESULTS-smoke.md" if args.smoke else HERE / "RESULTS.md"
    )
    started = datetime.now(UTC)
    load_before = loadavg()
    data_dir: Path = args.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    env = child_env(data_dir)
    cjkit = cjkit_cmd(args.cjkit)

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    # 1. data
    data_meta: dict[str, dict[str, Any]] = {}
    for n in sizes:
        label = generate.count_label(n)
        say(f"data: events_{label} …")
        data_meta[label] = generate.ensure(n, data_dir, csv="csv" in formats_of(n), quiet=False)

    # 2. SQL self-check against the Python references (fast; on the smallest data)
    selfcheck: tuple[bool, str] | None = None
    if not args.no_selfcheck and any(t.startswith("duckdb") for t in tasks):
        smallest = data_dir / str(data_meta[generate.count_label(min(sizes))]["parquet"])
        selfcheck = run_selfcheck(env, smallest)
        say(
            ("selfcheck OK" if selfcheck[0] else "SELFCHECK FAILED")
            + "\n  "
            + selfcheck[1].replace("\n", "\n  ")
        )

    # 3. warm-up: one untimed pass on a tiny file (bytecode caches, imports)
    if not args.no_warmup and not args.smoke:
        all_formats = sorted({f for n in sizes for f in formats_of(n)})
        tiny = generate.ensure(20_000, data_dir, csv="csv" in all_formats, quiet=True)
        for fmt in all_formats:
            f = data_dir / str(tiny[fmt])
            for task in tasks:
                run_once(task_argv(task, f, cjkit), env, 300)

    # 4. timed, interleaved runs
    all_results: list[dict[str, TaskResult]] = []
    all_checks: list[tuple[str, str, list[Check]]] = []
    for n in sizes:
        label = generate.count_label(n)
        meta = data_meta[label]
        for fmt in formats_of(n):
            data = data_dir / str(meta[fmt])
            warm_cache(data)
            res = {t: TaskResult(t, label, fmt, task_argv(t, data, cjkit)) for t in tasks}
            for rnd in range(args.runs):
                k = rnd % len(tasks)
                for task in tasks[k:] + tasks[:k]:
                    r = res[task]
                    if r.status != "ok":
                        continue  # failed once: do not retry it
                    run = run_once(r.argv, env, args.timeout)
                    r.runs.append(run)
                    out = parse_output(run)
                    if out is None:
                        r.status, r.error = classify_failure(task, run)
                        say(f"{label} {fmt} {task}: {r.status.upper()} {r.error}")
                        continue
                    if r.output is None:
                        r.output = out
                    rss = f"{run.rss_kb / 1024:,.0f} MB" if run.rss_kb else "?"
                    say(
                        f"{label} {fmt} round {rnd + 1}/{args.runs} {task:17s} "
                        f"{run.wall:7.2f} s  {rss}"
                    )
            checks = checks_for(res)
            for c in checks:
                say(f"{label} {fmt} check {c.name}: {'agree' if c.ok else 'DISAGREE'} ({c.detail})")
            all_results.append(res)
            all_checks.append((label, fmt, checks))

    text = write_report(
        out_path, all_results, all_checks, data_meta, args, started, load_before, selfcheck
    )
    say(f"wrote {out_path}")
    if args.json:
        raw = [
            {
                "size": r.size,
                "format": r.fmt,
                "task": r.task,
                "status": r.status,
                "error": r.error,
                "median_s": r.median,
                "peak_rss_mb": r.rss_mb,
                "walls": [x.wall for x in r.runs],
                "cpu": [x.cpu for x in r.runs],
                "argv": r.argv,
            }
            for res in all_results
            for r in res.values()
        ]
        args.json.write_text(json.dumps(raw, indent=2) + "\n")
    print(text.split("## Agreement")[0].split("## Timings")[1].strip())

    # exit status: disagreements always count; in --smoke, failed tasks too
    bad = [c for _, _, cs in all_checks for c in cs if c.hard and not c.ok]
    failed = [r for res in all_results for r in res.values() if r.status == "failed"]
    missing = [r for res in all_results for r in res.values() if r.status == "missing"]
    for r in missing:
        say(f"WARNING: {r.task} is not available yet: {r.error}")
    if selfcheck is not None and not selfcheck[0]:
        say("FAIL: the DuckDB SQL disagrees with the Python reference")
        return 1
    if bad:
        say(f"FAIL: {len(bad)} disagreement(s) between cjkit and DuckDB")
        return 1
    if args.smoke and failed:
        say(f"FAIL: {len(failed)} task(s) failed: {', '.join(r.task for r in failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
