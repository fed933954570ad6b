"""SPARQL: a read-only console with the canned queries as examples."""

import csv
import io

import streamlit as st

from justify import app_data
from justify._query import term_text
from justify.errors import JustifyError

st.title("SPARQL console")
cfg = app_data.config()
st.caption(
    f"Read-only: updates are refused. At most {cfg.console_row_limit} rows, "
    f"{cfg.console_time_limit} s per query (settings console_row_limit, console_time_limit). "
    "The standard prefixes (jf:, prov:, dcterms:, rdfs:…) are declared for you."
)
STARTER = """SELECT ?id ?title ?status WHERE {
  ?r a jf:Requirement ; dcterms:identifier ?id ; dcterms:title ?title ; jf:status ?status
} ORDER BY ?id"""
examples = app_data.examples()
example = st.selectbox("Example", ["", *examples], key="example")
default = examples.get(example, st.query_params.get("q", STARTER))
text = st.text_area("Query", value=default, height=220, key=f"query-{example}")
if st.button("Run", type="primary", key="run"):
    try:
        with st.spinner("Running the query…"):
            result = app_data.console(text)
    except JustifyError as exc:
        st.error(exc.message + (f"\n\n{exc.hint}" if exc.hint else ""))
        st.stop()
    if result.kind == "ask":
        st.success(f"ASK: {result.boolean}")
        st.stop()
    if result.kind == "graph":
        header = ["subject", "predicate", "object"]
        rows = [
            [term_text(t.subject), term_text(t.predicate), term_text(t.object)]
            for t in result.triples
        ]
    else:
        header = result.variables
        rows = [[term_text(v) if v is not None else "" for v in row] for row in result.rows]
    more = " (row limit reached: more rows exist)" if result.truncated else ""
    st.caption(f"{len(rows)} rows{more}")
    st.dataframe([dict(zip(header, row, strict=True)) for row in rows], hide_index=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    st.download_button("Download as CSV", buffer.getvalue(), file_name="query.csv", mime="text/csv")
