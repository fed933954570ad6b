"""The justification diagram of one requirement, as Graphviz DOT text."""

from __future__ import annotations

from justify.explore._requirement import RequirementView

# What each colour of the diagram means; the legend prints exactly this.
DIAGRAM_LEGEND = {
    "#2e7d32": "green: holds (justified, criterion met, run meets every criterion it is judged on)",
    "#c62828": "red: fails (failing requirement, criterion not met, run misses a criterion)",
    "#ef6c00": "orange: unjustified or stale",
    "#757575": "grey: draft, retired, or not judged (older runs, no evidence)",
}
_NODE_COLOURS = {
    "justified": "#2e7d32",
    "failing": "#c62828",
    "unjustified": "#ef6c00",
    "stale": "#ef6c00",
    "unchecked": "#757575",
    "draft": "#757575",
    "retired": "#757575",
}
_CRITERION_COLOURS = {"met": "#2e7d32", "not met": "#c62828", "no evidence": "#ef6c00"}


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def justification_dot(view: RequirementView) -> str:
    """The justification diagram in Graphviz DOT, drawn from the judgement:
    conclusion <- strategy <- supports, coloured as DIAGRAM_LEGEND says."""
    head = view.head

    def node(name: str, label: str, colour: str, shape: str = "box") -> str:
        text = "\\n".join(_dot_text(part) for part in label.split("\n"))
        return (
            f'  "{name}" [label="{text}", shape={shape}, style="rounded,filled", '
            f'fillcolor="{colour}", fontcolor="white"];'
        )

    status = head.get("status") or ""
    lines = [
        "digraph justification {",
        '  rankdir=BT; node [fontname=Helvetica, fontsize=11]; edge [color="#555555"];',
        node(
            "conclusion",
            f"{head['id']}: {head['title']}\n[{status}]",
            _NODE_COLOURS.get(status, "#757575"),
        ),
    ]
    strategy = head.get("strategy") or "evidence meets the acceptance criteria"
    lines.append(node("strategy", f"strategy: {strategy}", "#37474f", "parallelogram"))
    lines.append('  "strategy" -> "conclusion";')
    for i, c in enumerate(view.criteria):
        label = f"criterion: {c.label}\n{c.verdict}" + (
            f" ({c.metric} = {c.value})" if c.value is not None else ""
        )
        lines.append(node(f"c{i}", label, _CRITERION_COLOURS.get(c.verdict, "#757575"), "note"))
        lines.append(f'  "c{i}" -> "strategy";')
    commits: dict[str, str] = {}  # one node per commit

    def commit_node(sha: str, title: str | None) -> str:
        if sha not in commits:
            commits[sha] = f"k{len(commits)}"
            text = f"commit {sha[:8]}" + (f"\n{title}" if title else "")
            lines.append(node(commits[sha], text, "#5d4037"))
        return commits[sha]

    current = set(view.current)
    missed = any(c.verdict == "not met" for c in view.criteria)
    for i, run in enumerate(view.runs[:8]):
        if run["run"] in current:
            colour = "#c62828" if missed else "#2e7d32"
            label = f"run {run['name'] or run['runId'][:8]}\n{run['status']} (current evidence)"
        else:
            colour = "#757575"
            label = f"run {run['name'] or run['runId'][:8]}\n{run['status']} (not judged)"
        lines.append(node(f"r{i}", label, colour, "ellipse"))
        lines.append(f'  "r{i}" -> "strategy";')
        if run.get("sha"):
            lines.append(f'  "{commit_node(str(run["sha"]), None)}" -> "r{i}" [style=dashed];')
    if len(view.runs) > 8:
        lines.append(node("more", f"… {len(view.runs) - 8} older runs", "#9e9e9e", "plaintext"))
        lines.append('  "more" -> "strategy" [style=dotted];')
    for k in view.commits:
        name = commit_node(str(k["sha"]), k["title"])
        lines.append(f'  "{name}" -> "strategy" [label="Justifies"];')
    if view.stale_commit is not None:
        name = commit_node(str(view.stale_commit["sha"]), view.stale_commit["title"])
        lines.append(f'  "{name}" -> "conclusion" [style=dashed, color="#ef6c00", '
                     'label="changed it after its evidence"];')  # fmt: skip
    for i, a in enumerate(view.attestations):
        lines.append(node(f"a{i}", f"attestation by {a['by']}\n{a['date']}", "#6a1b9a"))
        lines.append(f'  "a{i}" -> "strategy";')
    for i, f in enumerate(view.family):
        colour = _NODE_COLOURS.get(f.get("status") or "", "#757575")
        label = f"{f['id']}: {f['title'] or ''}\n[{f.get('status')}]"
        lines.append(node(f"f{i}", label, colour))
        if f["relation"] == "sub-requirement":
            lines.append(f'  "f{i}" -> "strategy";')
        else:
            lines.append(f'  "conclusion" -> "f{i}" [style=dashed, label="supports"];')
    lines.append("}")
    return "\n".join(lines)
