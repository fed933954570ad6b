"""Runs and commits: browse both, each linking to the other and to requirements."""

import streamlit as st

from justify import app_data

st.title("Runs and commits")
params = st.query_params


def requirement_links(ids: list[str]) -> None:
    for rid in ids:
        st.page_link("pages/requirement.py", label=rid, query_params={"id": rid})


if "run" in params:
    view = app_data.run(params["run"])
    if view is None:
        st.error(f"No run with id '{params['run']}' in the store.")
    else:
        h = view.head
        with st.container(border=True):
            st.subheader(f"Run {h['name'] or h['runId']}")
            st.caption(f"run id {h['runId']} · experiment {h['experiment']} · {h['status']}")
            st.markdown(f"started {h['start'] or '-'} · ended {h['end'] or '-'} · by {h['user']}")
            if h["sha"]:
                st.page_link(
                    "pages/runs.py",
                    label=f"built from commit {h['sha'][:8]}",
                    query_params={"commit": h["sha"]},
                )
            left, right = st.columns(2)
            left.markdown("**Metrics**")
            left.dataframe(view.metrics, hide_index=True)
            right.markdown("**Parameters**")
            right.dataframe(view.params, hide_index=True)
            left.markdown("**Datasets**")
            left.dataframe(view.datasets, hide_index=True)
            right.markdown("**Tags**")
            right.dataframe(view.tags, hide_index=True)
            if view.versions:
                st.markdown("**Model versions**: " + ", ".join(v["label"] for v in view.versions))
            st.markdown("**Supports**")
            requirement_links([r["id"] for r in view.requirements])
            st.page_link(
                "pages/graph.py", label="See it in the graph", query_params={"node": h["run"]}
            )

if "commit" in params:
    view = app_data.commit(params["commit"])
    if view is None:
        st.error(f"No commit '{params['commit']}' in the store.")
    else:
        h = view.head
        with st.container(border=True):
            st.subheader(f"Commit {h['sha'][:8]}: {h['title']}")
            st.caption(f"{h['sha']} · {h['author']} <{h['email'] or ''}> · {h['time']}")
            if h["body"]:
                st.code(h["body"], language=None)
            st.markdown("**Files**")
            st.dataframe(view.files, hide_index=True)
            if view.justifies:
                st.markdown("**Justifies** (trailer)")
                requirement_links([r["id"] for r in view.justifies])
            if view.changed:
                st.markdown("**Changed the text of**")
                requirement_links([r["id"] for r in view.changed])
            if view.runs:
                st.markdown("**Runs built from it**")
                for r in view.runs:
                    st.page_link(
                        "pages/runs.py",
                        label=f"run {r['name']} ({r['status']})",
                        query_params={"run": r["runId"]},
                    )
            st.page_link(
                "pages/graph.py", label="See it in the graph", query_params={"node": h["c"]}
            )

runs_tab, commits_tab = st.tabs(["Runs", "Commits"])
with runs_tab:
    text = st.text_input("Search runs (name, id, experiment)", key="run_search")
    rows = app_data.runs(text.strip().lower())
    table = [{**r, "open": f"/runs?run={r['runId']}"} for r in rows]
    st.caption(f"{len(rows)} runs (at most 500, newest first)")
    st.dataframe(
        app_data.table(
            table, ["name", "status", "experiment", "end", "requirements", "sha", "open"]
        ),
        hide_index=True,
        column_config={"open": st.column_config.LinkColumn("open", display_text="open")},
    )
with commits_tab:
    text = st.text_input("Search commits (sha, title, author)", key="commit_search")
    rows = app_data.commits(text.strip().lower())
    table = [{**r, "open": f"/runs?commit={r['sha']}"} for r in rows]
    st.caption(f"{len(rows)} commits (at most 500, newest first)")
    st.dataframe(
        app_data.table(table, ["sha", "title", "author", "time", "justifies", "open"]),
        hide_index=True,
        column_config={"open": st.column_config.LinkColumn("open", display_text="open")},
    )
