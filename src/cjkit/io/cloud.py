"""Events in an object store (``s3://bucket/prefix/*.parquet``) through Polars' own cloud reader.

Credentials and the endpoint come from the standard AWS environment variables
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION`` /
``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL`` for an S3-compatible server such as MinIO, with
plain ``http://`` allowed when the endpoint says so), or from the profile and instance
credentials Polars finds itself. Polars pushes the needed columns and row-group statistics
down into the Parquet reads.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import polars as pl

from cjkit.errors import InputError
from cjkit.io import sources

SCHEMES = ("s3://", "s3a://", "gs://", "gcs://", "az://", "abfs://", "abfss://")


def is_cloud(text: str) -> bool:
    """Return whether ``text`` is an object-store URI Polars reads."""
    return text.lower().startswith(SCHEMES)


def storage_options() -> dict[str, str] | None:
    """Return the options for an S3-compatible endpoint from the environment (None: Polars'
    own defaults, which read the AWS variables and profiles)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        return None
    options = {"aws_endpoint_url": endpoint}
    if endpoint.startswith("http://"):
        options["aws_allow_http"] = "true"
    for variable, key in (
        ("AWS_ACCESS_KEY_ID", "aws_access_key_id"),
        ("AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"),
        ("AWS_SESSION_TOKEN", "aws_session_token"),
        ("AWS_REGION", "aws_region"),
        ("AWS_DEFAULT_REGION", "aws_region"),
    ):
        value = os.environ.get(variable)
        if value and key not in options:
            options[key] = value
    return options


def _describe(label: str, text: str) -> InputError:
    lowered = text.lower()
    if "403" in text or "accessdenied" in lowered or "forbidden" in lowered:
        return InputError(f"{label}: access denied by the object store (check the credentials)")
    if "nosuchbucket" in lowered or "bucket does not exist" in lowered:
        return InputError(f"{label}: no such bucket")
    if "connection refused" in lowered or "error sending request" in lowered or "dns" in lowered:
        return InputError(f"{label}: can't connect to the object store: {text}")
    if "expanded paths were empty" in lowered or "no such file" in lowered or "404" in text:
        return InputError(f"{label}: the pattern matches no objects")
    return InputError(f"{label}: can't read the objects: {text}")


def scan(uri: str, label: str) -> tuple[pl.LazyFrame, int]:
    """Return the objects at ``uri`` as one LazyFrame and their row count (from the Parquet
    footers; 0 for text formats); raise InputError, worded with the masked ``label``."""
    # Polars warns on stderr when it has to find the bucket's region itself: not a user's concern.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*region.*not set")
        return _scan(uri, label)


def _scan(uri: str, label: str) -> tuple[pl.LazyFrame, int]:
    """Return the objects at ``uri`` as one LazyFrame and their row count (from the Parquet
    footers; 0 for text formats); raise InputError, worded with the masked ``label``."""
    from cjkit.io.remote import mask

    fmt = sources.file_format(Path(uri.split("://", 1)[1]))
    if fmt is None:
        raise InputError(
            f"{label}: unknown object type (expected .parquet, .csv, .tsv, .ndjson or .jsonl)"
        )
    options = storage_options()
    try:
        if fmt == "parquet":
            frame = pl.scan_parquet(uri, storage_options=options)
            rows = int(frame.select(pl.len()).collect().item())
        elif fmt in ("csv", "tsv"):
            frame = pl.scan_csv(
                uri,
                separator="\t" if fmt == "tsv" else ",",
                infer_schema_length=10_000,
                storage_options=options,
            )
            rows = 0
        else:
            frame = pl.scan_ndjson(uri, infer_schema_length=10_000, storage_options=options)
            rows = 0
        frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        # The object store's own words first: its error can mention utf-8 (a content type)
        # without being about the bytes of a file.
        raw = str(exc).strip().splitlines()
        line = mask(raw[0] if raw else type(exc).__name__)
        described = _describe(label, line)
        if str(described).endswith(f"can't read the objects: {line}"):
            described = _describe(label, mask(sources.first_line(exc)))
        raise described from None
    return frame, rows
