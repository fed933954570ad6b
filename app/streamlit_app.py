"""The justify explorer: a read-only view of the justification graph.

Started by `justify app`; each page is one file under pages/ that only draws.
"""

import streamlit as st

from justify import __version__
from justify.urls import redact_logs

redact_logs()
st.set_page_config(page_title="justify explorer", page_icon="⚖️", layout="wide")

pages = [
    st.Page("pages/overview.py", title="Overview", icon="🏠", url_path="overview", default=True),
    st.Page("pages/requirements.py", title="Requirements", icon="📋", url_path="requirements"),
    st.Page("pages/requirement.py", title="Requirement", icon="🔎", url_path="requirement"),
    st.Page("pages/models.py", title="Models", icon="🚦", url_path="models"),
    st.Page("pages/runs.py", title="Runs and commits", icon="🧪", url_path="runs"),
    st.Page("pages/graph.py", title="Graph", icon="🕸️", url_path="graph"),
    st.Page("pages/sparql.py", title="SPARQL", icon="💬", url_path="sparql"),
]
st.sidebar.caption(f"justify {__version__} · read-only")
st.navigation(pages).run()
