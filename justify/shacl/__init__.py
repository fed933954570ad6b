"""The check engines: SHACL shapes run over a copy of the graph.

Two engines give the same results. ``pyshacl`` is the reference: the data is
converted to rdflib, pySHACL applies the SHACL rules (the derivations) in their
``sh:order`` and validates. ``fast`` applies the SPARQL rules itself, by order, each
reading what the lower orders derived (rules of one order side by side); then runs
on Oxigraph every shape whose constraints it translates exactly (targets of every
kind, SPARQL-based constraints with SHACL's pre-binding, the value-level core
constraints), and hands every other shape to pySHACL with all the data (``_model``
decides which, in one place).

Both engines work on a copy that holds the graphs a judgement reads, so neither
ever writes to the user's store; :mod:`justify.judgement` turns their results into
the judgement and records it, :mod:`justify.shacl._files` validates files.
"""

from justify.shacl._fast import derive, run_fast
from justify.shacl._model import freeze, memo
from justify.shacl._native import Dataset, dataset_of, query_pool
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
    "Dataset",
    "RuleInfo",
    "configure_rules",
    "dataset_of",
    "derive",
    "freeze",
    "load_shapes",
    "memo",
    "query_pool",
    "rule_infos",
    "run_fast",
    "run_pyshacl",
]
