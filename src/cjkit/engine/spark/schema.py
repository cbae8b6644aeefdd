"""The result types of the per-bucket functions: one Polars schema, mapped to Arrow and Spark.

Spark checks the Arrow a Python UDF returns against the declared schema exactly: ``string``,
not Polars' ``large_string``/``string_view``; ``int32`` where declared; ``timestamp[us, UTC]``.
So each bucket's Polars result is cast to the Arrow schema derived here, and Spark is given
the matching StructType.
"""

from __future__ import annotations

from typing import Any

import polars as pl


def arrow_type(dtype: pl.DataType) -> Any:
    """Return the Arrow type a Polars column is sent to Spark as."""
    import pyarrow as pa

    if dtype == pl.String or dtype == pl.Categorical or dtype == pl.Enum:
        return pa.string()
    if dtype == pl.Boolean:
        return pa.bool_()
    if dtype in (pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16):
        return pa.int32()
    if dtype in (pl.Int64, pl.UInt32, pl.UInt64):
        return pa.int64()
    if dtype in (pl.Float32, pl.Float64):
        return pa.float64()
    if isinstance(dtype, pl.Datetime):
        return pa.timestamp("us", tz="UTC")
    if dtype == pl.Date:
        return pa.date32()
    if isinstance(dtype, pl.Decimal):
        return pa.decimal128(dtype.precision or 38, dtype.scale or 0)
    if dtype == pl.Binary:
        return pa.binary()
    raise TypeError(f"no Spark type for a {dtype} column")


def arrow_schema(schema: pl.Schema | dict[str, pl.DataType]) -> Any:
    """Return the Arrow schema for a Polars schema."""
    import pyarrow as pa

    return pa.schema([pa.field(name, arrow_type(dtype)) for name, dtype in schema.items()])


def spark_schema(schema: pl.Schema | dict[str, pl.DataType]) -> Any:
    """Return the Spark StructType for a Polars schema (through its Arrow form)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(arrow_schema(schema))


def to_arrow(frame: pl.DataFrame, schema: Any) -> Any:
    """Return ``frame`` as an Arrow table of exactly ``schema`` (column order and types)."""
    return frame.select(schema.names).to_arrow().cast(schema)


def polars_dtype(spark_type: Any) -> pl.DataType:
    """Return the Polars type a Spark column arrives as through Arrow."""
    from pyspark.sql.pandas.types import to_arrow_type

    empty = pl.from_arrow(_empty_array(to_arrow_type(spark_type, timezone="UTC")))
    assert isinstance(empty, pl.Series)
    return empty.dtype


def _empty_array(arrow: Any) -> Any:
    import pyarrow as pa

    return pa.array([], type=arrow)
