"""The justify explorer: a read-only view of the justification graph.

Started by `justify app`; each page is one file under pages/ that only draws.
"""

import streamlit as st

from justify import __version__
from justify.urls import redact_logs

redact_logs()
# Material icons: Streamlit ships their font, so they render where no emoji font is
# installed (Debian's Chromium showed empty boxes).
st.set_page_config(page_title="justify explorer", page_icon=":material/balance:", layout="wide")

pages = [
    st.Page(
        "pages/overview.py",
        title="Overview",
        icon=":material/home:",
        url_path="overview",
        default=True,
    ),
    st.Page(
        "pages/requirements.py",
        title="Requirements",
        icon=":material/checklist:",
        url_path="requirements",
    ),
    st.Page(
        "pages/requirement.py",
        title="Requirement",
        icon=":material/search:",
        url_path="requirement",
    ),
    st.Page("pages/models.py", title="Models", icon=":material/traffic:", url_path="models"),
    st.Page(
        "pages/patterns.py", title="Patterns", icon=":material/account_tree:", url_path="patterns"
    ),
    st.Page("pages/runs.py", title="Runs and commits", icon=":material/science:", url_path="runs"),
    st.Page("pages/graph.py", title="Graph", icon=":material/hub:", url_path="graph"),
    st.Page("pages/sparql.py", title="SPARQL", icon=":material/terminal:", url_path="sparql"),
]
st.sidebar.caption(f"justify {__version__} · read-only")
st.navigation(pages).run()
