"""Patterns: per justification pattern, how the requirements that follow it conform
(the latest recorded check), and which slots are most often empty or failing."""

import streamlit as st

from justify import app_data

st.title("Justification patterns")
st.caption(
    "What each kind of requirement needs to be justified, and how far each requirement "
    "that follows a pattern is from it. `justify elicit` prints the same to-do list."
)
with st.spinner("Reading the justifications…"):
    groups = app_data.patterns()
if not groups:
    st.info(
        "No pattern conformance recorded: load requirements and run `justify check` "
        "(the built-in patterns apply to the kinds performance, fairness, robustness, data "
        "and process; `justify patterns` lists them)."
    )
    st.stop()
st.dataframe(
    [
        {
            "pattern": g.pattern,
            "title": g.title,
            "requirements": len(g.requirements),
            "complete": g.complete,
            "to do": sum(len(e.todo) for e in g.requirements),
            "most often missing": ", ".join(f"{slot} ({n})" for slot, n in g.missing[:3]),
        }
        for g in groups
    ],
    hide_index=True,
)
for g in groups:
    with st.container(border=True):
        st.subheader(f"{g.pattern}: {g.title}")
        st.markdown(f"**Strategy.** {g.strategy}")
        st.markdown(f"**Rationale.** {g.rationale}")
        st.markdown(f"**Usage domain.** {g.usage_domain}")
        st.text(f"{g.complete} of {len(g.requirements)} complete")
        st.dataframe(
            [
                {
                    "id": e.requirement,
                    "status": e.status,
                    "complete": "yes" if e.conforms else "no",
                    **{s.id: s.state for s in e.slots},
                    "open": f"/requirement?id={e.requirement}",
                }
                for e in g.requirements
            ],
            hide_index=True,
            column_config={"open": st.column_config.LinkColumn("open", display_text="open")},
        )
