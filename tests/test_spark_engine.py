"""``--engine spark`` equals the local engine, unit by unit: funnel modes, retention modes,
tie-heavy hypothesis logs and a 1M-event generated log.

One Spark session (local[2]) serves every test of the run; the tests are marked ``spark``. In CI
(``CI=true``) a missing pyspark or Java fails them; elsewhere they skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cjkit.engine.cohorts import retention as retention_engine
from cjkit.engine.funnel.journeys import Exclusion, FunnelSpec, Step, journeys
from cjkit.engine.matchers import Matcher
from cjkit.errors import UsageError

pytestmark = pytest.mark.spark
ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2025, 1, 6, tzinfo=UTC)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """Return the test session's one SparkSession (2 local cores, 4 shuffle partitions)."""
    from cjkit import spark as cjspark

    try:
        cjspark.require()
    except UsageError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI: {exc}")
        pytest.skip(str(exc))
    session = cjspark.session("local[2]", {"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


def tie_heavy(units: int, events: int, seed: int) -> pl.DataFrame:
    """Return a log whose times fall on a few minutes, so most step events tie."""
    import numpy as np

    rng = np.random.default_rng(seed)
    names = np.array(["a", "b", "c", "x", "other"])
    return pl.DataFrame(
        {
            "user_id": [f"u{int(i):04d}" for i in rng.integers(0, units, events)],
            "event": names[rng.integers(0, len(names), events)].tolist(),
            "timestamp": [T0 + timedelta(minutes=int(m)) for m in rng.integers(0, 40, events)],
            "channel": rng.choice(["ads", "seo", None], events).tolist(),  # type: ignore[arg-type]
        },
        schema_overrides={"timestamp": pl.Datetime("us", "UTC")},
    )


def _spec(
    order: str, anchor: str, reuse: bool, increase: bool, excl: bool, **kw: Any
) -> FunnelSpec:
    steps = tuple(Step(n, (Matcher(n),)) for n in ("a", "b", "c"))
    return FunnelSpec(
        steps=steps,
        window_s=20 * 60,
        order=order,  # type: ignore[arg-type]
        anchor=anchor,  # type: ignore[arg-type]
        allow_event_reuse=reuse,
        strict_increase=increase,
        exclusions=(Exclusion((Matcher("x"),), 1, 3 if order == "any" else 2),) if excl else (),
        by=("channel",),
        **kw,
    )


# (order, anchor, allow reuse, strict increase, exclusions): every order with and without an
# exclusion, each flag on in at least two orders' runs, first-anchor with each of them.
MODES = [
    ("ordered", "latest", False, False, False),
    ("ordered", "latest", False, False, True),
    ("ordered", "first", True, False, True),
    ("ordered", "first", False, True, False),
    ("ordered", "latest", True, True, True),
    ("strict", "latest", False, False, True),
    ("strict", "first", False, True, False),
    ("strict", "latest", False, True, True),
    ("any", "latest", False, False, False),
    ("any", "latest", False, False, True),
]


def _spark_units(
    spark: Any, frame: pl.DataFrame, spec: FunnelSpec, buckets: int = 4
) -> pl.DataFrame:
    from cjkit import spark as cjspark

    units = cjspark.journeys(spark.createDataFrame(frame.to_arrow()), spec, buckets=buckets)
    return cjspark.to_polars(units)


def _assert_same_units(local: pl.DataFrame, remote: pl.DataFrame) -> None:
    assert remote.schema == local.schema
    assert remote.sort("unit").equals(local.sort("unit"))


def test_every_funnel_mode_equals_local(spark: Any) -> None:
    from cjkit import spark as cjspark

    frame = tie_heavy(300, 6_000, seed=1)
    df = spark.createDataFrame(frame.to_arrow()).cache()
    for mode in MODES:
        spec = _spec(*mode, since=T0 + timedelta(minutes=5), until=T0 + timedelta(minutes=30))
        remote = cjspark.to_polars(cjspark.journeys(df, spec, buckets=3))
        local = journeys(frame.lazy(), spec).collect()
        assert local.height > 0, mode
        _assert_same_units(local, remote)


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**16),
    mode=st.sampled_from(MODES),
    units=st.integers(1, 40),
    buckets=st.integers(1, 5),
)
def test_tie_heavy_logs_equal_local(
    spark: Any, seed: int, mode: tuple[str, str, bool, bool, bool], units: int, buckets: int
) -> None:
    frame = tie_heavy(units, units * 12, seed)
    spec = _spec(*mode)
    _assert_same_units(
        journeys(frame.lazy(), spec).collect(), _spark_units(spark, frame, spec, buckets)
    )


@pytest.mark.parametrize(
    ("cohort", "cumulative", "start"),
    [("recurring", False, None), ("first_time", False, "a"), ("recurring", True, "b")],
)
def test_retention_modes_equal_local(
    spark: Any, cohort: str, cumulative: bool, start: str | None
) -> None:
    from cjkit import spark as cjspark

    frame = tie_heavy(200, 4_000, seed=7).with_columns(
        pl.col("timestamp") + pl.duration(days=pl.col("user_id").str.slice(1).cast(pl.Int64) % 50)
    )
    spec = retention_engine.RetentionSpec(
        start=(Matcher(start),) if start else None,
        period="week",
        periods=5,
        cohort=cohort,  # type: ignore[arg-type]
        cumulative=cumulative,
        since=T0 + timedelta(days=7),
        until=T0 + timedelta(days=45),
        by=("channel",),
    )
    remote = cjspark.retention_parts(spark.createDataFrame(frame.to_arrow()), spec, buckets=3)
    local = retention_engine.unpack(
        retention_engine.pack(retention_engine.retention_query(frame.lazy(), spec)).collect()
    )
    for name, part in local.items():
        keys = [c for c in ("c", "p", retention_engine.BY) if c in part.columns]
        got = remote[name].select(part.columns)
        got = got.sort(keys) if keys else got
        assert got.equals(part.sort(keys) if keys else part), name


@pytest.fixture(scope="session")
def generated_1m(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a 1M-event log from benchmarks/generate.py."""
    out = tmp_path_factory.mktemp("gen")
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "generate.py"),
            "--events",
            "1M",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return next(out.glob("*.parquet"))


def test_generated_1m_log_equals_local(spark: Any, generated_1m: Path) -> None:
    from cjkit import spark as cjspark

    steps = tuple(Step(n, (Matcher(n),)) for n in ("visit", "signup", "purchase", "invite_sent"))
    spec = FunnelSpec(steps=steps, window_s=7 * 86400, by=("channel",))
    df = spark.read.parquet(str(generated_1m))
    remote = cjspark.to_polars(cjspark.journeys(df, spec))
    local = journeys(pl.scan_parquet(generated_1m), spec).collect()
    assert local.height > 10_000
    _assert_same_units(local, remote)
    report = cjspark.funnel_report(remote, spec)
    from cjkit.engine.funnel import summary

    assert report.to_dict() == summary.summarize(local, spec, {}).to_dict()


@pytest.fixture(scope="session")
def shop_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return 2,000 users of the shipped shop log as Parquet."""
    path = tmp_path_factory.mktemp("shop") / "events.parquet"
    shop = ROOT / "examples" / "shop" / "events.parquet"
    pl.scan_parquet(shop).filter(pl.col("user_id") < "u002000").collect().write_parquet(path)
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["funnel", "--model", "aarrr", "--by", "channel", "--since", "2025-02-01"],
        ["funnel", "-s", "visit", "-s", "signup", "--order", "strict", "--exclude", "refund"],
        ["retention", "--cohort", "first-time", "--start-event", "signup", "-n", "4"],
    ],
)
def test_cli_engine_spark_prints_what_local_prints(
    spark: Any, shop_sample: Path, args: list[str]
) -> None:
    from typer.testing import CliRunner

    from cjkit.cli import app

    runner = CliRunner(env={"COLUMNS": "120", "NO_COLOR": "1"})
    command, *rest = args
    local = runner.invoke(app, [command, str(shop_sample), *rest])
    assert local.exit_code == 0, local.stderr
    remote = runner.invoke(
        app,
        [
            command,
            str(shop_sample),
            *rest,
            "--engine",
            "spark",
            "--spark-conf",
            "spark.sql.shuffle.partitions=4",
        ],
    )
    assert remote.exit_code == 0, remote.stderr
    assert remote.stdout == local.stdout
    assert remote.stderr == local.stderr


def test_missing_pyspark_or_java_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from cjkit.cli import app

    runner = CliRunner()
    args = ["funnel", str(tmp_path / "e.parquet"), "-s", "a", "-s", "b", "--engine", "spark"]
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "pyspark", None)
        result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: --engine spark needs pyspark: pip install 'cjkit[spark]'"
    ]
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "needs Java 17 or later" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
