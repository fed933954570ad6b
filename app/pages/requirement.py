"""One requirement: its statement, justification diagram, metric plots, checks, history."""

import pandas as pd
import streamlit as st

from justify import app_data, explore
from justify.check_formats import criterion_line
from justify.explore import DIAGRAM_LEGEND, justification_dot

# Badge colours per status, as in the diagram: green holds, red fails, orange
# unjustified or stale, grey draft, retired or unchecked.
BADGE = {"justified": "green", "failing": "red", "unjustified": "orange", "stale": "orange"}

rows = app_data.requirements()
ids = [r["id"] for r in rows]
if not ids:
    st.title("Requirement")
    st.info("The store holds no requirements yet: run `justify sync` (or `justify load`).")
    st.stop()
wanted = st.query_params.get("id", ids[0])
if wanted not in ids:
    st.title("Requirement")
    st.error(f"No requirement with id '{wanted}' in the store.")
    st.page_link("pages/requirements.py", label="See all requirements")
    st.stop()
rid = st.selectbox("Requirement", ids, index=ids.index(wanted), key="rid")
if rid != wanted:
    st.query_params["id"] = rid

with st.spinner(f"Reading {rid}…"):
    view = app_data.requirement(rid)
if view is None:
    st.error(f"No requirement with id '{rid}' in the store.")
    st.stop()
head = view.head
status = head["status"] or ""
st.title(f"{rid}: {head['title']}")
st.markdown(
    f"**Status** :{BADGE.get(status, 'gray')}-background[{status}] · "
    f"declared `{head['declared']}` · kind `{head['kind']}` · priority `{head['priority'] or '-'}`"
    f" · owner `{head['owner'] or '-'}` · model `{head['model'] or '-'}`"
)
st.caption(f"Written in {head['file']}:{head['line']} · IRI {head['r']}")
if head["statement"]:
    st.text(head["statement"])  # user text: shown as written, never as Markdown
if head["rationale"]:
    st.text(f"Rationale. {head['rationale']}")
if head["changedSha"]:
    st.caption(
        f"Last changed in commit {head['changedSha'][:8]} “{head['changedTitle']}” "
        f"at {head['changedTime']}"
    )

st.subheader("Check results")
if view.results:
    for result in view.results:
        colour = "red" if result["severity"] == "violation" else "orange"
        icon = ":material/error:" if result["severity"] == "violation" else ":material/warning:"
        # The badge is Markdown justify writes (a fixed word); rule ids and messages are
        # user text, never rendered as Markdown.
        st.markdown(f":{colour}-badge[{icon} {result['severity']}]")
        st.text(f"{result['rule']}: {result['message']}")
elif status in ("justified",):
    st.success("Every rule passes for this requirement in the last check.")
else:
    st.info(f"No rule result for this requirement in the last check (status: {status}).")

if view.annotations:
    st.subheader("Annotations")
    for a in view.annotations:
        st.text(f"{a['key']}: {a['value']}")

st.subheader("Justification diagram")
st.caption("conclusion ← strategy ← supports; " + "; ".join(DIAGRAM_LEGEND.values()))
st.graphviz_chart(justification_dot(view))

if view.criteria:
    st.subheader("Acceptance criteria")
    st.caption(
        "Each point is the metric in one evidence run, coloured by the judgement's verdict "
        "(green met, red not met, grey not judged: another dataset); the ring marks the "
        "current evidence."
    )
    for criterion in view.criteria:
        key = criterion.metric
        st.markdown(f"**{criterion.label}**")
        st.text(criterion_line(criterion))
        points = explore.criterion_points(view, criterion)
        if not points:
            st.warning(f"No supporting run logged {key}.")
            continue
        chart = explore.criterion_chart(points, criterion, interactive=True)
        st.vega_lite_chart(spec=chart, width="stretch")
        for note in explore.unplotted(points):
            st.caption(f"Not drawn, not a finite number: {note}")
        history = view.metric_history.get(key)
        if history and len(history) > 1:
            steps = pd.DataFrame(
                {
                    "step": [int(p["step"] or 0) for p in history],
                    "value": [float(p["value"] or "nan") for p in history],
                }
            )
            st.caption(f"{key} over the steps of the current evidence run")
            st.line_chart(steps, x="step", y="value", height=180)

st.subheader("Evidence")
if view.runs:
    st.markdown("**Runs** (newest first)")
    table = [
        {
            "run": run["name"],
            "status": run["status"],
            "ended": run["end"],
            "current": run["run"] in set(view.current),
            "via": run["via"],
            **run["metrics"],
            "open": f"/runs?run={run['runId']}",
        }
        for run in view.runs
    ]
    st.dataframe(
        table,
        hide_index=True,
        column_config={"open": st.column_config.LinkColumn("open", display_text="run")},
    )
if view.commits:
    st.markdown("**Commits with a `Justifies:` trailer**")
    for c in view.commits:
        st.page_link(
            "pages/runs.py",
            label=f"{c['sha'][:8]} “{c['title']}” by {c['author']}",
            query_params={"commit": c["sha"]},
        )
if view.attestations:
    st.markdown("**Attestations**")
    for a in view.attestations:
        st.text(f"{a['date']} {a['by']}: {a['statement']}")
if view.versions:
    st.markdown("**Applies to**")
    for v in view.versions:
        st.text(f"{v.label}: {v.verdict.upper()}")
if not (view.runs or view.commits or view.attestations):
    st.warning("Nothing supports this requirement yet.")
for f in view.family:
    st.page_link(
        "pages/requirement.py",
        label=f"{f['relation']}: {f['id']} {f['title'] or ''} [{f['status']}]",
        query_params={"id": f["id"]},
    )

st.subheader("Status history")
if view.changes:
    st.dataframe(
        [
            {
                "when": c.time,
                "status": c.status,
                "was": c.previous or "",
                "commit": (c.commit or "")[:8],
                "commit title": c.commit_title or "",
                "cause": "; ".join(c.causes),
            }
            for c in view.changes
        ],
        hide_index=True,
    )
else:
    st.caption("No status recorded yet: `justify check` records them.")
st.page_link("pages/graph.py", label="See it in the graph", query_params={"node": head["r"]})
