"""Every export preset end to end on its sample file (tests/data/exports/, built by
make_exports.py to each vendor's public format): inspect, funnel and metrics.

The story, counted by hand: 40 people land anonymously (one page view each), 30 of them sign up
an hour later (the identify call), 20 of those buy a day after landing, person i for 20 + i USD:
revenue = sum(21..40) = 610, AOV = 610 / 20 = 30.5, ARPU = 610 / 40 = 15.25. Segment's file
also refunds person 1's order (21 USD): revenue 589 from 19 paying units. Shopify's orders export
holds orders only: the 20 paid ones plus a refunded, a voided and a cancelled order (23 units).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cjkit.cli import main

EXPORTS = Path(__file__).parent / "data" / "exports"
FILES = {
    "posthog": "posthog.csv",
    "mixpanel": "mixpanel.ndjson",
    "amplitude": "amplitude.ndjson",
    "ga4": "ga4.ndjson",
    "segment": "segment.ndjson",
    "shopify": "shopify.csv",
}
# The vendor's own names for: page view, sign-up, purchase.
STEPS = {
    "posthog": ("$pageview", "$identify", "purchase"),
    "mixpanel": ("$mp_web_page_view", "Sign Up", "Purchase"),
    "amplitude": ('"[Amplitude] Page Viewed"', "Sign Up", "Purchase"),
    "ga4": ("page_view", "sign_up", "purchase"),
    "segment": ("page", "Signed Up", "Order Completed"),
}
STORY = ["posthog", "mixpanel", "amplitude", "ga4", "segment"]


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code = main([*args, "-f", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)  # type: ignore[no-any-return]


@pytest.mark.parametrize("preset", list(FILES))
def test_inspect_tells_the_preset(preset: str, capsys: pytest.CaptureFixture[str]) -> None:
    report = _json(["inspect", str(EXPORTS / FILES[preset])], capsys)
    assert report["preset"] == preset
    assert report["suggested_preset"] == preset
    assert report["units"] == (23 if preset == "shopify" else 40)
    merged = {"posthog": 30, "mixpanel": 30, "ga4": 30, "segment": 30}
    if preset in merged:
        assert report["identity"] == {"merged_ids": merged[preset], "conflicts": 0}
    else:
        assert "identity" not in report


def test_inspect_lists_nested_paths(capsys: pytest.CaptureFixture[str]) -> None:
    ga4 = _json(["inspect", str(EXPORTS / "ga4.ndjson")], capsys)
    paths = {n["path"]: n for n in ga4["nested"]}  # type: ignore[union-attr, index]
    assert paths["event_params.ga_session_id"]["dtype"] == "i64"
    assert set(paths["traffic_source.source"]["samples"]) == {"google", "newsletter"}
    posthog = _json(["inspect", str(EXPORTS / "posthog.csv")], capsys)
    names = [n["path"] for n in posthog["nested"]]  # type: ignore[union-attr, index]
    assert "properties.$anon_distinct_id" in names
    assert "properties.utm_source" in names


@pytest.mark.parametrize("preset", STORY)
def test_funnel_with_the_vendor_names(preset: str, capsys: pytest.CaptureFixture[str]) -> None:
    steps = [a for s in STEPS[preset] for a in ("-s", s)]
    report = _json(["funnel", str(EXPORTS / FILES[preset]), "--preset", preset, *steps], capsys)
    assert [s["count"] for s in report["steps"]] == [40, 30, 20]  # type: ignore[index, union-attr]


@pytest.mark.parametrize("preset", STORY)
def test_funnel_by_channel_alias(preset: str, capsys: pytest.CaptureFixture[str]) -> None:
    steps = [a for s in STEPS[preset] for a in ("-s", s)]
    report = _json(
        ["funnel", str(EXPORTS / FILES[preset]), "--preset", preset, *steps, "--by", "channel"],
        capsys,
    )
    groups = {g["value"]: [s["count"] for s in g["steps"]] for g in report["breakdown"]["groups"]}  # type: ignore[index]
    # Odd persons come from google: 20 of 40 land, 15 of 30 sign up, 10 of 20 buy.
    assert groups == {"google": [20, 15, 10], "newsletter": [20, 15, 10]}


def _stages(report: dict[str, object]) -> dict[str, dict[str, object]]:
    return {s["id"]: s for s in report["stages"]}  # type: ignore[index, union-attr, attr-defined]


@pytest.mark.parametrize("preset", STORY)
def test_metrics_aarrr(preset: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["metrics", str(EXPORTS / FILES[preset]), "--preset", preset, "--model", "aarrr"]
    report = _json(args, capsys)
    stages = _stages(report)
    assert report["source"]["units"] == 40  # type: ignore[index]
    assert stages["acquisition"]["metrics"]["new_units"] == 40  # type: ignore[index]
    assert stages["activation"]["metrics"]["rate"] == 0.75  # type: ignore[index]
    revenue = stages["revenue"]["metrics"]
    if preset == "segment":  # person 1's 21 USD order is refunded
        assert revenue["revenue"] == {"USD": 589.0}  # type: ignore[index]
        assert revenue["paying_units"] == 19  # type: ignore[index]
        assert revenue["aov"] == {"USD": 29.45}  # type: ignore[index]
    else:
        assert revenue["revenue"] == {"USD": 610.0}  # type: ignore[index]
        assert revenue["paying_units"] == 20  # type: ignore[index]
        assert revenue["aov"] == {"USD": 30.5}  # type: ignore[index]
        assert revenue["arpu"] == {"USD": 15.25}  # type: ignore[index]
        assert revenue["conversion_to_paid"] == 0.5  # type: ignore[index]


def test_shopify_excludes_refunded_voided_cancelled(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXPORTS / "shopify.csv")
    report = _json(["metrics", path, "--preset", "shopify", "--model", "aarrr"], capsys)
    revenue = _stages(report)["revenue"]["metrics"]
    assert revenue["revenue"] == {"USD": 610.0}  # type: ignore[index]
    assert revenue["paying_units"] == 20  # type: ignore[index]
    assert revenue["aov"] == {"USD": 30.5}  # type: ignore[index]
    funnel = _json(
        [
            "funnel",
            path,
            "--preset",
            "shopify",
            "-s",
            "order[Financial Status=paid]",
            "-s",
            "order",
            "--allow-event-reuse",
        ],
        capsys,
    )
    # The excluded orders add no revenue but stay order events: 21 are 'paid' (the cancelled
    # one too), and every unit has one order.
    assert [s["count"] for s in funnel["steps"]] == [21, 21]  # type: ignore[index, union-attr]
    # The +0700 times (space, no colon) read as UTC instants: person 1 landed 2024-01-01.
    assert report["source"]["start"] == "2024-01-02T10:00:00+00:00"  # type: ignore[index]


def test_without_the_preset_the_shape_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["funnel", str(EXPORTS / "mixpanel.ndjson"), "-s", "a", "-s", "b"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert "looks like a mixpanel export: pass --preset mixpanel" in err[0]


def test_map_preset_equals_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "map.yaml"
    spec.write_text("extends: aarrr\ndata: {preset: ga4}\n")
    path = str(EXPORTS / "ga4.ndjson")
    by_map = _json(["metrics", path, "--model", str(spec)], capsys)
    by_flag = _json(["metrics", path, "--preset", "ga4", "--model", "aarrr"], capsys)
    assert [s["metrics"] for s in by_map["stages"]] == [  # type: ignore[union-attr]
        s["metrics"]
        for s in by_flag["stages"]  # type: ignore[union-attr]
    ]


def test_unknown_preset_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", str(EXPORTS / "ga4.ndjson"), "--preset", "heap"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert "unknown preset 'heap'" in err[0]


def test_docs_name_every_preset_and_its_format_docs() -> None:
    from cjkit.io.presets import PRESETS

    text = (Path(__file__).parents[1] / "docs" / "inputs.md").read_text(encoding="utf-8")
    for preset in PRESETS.values():
        assert f"| `{preset.name}` |" in text
        assert preset.docs in text
