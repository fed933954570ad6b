"""Graph: the neighbourhood of any node; click a node (or pick it below) to expand."""

import altair as alt
import networkx as nx
import pandas as pd
import streamlit as st

from justify import app_data
from justify.errors import JustifyError

st.title("Graph")
rows = app_data.requirements()
default = rows[0]["iri"] if rows else ""
node = st.query_params.get("node", default)


def go(iri: str) -> None:
    """Centre the graph on ``iri``: in the URL (shareable) and in the IRI box."""
    st.query_params["node"] = iri
    st.session_state["node_iri"] = iri


def typed() -> None:
    st.query_params["node"] = st.session_state["node_iri"].strip()


def expanded() -> None:
    if st.session_state["expand"]:
        go(st.session_state["expand"])
        st.session_state["expand"] = ""


def clicked() -> None:
    picks = st.session_state["chart"].selection.get("pick") or []
    if picks and picks[0].get("iri"):
        go(picks[0]["iri"])


st.session_state.setdefault("node_iri", node)
st.text_input("Node IRI", key="node_iri", on_change=typed)
if not node:
    st.info("The store holds no requirements yet; paste any IRI above.")
    st.stop()
limit = st.slider("Most neighbours shown per direction", 5, 100, 30, key="limit")
try:
    hood = app_data.neighbourhood(node, limit)
except JustifyError as problem:  # a shared link or a typed value that is not an IRI
    st.error(problem.message)
    st.caption(problem.hint or "")
    st.stop()
if len(hood.nodes) <= 1 and not hood.literals:
    st.warning(f"Nothing in the store is linked to {node}.")
    st.stop()
st.subheader(hood.nodes.get(node, node))
if hood.truncated:
    st.caption(f"Showing at most {limit} links each way: raise the limit to see more.")

graph = nx.DiGraph()
graph.add_nodes_from(hood.nodes)
for s, p, o in hood.edges:
    graph.add_edge(s, o, predicate=app_data.prefixed(p))
positions = nx.spring_layout(graph, seed=7, k=1.2)
nodes = pd.DataFrame(
    [
        {
            "iri": iri,
            "label": hood.caption(iri)[:48],
            "x": float(positions[iri][0]),
            "y": float(positions[iri][1]),
            "centre": iri == node,
        }
        for iri, label in hood.nodes.items()
    ]
)
edges = pd.DataFrame(
    [
        {
            "x": float(positions[s][0]),
            "y": float(positions[s][1]),
            "x2": float(positions[o][0]),
            "y2": float(positions[o][1]),
            "predicate": data["predicate"],
            "mx": (float(positions[s][0]) + float(positions[o][0])) / 2,
            "my": (float(positions[s][1]) + float(positions[o][1])) / 2,
        }
        for s, o, data in graph.edges(data=True)
    ]
)
# Room around the outermost nodes, so that no node or label is cut at the edge.
xs, ys = nodes["x"], nodes["y"]
pad_x = max(0.25, (xs.max() - xs.min()) * 0.15)
pad_y = max(0.15, (ys.max() - ys.min()) * 0.1)
x_scale = alt.Scale(domain=[xs.min() - pad_x, xs.max() + pad_x])
y_scale = alt.Scale(domain=[ys.min() - pad_y, ys.max() + pad_y])
pick = alt.selection_point(fields=["iri"], name="pick", on="click")
axis = alt.Axis(title=None, labels=False, ticks=False, grid=False, domain=False)
lines = (
    alt.Chart(edges)
    .mark_rule(color="#b0bec5")
    .encode(
        x=alt.X("x:Q", axis=axis, scale=x_scale),
        y=alt.Y("y:Q", axis=axis, scale=y_scale),
        x2="x2:Q",
        y2="y2:Q",
        tooltip=["predicate"],
    )
)
edge_labels = (
    alt.Chart(edges)
    .mark_text(fontSize=9, color="#546e7a")
    .encode(x="mx:Q", y="my:Q", text="predicate")
)
points = (
    alt.Chart(nodes)
    .mark_circle(size=260)
    .encode(
        x="x:Q",
        y="y:Q",
        color=alt.condition("datum.centre", alt.value("#c62828"), alt.value("#1565c0")),
        tooltip=["label", "iri"],
    )
    .add_params(pick)
)
texts = alt.Chart(nodes).mark_text(dy=-14, fontSize=11).encode(x="x:Q", y="y:Q", text="label")
chart = (lines + edge_labels + points + texts).properties(height=560).interactive()
st.altair_chart(chart, on_select=clicked, selection_mode="pick", key="chart", width="stretch")
st.caption("Drag to pan, scroll to zoom, click a node to centre the graph on it.")

others = sorted((label, iri) for iri, label in hood.nodes.items() if iri != node)
st.selectbox(
    "Expand a neighbour",
    [""] + [iri for _, iri in others],
    format_func=lambda i: hood.nodes.get(i, "") if i else "—",
    key="expand",
    on_change=expanded,
)
st.markdown("**Links**")
st.dataframe(
    [
        {
            "subject": hood.nodes.get(s, s),
            "predicate": app_data.prefixed(p),
            "object": hood.nodes.get(o, o),
        }
        for s, p, o in hood.edges
    ],
    hide_index=True,
)
if hood.literals:
    st.markdown("**Values**")
    st.dataframe(
        [{"predicate": app_data.prefixed(p), "value": v} for p, v in hood.literals],
        hide_index=True,
    )
