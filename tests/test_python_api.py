"""The library surface: docs/python-api.md runs as a doctest, and ``import cjkit`` stays light."""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import cjkit

ROOT = Path(__file__).resolve().parents[1]


def test_python_api_doc_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = doctest.testfile(
        str(ROOT / "docs" / "python-api.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.attempted > 10
    assert result.failed == 0


def test_every_public_name_resolves() -> None:
    for name in cjkit.__all__:
        assert getattr(cjkit, name) is not None, name
    with pytest.raises(AttributeError):
        _ = cjkit.no_such_name  # type: ignore[attr-defined]


def test_import_cjkit_does_not_import_polars() -> None:
    code = "import sys, cjkit; print('polars' in sys.modules, cjkit.__version__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", cjkit.__version__]


@pytest.mark.parametrize("kind", ["list", "str", "path", "dataframe", "lazyframe"])
def test_every_source_kind_gives_the_same_funnel(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,event,timestamp\n"
        "a,visit,2025-01-01T09:00:00\na,signup,2025-01-01T10:00:00\n"
        "b,visit,2025-01-01T09:00:00\nc,signup,2025-01-02T00:00:00\n",
        encoding="utf-8",
    )
    sources: dict[str, object] = {
        "list": [str(path)],
        "str": str(path),
        "path": path,
        "dataframe": pl.read_csv(path, try_parse_dates=True),
        "lazyframe": pl.scan_csv(path, try_parse_dates=True),
    }
    run = cjkit.funnel(sources[kind], cjkit.FunnelOptions(steps=("visit", "signup")))  # type: ignore[arg-type]
    assert [r["count"] for r in run.report.to_rows()] == [2, 1]
    assert run.report.to_dict()["source"]["files"] in ([str(path)], [f"<{type(sources[kind]).__name__}>"])
