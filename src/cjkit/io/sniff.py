"""Say what a text input really is when it is not UTF-8 text: binary, UTF-16/32, Latin-1.

:func:`check_text` reads the first :data:`SNIFF_BYTES` of a CSV, TSV or NDJSON input (gzip'd
ones decompressed) before the reader sees it, and raises one InputError naming the file and
what was found, so that a UTF-16 or random-bytes file never becomes "no user column" followed
by garbage column names. One small read per file: it costs nothing next to the scan.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from cjkit.errors import InputError

SNIFF_BYTES = 8192
_UTF8 = "re-save it as UTF-8 (iconv -t UTF-8)"

# Magic numbers of binary formats that are read by a text reader when the name is wrong.
_MAGIC = (
    (b"PAR1", "is it a Parquet file with a text name? Rename it .parquet or pass --input-format"),
    (b"PK\x03\x04", "is it a ZIP or Excel file? Export the sheet as CSV (UTF-8)"),
    (b"\xd0\xcf\x11\xe0", "is it an old Excel (.xls) file? Export the sheet as CSV (UTF-8)"),
    (b"SQLite format 3\x00", "is it an SQLite database? Export the table as CSV"),
    (b"\x1f\x8b", "is it gzip'd? Name it .csv.gz (or .ndjson.gz)"),
    (b"BZh", "is it bzip2'd? Decompress it first"),
    (b"\xfd7zXZ\x00", "is it xz-compressed? Decompress it first"),
    (b"(\xb5/\xfd", "is it zstd-compressed? Decompress it first"),
)
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 LE with a byte-order mark"),
    (b"\x00\x00\xfe\xff", "UTF-32 BE with a byte-order mark"),
    (b"\xff\xfe", "UTF-16 LE with a byte-order mark"),
    (b"\xfe\xff", "UTF-16 BE with a byte-order mark"),
)
# Control bytes that never appear in text (tab, newline, carriage return, form feed do).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


def head(path: Path, gzipped: bool) -> bytes:
    """Return the first :data:`SNIFF_BYTES` of a file (decompressed when ``gzipped``)."""
    try:
        with path.open("rb") as raw:
            if not gzipped:
                return raw.read(SNIFF_BYTES)
            start = raw.read(2)
            if start != b"\x1f\x8b":
                return b""  # not gzip after all: the reader says so
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw) as unzipped:
                return unzipped.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error):
        return b""  # unreadable here: the reader's own error names the problem


def describe(data: bytes, gzipped: bool = False) -> str | None:
    """Return what ``data`` (the start of a text input) is when it is not UTF-8 text."""
    if not data:
        return None
    for magic, hint in _MAGIC:
        if data.startswith(magic) and not (gzipped and magic == b"\x1f\x8b"):
            return f"looks binary, not text: {hint}"
    for bom, name in _BOMS:
        if data.startswith(bom):
            return f"not UTF-8 text (looks like {name}); {_UTF8}"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # UTF-8 with a byte-order mark is UTF-8
    zeros = data.count(0)
    if zeros:
        even, odd = data[0::2].count(0), data[1::2].count(0)
        pairs = len(data) // 2 or 1
        # ASCII text in UTF-16 has a zero in every other byte: odd ones for LE, even for BE.
        if odd >= 0.9 * pairs and even < 0.1 * pairs:
            return f"not UTF-8 text (looks like UTF-16 LE without a byte-order mark); {_UTF8}"
        if even >= 0.9 * pairs and odd < 0.1 * pairs:
            return f"not UTF-8 text (looks like UTF-16 BE without a byte-order mark); {_UTF8}"
        return f"looks binary, not text ({zeros:,} NUL bytes in the first {len(data):,})"
    control = sum(data.count(bytes([b])) for b in _CONTROL)
    if control > max(8, len(data) // 100):
        return f"looks binary, not text ({control:,} control bytes in the first {len(data):,})"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.end >= len(data) - 3 and exc.reason.startswith("unexpected end"):
            return None  # a character cut by the end of the sample
        return _not_utf8(data, exc)
    return None


def _not_utf8(data: bytes, exc: UnicodeDecodeError) -> str:
    return _bad_byte(data[exc.start], data.count(b"\n", 0, exc.start) + 1)


def _bad_byte(byte: int, line: int, where: str = "") -> str:
    # Bytes 0x80-0x9f are control codes in Latin-1 but letters and signs in Windows-1252.
    guess = "Windows-1252" if 0x80 <= byte <= 0x9F else "Latin-1 or Windows-1252"
    return (
        f"not UTF-8 text (byte 0x{byte:02x} on line {line:,}{where}; looks like {guess}); {_UTF8}"
    )


def first_invalid(path: Path) -> str | None:
    """Return what is wrong with the first byte of ``path`` that is not UTF-8, read in 1 MB
    chunks (``.gz`` decompressed), or None when it is all UTF-8. Only on the error path: the
    reader found a bad byte after the first :data:`SNIFF_BYTES`."""
    gzipped = path.suffix.lower() in (".gz", ".gzip")
    lines, offset, carry = 1, 0, b""
    try:
        with path.open("rb") as raw, gzip.open(raw) if gzipped else raw as stream:
            while chunk := stream.read(1 << 20):
                buffer = carry + chunk
                try:
                    buffer.decode("utf-8")
                    carry = b""
                except UnicodeDecodeError as exc:
                    if exc.reason == "unexpected end of data" and exc.end == len(buffer):
                        carry = buffer[exc.start :]  # a character cut by the chunk's end
                        buffer = buffer[: exc.start]
                    else:
                        at = exc.start
                        line = lines + buffer.count(b"\n", 0, at)
                        return _bad_byte(buffer[at], line, f", at byte {offset + at:,}")
                lines += buffer.count(b"\n")
                offset += len(buffer)
    except (OSError, EOFError, zlib.error):
        return None
    return None


def check_text(path: Path, name: str, data: bytes | None = None) -> None:
    """Raise InputError naming ``name`` when the text input at ``path`` (or ``data``, the start
    of standard input) is binary or not UTF-8; do nothing for text."""
    gzipped = path.suffix.lower() in (".gz", ".gzip")
    sample = data[:SNIFF_BYTES] if data is not None else head(path, gzipped)
    found = describe(sample, gzipped)
    if found:
        raise InputError(f"{name}: {found}")
