"""The stage-kind registry (cjkit.kinds): a kind declared once, as data, drives validation,
target checking, rendering and the engine. A dummy kind registered here, with its engine in
this file, goes through the whole report without touching any other module."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pydantic import BaseModel, ConfigDict, Field

from cjkit import api, kinds
from cjkit.api.metrics import lookup
from cjkit.engine.metrics.base import IN, KindResult, StagePlan, as_int, summarize_rows
from cjkit.engine.metrics.kinds import KindEngine, PlanArgs, engine, set_engine
from cjkit.maps import loader, schema
from cjkit.render.metrics import fmt_value, metrics_table

EVENTS = """\
user_id,event,timestamp,score
a,visit,2025-03-03T10:00:00Z,
a,ping,2025-03-03T11:00:00Z,
a,ping,2025-03-04T11:00:00Z,
a,ping,2025-03-05T11:00:00Z,
b,visit,2025-03-03T10:00:00Z,
b,ping,2025-03-06T10:00:00Z,
c,visit,2025-03-04T10:00:00Z,
"""


class PingOptions(BaseModel):
    """The dummy kind's own stage key: how many pings make a unit one that pings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_pings: int = Field(default=1, ge=1)


class Pings(KindEngine):
    """A dummy kind: pings per unit of the population, and the share of units that ping (at
    least ``min_pings`` times, a key of its own that Stage does not declare)."""

    def plan(
        self, base: StagePlan, columns: Mapping[str, pl.DataType], args: PlanArgs
    ) -> StagePlan:
        return base

    def unit_exprs(self, plan: StagePlan, ctx: Any) -> list[pl.Expr]:
        return [(pl.col(plan.flag) & pl.col(IN)).sum().cast(pl.Int64).alias(plan.col("pings"))]

    def summarize(
        self, view: Any, plan: StagePlan, segment: int | None, earlier: Mapping[str, Any]
    ) -> dict[Any, KindResult]:
        pings = pl.col(plan.col("pings"))
        least = int(plan.stage.option("min_pings"))
        exprs = [pl.len().alias("n"), pings.sum().alias("pings"), (pings >= least).sum().alias("k")]

        def result(row: dict[str, Any]) -> KindResult:
            n, k, sent = as_int(row["n"]), as_int(row["k"]), as_int(row["pings"])
            return KindResult(
                metrics={"pings_per_unit": sent / n if n else None, "pinging": k / n if n else None}
            )

        return summarize_rows(view.pop, view.group(segment)[0], exprs, result)


@pytest.fixture
def pings() -> Iterator[None]:
    kinds.register(
        kinds.KindSpec(
            "pings",
            metrics=(
                kinds.Metric("pings_per_unit", "pings per unit", "number"),
                kinds.Metric("pinging", "units that ping", "rate"),
            ),
            headline=("pinging", "pinging"),
            options_model=PingOptions,
        )
    )
    set_engine("pings", Pings())
    yield
    kinds.unregister("pings")
    set_engine("pings", None)


def _map(folder: Path, kind: str = "pings", extra: str = "") -> Path:
    (folder / "events.csv").write_text(EVENTS, encoding="utf-8")
    path = folder / "map.yaml"
    path.write_text(
        "id: p\nname: P\nstages:\n"
        "  - {id: v, name: Visit, kind: acquisition, events: [visit]}\n"
        f"  - {{id: p, name: Pings, kind: {kind}, events: [ping]{extra}}}\n"
        "targets:\n  - {metric: p.pinging, min: 0.5}\n",
        encoding="utf-8",
    )
    return path


def test_a_registered_kind_runs_through_the_whole_report(tmp_path: Path, pings: None) -> None:
    path = _map(tmp_path)
    report = api.metrics(
        [str(tmp_path / "events.csv")], api.MetricsOptions(model=str(path), breakdowns=False)
    )
    stage = next(s for s in report.stages if s.id == "p")
    # a pings 3 times, b once, c never: 4 pings over 3 units; 2 of 3 units ping.
    assert stage.numbers.metrics["pings_per_unit"] == pytest.approx(4 / 3)
    assert stage.numbers.metrics["pinging"] == pytest.approx(2 / 3)
    # Target checking finds the declared metric; the check passes (2/3 ≥ 0.5).
    assert [c.status for c in report.checks] == ["pass"]
    doc = {s.id: s.to_dict() for s in report.stages}
    assert lookup(doc, "p.pinging") == (pytest.approx(2 / 3), None)
    assert "did you mean" in (lookup(doc, "p.pingin")[1] or "")
    # Rendering reads labels and units from the registry (a rate in %).
    assert fmt_value("pinging", 2 / 3) == "66.7%"
    from rich.console import Console

    console = Console(width=100, record=True, color_system=None)
    console.print(metrics_table(report))
    text = console.export_text()
    assert "units that ping" in text
    assert "66.7%" in text


def test_schema_reads_the_registry(tmp_path: Path, pings: None) -> None:
    stage = schema.Stage(id="p", name="P", kind="pings", events=["ping"])
    assert stage.metrics()[-2:] == ("pings_per_unit", "pinging")
    # An option another kind declares is refused on this one.
    with pytest.raises(ValueError, match="'score' applies only to a stage of kind satisfaction"):
        schema.Stage(id="p", name="P", kind="pings", events=["ping"], score="score")


def test_an_unknown_kind_is_refused_with_the_registered_names() -> None:
    with pytest.raises(ValueError, match=r"expected 'step', 'acquisition'.* or 'satisfaction'"):
        schema.Stage(id="p", name="P", kind="pings", events=["ping"])


def test_every_builtin_kind_has_an_engine_and_units() -> None:
    for name, spec in kinds.REGISTRY.items():
        code = engine(name)
        assert isinstance(code, KindEngine)
        for m in spec.metrics:
            assert m.unit in kinds.UNITS
        # No option is declared by two kinds (a Stage key belongs to one kind).
    owners = kinds.options()
    assert all(len(v) == 1 for v in owners.values()), owners
    for option in owners:
        assert option in schema.Stage.model_fields


def test_docs_define_every_registered_metric() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "metrics.md").read_text("utf-8")
    for spec in kinds.REGISTRY.values():
        for m in spec.metrics:
            assert f"`{m.name}`" in doc, m.name


def test_register_rejects_a_bad_unit() -> None:
    with pytest.raises(ValueError, match="unknown unit"):
        kinds.register(kinds.KindSpec("bad", metrics=(kinds.Metric("x", "x", "furlongs"),)))  # type: ignore[arg-type]
    assert "bad" not in kinds.REGISTRY


# A kind's own stage key: registered with the kind (options_model), no change to the schema.


def _problems(path: Path) -> list[str]:
    loaded, problems = loader.check(path)
    assert loaded is None
    return [str(p).removeprefix(f"{path.parent}/") for p in problems]


def _col(path: Path, line: int, key: str) -> int:
    return path.read_text(encoding="utf-8").splitlines()[line - 1].index(key) + 1


def test_a_kind_option_reaches_the_engine(tmp_path: Path, pings: None) -> None:
    path = _map(tmp_path, extra=", min_pings: 2")
    stage = loader.load(path).map.stage("p")
    assert stage is not None
    assert stage.option("min_pings") == 2
    assert stage.kind_options == {"min_pings": 2}
    report = api.metrics(
        [str(tmp_path / "events.csv")], api.MetricsOptions(model=str(path), breakdowns=False)
    )
    numbers = next(s for s in report.stages if s.id == "p").numbers
    assert numbers.metrics["pinging"] == pytest.approx(1 / 3)  # only a pings twice or more


def test_a_kind_option_left_out_takes_its_default(tmp_path: Path, pings: None) -> None:
    stage = loader.load(_map(tmp_path)).map.stage("p")
    assert stage is not None
    assert stage.option("min_pings") == 1
    assert stage.kind_options == {}


def test_a_bad_kind_option_is_reported_at_its_key(tmp_path: Path, pings: None) -> None:
    path = _map(tmp_path, extra=", min_pings: lots")
    col = _col(path, 5, "min_pings")  # the key's position, as for every stage key
    assert _problems(path) == [
        f"map.yaml:5:{col}: stages[1].min_pings: expected a whole number, got 'lots'"
    ]
    path = _map(tmp_path, extra=", min_pings: 0")
    assert _problems(path) == [
        f"map.yaml:5:{col}: stages[1].min_pings: input should be greater than or equal to 1"
    ]


def test_a_kind_option_on_another_kind_is_refused(tmp_path: Path, pings: None) -> None:
    path = _map(tmp_path, kind="activation", extra=", min_pings: 2")
    col = _col(path, 5, "min_pings")
    assert _problems(path) == [
        f"map.yaml:5:{col}: stages[1].min_pings: "
        "'min_pings' applies only to a stage of kind pings, not activation"
    ]


def test_a_misspelt_kind_option_gets_a_suggestion(tmp_path: Path, pings: None) -> None:
    path = _map(tmp_path, extra=", min_ping: 2")
    col = _col(path, 5, "min_ping")
    assert _problems(path) == [
        f"map.yaml:5:{col}: stages[1].min_ping: unknown key 'min_ping'; did you mean 'min_pings'?"
    ]


def test_models_show_lists_a_kind_option_only_when_set(tmp_path: Path, pings: None) -> None:
    stages = api.model_show(str(_map(tmp_path, extra=", min_pings: 2"))).model["stages"]
    assert stages[1]["kind_options"] == {"min_pings": 2}
    assert "kind_options" not in stages[0]
