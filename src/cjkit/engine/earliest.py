"""The value on a group's earliest row, as one fast aggregation.

Per-group ``sort_by``, ``filter`` or ``arg_min`` expressions take Polars' slow path, several times
slower than the rest of a ``group_by``. Packing the time and a small integer code into one Int128
lets a plain ``min`` find the row, and equal times go to the smallest code, so row order never
matters.
"""

from __future__ import annotations

import polars as pl

from cjkit.canonical import TIME


def earliest_code(where: pl.Expr, code: pl.Expr) -> pl.Expr:
    """Return (in a group_by) the ``code`` (below 2**32) on the group's earliest ``where`` row:
    the smallest code among rows at that time, null when no row matches."""
    micros = pl.col(TIME).dt.epoch("us").cast(pl.Int128) + 2**62
    packed = pl.when(where).then(micros * 2**32 + code.cast(pl.Int128)).min()
    return (packed % 2**32).cast(pl.UInt32)
