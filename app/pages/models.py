"""Models: every registered version, the requirements scoped to it, ship or not."""

import streamlit as st

from justify import app_data

st.title("Models: may they ship?")
with st.spinner("Reading the model registry…"):
    verdicts = app_data.models()
if not verdicts:
    st.info("No registered model version in the store: import an MLflow registry.")
    st.stop()
for v in verdicts:
    aliases = ", ".join(f"@{a}" for a in v.aliases) or "no alias"
    with st.container(border=True):
        st.subheader(f"{v.model} version {v.version} ({aliases})")
        if v.ship:
            st.success("SHIP: " + "; ".join(v.reasons))
        else:
            st.error("DO NOT SHIP")
            for reason in v.reasons:
                st.markdown(f"- {reason}")
        if v.requirements:
            st.dataframe(
                [
                    {
                        "id": r["id"],
                        "title": r["title"],
                        "status": r["status"],
                        "open": f"/requirement?id={r['id']}",
                    }
                    for r in v.requirements
                ],
                hide_index=True,
                column_config={"open": st.column_config.LinkColumn("open", display_text="open")},
            )
