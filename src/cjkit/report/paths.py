"""The paths report: links and nodes for a Sankey, top paths, step matrix, transitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cjkit.report.core import SCHEMA_VERSION


def node_key(step: int, node: str) -> str:
    """Return a node's name in links and nodes: ``"<step>_<node>"`` (PostHog's path key)."""
    return f"{step}_{node}"


@dataclass(frozen=True)
class PathLink:
    """An edge: paths going from ``source`` at step ``step - 1`` to ``target`` at ``step``."""

    step: int
    source: str
    target: str
    value: int  # paths (PostHog counts paths, not units)
    units: int
    mean_time_s: float | None
    median_time_s: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (sources and targets as ``"<step>_<node>"``)."""
        return {
            "source": node_key(self.step - 1, self.source),
            "target": node_key(self.step, self.target),
            "value": self.value,
            "units": self.units,
            "mean_time_s": self.mean_time_s,
            "median_time_s": self.median_time_s,
            "step": self.step,
        }


@dataclass(frozen=True)
class PathNode:
    """A node at one step: the paths and units there, and those whose path ends there."""

    step: int
    node: str
    paths: int
    units: int
    drop_off: int
    drop_off_units: int

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "name": node_key(self.step, self.node),
            "node": self.node,
            "step": self.step,
            "paths": self.paths,
            "units": self.units,
            "drop_off": self.drop_off,
            "drop_off_units": self.drop_off_units,
        }


@dataclass(frozen=True)
class TopPath:
    """A complete path (after the step limit), with its paths, units and share of all paths."""

    nodes: list[str]
    paths: int
    units: int
    share: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"nodes": self.nodes, "paths": self.paths, "units": self.units, "share": self.share}


@dataclass(frozen=True)
class StepMatrix:
    """Share of paths with each event at step k (a ``path_end`` row makes columns sum to 1).

    With ``diff``, the shares are the group's minus the rest's (each over its own paths).
    """

    steps: int
    paths: int
    rows: list[tuple[str, list[float]]]
    diff: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "steps": self.steps,
            "paths": self.paths,
            "rows": [{"event": e, "shares": s} for e, s in self.rows],
            "diff": self.diff,
        }


@dataclass(frozen=True)
class Transition:
    """Event → next event over whole paths, with path_start and path_end pseudo-events."""

    source: str
    target: str
    count: int
    unique_paths: int
    proba_out: float
    median_time_s: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "from": self.source,
            "to": self.target,
            "count": self.count,
            "unique_paths": self.unique_paths,
            "proba_out": self.proba_out,
            "median_time_s": self.median_time_s,
        }


@dataclass(frozen=True)
class PathsReport:
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

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document: links sorted by value, then source, then target."""
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "settings": self.settings,
            "source": self.source,
            "total_paths": self.total_paths,
            "total_units": self.total_units,
            "pruned_links": self.pruned_links,
            "links": [link.to_dict() for link in self.links],
            "nodes": [n.to_dict() for n in self.nodes],
            "paths": [p.to_dict() for p in self.paths],
        }
        if self.step_matrix is not None:
            out["step_matrix"] = self.step_matrix.to_dict()
        if self.transitions is not None:
            out["transitions"] = [t.to_dict() for t in self.transitions]
        return out

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
