"""Paths as a Sankey diagram, from the ``links`` of the paths analysis (source, target, value)."""

from __future__ import annotations

from typing import Any

from cjkit.render.html.i18n import Words
from cjkit.render.html.page import PALETTE, Cell, Chart, Section, Table, base_layout, cell_num

DOC_PATHS = "paths"


def _name(key: str) -> str:
    """Return the event of a node key ``"<step>_<node>"`` (the step is the Sankey column)."""
    step, sep, node = key.partition("_")
    return node if sep and step.isdigit() else key


def paths_section(doc: dict[str, Any], t: Words) -> Section:
    """Return the paths section: a Sankey of the links and their numbers."""
    section = Section("paths", t("paths"), doc=DOC_PATHS)
    links = [
        (
            str(link.get("source")),
            str(link.get("target")),
            int(link.get("value") or link.get("units") or 0),
        )
        for link in doc.get("links") or []
        if isinstance(link, dict)
    ]
    if not links:
        return section
    nodes = list(dict.fromkeys([s for s, _, _ in links] + [d for _, d, _ in links]))
    index = {n: i for i, n in enumerate(nodes)}
    figure = {
        "data": [
            {
                "type": "sankey",
                "arrangement": "snap",
                "node": {
                    "label": [_name(n) for n in nodes],
                    "pad": 14,
                    "thickness": 14,
                    "color": [PALETTE[i % len(PALETTE)] for i in range(len(nodes))],
                },
                "link": {
                    "source": [index[s] for s, _, _ in links],
                    "target": [index[d] for _, d, _ in links],
                    "value": [v for _, _, v in links],
                    "color": "rgba(59,111,216,0.25)",
                },
            }
        ],
        "layout": base_layout(t, margin={"l": 16, "r": 16, "t": 16, "b": 16}),
    }
    rows = [[Cell(_name(s)), Cell(_name(d)), cell_num(t.whole(v), v)] for s, d, v in links]
    table = Table([t("from"), t("to"), t("units")], rows, key="paths")
    section.charts.append(
        Chart("paths-sankey", t("paths_chart"), figure, table, DOC_PATHS, height=460)
    )
    return section
