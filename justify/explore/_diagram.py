"""The justification diagram of one requirement: what it shows (nodes and edges, drawn
from the judgement), and that in Graphviz DOT for the explorer. The report draws the
same nodes and edges as SVG (:mod:`justify.explore._figures`)."""

from __future__ import annotations

from dataclasses import dataclass

from justify.explore._requirement import RequirementView
from justify.shacl._compile import slot_criterion_suffix

# What each colour of the diagram means; the legend prints exactly this.
DIAGRAM_LEGEND = {
    "#2e7d32": "green: holds (justified, criterion met, run meets every criterion it is judged on)",
    "#c62828": "red: fails (failing requirement, criterion not met, run misses a criterion)",
    "#ef6c00": "orange: unjustified or stale; a slot of its pattern that nothing fills",
    "#757575": "grey: draft, retired, not judged (older runs, no evidence), empty optional slot",
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
_SLOT_COLOURS = {"filled": "#2e7d32", "failing": "#c62828", "missing": "#ef6c00"}
_GREY = "#757575"
_RUNS_DRAWN = 8  # older runs beyond these are summed up in one node


@dataclass(frozen=True)
class DiagramNode:
    name: str
    label: str  # lines separated by "\n"
    colour: str
    shape: str = "box"  # box, parallelogram, note, ellipse, plaintext


@dataclass(frozen=True)
class DiagramEdge:
    """From a support to what it supports (drawn pointing up, at the conclusion)."""

    source: str
    target: str
    style: str = "solid"  # solid, dashed, dotted
    label: str = ""
    colour: str = "#555555"


@dataclass(frozen=True)
class Diagram:
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]


def justification_diagram(view: RequirementView) -> Diagram:
    """conclusion <- strategy <- supports, coloured as DIAGRAM_LEGEND says, from the
    judgement the view carries (statuses, criterion verdicts, current evidence)."""
    head = view.head
    status = head.get("status") or ""
    pattern = view.pattern
    strategy = (
        f"strategy ({pattern.pattern} pattern): {pattern.strategy}"
        if pattern is not None and pattern.strategy
        else f"strategy: {head.get('strategy') or 'evidence meets the acceptance criteria'}"
    )
    nodes = [
        DiagramNode(
            "conclusion",
            f"{head['id']}: {head['title']}\n[{status}]",
            _NODE_COLOURS.get(status, _GREY),
        ),
        DiagramNode("strategy", strategy, "#37474f", "parallelogram"),
    ]
    edges = [DiagramEdge("strategy", "conclusion")]
    # With a pattern, its slots stand between the evidence and the strategy: each
    # piece of evidence points at the slot it fills; an empty slot is drawn as such.
    slot_of: dict[str, str] = {}  # evidence IRI -> slot node
    kind_slot: dict[str, str] = {}  # selector kind -> its first slot node
    for i, slot in enumerate(pattern.slots if pattern is not None else ()):
        name = f"s{i}"
        optional = " (optional)" if slot.optional else ""
        label = f"slot {slot.id}{optional}: {slot.label}\n{slot.state}"
        if slot.kind == "dataset" and slot.evidence:  # datasets have no node of their own
            label += " by " + ", ".join("/".join(e.split("/")[-2:]) for e in slot.evidence)
        nodes.append(DiagramNode(name, label, _SLOT_COLOURS.get(slot.state, _GREY)))
        edges.append(DiagramEdge(name, "strategy"))
        kind_slot.setdefault(slot.kind, name)
        if slot.kind == "metric" and pattern is not None:
            slot_of[str(head["r"]) + slot_criterion_suffix(pattern.pattern or "", slot.id)] = name
        for iri in slot.evidence:
            slot_of.setdefault(iri, name)

    def supports(node: str, iri: str | None = None, kind: str | None = None) -> str:
        """What ``node`` supports: the slot it fills, else the strategy."""
        if iri is not None and iri in slot_of:
            return slot_of[iri]
        return kind_slot.get(kind or "", "strategy")

    for i, c in enumerate(view.criteria):
        label = f"criterion: {c.label}\n{c.verdict}" + (
            f" ({c.metric} = {c.value})" if c.value is not None else ""
        )
        nodes.append(DiagramNode(f"c{i}", label, _CRITERION_COLOURS.get(c.verdict, _GREY), "note"))
        # A metric slot's own criterion points at that slot; stated ones at `criterion`.
        edges.append(DiagramEdge(f"c{i}", supports(f"c{i}", c.iri, kind="criterion")))
    commits: dict[str, str] = {}  # one node per commit

    def commit_node(sha: str, title: str | None) -> str:
        if sha not in commits:
            commits[sha] = f"k{len(commits)}"
            text = f"commit {sha[:8]}" + (f"\n{title}" if title else "")
            nodes.append(DiagramNode(commits[sha], text, "#5d4037"))
        return commits[sha]

    current = set(view.current)
    missed = any(c.verdict == "not met" for c in view.criteria)
    for i, run in enumerate(view.runs[:_RUNS_DRAWN]):
        name = run["name"] or run["runId"][:8]
        if run["run"] in current:
            colour = "#c62828" if missed else "#2e7d32"
            label = f"run {name}\n{run['status']} (current evidence)"
        else:
            colour, label = _GREY, f"run {name}\n{run['status']} (not judged)"
        nodes.append(DiagramNode(f"r{i}", label, colour, "ellipse"))
        edges.append(DiagramEdge(f"r{i}", supports(f"r{i}", run["run"])))
        if run.get("sha"):
            edges.append(DiagramEdge(commit_node(str(run["sha"]), None), f"r{i}", "dashed"))
    if len(view.runs) > _RUNS_DRAWN:
        more = len(view.runs) - _RUNS_DRAWN
        nodes.append(DiagramNode("more", f"… {more} older runs", "#9e9e9e", "plaintext"))
        edges.append(DiagramEdge("more", "strategy", "dotted"))
    for k in view.commits:
        edges.append(
            DiagramEdge(commit_node(str(k["sha"]), k["title"]), "strategy", label="Justifies")
        )
    if view.stale_commit is not None:
        name = commit_node(str(view.stale_commit["sha"]), view.stale_commit["title"])
        edges.append(
            DiagramEdge(name, "conclusion", "dashed", "changed it after its evidence", "#ef6c00")
        )
    for i, a in enumerate(view.attestations):
        nodes.append(DiagramNode(f"a{i}", f"attestation by {a['by']}\n{a['date']}", "#6a1b9a"))
        edges.append(DiagramEdge(f"a{i}", supports(f"a{i}", a.get("a"))))
    for i, f in enumerate(view.family):
        colour = _NODE_COLOURS.get(f.get("status") or "", _GREY)
        nodes.append(
            DiagramNode(f"f{i}", f"{f['id']}: {f['title'] or ''}\n[{f.get('status')}]", colour)
        )
        if f["relation"] == "sub-requirement":
            edges.append(DiagramEdge(f"f{i}", supports(f"f{i}", f.get("o"))))
        else:
            edges.append(DiagramEdge("conclusion", f"f{i}", "dashed", "supports"))
    return Diagram(tuple(nodes), tuple(edges))


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def justification_dot(view: RequirementView) -> str:
    """The justification diagram in Graphviz DOT (Streamlit draws it in the browser)."""
    diagram = justification_diagram(view)
    lines = [
        "digraph justification {",
        '  rankdir=BT; node [fontname=Helvetica, fontsize=11]; edge [color="#555555"];',
    ]
    for n in diagram.nodes:
        text = "\\n".join(_dot_text(part) for part in n.label.split("\n"))
        lines.append(
            f'  "{n.name}" [label="{text}", shape={n.shape}, style="rounded,filled", '
            f'fillcolor="{n.colour}", fontcolor="white"];'
        )
    for e in diagram.edges:
        attributes = []
        if e.style != "solid":
            attributes.append(f"style={e.style}")
        if e.colour != "#555555":
            attributes.append(f'color="{e.colour}"')
        if e.label:
            attributes.append(f'label="{_dot_text(e.label)}"')
        extra = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f'  "{e.source}" -> "{e.target}"{extra};')
    lines.append("}")
    return "\n".join(lines)
