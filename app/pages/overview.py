"""Overview: may the models ship? Status counts, sources, the worst problems first."""

import streamlit as st

from justify import app_data
from justify.explore import SHOWN_STATUSES


def _zeros(counts: dict[str, int]) -> dict[str, int]:
    """Every status as a column, 0 where none (not an empty cell that reads None)."""
    return {status: counts.get(status, 0) for status in SHOWN_STATUSES}


st.title("Justification overview")
with st.spinner("Reading the graph…"):
    view = app_data.overview()
cfg = app_data.config()
st.caption(f"Store: {cfg.store_location}")

total = len(view.requirements)
if total == 0:
    st.info("The store holds no requirements yet: run `justify sync` (or `justify load`).")
    st.stop()

if view.last_check is None:
    st.warning("No check has been recorded yet: run `justify check` to compute the statuses.")
elif view.data_newer_than_check:
    st.warning(
        f"Sources were imported after the last check ({view.last_check}): "
        "run `justify check` to bring the statuses up to date."
    )

st.subheader("May the models ship?")
if view.models:
    for v in view.models:
        left, right = st.columns([2, 3])
        left.page_link("pages/models.py", label=v.label)
        text = v.verdict.upper()
        if v.verdict == "ship":
            right.success(text)
        elif v.verdict == "ship with warnings":
            right.warning(text)
        else:
            right.error(text + ": " + (v.reasons[0] if v.reasons else ""))
else:
    st.caption("No ship verdict recorded (no registered model version, or no check yet).")

columns = st.columns(len(SHOWN_STATUSES))
for column, status in zip(columns, SHOWN_STATUSES, strict=True):
    count = view.counts.get(status, 0)
    # A count and its share, not a delta: an arrow would read as a trend.
    column.metric(status, count, border=True)
    column.caption(f"{count / total:.0%} of {total}")

st.subheader("Worst problems first")
if view.problems:
    for problem in view.problems[:30]:
        icon = ":material/error:" if problem.severity == "violation" else ":material/warning:"
        with st.container(border=True):
            left, right = st.columns([1, 4])
            left.page_link(
                "pages/requirement.py",
                label=problem.requirement,
                icon=icon,
                query_params={"id": problem.requirement},
            )
            left.caption(f"{problem.status} · {problem.rule}")
            right.text(problem.message)  # user text, never rendered as Markdown
    if len(view.problems) > 30:
        st.page_link(
            "pages/requirements.py",
            label=f"… and {len(view.problems) - 30} more: see all requirements",
        )
else:
    st.success("The last check found no problem.")

# One above the other, full width: side by side, the status columns did not fit.
st.subheader("By kind")
st.dataframe(
    [{"kind": kind, **_zeros(counts)} for kind, counts in sorted(view.by_kind.items())],
    hide_index=True,
    width="stretch",
)
st.subheader("By model")
st.dataframe(
    [{"model": model, **_zeros(counts)} for model, counts in sorted(view.by_model.items())],
    hide_index=True,
    width="stretch",
)

st.subheader("Sources and checks")
rows = [
    {"source": s.kind, "location": s.location, "last import": s.ended, "items": s.items}
    for s in view.imports
]
rows.append(
    {
        "source": "check",
        "location": f"commit {view.last_check_commit[:12]}" if view.last_check_commit else "",
        "last import": view.last_check or "never",
        "items": sum(1 for p in view.problems),
    }
)
st.dataframe(rows, hide_index=True)
