"""The page model (sections, charts, tables, KPI tiles) and its Jinja2 rendering.

A chart is a Plotly figure (plain JSON, drawn by the plotly.js bundled once per page) with its
numbers as a table under it: every cell keeps the raw value in ``data-value`` so the browser
tests compare the page with the JSON of the same run.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from cjkit.render.html.i18n import Words

DOCS = "docs/metrics.md"
# Colours: an accessible categorical palette (Okabe–Ito order, softened) and the page's accent.
PALETTE = ("#3b6fd8", "#e0893a", "#2a9d8f", "#c8507a", "#7b61c9", "#8a8f2e", "#4aa3c7", "#b5651d")
MUTED = "#d5dae3"
# Sequential scale for rates (light = low, deep blue = high); diverging scale for lifts.
SEQUENTIAL = [[0.0, "#f3f7ff"], [0.35, "#a9c3f2"], [0.7, "#4d7fe0"], [1.0, "#1e3a8a"]]
DIVERGING = [[0.0, "#c2413b"], [0.5, "#f7f7f7"], [1.0, "#2a6fdb"]]


@dataclass(frozen=True)
class Cell:
    """One table cell: the text a person reads and the raw value behind it."""

    text: str
    value: Any = None
    num: bool = False
    cls: str = ""


@dataclass(frozen=True)
class Table:
    """A table of a chart's numbers (or a stand-alone table)."""

    columns: list[str]
    rows: list[list[Cell]]
    key: str = ""


@dataclass(frozen=True)
class Chart:
    """A Plotly figure, its title, its numbers and the anchor of its metric's definition."""

    id: str
    title: str
    figure: dict[str, Any]
    table: Table
    doc: str
    note: str = ""
    height: int = 360


@dataclass(frozen=True)
class Kpi:
    """A headline number."""

    label: str
    text: str
    value: Any = None
    sub: str = ""
    key: str = ""


@dataclass
class Section:
    """A part of the page with its own heading and entry in the contents."""

    id: str
    title: str
    intro: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    doc: str = ""


def cell_num(text: str, value: Any) -> Cell:
    """Return a numeric cell."""
    return Cell(text, value, num=True)


def base_layout(words: Words, **extra: Any) -> dict[str, Any]:
    """Return the shared Plotly layout: fonts, margins, separators, no title (the page has it)."""
    layout: dict[str, Any] = {
        "font": {
            "family": "Inter, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
            "size": 13,
            "color": "#1f2937",
        },
        "margin": {"l": 64, "r": 24, "t": 36, "b": 48},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "separators": words.separators,
        "colorway": list(PALETTE),
        "hoverlabel": {"font": {"size": 12}},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "xaxis": {"gridcolor": "#eef0f4", "zeroline": False},
        "yaxis": {"gridcolor": "#eef0f4", "zeroline": False},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


def _json(value: Any) -> str:
    # Inside <script>, "</" would end the element: escape it (and the other HTML-sensitive marks).
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cjkit.render.html", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["tojson_script"] = _json
    return env


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """Return the plotly.js bundle that ships in the ``plotly`` package (embedded once a page).

    The file is read from the package's folder without importing plotly's Python API (what
    ``plotly.offline.get_plotlyjs`` reads, at a fraction of the import time).
    """
    spec = importlib.util.find_spec("plotly")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        bundle = Path(folder) / "package_data" / "plotly.min.js"
        if bundle.is_file():
            return bundle.read_text(encoding="utf-8")
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    return str(get_plotlyjs())


def _asset(name: str) -> str:
    return resources.files("cjkit.render.html").joinpath("templates", name).read_text("utf-8")


def render(
    *,
    words: Words,
    title: str,
    subtitle: str,
    header: list[tuple[str, str]],
    sections: list[Section],
    findings: list[str] | None = None,
    warnings: list[str] | None = None,
    footer: str = "",
    data: dict[str, Any] | None = None,
) -> str:
    """Return the whole HTML page (``data``: the run's JSON document, embedded for reuse)."""
    template = _environment().get_template("page.html.j2")
    return str(
        template.render(
            t=words,
            lang=words.lang,
            title=title,
            subtitle=subtitle,
            header=header,
            sections=sections,
            findings=findings or [],
            warnings=warnings or [],
            footer=footer,
            data=data,
            docs=DOCS,
            css=_asset("style.css"),
            app_js=_asset("app.js"),
            plotly_js=plotly_js(),
        )
    )
