"""Events from PostgreSQL, DuckDB files and S3 give exactly the reports the same Parquet gives.

A real PostgreSQL cluster and moto's S3 server are started for the session (``tests/servers.py``);
in CI they must start (``.ci/run`` installs PostgreSQL), elsewhere the tests skip without them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from servers import PG_PASSWORD, moto_s3, postgres
from typer.testing import CliRunner

from cjkit import api
from cjkit.api import FunnelOptions, MetricsOptions, ReadOptions, RetentionOptions
from cjkit.cli import app
from cjkit.errors import CjkitError, InputError, UsageError
from cjkit.io import databases
from cjkit.io.remote import mask

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "examples" / "shop" / "events.parquet"
S3_SECRET = "moto-secret-key-77"


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a Parquet file with 3,000 users of the shipped shop log (about 83k events)."""
    path = tmp_path_factory.mktemp("remote") / "events.parquet"
    pl.scan_parquet(SHOP).filter(pl.col("user_id") < "u003000").collect().write_parquet(path)
    return path


@pytest.fixture(scope="session")
def pg_uri(shop: Path) -> Iterator[str]:
    """Return the URI of a running PostgreSQL holding the events as table ``events``."""
    with postgres() as pg:
        frame = pl.read_parquet(shop)
        frame.write_database("events", pg.uri, engine="adbc", if_table_exists="replace")
        # The same events with the time as naive local text, to exercise the parser path.
        frame.with_columns(
            pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        ).write_database("events_text", pg.uri, engine="adbc", if_table_exists="replace")
        yield pg.uri


@pytest.fixture(scope="session")
def duckdb_file(shop: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a DuckDB database file with the events as table ``main.events``."""
    import duckdb

    path = tmp_path_factory.mktemp("duck") / "events.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE TABLE events AS SELECT * FROM read_parquet('{shop}')")
        con.execute(
            "CREATE TABLE events_naive AS SELECT * REPLACE "
            f"(timezone('Europe/Berlin', timestamp) AS timestamp) FROM read_parquet('{shop}')"
        )
    return path


@pytest.fixture(scope="session")
def s3_events(shop: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return an ``s3://`` glob of the events in two Parquet objects on a moto server."""
    import boto3

    saved = {
        k: os.environ.get(k)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL")
    }
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY=S3_SECRET, AWS_REGION="us-east-1"
    )
    try:
        with moto_s3() as endpoint:
            os.environ["AWS_ENDPOINT_URL"] = endpoint
            client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
            client.create_bucket(Bucket="events")
            frame = pl.read_parquet(shop)
            folder = tmp_path_factory.mktemp("s3")
            for i, part in enumerate((frame[:40_000], frame[40_000:])):
                local = folder / f"part-{i}.parquet"
                part.write_parquet(local)
                client.upload_file(str(local), "events", f"shop/part-{i}.parquet")
            yield "s3://events/shop/*.parquet"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _rounded(value: Any) -> Any:
    # Float sums (LTV, revenue) are added in the order the reader's batches arrive, so a
    # database's Arrow stream and a Parquet file's row groups can differ in the last bit; the
    # report is the same to 12 significant digits, far below what any format prints.
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    a, b = dict(a), dict(b)
    a.pop("source", None)
    b.pop("source", None)
    assert _rounded(a) == _rounded(b)


FUNNEL = FunnelOptions(model="aarrr", since="2025-02-01", until="2025-04-30", by=("channel",))


def _funnel(path: str, **read: str) -> dict[str, Any]:
    options = FunnelOptions(**{**FUNNEL.__dict__, "read": ReadOptions(**read)})
    return api.funnel([path], options).report.to_dict()


@pytest.fixture(scope="session")
def parquet_reports(shop: Path) -> dict[str, dict[str, Any]]:
    """Return the funnel, metrics and retention reports of the Parquet file."""
    return {
        "funnel": _funnel(str(shop)),
        "metrics": api.metrics([str(shop)], MetricsOptions(model="aarrr")).to_dict(),
        "retention": api.retention(
            [str(shop)], RetentionOptions(period="week", periods=6, until="2025-05-31")
        ).to_dict(),
    }


def _all(path: str, **read: str) -> dict[str, dict[str, Any]]:
    return {
        "funnel": _funnel(path, **read),
        "metrics": api.metrics(
            [path], MetricsOptions(model="aarrr", read=ReadOptions(**read))
        ).to_dict(),
        "retention": api.retention(
            [path],
            RetentionOptions(
                period="week", periods=6, until="2025-05-31", read=ReadOptions(**read)
            ),
        ).to_dict(),
    }


def test_postgres_reports_equal_parquet(pg_uri: str, parquet_reports: dict[str, Any]) -> None:
    remote = _all(pg_uri, table="events")
    for name, report in parquet_reports.items():
        _same(remote[name], report)
    assert remote["funnel"]["source"]["files"] == [mask(pg_uri) + " (table events)"]
    assert PG_PASSWORD not in str(remote)


def test_duckdb_reports_equal_parquet(duckdb_file: Path, parquet_reports: dict[str, Any]) -> None:
    remote = _all(str(duckdb_file), table="main.events")
    for name, report in parquet_reports.items():
        _same(remote[name], report)


def test_s3_reports_equal_parquet(s3_events: str, parquet_reports: dict[str, Any]) -> None:
    remote = _all(s3_events)
    for name, report in parquet_reports.items():
        _same(remote[name], report)
    assert S3_SECRET not in str(remote)


def test_text_times_and_naive_timestamps(
    pg_uri: str, duckdb_file: Path, shop: Path, parquet_reports: dict[str, Any]
) -> None:
    # Text times go through the file parser; naive timestamps are read in --tz (the log has
    # no event in the hour Berlin's clocks repeat, so the local times are unambiguous).
    _same(_funnel(pg_uri, table="events_text"), parquet_reports["funnel"])
    _same(
        _funnel(str(duckdb_file), table="events_naive", tz="Europe/Berlin"),
        _funnel(str(shop), tz="Europe/Berlin"),
    )


def test_query_equals_filtered_parquet(pg_uri: str, shop: Path, tmp_path: Path) -> None:
    organic = tmp_path / "organic.parquet"
    pl.read_parquet(shop).filter(pl.col("channel") == "organic").write_parquet(organic)
    sql = "SELECT user_id, event, timestamp, channel FROM events WHERE channel = 'organic';"
    _same(_funnel(pg_uri, query=sql), _funnel(str(organic)))


def test_only_needed_columns_and_time_range_reach_sql(
    pg_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    run = databases.PostgresBackend.run

    def spy(self: databases.PostgresBackend, sql: str) -> pl.DataFrame:
        seen.append(sql)
        return run(self, sql)

    monkeypatch.setattr(databases.PostgresBackend, "run", spy)
    _funnel(pg_uri, table="events")
    scans = [s for s in seen if "LIMIT 0" not in s]
    # The funnel's own scan reads the unit, event, time and breakdown; the data-quality check
    # (rows without a unit or time) reads two columns. Nothing else is fetched.
    assert {s.split(" FROM ")[0] for s in scans} == {
        'SELECT "user_id", "event", "timestamp", "channel"',
        'SELECT "user_id", "timestamp"',
    }
    # The funnel reads up to --until plus its 14-day window: the bound is in the SQL.
    assert any(
        "WHERE \"timestamp\" <= TIMESTAMPTZ '2025-05-14 23:59:59.999999+00:00'" in s for s in scans
    )
    seen.clear()
    api.retention(
        [pg_uri],
        RetentionOptions(
            period="week", since="2025-03-01", until="2025-03-31", read=ReadOptions(table="events")
        ),
    )
    bounded = [s for s in seen if "WHERE" in s]
    assert bounded
    assert all(">=" in s and "<=" in s for s in bounded)


def _error(path: str, **read: str) -> CjkitError:
    with pytest.raises(CjkitError) as info:
        api.funnel([path], FunnelOptions(model="aarrr", read=ReadOptions(**read)))
    error = info.value
    assert error.exit_code == 2
    assert "\n" not in str(error)
    assert PG_PASSWORD not in str(error)
    assert S3_SECRET not in str(error)
    return error


def test_postgres_errors_are_one_masked_line(pg_uri: str) -> None:
    port = pg_uri.rsplit(":", 1)[1].split("/")[0]
    refused = _error(pg_uri.replace(f":{port}/", ":1/"), table="events")
    assert "can't connect" in str(refused)
    assert "***" in str(refused)
    wrong = _error(pg_uri.replace(PG_PASSWORD, "not-the-password"), table="events")
    assert "not-the-password" not in str(wrong)
    missing = _error(pg_uri, table="no_such_table")
    assert "no table no_such_table" in str(missing)
    bad = _error("postgresql://cjkit:pw@127.0.0.1:notaport/db", table="events")
    assert isinstance(bad, InputError)
    assert isinstance(_error(pg_uri), UsageError)  # neither --table nor --query
    assert isinstance(_error(pg_uri, table="a", query="SELECT 1"), UsageError)


def test_duckdb_errors(duckdb_file: Path, tmp_path: Path) -> None:
    assert "no table nope" in str(_error(str(duckdb_file), table="nope"))
    assert "no such database file" in str(_error(str(tmp_path / "none.duckdb"), table="events"))
    assert isinstance(_error(str(SHOP), table="events"), UsageError)


def test_s3_errors(s3_events: str) -> None:
    assert "matches no objects" in str(_error("s3://events/nothing/*.parquet"))
    saved = os.environ["AWS_ENDPOINT_URL"]
    try:
        with moto_s3(enforce_auth=True) as endpoint:
            os.environ["AWS_ENDPOINT_URL"] = endpoint
            assert "access denied" in str(_error(s3_events))
        os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1"
        assert "can't connect" in str(_error(s3_events))
    finally:
        os.environ["AWS_ENDPOINT_URL"] = saved


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("postgresql://ann:hunter22@db:5432/x", "hunter22"),
        ("host=db password=hunter22 user=ann", "hunter22"),
        ("postgresql://db/x?sslmode=require&password=hunter22", "hunter22"),
        ("failed for 'hunter22' at s3://b?aws_secret_access_key=hunter22", "hunter22"),
    ],
)
def test_mask_hides_secrets(text: str, hidden: str) -> None:
    masked = mask(text)
    assert hidden not in masked
    assert "***" in masked


def test_time_bounds_from_predicates() -> None:
    from datetime import UTC, datetime

    t = datetime(2025, 1, 2, tzinfo=UTC)
    expr = (pl.col("ts") >= t) & (pl.col("x") == 1) & (pl.lit(t) > pl.col("ts"))
    assert databases.time_bounds(expr, "ts") == [(">=", t), ("<", t)]
    assert databases.time_bounds(pl.col("ts").is_null(), "ts") == []
    assert databases.where_clause([("<", t)], "ts", aware=False, tz="UTC") == (
        " WHERE \"ts\" <= TIMESTAMP '2025-01-03 00:00:00'"
    )


def test_cli_reads_databases_like_files(
    runner: CliRunner, duckdb_file: Path, pg_uri: str, shop: Path
) -> None:
    args = ["-s", "visit", "-s", "signup", "-s", "purchase", "--by", "channel"]
    local = runner.invoke(app, ["funnel", str(shop), *args])
    assert local.exit_code == 0, local.stderr
    duck = runner.invoke(app, ["funnel", str(duckdb_file), "--table", "events", *args])
    assert duck.exit_code == 0, duck.stderr
    assert duck.stdout == local.stdout
    pg = runner.invoke(app, ["funnel", pg_uri, "--table", "events", *args, "-f", "json"])
    assert pg.exit_code == 0, pg.stderr
    assert PG_PASSWORD not in pg.stdout
    query = runner.invoke(
        app, ["retention", pg_uri, "--query", "SELECT user_id, event, timestamp FROM events"]
    )
    assert query.exit_code == 0, query.stderr
    assert query.stdout == runner.invoke(app, ["retention", str(shop)]).stdout


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("postgresql://cjkit:{pw}@127.0.0.1:1/postgres", "can't connect"),
        ("{uri}", "no table missing_table"),
        ("postgresql://cjkit:{pw}@127.0.0.1:notaport/x", "postgresql://cjkit:***@"),
    ],
)
def test_cli_database_errors_one_line_exit_2(
    runner: CliRunner, pg_uri: str, target: str, words: str
) -> None:
    uri = target.format(pw=PG_PASSWORD, uri=pg_uri)
    result = runner.invoke(app, ["funnel", uri, "--table", "missing_table", "-s", "a", "-s", "b"])
    assert result.exit_code == 2
    assert words in result.stderr
    assert PG_PASSWORD not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
