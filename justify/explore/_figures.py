"""The figures of a requirement, built once for the explorer and the report: each
criterion's plot (a Vega-Lite chart: Streamlit draws it in the browser, the report
turns it into SVG) and the justification diagram as SVG.

A plot only draws: which value each run is judged on and whether it meets the
criterion come from the judgement (``judgement.evidence_values``); values the
criterion is not judged on (other datasets) are drawn grey for context.
"""

from __future__ import annotations

import html
import math
import textwrap
from dataclasses import dataclass
from typing import Any

from justify.explore._diagram import Diagram, justification_diagram
from justify.explore._requirement import RequirementView
from justify.judgement import CriterionVerdict

# Point colours: the judgement's verdict of each value.
POINT_COLOURS = {"met": "#2e7d32", "not met": "#c62828", "not judged": "#9e9e9e"}
NO_DATASET = "no dataset recorded"


@dataclass(frozen=True)
class PlotPoint:
    """One value of a criterion's metric in one evidence run."""

    run: str  # the run's name
    run_iri: str
    ended: str
    value: str  # as recorded
    dataset: str  # NO_DATASET when the value names none
    verdict: str  # met, not met (the judgement's), or not judged
    current: bool  # the run is the current evidence

    @property
    def number(self) -> float | None:
        """The value as a finite number, None when it cannot be drawn (NaN, text)."""
        try:
            number = float(self.value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None


def criterion_points(view: RequirementView, criterion: CriterionVerdict) -> list[PlotPoint]:
    """Every value of the criterion's metric in the evidence runs, oldest first, with
    the judgement's verdict on the values it judges."""
    verdicts = {
        (v.run, v.measured_on): ("met" if v.meets else "not met")
        for v in view.values
        if v.criterion == criterion.iri
    }
    runs = {run["run"]: run for run in view.runs}
    current = set(view.current)
    points = []
    for m in view.measurements:
        run = runs.get(m["run"])
        if m["key"] != criterion.metric or run is None or not run["end"]:
            continue
        points.append(
            PlotPoint(
                run=run["name"] or (run["runId"] or "")[:8],
                run_iri=m["run"] or "",
                ended=run["end"],
                value=m["value"] or "",
                dataset=m["dataset"] or NO_DATASET,
                verdict=verdicts.get((m["run"] or "", m["dataset"]), "not judged"),
                current=m["run"] in current,
            )
        )
    return sorted(points, key=lambda p: (p.ended, p.dataset))


def criterion_chart(
    points: list[PlotPoint],
    criterion: CriterionVerdict,
    *,
    width: int | None = None,
    interactive: bool = False,
) -> dict[str, Any]:
    """The metric over the evidence runs as a Vega-Lite specification: points coloured
    by verdict, the current evidence ringed, the threshold line labelled, one line per
    dataset. Plain data: Streamlit draws it, vl-convert turns it into SVG (building it
    through Altair cost more than drawing it)."""
    values: list[dict[str, Any]] = [
        {
            "run": p.run,
            "ended": p.ended,
            "value": p.number,
            "dataset": p.dataset,
            "verdict": p.verdict,
            "evidence": "current evidence" if p.current else "evidence",
        }
        for p in points
        if p.number is not None
    ]
    many = len({v["dataset"] for v in values}) > 1
    # Dates as dates, in UTC, at the precision the runs need: runs that end seconds
    # apart made Vega pick millisecond ticks, and a report must not depend on the
    # reader's time zone.
    ends = sorted(v["ended"] for v in values)
    date, fmt = _time_format(ends[0], ends[-1]) if ends else ("", "%Y-%m-%d %H:%M")
    x = {
        "field": "ended",
        "type": "temporal",
        "title": f"run ended (UTC{', ' + date if date else ''})",
        "scale": {"type": "utc", "padding": 16},
        "axis": {"format": fmt, "labelAngle": -30, "tickCount": 6},
    }
    # Padding keeps the rings of the extreme points inside the frame.
    y = {
        "field": "value",
        "type": "quantitative",
        "title": criterion.metric,
        "scale": {"zero": False, "padding": 16},
    }
    colour = {
        "field": "verdict",
        "type": "nominal",
        "title": "verdict",
        "scale": {"domain": list(POINT_COLOURS), "range": list(POINT_COLOURS.values())},
    }
    tooltip = [
        {"field": "run", "type": "nominal"},
        {"field": "ended", "type": "temporal"},
        {"field": "value", "type": "quantitative"},
        {"field": "dataset", "type": "nominal"},
        {"field": "verdict", "type": "nominal"},
        {"field": "evidence", "type": "nominal"},
    ]
    line: dict[str, Any] = {
        "mark": {"type": "line", "color": "#90a4ae"},
        "encoding": {"x": x, "y": y, "detail": {"field": "dataset", "type": "nominal"}},
    }
    dots: dict[str, Any] = {
        "mark": {"type": "point", "filled": True, "size": 90},
        "encoding": {"x": x, "y": y, "color": colour, "tooltip": tooltip},
    }
    if many:
        line["encoding"]["strokeDash"] = {"field": "dataset", "type": "nominal", "legend": None}
        dots["encoding"]["shape"] = {"field": "dataset", "type": "nominal", "title": "dataset"}
    if interactive:  # zoom and pan in the browser
        dots["params"] = [{"name": "zoom", "select": "interval", "bind": "scales"}]
    # The current evidence stands out by a ring, whatever its colour; the subtitle
    # says what the ring is, so no label can run into the legend.
    ring = {
        "transform": [{"filter": "datum.evidence === 'current evidence'"}],
        "mark": {"type": "point", "shape": "circle", "size": 420, "filled": False,
                 "strokeWidth": 2.5, "color": "#212121"},
        "encoding": {"x": x, "y": y, "tooltip": tooltip},
    }  # fmt: skip
    layers: list[dict[str, Any]] = [line, dots, ring]
    if criterion.threshold is not None:
        rule_data = {
            "values": [
                {"threshold": criterion.threshold,
                 "label": f"threshold {criterion.op} {criterion.threshold:g}"}
            ]
        }  # fmt: skip
        threshold_y = {"field": "threshold", "type": "quantitative"}
        layers.append(
            {
                "data": rule_data,
                "mark": {"type": "rule", "color": "#c62828", "strokeDash": [6, 3]},
                "encoding": {"y": threshold_y},
            }
        )
        layers.append(
            {
                "data": rule_data,
                "mark": {"type": "text", "align": "left", "dx": 4, "dy": -7, "color": "#c62828"},
                "encoding": {
                    "y": threshold_y,
                    "x": {"value": 0},
                    "text": {"field": "label", "type": "nominal"},
                },
            }
        )
    current = sorted({p.run for p in points if p.current})
    subtitle = (
        f"ringed: the current evidence, run {', '.join(current)}"
        if current
        else "no current evidence"
    )
    spec: dict[str, Any] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {"text": criterion.label, "subtitle": subtitle, "anchor": "start",
                  "fontSize": 12},
        "data": {"values": values},
        "layer": layers,
    }  # fmt: skip
    if width is not None:
        spec.update(width=width, height=220)
    return spec


def _time_format(first: str, last: str) -> tuple[str, str]:
    """The day the runs share (for the axis title) and a tick format fine enough to
    tell their ends apart."""
    from datetime import datetime

    try:
        start = datetime.fromisoformat(first.replace("Z", "+00:00"))
        end = datetime.fromisoformat(last.replace("Z", "+00:00"))
    except ValueError:
        return "", "%Y-%m-%d %H:%M"
    span = (end - start).total_seconds()
    same_day = start.date() == end.date()
    day = start.date().isoformat() if same_day else ""
    if span < 600:
        return day, "%H:%M:%S"
    if same_day:
        return day, "%H:%M"
    return "", "%Y-%m-%d" if span > 4 * 86400 else "%Y-%m-%d %H:%M"


def unplotted(points: list[PlotPoint]) -> list[str]:
    """Values a plot cannot draw (NaN, infinities, text), said in words instead."""
    return [
        f"run {p.run}: {p.value}" + ("" if p.dataset == NO_DATASET else f" on {p.dataset}")
        + f" ({p.verdict})"
        for p in points
        if p.number is None
    ]  # fmt: skip


def chart_svg(chart: dict[str, Any]) -> str:
    """A chart as SVG, rendered locally: its data is inline, and no URL may be read."""
    import vl_convert

    return str(vl_convert.vegalite_to_svg(chart, allowed_base_urls=[]))


# ---------------------------------------------------------------- diagram as SVG

_FONT = 11  # px, the diagram's text
_CHAR = 6.3  # px, a generous average width of one character at that size
_WRAP = 38  # characters per line
_PAD_X, _PAD_Y, _LINE = 10, 7, 14
_GAP_X, _GAP_Y = 18, 46


def _lines(label: str) -> list[str]:
    return [part for line in label.split("\n") for part in textwrap.wrap(line, _WRAP) or [""]]


def diagram_svg(view: RequirementView) -> str:
    """The justification diagram as one SVG element, laid out in layers: the
    conclusion on top, each support below what it supports (Graphviz's rankdir=BT)."""
    return _layout_svg(justification_diagram(view))


def _layout_svg(diagram: Diagram) -> str:
    nodes = {n.name: n for n in diagram.nodes}
    targets: dict[str, list[str]] = {n: [] for n in nodes}
    for e in diagram.edges:
        targets[e.source].append(e.target)
    layer: dict[str, int] = {}

    def depth(name: str, seen: frozenset[str] = frozenset()) -> int:
        # A node sits one layer below the lowest of the nodes it supports.
        if name not in layer:
            above = [depth(t, seen | {name}) for t in targets[name] if t not in seen]
            layer[name] = 1 + max(above) if above else 0
        return layer[name]

    for name in nodes:
        depth(name)
    rows: dict[int, list[str]] = {}
    for name in nodes:  # in the diagram's order: conclusion, strategy, criteria, runs...
        rows.setdefault(layer[name], []).append(name)
    size = {}
    for name, n in nodes.items():
        lines = _lines(n.label)
        size[name] = (
            max(len(line) for line in lines) * _CHAR + 2 * _PAD_X,
            len(lines) * _LINE + 2 * _PAD_Y,
        )
    heights = {r: max(size[n][1] for n in names) for r, names in rows.items()}
    widths = {r: sum(size[n][0] for n in names) + _GAP_X * (len(names) - 1)
              for r, names in rows.items()}  # fmt: skip
    total_w = max(widths.values()) + 20
    place: dict[str, tuple[float, float]] = {}  # centre of each node
    y = 10.0
    for r in sorted(rows):
        x = (total_w - widths[r]) / 2
        for name in rows[r]:
            w = size[name][0]
            place[name] = (x + w / 2, y + heights[r] / 2)
            x += w + _GAP_X
        y += heights[r] + _GAP_Y
    total_h = y - _GAP_Y + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" viewBox="0 0 {total_w:.0f} '
        f'{total_h:.0f}" width="{total_w:.0f}" height="{total_h:.0f}" role="img" '
        f'aria-label="justification diagram" font-family="Helvetica, Arial, sans-serif" '
        f'font-size="{_FONT}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555555"/></marker></defs>',
    ]
    dash = {"dashed": ' stroke-dasharray="6 4"', "dotted": ' stroke-dasharray="2 3"'}
    for e in diagram.edges:
        (sx, sy), (tx, ty) = place[e.source], place[e.target]
        below = sy > ty  # the usual case: a support under what it supports
        y1 = sy - size[e.source][1] / 2 if below else sy + size[e.source][1] / 2
        y2 = ty + size[e.target][1] / 2 if below else ty - size[e.target][1] / 2
        out.append(
            f'<line x1="{sx:.1f}" y1="{y1:.1f}" x2="{tx:.1f}" y2="{y2:.1f}" '
            f'stroke="{e.colour}" stroke-width="1.3"{dash.get(e.style, "")} '
            'marker-end="url(#arrow)"/>'
        )
        if e.label:  # a third of the way from the support, on a white halo
            out.append(
                f'<text x="{sx + (tx - sx) / 3 + 4:.1f}" y="{y1 + (y2 - y1) / 3:.1f}" '
                f'fill="#333333" font-size="{_FONT - 1}" stroke="#ffffff" stroke-width="3" '
                f'paint-order="stroke">{html.escape(e.label)}</text>'
            )
    for name, n in nodes.items():
        cx, cy = place[name]
        w, h = size[name]
        out.append(_shape(n.shape, cx, cy, w, h, n.colour))
        lines = _lines(n.label)
        first = cy - (len(lines) - 1) * _LINE / 2
        fill = "#212121" if n.shape == "plaintext" else "#ffffff"
        for i, line in enumerate(lines):
            out.append(
                f'<text x="{cx:.1f}" y="{first + i * _LINE:.1f}" text-anchor="middle" '
                f'dominant-baseline="central" fill="{fill}">{html.escape(line)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out)


def _shape(shape: str, cx: float, cy: float, w: float, h: float, colour: str) -> str:
    left, top = cx - w / 2, cy - h / 2
    if shape == "ellipse":
        return (f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{w / 2 + 6:.1f}" ry="{h / 2 + 2:.1f}" '
                f'fill="{colour}"/>')  # fmt: skip
    if shape == "parallelogram":
        s = 10
        corners = [
            (left + s, top),
            (left + w + s, top),
            (left + w - s, top + h),
            (left - s, top + h),
        ]
        return (
            '<polygon points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in corners)
            + (f'" fill="{colour}"/>')
        )
    if shape == "plaintext":
        return ""
    rounded = 6 if shape == "box" else 1
    return (f'<rect x="{left:.1f}" y="{top:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'rx="{rounded}" fill="{colour}"/>')  # fmt: skip
