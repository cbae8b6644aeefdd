"""The paths report: links and nodes for a Sankey, top paths, step matrix, transitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from cjkit.report.serial import OMIT, Document, Serial, plain


def node_key(step: int, node: str) -> str:
    """Return a node's name in links and nodes: ``"<step>_<node>"`` (PostHog's path key)."""
    return f"{step}_{node}"


@dataclass(frozen=True)
class PathLink(Serial):
    """An edge: paths going from ``source`` at step ``step - 1`` to ``target`` at ``step``."""

    step: int
    source: str
    target: str
    value: int  # paths (PostHog counts paths, not units)
    units: int
    mean_time_s: float | None
    median_time_s: float | None
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "source",
        "target",
        "value",
        "units",
        "mean_time_s",
        "median_time_s",
        "step",
    )

    def _json_source(self) -> str:
        return node_key(self.step - 1, self.source)

    def _json_target(self) -> str:
        return node_key(self.step, self.target)


@dataclass(frozen=True)
class PathNode(Serial):
    """A node at one step: the paths and units there, and those whose path ends there."""

    step: int
    node: str
    paths: int
    units: int
    drop_off: int
    drop_off_units: int
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "name",
        "node",
        "step",
        "paths",
        "units",
        "drop_off",
        "drop_off_units",
    )

    def _json_name(self) -> str:
        return node_key(self.step, self.node)


@dataclass(frozen=True)
class TopPath(Serial):
    """A complete path (after the step limit), with its paths, units and share of all paths."""

    nodes: list[str]
    paths: int
    units: int
    share: float | None


@dataclass(frozen=True)
class StepMatrix(Serial):
    """Share of paths with each event at step k (a ``path_end`` row makes columns sum to 1).

    With ``diff``, the shares are the group's minus the rest's (each over its own paths).
    """

    steps: int
    paths: int
    rows: list[tuple[str, list[float]]]
    diff: dict[str, Any] | None = None

    def _json_rows(self) -> list[dict[str, Any]]:
        return [{"event": e, "shares": s} for e, s in self.rows]


@dataclass(frozen=True)
class Transition(Serial):
    """Event → next event over whole paths, with path_start and path_end pseudo-events."""

    source: str
    target: str
    count: int
    unique_paths: int
    proba_out: float
    median_time_s: float | None
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "from",
        "to",
        "count",
        "unique_paths",
        "proba_out",
        "median_time_s",
    )

    def _json_from(self) -> str:
        return self.source

    def _json_to(self) -> str:
        return self.target


@dataclass(frozen=True)
class PathsReport(Document):
    """Paths: the Sankey's links and nodes, top paths, and optionally matrix and transitions."""

    settings: dict[str, Any]
    total_paths: int
    total_units: int
    links: list[PathLink]
    nodes: list[PathNode]
    paths: list[TopPath]
    step_matrix: StepMatrix | None = None
    transitions: list[Transition] | None = None
    pruned_links: int = 0
    source: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    kind: str = "paths"
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "settings",
        "source",
        "total_paths",
        "total_units",
        "pruned_links",
        "links",
        "nodes",
        "paths",
        "step_matrix",
        "transitions",
    )

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per edge (the tidy CSV)."""
        return [
            {
                "step": link.step,
                "source": link.source,
                "target": link.target,
                "source_key": node_key(link.step - 1, link.source),
                "target_key": node_key(link.step, link.target),
                "value": link.value,
                "units": link.units,
                "mean_time_s": link.mean_time_s,
                "median_time_s": link.median_time_s,
            }
            for link in self.links
        ]

    # The step matrix and the transitions are in the JSON only when they were asked for.
    def _json_step_matrix(self) -> Any:
        return OMIT if self.step_matrix is None else self.step_matrix.to_dict()

    def _json_transitions(self) -> Any:
        return OMIT if self.transitions is None else plain(self.transitions)
