"""``justify report``: the audit story as one file to archive (HTML or Markdown).

A renderer of the judgement: the recorded one when the graph has not changed since
the last recorded check, else one made in memory (the report then says so). It never
writes to the store. The header names the time, the HEAD commit of the project and
the justify version.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from justify import __version__, explore
from justify._elicit import PatternConformance, conformance
from justify._history import head_commit
from justify.check_formats import criterion_line, markdown_text
from justify.choices import REPORT_FORMATS
from justify.config import Config, load_config
from justify.errors import UsageError
from justify.judgement import CriterionVerdict, ShipVerdict, current
from justify.progress import Progress
from justify.provenance import now
from justify.store import GraphStore, open_store


@dataclass
class AuditReport:
    """Everything the report prints, gathered once and rendered per format."""

    project: str
    written: str
    head: str | None
    version: str
    store: str
    engine: str
    counts: dict[str, int]
    requirements: list[explore.Row]
    views: dict[str, explore.RequirementView]
    models: list[ShipVerdict]
    imports: list[explore.SourceImport]
    problems: list[explore.Problem] = field(default_factory=list)
    changed_since: bool = False
    fail_on: str = "violation"


def gather(*, config: Config | None = None, store: GraphStore | None = None) -> AuditReport:
    config = config or load_config()
    store = store or open_store(config)
    live = current(config=config, store=store)
    rows = explore.requirements(store, config.base_iri)
    for row in rows:
        judged = live.requirements.get(row["id"] or "")
        row["status"] = judged.status if judged else row["status"]
    views: dict[str, explore.RequirementView] = {}
    patterns = explore.patterns_of(store, config.base_iri, live)
    for row in rows:
        # The judgement at hand renders every page (it may be newer than the recorded one).
        view = explore.requirement_view(store, config.base_iri, row["id"] or "", live, patterns)
        if view is not None:
            views[row["id"] or ""] = view
    counts = {status: 0 for status in explore.SHOWN_STATUSES}
    for row in rows:
        counts[row["status"] or ""] = counts.get(row["status"] or "", 0) + 1
    problems = [
        explore.Problem(req.id, req.status, r.rule, r.severity, r.message, "")
        for r in live.results
        if (req := live.requirement_of(r)) is not None
    ]
    problems.sort(key=lambda p: (explore.SEVERITY_ORDER.get(p.severity, 3),
                                 explore.STATUS_ORDER.get(p.status, 9), p.requirement))  # fmt: skip
    return AuditReport(
        project=config.root.name,
        written=now().isoformat(timespec="seconds").replace("+00:00", "Z"),
        head=head_commit(config),
        version=__version__,
        store=store.location,
        engine=live.engine,
        counts=counts,
        requirements=rows,
        views=views,
        models=live.models,
        imports=explore.imports(store),
        problems=problems,
        changed_since=live.changed_since,
        fail_on=live.fail_on,
    )


@dataclass(frozen=True)
class Plot:
    """One criterion's plot as SVG (None when no evidence run logged its metric)."""

    criterion: CriterionVerdict
    svg: str | None
    unplotted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figures:
    """A requirement's figures: the justification diagram and one plot per criterion."""

    diagram: str
    plots: tuple[Plot, ...]


def figures(view: explore.RequirementView, ident: str) -> Figures:
    """The same figures as the explorer's requirement page, as SVG; ``ident`` keeps
    the ids inside each SVG apart when several share one HTML page."""
    plots = []
    for i, criterion in enumerate(view.criteria):
        points = explore.criterion_points(view, criterion)
        drawn = [p for p in points if p.number is not None]
        svg = None
        if drawn:
            chart = explore.criterion_chart(points, criterion, width=560)
            svg = _scoped(explore.chart_svg(chart), f"{ident}-c{i}")
        plots.append(Plot(criterion, svg, tuple(explore.unplotted(points))))
    return Figures(_scoped(explore.diagram_svg(view), f"{ident}-d"), tuple(plots))


def _scoped(svg: str, prefix: str) -> str:
    """Prefix the ids an SVG defines (clip paths, markers) and every reference to them."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", prefix)
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{safe}-{m.group(1)}"', svg)
    return re.sub(r"(url\(#|href=\"#)([^)\"]+)", lambda m: f"{m.group(1)}{safe}-{m.group(2)}", svg)


def all_figures(report: AuditReport, *, progress: bool = True) -> dict[str, Figures]:
    """Every requirement's figures (about 0.1 s each; the first plot starts the renderer)."""
    counter = Progress("figures", total=len(report.views), enabled=progress)
    found = {}
    for rid, view in report.views.items():
        found[rid] = figures(view, rid)
        counter.advance()
    counter.done()
    return found


def evidence_lines(view: explore.RequirementView) -> list[str]:
    """Each criterion with its verdict and the value it was judged on (the judgement's)."""
    judged = view.judged
    evidence = judged.current_evidence_name if judged else None
    lines = [f"current evidence: run {evidence}"] if evidence else []
    return lines + [criterion_line(c) for c in view.criteria]


def _support_lines(view: explore.RequirementView) -> list[str]:
    lines = [
        f"commit {str(c['sha'])[:8]} “{c['title']}” by {c['author']} (Justifies: trailer)"
        for c in view.commits
    ]
    lines += [
        f"attestation by {a['by']} on {a['date']}: {a['statement']}" for a in view.attestations
    ]
    lines += [f"applies to {v.label}: {v.verdict.upper()}" for v in view.versions]
    lines += [f"{f['relation']} {f['id']} [{f['status']}]" for f in view.family]
    head = view.head
    if head.get("changedSha"):
        lines.append(
            f"text last changed in commit {str(head['changedSha'])[:8]} “{head['changedTitle']}”"
        )
    return lines


# -- Markdown ---------------------------------------------------------------------
def by_pattern(report: AuditReport) -> list[PatternConformance]:
    """The justifications grouped by the pattern they follow (the auditors' master file)."""
    return conformance(v.pattern for v in report.views.values() if v.pattern is not None)


def _slot_cell(state: str) -> str:
    return {"filled": "filled", "failing": "FAILING", "missing": "MISSING"}.get(state, state)


def to_markdown(
    report: AuditReport, figure_links: dict[str, list[tuple[str, str]]] | None = None
) -> str:
    """The report in Markdown; ``figure_links`` gives, per requirement id, the figures
    written beside it as (caption, relative path)."""
    out = [
        f"# Justification report: {report.project}",
        "",
        f"Written {report.written} by justify {report.version} · HEAD "
        f"`{report.head or 'not a Git repository'}` · store `{report.store}` · "
        f"check engine {report.engine} · fail on {report.fail_on}",
        "",
        *(
            [
                "> The graph changed after the last recorded check: judged afresh for this report.",
                "",
            ]
            if report.changed_since
            else []
        ),
        "## May it ship?",
        "",
    ]
    for v in report.models:
        out.append(
            f"- **{_md(v.label)}**: {v.verdict.upper()}; " + "; ".join(_md(r) for r in v.reasons)
        )
    if not report.models:
        out.append("No registered model version in the graph.")
    if report.problems:
        out += ["", "## Problems, worst first", ""]
        out += [
            f"- **{_md(p.requirement)}** {p.severity} {_md(p.rule)}: {_md(p.message)}"
            for p in report.problems
        ]
    out += [
        "",
        "## Summary",
        "",
        "| status | requirements |",
        "| --- | ---: |",
        *(f"| {s} | {n} |" for s, n in report.counts.items() if n),
        "",
        "## Sources",
        "",
        "| source | location | last import | items |",
        "| --- | --- | --- | ---: |",
    ]
    out += [f"| {s.kind} | {_md(s.location)} | {s.ended} | {s.items} |" for s in report.imports]
    groups = by_pattern(report)
    if groups:
        out += ["", "## Justifications by pattern", ""]
    for g in groups:
        out += [
            f"### Pattern {g.pattern}: {_md(g.title)} ({g.complete} of {len(g.requirements)} "
            "complete)",
            "",
            f"*Strategy:* {_md(g.strategy)}. *Rationale:* {_md(g.rationale)} "
            f"*Usage domain:* {_md(g.usage_domain)}",
            "",
            "| requirement | status | complete | slots |",
            "| --- | --- | --- | --- |",
        ]
        for e in g.requirements:
            slots = ", ".join(f"{s.id}: {_slot_cell(s.state)}" for s in e.slots)
            out.append(f"| {e.requirement} | {e.status} | {'yes' if e.conforms else 'no'} "
                       f"| {_md(slots)} |")  # fmt: skip
        out.append("")
    out += ["", "## Requirements", ""]
    for row in report.requirements:
        view = report.views.get(row["id"] or "")
        out.append(f"### {row['id']}: {_md(row['title'] or '')} [{row['status']}]")
        out.append("")
        out.append(
            f"{row['kind']} · priority {row['priority'] or '-'} · owner "
            f"{row['owner'] or '-'} · model {row['model'] or '-'} · {row['source']}"
        )
        if view is None:
            continue
        if view.head.get("statement"):
            out += ["", f"> {_md(view.head['statement'] or '')}"]
        evidence = evidence_lines(view)
        support = _support_lines(view)
        if evidence or support:
            out.append("")
            out += [f"- {_md(line)}" for line in evidence + support]
        for caption, path in (figure_links or {}).get(row["id"] or "", []):
            out += ["", f"![{_md(caption)}]({path})"]
        if view.annotations:
            out += ["", "Annotations:", ""]
            out += [f"- {_md(a['key'] or '')}: {_md(a['value'] or '')}" for a in view.annotations]
        if view.results:
            out += ["", "Check results:", ""]
            out += [
                f"- **{r['severity']} {r['rule']}**: {_md(r['message'] or '')}"
                for r in view.results
            ]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md(text: str) -> str:
    return markdown_text(text)


# -- HTML -------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:70rem;padding:0 1rem;color:#222;line-height:1.45}
h1{margin-bottom:.2rem} .meta{color:#555;font-size:.9rem}
table{border-collapse:collapse;margin:.5rem 0} td,th{border:1px solid #ccc;padding:.25rem .6rem;
text-align:left;vertical-align:top} th{background:#f3f3f3}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:.7rem;color:#fff;font-size:.85rem}
.req{border:1px solid #ddd;border-radius:.4rem;padding:.6rem 1rem;margin:1rem 0}
.ship{color:#2e7d32;font-weight:bold} .noship{color:#c62828;font-weight:bold}
blockquote{margin:.4rem 0;padding-left:.8rem;border-left:3px solid #bbb;color:#333}
.violation{color:#c62828} .warning{color:#ef6c00} code{font-size:.85rem}
"""


def _badge(status: str) -> str:
    colour = explore.STATUS_COLOURS.get(status, "#455a64")
    return f'<span class="badge" style="background:{colour}">{html.escape(status)}</span>'


def to_html(report: AuditReport, figures: dict[str, Figures] | None = None) -> str:
    """The report as one self-contained HTML file: figures are inline SVG."""
    e: Callable[[object], str] = lambda value: html.escape(str(value or ""))  # noqa: E731
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Justification report: {e(report.project)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Justification report: {e(report.project)}</h1>",
        f'<p class="meta">Written {e(report.written)} by justify {e(report.version)} · HEAD '
        f"<code>{e(report.head or 'not a Git repository')}</code> · store "
        f"<code>{e(report.store)}</code> · check engine {e(report.engine)} · fail on "
        f"{e(report.fail_on)}</p>",
        *(
            [
                '<p class="warning">The graph changed after the last recorded check: judged '
                "afresh for this report.</p>"
            ]
            if report.changed_since
            else []
        ),
        '<h2 id="ship">May it ship?</h2><ul class="verdicts">',
    ]
    for v in report.models:
        css = {"ship": "ship", "ship with warnings": "warning"}.get(v.verdict, "noship")
        parts.append(
            f'<li><b>{e(v.label)}</b>: <span class="{css}">{e(v.verdict.upper())}</span><ul>'
            + "".join(f"<li>{e(r)}</li>" for r in v.reasons)
            + "</ul></li>"
        )
    if not report.models:
        parts.append("<li>No registered model version in the graph.</li>")
    parts.append("</ul>")
    if report.problems:
        parts.append('<h2 id="problems">Problems, worst first</h2><ul>')
        parts += [
            f'<li class="{e(p.severity)}"><a href="#{e(p.requirement)}">{e(p.requirement)}</a> '
            f"{e(p.severity)} {e(p.rule)}: {e(p.message)}</li>"
            for p in report.problems
        ]
        parts.append("</ul>")
    parts += [
        "<h2>Summary</h2><table><tr><th>status</th><th>requirements</th></tr>",
        *(f"<tr><td>{_badge(s)}</td><td>{n}</td></tr>" for s, n in report.counts.items() if n),
        "</table>",
        "<h2>Sources</h2><table><tr><th>source</th><th>location</th><th>last import</th>"
        "<th>items</th></tr>",
    ]
    parts += [
        f"<tr><td>{e(s.kind)}</td><td>{e(s.location)}</td><td>{e(s.ended)}</td>"
        f"<td>{s.items}</td></tr>"
        for s in report.imports
    ]
    parts.append("</table>")
    groups = by_pattern(report)
    if groups:
        parts.append('<h2 id="patterns">Justifications by pattern</h2>')
    for g in groups:
        parts += [
            f"<h3>Pattern {e(g.pattern)}: {e(g.title)} ({g.complete} of "
            f"{len(g.requirements)} complete)</h3>",
            f"<p><b>Strategy:</b> {e(g.strategy)}. <b>Rationale:</b> {e(g.rationale)} "
            f"<b>Usage domain:</b> {e(g.usage_domain)}</p>",
            "<table><tr><th>requirement</th><th>status</th><th>complete</th>"
            + "".join(f"<th>{e(s.id)}</th>" for s in g.requirements[0].slots)
            + "</tr>",
        ]
        for item in g.requirements:
            parts.append(
                f'<tr><td><a href="#{e(item.requirement)}">{e(item.requirement)}</a></td>'
                f"<td>{_badge(item.status)}</td><td>{'yes' if item.conforms else 'no'}</td>"
                + "".join(f"<td>{e(_slot_cell(s.state))}</td>" for s in item.slots)
                + "</tr>"
            )
        parts.append("</table>")
    parts.append("<h2>Requirements</h2>")
    for row in report.requirements:
        view = report.views.get(row["id"] or "")
        parts.append(
            f'<div class="req" id="{e(row["id"])}"><h3>{e(row["id"])}: {e(row["title"])} '
            f"{_badge(row['status'] or '')}</h3>"
            f'<p class="meta">{e(row["kind"])} · priority {e(row["priority"] or "-")} · owner '
            f"{e(row['owner'] or '-')} · model {e(row['model'] or '-')} · {e(row['source'])}</p>"
        )
        if view is not None:
            if view.head.get("statement"):
                parts.append(f"<blockquote>{e(view.head['statement'])}</blockquote>")
            if view.head.get("rationale"):
                parts.append(f"<p><b>Rationale.</b> {e(view.head['rationale'])}</p>")
            lines = evidence_lines(view) + _support_lines(view)
            if lines:
                parts.append("<ul>" + "".join(f"<li>{e(line)}</li>" for line in lines) + "</ul>")
            found = (figures or {}).get(row["id"] or "")
            if found is not None:
                parts.append(_figures_html(found))
            if view.annotations:
                parts.append(
                    "<p><b>Annotations</b></p><ul>"
                    + "".join(f"<li>{e(a['key'])}: {e(a['value'])}</li>" for a in view.annotations)
                    + "</ul>"
                )
            if view.results:
                parts.append(
                    "<p><b>Check results</b></p><ul>"
                    + "".join(
                        f'<li class="{e(r["severity"])}"><b>{e(r["severity"])} {e(r["rule"])}</b>'
                        f": {e(r['message'])}</li>"
                        for r in view.results
                    )
                    + "</ul>"
                )
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _figures_html(found: Figures) -> str:
    e = html.escape
    parts = [
        '<figure class="diagram">' + found.diagram + "<figcaption>Justification diagram "
        "(conclusion ← strategy ← supports): "
        + e("; ".join(explore.DIAGRAM_LEGEND.values()))
        + "</figcaption></figure>"
    ]
    for plot in found.plots:
        caption = e(f"{plot.criterion.label}: {plot.criterion.metric} over the evidence runs")
        if plot.svg is None:
            parts.append(
                f'<p class="warning">No evidence run logged {e(plot.criterion.metric)}.</p>'
            )
            continue
        notes = "".join(f"<br>Not drawn, not a finite number: {e(n)}" for n in plot.unplotted)
        parts.append(
            f'<figure class="plot">{plot.svg}<figcaption>{caption}; green met, red not met, '
            f"grey not judged (another dataset); the ring marks the current evidence{notes}"
            "</figcaption></figure>"
        )
    return "\n".join(parts)


def report(
    output: str | Path,
    *,
    fmt: str = "html",
    config: Config | None = None,
    store: GraphStore | None = None,
) -> AuditReport:
    """Gather the audit report and write it to ``output`` as HTML or Markdown."""
    if fmt not in REPORT_FORMATS:
        raise UsageError(
            f"unknown report format {fmt!r}", hint="use one of: " + ", ".join(REPORT_FORMATS)
        )
    audit = gather(config=config, store=store)
    write(audit, fmt, Path(output))
    return audit


def write(report: AuditReport, fmt: str, output: Path, *, progress: bool = True) -> None:
    """Write the report; Markdown gets its figures as SVG files in a folder beside it
    (``audit.md`` → ``audit-figures/``), HTML inline."""
    if fmt not in REPORT_FORMATS:
        raise UsageError(
            f"unknown report format {fmt!r}", hint="use one of: " + ", ".join(REPORT_FORMATS)
        )
    found = all_figures(report, progress=progress)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "html":
            text = to_html(report, found)
        else:
            folder = output.with_name(f"{output.stem}-figures")
            folder.mkdir(exist_ok=True)
            links: dict[str, list[tuple[str, str]]] = {}
            for rid, figs in found.items():
                stem = re.sub(r"[^A-Za-z0-9_.-]", "_", rid)
                named = [(f"justification diagram of {rid}", f"{stem}-diagram.svg", figs.diagram)]
                named += [
                    (f"{plot.criterion.label}: {plot.criterion.metric} over the evidence runs",
                     f"{stem}-criterion-{i + 1}.svg", plot.svg)
                    for i, plot in enumerate(figs.plots)
                    if plot.svg is not None
                ]  # fmt: skip
                for caption, name, svg in named:
                    (folder / name).write_text(svg, encoding="utf-8")
                    links.setdefault(rid, []).append((caption, f"{folder.name}/{name}"))
            text = to_markdown(report, links)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot write the report to {output}: {exc}", hint="choose another -o path"
        ) from exc
