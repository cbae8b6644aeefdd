"""Find event files (paths, globs, folders, ``-`` for stdin) and scan each one lazily.

Identifier columns (the unit, the event, identity columns) are read as text in every format,
so ``007`` and ``7`` stay two units whether the file is CSV, Parquet or NDJSON, and schema
inference never rejects a CSV halfway because a later id is not a number.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from cjkit.errors import InputError
from cjkit.io import sniff
from cjkit.io.walk import files_under, glob_files, not_regular

STDIN = "-"
NOT_UTF8 = "it is not UTF-8 text (convert it with iconv -t UTF-8)"
_FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "ndjson",
}
INPUT_FORMATS = ("csv", "tsv", "ndjson", "parquet")
_stdin_cache: dict[str, bytes] = {}


def file_format(path: Path, forced: str | None = None) -> str | None:
    """Return the reader for a file by its suffix (``.csv.gz`` reads as csv), or None."""
    if forced:
        return forced
    if str(path) == STDIN:
        return "csv"
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".gzip"):
        suffixes = suffixes[:-1]
    return _FORMATS.get(suffixes[-1]) if suffixes else None


def expand(paths: Sequence[str], forced: str | None = None) -> list[Path]:
    """Return the data files named by paths, globs and folders, sorted; raise InputError."""
    if not paths:
        raise InputError("no event files given")
    files: list[Path] = []
    for text in paths:
        if text == STDIN:
            files.append(Path(STDIN))
            continue
        if any(ch in text for ch in "*?["):
            matched = [p for p in glob_files(text) if p.is_file() and file_format(p, forced)]
            if not matched:
                raise InputError(f"{text}: the pattern matches no event files")
            files.extend(matched)
            continue
        path = Path(text)
        if path.is_dir():
            found = [
                p
                for p in files_under(path)
                if p.is_file() and file_format(p, forced) and not p.name.startswith((".", "_"))
            ]
            if not found:
                raise InputError(
                    f"{text}: the folder holds no event files "
                    "(.csv, .tsv, .csv.gz, .parquet, .ndjson, .jsonl)"
                )
            files.extend(found)
        elif path.is_file():
            if file_format(path, forced) is None:
                raise InputError(
                    f"{text}: unknown file type '{path.suffix}' "
                    "(expected .csv, .tsv, .csv.gz, .parquet, .ndjson or .jsonl, "
                    "or pass --input-format)"
                )
            files.append(path)
        elif kind := not_regular(path):
            raise InputError(
                f"{text}: is {kind}; expected an event file or folder (or - for stdin)"
            )
        else:
            raise InputError(f"{text}: no such file or folder")
    return list(dict.fromkeys(files))


def stdin_bytes() -> bytes:
    """Return everything on standard input (read once per process, then reused)."""
    if STDIN not in _stdin_cache:
        _stdin_cache[STDIN] = sys.stdin.buffer.read()
    return _stdin_cache[STDIN]


def size(path: Path) -> int:
    """Return the byte size of a file, or of what came on stdin."""
    return len(stdin_bytes()) if str(path) == STDIN else path.stat().st_size


def _hive_columns(path: Path) -> dict[str, str]:
    return dict(part.split("=", 1) for part in path.parent.parts if "=" in part)


def _text_header(source: Path | bytes, separator: str) -> list[str]:
    head = pl.scan_csv(
        source, separator=separator, infer_schema=False, encoding="utf8", n_rows=0
    ).collect_schema()
    return list(head)


def scan(path: Path, text_columns: Sequence[str], forced: str | None = None) -> pl.LazyFrame:
    """Return a lazy scan of one file; ``text_columns`` are read as strings where they exist."""
    fmt = file_format(path, forced)
    name = str(path)
    source: Path | bytes = stdin_bytes() if name == STDIN else path
    if size(path) == 0:
        raise InputError(f"{'standard input' if name == STDIN else name}: the file is empty")
    if fmt != "parquet":  # binary, UTF-16 or Latin-1 text says so, not "no user column"
        shown = "standard input" if name == STDIN else name
        sniff.check_text(path, shown, source if isinstance(source, bytes) else None)
    if fmt == "parquet":
        frame = pl.scan_parquet(source)
    elif fmt in ("csv", "tsv"):
        sep = "\t" if fmt == "tsv" else ","
        try:
            header = _text_header(source, sep)
        except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{name}: {unreadable(path, exc)}") from None
        overrides = {c: pl.String for c in text_columns if c in header}
        frame = pl.scan_csv(
            source,
            separator=sep,
            infer_schema_length=10_000,
            schema_overrides=overrides or None,
            encoding="utf8",
            raise_if_empty=True,
        )
    else:
        frame = pl.scan_ndjson(source, infer_schema_length=10_000)
    hive = _hive_columns(path) if name != STDIN else {}
    if hive:
        frame = frame.with_columns(pl.lit(v).alias(k) for k, v in hive.items())
    return frame


def schema(path: Path, frame: pl.LazyFrame) -> dict[str, pl.DataType]:
    """Return a scan's schema; raise InputError naming the file when it can't be read."""
    try:
        return dict(frame.collect_schema())
    except InputError:
        raise
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        if _not_parquet(path):
            raise InputError(
                f"{path}: not a Parquet file (it does not start with PAR1): is it CSV or "
                "JSON with a .parquet name? Rename it or pass --input-format"
            ) from None
        raise InputError(f"{path}: {unreadable(path, exc)}") from None


def unreadable(path: Path, exc: BaseException) -> str:
    """Return why a file can't be read; a byte that is not UTF-8 is found (which, on which
    line: only on this error path, the whole file is read once more)."""
    text = first_line(exc)
    if text == NOT_UTF8 and str(path) != STDIN and path.is_file():
        found = sniff.first_invalid(path)
        if found:
            return found
    return f"can't read the file: {text}"


def _not_parquet(path: Path) -> bool:
    # Only on the error path: a file read as Parquet whose first bytes are not its magic.
    if str(path) == STDIN or file_format(path) != "parquet" or not path.is_file():
        return False
    return not sniff.head(path, gzipped=False).startswith(b"PAR1")


def first_line(exc: BaseException) -> str:
    """Return the first line of an error's text, in words a user can act on."""
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    if "invalid utf-8" in line.lower() or "utf8" in line.lower() or "utf-8" in line.lower():
        return NOT_UTF8
    return line


def failing_file(names: Sequence[str], frames: Sequence[pl.LazyFrame]) -> str | None:
    """Return the first of several files whose own scan fails, or None (only on the error
    path of a read over them all: each file is read once more, to a single hash per column)."""
    for name, frame in zip(names, frames, strict=False):
        try:
            frame.select(pl.all().hash().sum()).collect()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # a Polars error, an OSError, or a Rust panic in the reader
            return name
    return None


def describe_read_error(path: str, exc: BaseException) -> str:
    """Return a one-line message for a read error, naming the line of a ragged CSV row."""
    text = first_line(exc)
    if text == NOT_UTF8 and Path(path).is_file():
        return f"{path}: {unreadable(Path(path), exc)}"
    if "more fields than defined" in text or "fewer fields" in text:
        where = _ragged_line(Path(path))
        if where:
            return f"{path}: {where}"
    return f"{path}: can't read the events: {text}"


def _ragged_line(path: Path) -> str | None:
    # Only on the error path: find the first line whose field count differs from the header's.
    fmt = file_format(path)
    if fmt not in ("csv", "tsv") or path.suffix.lower() in (".gz", ".gzip") or not path.is_file():
        return None
    sep = "\t" if fmt == "tsv" else ","
    lines = pl.read_csv(
        path,
        has_header=False,
        separator="\x1f",
        quote_char=None,
        new_columns=["line"],
        schema_overrides={"line": pl.String},
        infer_schema=False,
    ).with_row_index("n", offset=1)
    # Separators inside double-quoted fields don't count: drop quoted parts first.
    fields = pl.col("line").str.replace_all(r'"[^"]*"', "").str.count_matches(sep, literal=True) + 1
    counted = lines.with_columns(fields.alias("fields"))
    header = counted["fields"][0]
    bad = counted.filter((pl.col("fields") != header) & (pl.col("line").str.strip_chars() != ""))
    if bad.height == 0:
        return None
    row = bad.row(0, named=True)
    return f"line {row['n']:,} has {row['fields']} fields, the header has {header}"
