"""Hostile maps (issue 19 items 2, 4 and 8): each is refused quickly, at its line, never exit 3.

Billion laughs, nesting 3,000 deep, an ``extends:`` chain of 1,500 maps, a tag on a key, a
list as a key, an impossible timestamp, python tags, an out-of-range duration.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cjkit.cli import main
from cjkit.maps import loader

SHOP_MAP = Path(__file__).resolve().parents[1] / "examples" / "shop" / "map.yaml"

BILLION_LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    + ["id: x", "name: x", "stages: []"]
)


def _problems(path: Path) -> list[str]:
    started = time.monotonic()
    _, problems = loader.check(path)
    assert time.monotonic() - started < 10, "a hostile map must be refused within seconds"
    return [str(p) for p in problems]


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, "bomb.yaml", BILLION_LAUGHS))
    assert problems
    assert "YAML aliases" in problems[0] or "aliases" in problems[0]


def test_many_aliases_are_refused(tmp_path: Path) -> None:
    items = ", ".join(["*x"] * 1500)
    text = f"x: &x [1]\ny: [{items}]\nid: m\nname: m\nstages: []\n"
    problems = _problems(_write(tmp_path, "aliases.yaml", text))
    assert any("more than 1,000 YAML aliases" in p for p in problems)


@pytest.mark.parametrize("depth", [100, 3000])
def test_deep_nesting_is_refused(tmp_path: Path, depth: int) -> None:
    text = "id: m\nname: m\nstages: " + "[" * depth + "]" * depth + "\n"
    problems = _problems(_write(tmp_path, "deep.yaml", text))
    assert any("nests deeper than 64 levels" in p for p in problems)


def test_deep_block_nesting_is_refused(tmp_path: Path) -> None:
    lines = ["id: m", "name: m", "x:"] + [" " * (i + 1) + f"k{i}:" for i in range(2000)]
    problems = _problems(_write(tmp_path, "block.yaml", "\n".join(lines) + " 1\n"))
    assert any("nests deeper" in p for p in problems)


def test_long_extends_chain_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "m0.yaml", "extends: aarrr\n")
    for i in range(1, 1500):
        _write(tmp_path, f"m{i}.yaml", f"extends: m{i - 1}.yaml\n")
    problems = _problems(tmp_path / "m1499.yaml")
    assert any("extends chain longer than 32 maps" in p for p in problems)


def test_short_extends_chain_still_works(tmp_path: Path) -> None:
    _write(tmp_path, "m0.yaml", "extends: aarrr\n")
    for i in range(1, 5):
        _write(tmp_path, f"m{i}.yaml", f"extends: m{i - 1}.yaml\n")
    loaded, problems = loader.check(tmp_path / "m4.yaml")
    assert loaded is not None
    assert [p for p in problems if p.severity == "error"] == []


@pytest.mark.parametrize(
    ("text", "expect", "line"),
    [
        (
            "id: m\n!!python/name:os.system : x\n",
            "unsupported YAML tag '!!python/name:os.system'",
            2,
        ),
        ("id: m\n!custom key: x\n", "unsupported YAML tag '!custom'", 2),
        ("id: m\n? [a, b]\n: x\n", "a key must be a plain value", 2),
        ("id: m\nname: m\nx: 2025-13-45\n", "can't read the value '2025-13-45'", 3),
        ("id: m\nx: !!python/object:os.system {}\n", "unsupported YAML tag", 2),
    ],
)
def test_bad_keys_and_values_point_at_their_line(
    tmp_path: Path, text: str, expect: str, line: int
) -> None:
    problems = _problems(_write(tmp_path, "bad.yaml", text))
    assert len(problems) == 1
    assert expect in problems[0]
    assert problems[0].startswith(f"bad.yaml:{line}:") or f"bad.yaml:{line}:" in problems[0]


def test_huge_within_fails_in_validate_at_its_line(tmp_path: Path) -> None:
    text = SHOP_MAP.read_text(encoding="utf-8")
    assert "within: 7d" in text
    line = text[: text.index("within: 7d")].count("\n") + 1
    path = _write(tmp_path, "map.yaml", text.replace("within: 7d", "within: 99999999999999999999d"))
    problems = _problems(path)
    assert any(f"map.yaml:{line}:" in p and "at most 36500d" in p for p in problems), problems


@pytest.mark.parametrize(
    "text",
    [
        BILLION_LAUGHS,
        "id: m\nstages: " + "[" * 3000 + "]" * 3000 + "\n",
        "id: m\n!!python/name:os.system : x\n",
        "id: m\nname: m\nx: 2025-13-45\n",
    ],
    ids=["laughs", "deep", "tag-key", "bad-date"],
)
def test_cli_validate_names_the_file_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    path = _write(tmp_path, "hostile.yaml", text)
    code = main(["validate", str(path)])
    captured = capsys.readouterr()
    both = captured.out + captured.err
    assert code in (1, 2), both
    assert "Traceback" not in both
    assert "Internal error" not in both
    assert "hostile.yaml:" in both


def test_cli_funnel_with_hostile_model_is_not_a_bug(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "bomb.yaml", BILLION_LAUGHS)
    events = _write(tmp_path, "e.csv", "user_id,event,timestamp\n1,a,2025-01-01T00:00:00Z\n")
    code = main(["funnel", str(events), "--model", str(path)])
    err = capsys.readouterr().err
    assert code in (1, 2), err
    assert "Internal error" not in err
