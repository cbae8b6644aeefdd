"""Phase 1 of paths: events → one row per node of every path, in path order.

The rules follow PostHog's paths query (``docs/metrics.md``, "Paths"):

* A unit's events are sorted by time, then by node name (so equal times never depend on row
  order). With a session gap, a gap of at least that long starts a new path; funnel paths
  split on the funnel window instead.
* A run of one node collapses to one node that keeps the run's **last** timestamp.
* ``start``: the path begins at the first occurrence of the start node (paths without it are
  dropped); ``end``: the path ends at the first occurrence of the end node (ditto). Then the
  step limit keeps the first ``steps`` nodes, the last ``steps`` with an end point, and with both
  points a long path becomes its first ``steps // 2`` nodes, a ``...`` node carrying the first
  hidden node's time, and its last ``steps // 2`` nodes.

Everything is one sort of narrow integer columns, then shifts and cumulative sums over the
sorted frame: no Python loop over units or rows, no group-by per path. Node names become
integer codes (ranks of the sorted names) right after the scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from cjkit.canonical import UID, UNIT, T
from cjkit.engine.passes import split_units

NODE, CODE, PATH, K, GROUP = "node", "code", "path", "k", "g"
ELLIPSIS = "..."
_HASH, _HASH2, _KEY = "_hash", "_hash2", "_key"
_SLASH = r"(.)/$"  # one trailing slash, but "/" alone stays (PostHog's replaceRegexpAll)


@dataclass(frozen=True)
class PathSpec:
    """Everything that decides the paths."""

    unit: str = "user_id"
    steps: int = 5
    session_s: int | None = None
    start: str | None = None
    end: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    nodes: tuple[tuple[str, str], ...] = ()  # (event, property naming its nodes)
    cleaning: tuple[tuple[str, str], ...] = ()  # (regex, alias), applied in order
    since: datetime | None = None
    until: datetime | None = None
    group: tuple[str, str] | None = None  # (column, value): units with such an event
    transitions: bool = False
    extra: tuple[str, ...] = field(default=())

    def columns(self) -> list[str]:
        """Return the event columns the paths read."""
        cols = [self.unit, "event", "timestamp", *(p for _, p in self.nodes)]
        if self.group is not None:
            cols.append(self.group[0])
        return list(dict.fromkeys([*cols, *self.extra]))


@dataclass
class Sequences:
    """Phase 1's result: node names and the per-path tables (codes index ``names``)."""

    names: list[str]
    limited: pl.DataFrame  # path, uid, k, code, t (µs), g: the nodes after the step limit
    pairs: pl.DataFrame | None  # path, src, dst, dt (µs): transitions of the whole segment
    units: int  # units with at least one path

    @property
    def paths(self) -> int:
        """Return the number of paths."""
        return int(self.limited[PATH].n_unique()) if self.limited.height else 0


def strip_slash(text: str) -> str:
    """Return ``text`` without one trailing ``/`` (``/`` itself stays), as PostHog's URL nodes."""
    return text[:-1] if len(text) > 1 and text.endswith("/") else text


def node_name(spec: PathSpec) -> pl.Expr:
    """Return the node name of each event: a property for ``--node`` events, then cleaning."""
    name = pl.col("event").cast(pl.String)
    for event, prop in spec.nodes:
        value = pl.col(prop).cast(pl.String).fill_null("").str.replace(_SLASH, "${1}")
        name = pl.when(pl.col("event") == event).then(value).otherwise(name)
    for regex, alias in spec.cleaning:
        # The alias is literal text: "$" would otherwise name a capture group in Polars.
        name = name.str.replace_all(regex, alias.replace("$", "$$"))
    return name.alias(NODE)


def _event_filter(spec: PathSpec) -> pl.Expr | None:
    conds: list[pl.Expr] = []
    if spec.event_types:
        kinds = {
            "pageview": pl.col("event") == "$pageview",
            "screen": pl.col("event") == "$screen",
            "custom": ~pl.col("event").str.starts_with("$"),
        }
        conds.append(pl.any_horizontal([kinds[k] for k in spec.event_types]))
    if spec.include:
        conds.append(pl.col("event").is_in(list(spec.include)))
    if spec.exclude:
        conds.append(~pl.col("event").is_in(list(spec.exclude)))
    return pl.all_horizontal(conds) if conds else None


def scan(
    events: pl.LazyFrame,
    spec: PathSpec,
    bounds: pl.LazyFrame | None = None,
    flags: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Return the narrowed events: unit, t (µs), node name, group flag ``g``.

    ``bounds`` (unit, lo, hi in µs, nullable) keeps only its units and, per unit, the events
    inside ``[lo, hi]`` (funnel paths). ``flags`` (unit, g) sets the group of its units (the
    others are in the rest), instead of ``spec.group``.
    """
    frame = events.filter(pl.col(spec.unit).is_not_null())
    keep = _event_filter(spec)
    if keep is not None:
        frame = frame.filter(keep)
    group = (
        (pl.col(spec.group[0]).cast(pl.String) == spec.group[1]).fill_null(value=False)
        if spec.group is not None
        else pl.lit(value=False)
    )
    frame = frame.select(
        pl.col(spec.unit).alias(UNIT),
        pl.col("timestamp").dt.epoch("us").alias(T),
        node_name(spec),
        group.alias(GROUP),
    )
    if spec.exclude:
        frame = frame.filter(~pl.col(NODE).is_in(list(spec.exclude)))
    if spec.since is not None:
        frame = frame.filter(pl.col(T) >= int(spec.since.timestamp() * 1_000_000))
    if spec.until is not None:
        frame = frame.filter(pl.col(T) <= int(spec.until.timestamp() * 1_000_000))
    if bounds is not None:
        frame = frame.join(bounds, on=UNIT, how="inner").filter(
            (pl.col("lo").is_null() | (pl.col(T) >= pl.col("lo")))
            & (pl.col("hi").is_null() | (pl.col(T) <= pl.col("hi")))
        )
        frame = frame.select(UNIT, T, NODE, GROUP)
    if flags is not None:
        frame = (
            frame.drop(GROUP)
            .join(flags, on=UNIT, how="left")
            .with_columns(pl.col(GROUP).fill_null(value=False))
        )
    return frame


def _coded(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Return ``frame`` with node names replaced by codes (ranks of the sorted names)."""
    names = frame.get_column(NODE).unique().drop_nulls().sort().to_list()
    coded = frame.with_columns(
        pl.col(NODE).cast(pl.Enum(names)).to_physical().cast(pl.Int32).alias(CODE)
    ).drop(NODE)
    return coded, names


def _sorted(frame: pl.DataFrame, n_codes: int) -> pl.DataFrame:
    """Return the events grouped by unit, each unit's in (time, code) order, with ``uid``.

    Time and code are packed into one integer key when they fit 62 bits (they do unless the
    log spans centuries or has millions of node names); the frame is sorted by that key, then
    stably by a 64-bit hash of the unit (two sorts of one integer column each beat one sort of
    two columns). A second, independent 64-bit hash travels with the first instead of the unit
    strings (less memory than the strings, moved twice): two units that share the first hash
    differ in the second, and then the unit itself is the sort key.
    """
    frame = frame.rechunk()
    bits = max(1, n_codes.bit_length())
    t_min = int(frame[T].min() or 0) if frame.height else 0  # type: ignore[arg-type]
    span = int(frame[T].max() or 0) - t_min if frame.height else 0  # type: ignore[arg-type]
    packed = span.bit_length() + bits <= 62
    key = ((pl.col(T) - t_min) * (1 << bits) + pl.col(CODE)).alias(_KEY)
    order: list[str] = [_KEY] if packed else [T, CODE]
    payload: list[pl.Expr | str] = [key] if packed else [T, CODE]
    hashes = [pl.col(UNIT).hash(seed=0).alias(_HASH), pl.col(UNIT).hash(seed=1).alias(_HASH2)]
    out = frame.select(*payload, *hashes, GROUP).sort(order).sort(_HASH, maintain_order=True)
    group_key = _HASH
    if _collides(out):
        out = frame.select(*payload, UNIT, GROUP).sort(order).sort(UNIT, maintain_order=True)
        group_key = UNIT
    new_unit = (pl.col(group_key) != pl.col(group_key).shift(1)).fill_null(value=True)
    out = out.with_columns(new_unit.cast(pl.Int64).cum_sum().alias(UID))
    if packed:
        out = out.with_columns(
            ((pl.col(_KEY) // (1 << bits)) + t_min).alias(T),
            (pl.col(_KEY) % (1 << bits)).cast(pl.Int32).alias(CODE),
        ).drop(_KEY)
    return out.drop(_HASH, _HASH2, UNIT, strict=False)


def _collides(grouped: pl.DataFrame) -> bool:
    """Return whether two units share the first hash (their second hashes differ)."""
    shared = (pl.col(_HASH) == pl.col(_HASH).shift(1)) & (pl.col(_HASH2) != pl.col(_HASH2).shift(1))
    return bool(grouped.height and grouped.select(shared.any()).item())


def _first_of_path() -> pl.Expr:
    return (pl.col(PATH) != pl.col(PATH).shift(1)).fill_null(value=True)


def _last_of_path() -> pl.Expr:
    return (pl.col(PATH) != pl.col(PATH).shift(-1)).fill_null(value=True)


def _with_k(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``k``, the 1-based position in the path, and ``L``, the path's length."""
    pos = pl.int_range(pl.len(), dtype=pl.Int64)
    first = pl.when(_first_of_path()).then(pos).forward_fill()
    frame = frame.with_columns((pos - first + 1).alias(K))
    return frame.with_columns(pl.when(_last_of_path()).then(pl.col(K)).backward_fill().alias("L"))


def _seen(flag: pl.Expr, *, inclusive: bool) -> pl.Expr:
    """Return how many rows of the row's path, up to it, have ``flag`` (the row itself when
    ``inclusive``): cumulative sums read against the path's first row, no group-by."""
    total = flag.cast(pl.Int64).cum_sum()
    before_path = pl.when(_first_of_path()).then(total - flag.cast(pl.Int64)).forward_fill()
    seen = total - before_path
    return seen if inclusive else seen - flag.cast(pl.Int64)


def collapse(frame: pl.DataFrame, session_us: int | None) -> pl.DataFrame:
    """Return the sorted events cut into paths (``path``), runs of one node collapsed to their
    last event."""
    out = frame
    new_path = (pl.col(UID) != pl.col(UID).shift(1)).fill_null(value=True)
    if session_us is not None:
        new_path = new_path | ((pl.col(T) - pl.col(T).shift(1)) >= session_us).fill_null(
            value=False
        )
    out = out.with_columns(new_path.cast(pl.Int64).cum_sum().alias(PATH))
    last_of_run = _last_of_path() | (pl.col(CODE) != pl.col(CODE).shift(-1)).fill_null(value=True)
    return out.filter(last_of_run)


def segment(paths: pl.DataFrame, start: int | None, end: int | None) -> pl.DataFrame:
    """Return each path from its first ``start`` node to the first ``end`` node after it
    (paths without them dropped), with ``k`` and ``L``."""
    if start is not None:
        paths = paths.filter(_seen(pl.col(CODE) == start, inclusive=True) >= 1)
    if end is not None:
        is_end = pl.col(CODE) == end
        paths = paths.filter(_seen(is_end, inclusive=False) == 0)
        has_end = pl.when(_last_of_path()).then(is_end).backward_fill()
        paths = paths.filter(has_end)
    return _with_k(paths)


def limit(seg: pl.DataFrame, spec: PathSpec, ellipsis: int) -> pl.DataFrame:
    """Return the nodes the step limit keeps, renumbered from 1 (PostHog's slicing)."""
    n = spec.steps
    k, length = pl.col(K), pl.col("L")
    if spec.start is not None and spec.end is not None:
        h = n // 2
        long = length > n
        keep = ~long | (k <= h + 1) | (k > length - h)
        new_k = pl.when(~long | (k <= h + 1)).then(k).otherwise(k - (length - h) + h + 1)
        code = pl.when(long & (k == h + 1)).then(pl.lit(ellipsis, pl.Int32)).otherwise(CODE)
        return seg.filter(keep).with_columns(new_k.alias(K), code.alias(CODE))
    if spec.end is not None:
        cut = pl.max_horizontal(length - n, pl.lit(0))
        return seg.filter(k > cut).with_columns((k - cut).alias(K))
    return seg.filter(k <= n)


def _pairs(seg: pl.DataFrame, start_code: int, end_code: int) -> pl.DataFrame:
    """Return every transition of the segments, with path_start/path_end pseudo-nodes."""
    inner = seg.select(
        PATH,
        pl.when(_first_of_path())
        .then(pl.lit(start_code, pl.Int32))
        .otherwise(pl.col(CODE).shift(1))
        .alias("src"),
        pl.col(CODE).alias("dst"),
        pl.when(_first_of_path()).then(None).otherwise(pl.col(T) - pl.col(T).shift(1)).alias("dt"),
    )
    ends = seg.filter(_last_of_path()).select(
        PATH,
        pl.col(CODE).alias("src"),
        pl.lit(end_code, pl.Int32).alias("dst"),
        pl.lit(None, pl.Int64).alias("dt"),
    )
    return pl.concat([inner, ends])


def _one_pass(
    events: pl.LazyFrame,
    spec: PathSpec,
    materialize: Callable[[pl.LazyFrame], pl.DataFrame],
    bounds: pl.LazyFrame | None,
    flags: pl.LazyFrame | None,
) -> tuple[pl.DataFrame, pl.DataFrame | None, list[str], int]:
    raw = materialize(scan(events, spec, bounds, flags))
    coded, names = _coded(raw)
    del raw
    names = [*names, ELLIPSIS] if ELLIPSIS not in names else names
    codes = {name: i for i, name in enumerate(names)}
    ordered = _sorted(coded, len(names))
    del coded
    if ordered.height == 0 or (spec.start is not None and spec.start not in codes):
        return _empty_limited(), (_empty_pairs() if spec.transitions else None), names, 0
    if spec.end is not None and spec.end not in codes:
        return _empty_limited(), (_empty_pairs() if spec.transitions else None), names, 0
    session = spec.session_s * 1_000_000 if spec.session_s is not None else None
    paths = collapse(ordered, session)
    seg = segment(
        paths,
        codes[spec.start] if spec.start is not None else None,
        codes[spec.end] if spec.end is not None else None,
    )
    out = limit(seg, spec, codes[ELLIPSIS]).select(PATH, UID, K, CODE, T, GROUP)
    pairs = _pairs(seg, len(names), len(names) + 1) if spec.transitions else None
    units = int(out[UID].n_unique()) if out.height else 0
    return out, pairs, names, units


def _empty_limited() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            PATH: pl.Int64,
            UID: pl.Int64,
            K: pl.Int64,
            CODE: pl.Int32,
            T: pl.Int64,
            GROUP: pl.Boolean,
        }
    )


def _empty_pairs() -> pl.DataFrame:
    return pl.DataFrame(schema={PATH: pl.Int64, "src": pl.Int32, "dst": pl.Int32, "dt": pl.Int64})


def _recode(frame: pl.DataFrame, cols: list[str], mapping: list[int]) -> pl.DataFrame:
    lookup = pl.Series(mapping, dtype=pl.Int32)
    return frame.with_columns(pl.lit(lookup).gather(pl.col(c)).alias(c) for c in cols)


def sequences(
    events: pl.LazyFrame,
    spec: PathSpec,
    materialize: Callable[[pl.LazyFrame], pl.DataFrame],
    passes: int = 1,
    bounds: pl.LazyFrame | None = None,
    flags: pl.LazyFrame | None = None,
) -> Sequences:
    """Return the paths of ``events``: node names and the per-node tables.

    With ``passes > 1`` the units are split by hash into disjoint parts (engine/passes.py),
    each read, sorted and cut on its own, so memory holds one part's events at a time; the
    parts' codes are mapped onto the union of their names, and path and unit ids are offset
    so they stay distinct.
    """
    parts = split_units(events, spec.unit, passes)
    results = []
    for i, part in enumerate(parts):
        results.append(_one_pass(part, spec, materialize if i == 0 else _collect, bounds, flags))
    if len(results) == 1:
        limited, pairs, names, units = results[0]
        return Sequences(names, limited, pairs, units)
    names = sorted({name for r in results for name in r[2]})
    index = {name: i for i, name in enumerate(names)}
    n = len(names)
    frames: list[pl.DataFrame] = []
    pair_frames: list[pl.DataFrame] = []
    offset = uid_offset = 0
    for limited, pairs, local, _ in results:
        mapping = [index[name] for name in local]
        frames.append(
            _recode(limited, [CODE], mapping).with_columns(
                pl.col(PATH) + offset, pl.col(UID) + uid_offset
            )
        )
        if pairs is not None:
            pseudo = [*mapping, n, n + 1]
            pair_frames.append(
                _recode(pairs, ["src", "dst"], pseudo).with_columns(pl.col(PATH) + offset)
            )
        offset += _next_id(limited, PATH)
        uid_offset += _next_id(limited, UID)
    return Sequences(
        names,
        pl.concat(frames),
        pl.concat(pair_frames) if spec.transitions else None,
        sum(r[3] for r in results),
    )


def _next_id(frame: pl.DataFrame, col: str) -> int:
    """Return one more than the largest id in ``col`` (0 for no rows)."""
    top = frame.select(pl.col(col).max()).item()
    return int(top) + 1 if top is not None else 0


def _collect(frame: pl.LazyFrame) -> pl.DataFrame:
    return frame.collect()
