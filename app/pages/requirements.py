"""Requirements: a filterable, sortable table, downloadable as CSV."""

import csv
import io

import streamlit as st

from justify import app_data
from justify.explore import SHOWN_STATUSES

st.title("Requirements")
with st.spinner("Reading the requirements…"):
    rows = app_data.requirements()
if not rows:
    st.info("The store holds no requirements yet: run `justify sync` (or `justify load`).")
    st.stop()


def choices(column: str) -> list[str]:
    return sorted({str(r[column]) for r in rows if r[column]})


params = st.query_params
filters = st.columns(6)
present = [s for s in SHOWN_STATUSES if any(r["status"] == s for r in rows)]
asked = params.get_all("status")
unknown = [s for s in asked if s not in present]
if unknown:  # a shared link with a status this store has no requirement in (or misspelt)
    st.warning(
        f"The link asks for status {', '.join(repr(s) for s in unknown)}, which no "
        f"requirement here has (statuses: {', '.join(present)}); that filter is ignored."
    )
statuses = filters[0].multiselect(
    "Status", present, default=[s for s in asked if s in present], key="status"
)
kinds = filters[1].multiselect("Kind", choices("kind"), key="kind")
priorities = filters[2].multiselect("Priority", choices("priority"), key="priority")
owners = filters[3].multiselect("Owner", choices("owner"), key="owner")
models = filters[4].multiselect("Model", choices("model"), key="model")
text = filters[5].text_input("Search", value=params.get("q", ""), key="q").strip().lower()

shown = [
    r
    for r in rows
    if (not statuses or r["status"] in statuses)
    and (not kinds or r["kind"] in kinds)
    and (not priorities or r["priority"] in priorities)
    and (not owners or r["owner"] in owners)
    and (not models or r["model"] in models)
    and (not text or text in f"{r['id']} {r['title']} {r['owner']}".lower())
]
st.caption(f"{len(shown)} of {len(rows)} requirements · select a row to open it")
columns = ["id", "title", "status", "kind", "priority", "owner", "model", "parent", "source"]
table = app_data.table(shown, columns)
for row in table:
    row["link"] = f"/requirement?id={row['id']}"
event = st.dataframe(
    table,
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    key="table",
    column_config={
        "link": st.column_config.LinkColumn("link", display_text="open"),
        "title": st.column_config.TextColumn("title", width="large"),
    },
)
if event and event.selection.rows:
    chosen = table[event.selection.rows[0]]["id"]
    st.switch_page("pages/requirement.py", query_params={"id": chosen})

buffer = io.StringIO()
writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
writer.writeheader()
writer.writerows(shown)
st.download_button(
    "Download as CSV", buffer.getvalue(), file_name="requirements.csv", mime="text/csv"
)
