"""Phase 2 of paths: the per-node tables → links, nodes, top paths, step matrix, transitions.

Group-bys on integer codes only; node names are looked up for the few rows that are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from cjkit.canonical import UID, T
from cjkit.engine.paths.sequences import CODE, GROUP, PATH, K, Sequences
from cjkit.report.paths import PathLink, PathNode, StepMatrix, TopPath, Transition, node_key

PATH_START, PATH_END = "path_start", "path_end"
_US_PER_S = 1_000_000


@dataclass(frozen=True)
class Pruning:
    """How the graph is pruned: links with fewer units go, then only the heaviest ``top``."""

    top: int = 50
    min_units: int = 1


def _seconds(value: float | None) -> float | None:
    return None if value is None else float(value) / _US_PER_S


def _with_ends(limited: pl.DataFrame) -> pl.DataFrame:
    """Add ``last``: the row is its path's last node."""
    return limited.with_columns(
        (pl.col(PATH) != pl.col(PATH).shift(-1)).fill_null(value=True).alias("last")
    )


def _all_links(seqs: Sequences) -> list[PathLink]:
    frame = seqs.limited
    same = pl.col(PATH) == pl.col(PATH).shift(1)
    edges = (
        frame.with_columns(
            pl.when(same).then(pl.col(CODE).shift(1)).alias("src"),
            pl.when(same).then(pl.col(T) - pl.col(T).shift(1)).alias("dt"),
        )
        .filter(pl.col("src").is_not_null())
        .group_by(K, "src", CODE)
        .agg(
            pl.len().alias("value"),
            pl.col(UID).n_unique().alias("units"),
            pl.col("dt").mean().alias("mean"),
            pl.col("dt").median().alias("median"),
        )
    )
    names = seqs.names
    links = [
        PathLink(
            step=int(r[K]),
            source=names[r["src"]],
            target=names[r[CODE]],
            value=int(r["value"]),
            units=int(r["units"]),
            mean_time_s=_seconds(r["mean"]),
            median_time_s=_seconds(r["median"]),
        )
        for r in edges.iter_rows(named=True)
    ]
    return sorted(links, key=_link_order)


def _link_order(link: PathLink) -> tuple[int, str, str]:
    d = link.to_dict()
    return (-link.value, d["source"], d["target"])


def _reachable(links: list[PathLink]) -> list[PathLink]:
    """Return the links whose source can be reached from a step-1 node through kept links
    (PostHog's validate_results: pruning may orphan a subtree)."""
    out: dict[str, list[str]] = {}
    for link in links:
        d = link.to_dict()
        out.setdefault(d["source"], []).append(d["target"])
    stack = [s for s in out if s.startswith("1_")]
    seen: set[str] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(out.get(node, []))
    return [link for link in links if link.to_dict()["source"] in seen]


def links(seqs: Sequences, pruning: Pruning) -> tuple[list[PathLink], int]:
    """Return the kept links (sorted by value, source, target) and how many were pruned."""
    every = _all_links(seqs)
    kept = [link for link in every if link.units >= pruning.min_units][: pruning.top]
    kept = _reachable(kept)
    return kept, len(every) - len(kept)


def nodes(seqs: Sequences, kept: list[PathLink], top: int) -> list[PathNode]:
    """Return the nodes of the kept links (or the top step-1 nodes when there are none), each
    with its paths, units and drop-off (paths that end there)."""
    frame = _with_ends(seqs.limited)
    stats = frame.group_by(K, CODE).agg(
        pl.len().alias("paths"),
        pl.col(UID).n_unique().alias("units"),
        pl.col("last").sum().alias("drop_off"),
        pl.col(UID).filter(pl.col("last")).n_unique().alias("drop_off_units"),
    )
    names = seqs.names
    every = [
        PathNode(
            step=int(r[K]),
            node=names[r[CODE]],
            paths=int(r["paths"]),
            units=int(r["units"]),
            drop_off=int(r["drop_off"]),
            drop_off_units=int(r["drop_off_units"]),
        )
        for r in stats.iter_rows(named=True)
    ]
    wanted = {k for link in kept for k in (link.to_dict()["source"], link.to_dict()["target"])}
    chosen = [n for n in every if node_key(n.step, n.node) in wanted]
    if not chosen:
        chosen = sorted((n for n in every if n.step == 1), key=lambda n: (-n.paths, n.node))[:top]
    return sorted(chosen, key=lambda n: (n.step, -n.paths, n.node))


def _signatures(frame: pl.DataFrame, n_codes: int, steps: int) -> tuple[pl.DataFrame, int | None]:
    """Return one row per path with its node sequence as one integer when it fits in 63 bits
    (``bits`` per node), else as a list."""
    bits = (n_codes + 1).bit_length()
    if bits * steps <= 62:
        sig = (pl.col(CODE).cast(pl.Int64) + 1) * pl.lit(2, pl.Int64).pow(bits * (pl.col(K) - 1))
        return frame.group_by(PATH).agg(sig.sum().alias("sig"), pl.col(UID).first()), bits
    return frame.group_by(PATH).agg(pl.col(CODE).sort_by(K).alias("sig"), pl.col(UID).first()), None


def top_paths(seqs: Sequences, steps: int, top: int) -> list[TopPath]:
    """Return the most frequent complete paths, with paths, units and share of all paths."""
    total = seqs.paths
    if not total:
        return []
    per_path, bits = _signatures(seqs.limited, len(seqs.names), steps)
    counts = per_path.group_by("sig").agg(
        pl.len().alias("paths"), pl.col(UID).n_unique().alias("units")
    )
    names = seqs.names
    out: list[TopPath] = []
    for r in counts.iter_rows(named=True):
        out.append(
            TopPath(
                _decode(r["sig"], bits, names), int(r["paths"]), int(r["units"]), r["paths"] / total
            )
        )
    out.sort(key=lambda p: (-p.paths, p.nodes))
    return out[:top]


def _decode(sig: int | list[int], bits: int | None, names: list[str]) -> list[str]:
    if bits is None:
        assert isinstance(sig, list)
        return [names[c] for c in sig]
    assert isinstance(sig, int)
    mask = (1 << bits) - 1
    out: list[str] = []
    while sig:
        out.append(names[(sig & mask) - 1])
        sig >>= bits
    return out


def _shares(
    frame: pl.DataFrame, steps: int, names: list[str]
) -> tuple[int, dict[str, list[float]]]:
    """Return the paths and, per node, the share of paths with it at each step; ``path_end``
    from integer counts (paths without a node at k), so columns sum to 1 exactly."""
    paths = int(frame[PATH].n_unique()) if frame.height else 0
    table: dict[str, list[float]] = {}
    at_step = [0] * steps
    if paths:
        counts = frame.filter(pl.col(K) <= steps).group_by(CODE, K).agg(pl.len().alias("n"))
        for r in counts.iter_rows(named=True):
            table.setdefault(names[r[CODE]], [0.0] * steps)[r[K] - 1] = r["n"] / paths
            at_step[r[K] - 1] += int(r["n"])
    table[PATH_END] = [(paths - n) / paths if paths else 0.0 for n in at_step]
    return paths, table


def _ordered(table: dict[str, list[float]]) -> list[tuple[str, list[float]]]:
    events = sorted(
        (e for e in table if e != PATH_END), key=lambda e: (-sum(map(abs, table[e])), e)
    )
    return [(e, table[e]) for e in events] + [(PATH_END, table[PATH_END])]


def step_matrix(seqs: Sequences, steps: int, diff_label: str | None = None) -> StepMatrix:
    """Return the step matrix (retentioneering's: share of all paths whose k-th event is E,
    with ``path_end`` for paths that ended before step k). With ``diff_label``, the shares of
    the group's paths minus the rest's (retentioneering's differential step matrix)."""
    paths, table = _shares(seqs.limited, steps, seqs.names)
    if diff_label is None:
        return StepMatrix(steps, paths, _ordered(table))
    a_paths, a = _shares(seqs.limited.filter(pl.col(GROUP)), steps, seqs.names)
    b_paths, b = _shares(seqs.limited.filter(~pl.col(GROUP)), steps, seqs.names)
    zero = [0.0] * steps
    keys = set(a) | set(b)
    diff = {e: [x - y for x, y in zip(a.get(e, zero), b.get(e, zero), strict=True)] for e in keys}
    info = {"group": diff_label, "group_paths": a_paths, "rest_paths": b_paths}
    return StepMatrix(steps, paths, _ordered(diff), info)


def transitions(seqs: Sequences) -> list[Transition]:
    """Return event → next event counts over whole paths (retentioneering's transition
    matrix): count, unique paths, the share of the source's transitions, the median time
    (none out of path_start or into path_end)."""
    if seqs.pairs is None or not seqs.pairs.height:
        return []
    names = [*seqs.names, PATH_START, PATH_END]
    agg = (
        seqs.pairs.group_by("src", "dst")
        .agg(
            pl.len().alias("count"),
            pl.col(PATH).n_unique().alias("unique_paths"),
            pl.col("dt").median().alias("median"),
        )
        .with_columns((pl.col("count") / pl.col("count").sum().over("src")).alias("proba"))
    )
    out = [
        Transition(
            names[r["src"]],
            names[r["dst"]],
            int(r["count"]),
            int(r["unique_paths"]),
            float(r["proba"]),
            _seconds(r["median"]),
        )
        for r in agg.iter_rows(named=True)
    ]
    return sorted(out, key=lambda t: (-t.count, t.source, t.target))
