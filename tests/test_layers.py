"""The layering rule is enforced: ruff bans rich/typer outside their layer, import-linter
checks the contracts (direct and indirect imports), and the CLI imports heavy modules lazily."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent))


def _ruff(source: str, path: str) -> str:
    """Return ruff's findings for ``source`` as if it were the file at ``path``."""
    assert RUFF, "ruff is in the dev extra"
    done = subprocess.run(
        [RUFF, "check", "--no-cache", "--output-format", "concise", "--stdin-filename", path, "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    return done.stdout


@pytest.mark.parametrize(
    ("path", "source", "rule"),
    [
        ("src/cjkit/probe.py", "import rich\n", "TID251"),
        ("src/cjkit/report/probe.py", "from rich.table import Table\n", "TID251"),
        ("src/cjkit/engine/probe.py", "import typer\n", "TID251"),
        ("src/cjkit/render/probe.py", "import typer\n", "TID251"),
        ("src/cjkit/cli/probe.py", "import rich\n", "TID251"),
        ("src/cjkit/cli/probe.py", "import polars as pl\n", "TID253"),
        ("src/cjkit/cli/probe.py", "from cjkit.engine import passes\n", "TID253"),
    ],
)
def test_ruff_rejects_an_import_across_layers(path: str, source: str, rule: str) -> None:
    assert rule in _ruff(source, path)


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("src/cjkit/render/probe.py", "import rich\n\nprint(rich)\n"),
        ("src/cjkit/cli/probe.py", "import typer\n\nprint(typer)\n"),
        ("src/cjkit/cli/probe.py", "def f() -> object:\n    import polars\n\n    return polars\n"),
    ],
)
def test_ruff_allows_an_import_in_its_layer(path: str, source: str) -> None:
    assert "TID" not in _ruff(source, path)


def _lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS, "import-linter is in the dev extra"
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
        cwd=src.parent,
        env={"PYTHONPATH": str(src), "PATH": str(Path(sys.executable).parent)},
    )


@pytest.mark.slow
def test_import_contracts_hold() -> None:
    done = _lint_imports(ROOT / "src")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        ("report/probe.py", "import rich\n", "report imports neither polars nor rich"),
        ("engine/probe.py", "from cjkit import render\n", "engine imports no api"),
        ("maps/probe.py", "from cjkit import api\n", "maps and io import no api"),
        ("api/probe.py", "import typer\n", "only cli imports typer"),
    ],
)
def test_import_contract_catches_a_probe(
    tmp_path: Path, module: str, source: str, contract: str
) -> None:
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "cjkit", src / "cjkit", ignore=shutil.ignore_patterns("__pycache__")
    )
    (src / "cjkit" / module).write_text(source, encoding="utf-8")
    done = _lint_imports(src)
    assert done.returncode == 1, done.stdout
    # A contract line reads "<name> BROKEN", or "<name> BROKEN (1 ignored import)".
    broken = [line for line in done.stdout.splitlines() if " BROKEN" in line]
    assert any(contract in line for line in broken), done.stdout


def test_cli_modules_import_no_heavy_module_at_import_time() -> None:
    code = (
        "import sys, cjkit.cli; "
        "heavy = [m for m in ('polars', 'rich', 'cjkit.engine', 'cjkit.api', 'yaml', 'pydantic') "
        "if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# The shared vocabulary (cjkit/canonical.py) is defined there and nowhere else.
CANONICAL = {
    "USER", "EVENT", "TIME", "UNIT", "UID", "T",
    "Period", "WeekStart", "PERIODS", "WEEK_STARTS", "ONE_US", "STATS_HINT",
}  # fmt: skip


def _module_level_names(path: Path) -> set[str]:
    """Return the names a module assigns at its top level (plain, annotated and tuple targets)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            parts = target.elts if isinstance(target, ast.Tuple) else [target]
            names |= {p.id for p in parts if isinstance(p, ast.Name)}
    return names


def test_the_shared_vocabulary_is_defined_once() -> None:
    package = ROOT / "src" / "cjkit"
    defined = _module_level_names(package / "canonical.py")
    assert defined >= CANONICAL
    again = {
        f"{path.relative_to(package)}: {name}"
        for path in package.rglob("*.py")
        if path.name != "canonical.py"
        for name in _module_level_names(path) & CANONICAL
    }
    assert not again, f"defined outside cjkit/canonical.py: {sorted(again)}"


def test_the_vocabulary_check_sees_a_second_definition(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text('UNIT, T = "unit", "t"\nPERIODS: tuple[str, ...] = ()\n', encoding="utf-8")
    assert _module_level_names(probe) & CANONICAL == {"UNIT", "T", "PERIODS"}
