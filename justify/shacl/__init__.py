"""The check engines: SHACL shapes run over a copy of the graph.

Two engines give the same results. ``pyshacl`` is the reference: the graph is
converted to rdflib, pySHACL applies the SHACL rules (the derivations) in their
``sh:order`` and validates. ``fast`` runs each SPARQL rule once as a CONSTRUCT,
in order, adding what it derives to the graph ``graph/derived`` of the copy, then
runs each SPARQL constraint once as a query for every focus node at the same time
(instead of once per focus node); shapes with core constraints go through
pySHACL, on the triples of their focus nodes only when their paths allow it.

Both engines work on a :class:`MemoryStore` that holds the graphs a judgement reads,
so neither ever writes to the user's store; :mod:`justify.judgement` turns their
results into the judgement and records it.
"""

from justify.shacl._fast import SparqlRule, derivation_rules, derive, run_fast, sparql_rules
from justify.shacl._reference import run_pyshacl
from justify.shacl._shapes import (
    JFS,
    SEVERITIES,
    CheckResult,
    RuleInfo,
    configure_rules,
    load_shapes,
    rule_infos,
)

__all__ = [
    "JFS",
    "SEVERITIES",
    "CheckResult",
    "RuleInfo",
    "SparqlRule",
    "configure_rules",
    "derivation_rules",
    "derive",
    "load_shapes",
    "rule_infos",
    "run_fast",
    "run_pyshacl",
    "sparql_rules",
]
