"""Models: every registered version and its ship verdict, from the last recorded check."""

import streamlit as st

from justify import app_data

st.title("Models: may they ship?")
with st.spinner("Reading the model registry…"):
    verdicts = app_data.models()
    titles = {r["id"]: r["title"] for r in app_data.requirements()}
if not verdicts:
    st.info(
        "No ship verdict recorded: import an MLflow registry and run `justify check` "
        "(it judges every registered model version)."
    )
    st.stop()
for v in verdicts:
    with st.container(border=True):
        st.subheader(v.label)
        text = f"{v.verdict.upper()}"
        if v.verdict == "ship":
            st.success(text + ": " + "; ".join(v.reasons))
        elif v.verdict == "ship with warnings":
            st.warning(text)
        else:
            st.error(text)
        if v.verdict != "ship":
            for reason in v.reasons:
                st.text("• " + reason)
        if v.requirements:
            st.dataframe(
                [
                    {
                        "id": rid,
                        "title": titles.get(rid, ""),
                        "status": status,
                        "open": f"/requirement?id={rid}",
                    }
                    for rid, status in v.requirements
                ],
                hide_index=True,
                column_config={"open": st.column_config.LinkColumn("open", display_text="open")},
            )
