"""justify: the justification of every requirement of an ML system, in one RDF graph.

In Python, each command of the CLI is one function here, with the same options::

    import justify
    justify.load()                                  # justify load
    justify.query("trace", params={"id": "REQ-1"})  # justify query trace --param id=REQ-1
"""

__version__ = "0.1.0"

import typing as _typing

# Where each public name lives. They are imported on first use, so that
# ``justify --help`` or ``justify status`` does not pay for the SHACL engine,
# MLflow's client or the explorer.
_HOMES = {
    "Attestation": "justify.requirements",
    "AuditReport": "justify.audit",
    "CannedQuery": "justify._query",
    "Change": "justify._history",
    "CheckReport": "justify.judgement",
    "CheckResult": "justify.shacl",
    "Config": "justify.config",
    "ConfigError": "justify.errors",
    "CopySummary": "justify.graphs",
    "Criterion": "justify.requirements",
    "CriterionVerdict": "justify.judgement",
    "DemoResult": "justify._demo",
    "Elicitation": "justify._elicit",
    "EvidenceSelector": "justify.importers",
    "EmbeddedStore": "justify.store",
    "GraphStatus": "justify.graphs",
    "GraphStore": "justify.store",
    "GraphWriter": "justify.store",
    "ImportOption": "justify.importers",
    "ImportRun": "justify.importers",
    "ImportSummary": "justify.importers",
    "Importer": "justify.importers",
    "InitResult": "justify.scaffold",
    "JpipeExport": "justify._jpipe",
    "JudgedValue": "justify.judgement",
    "Judgement": "justify.judgement",
    "JustifyError": "justify.errors",
    "JustifyJobFacet": "justify.importers.openlineage._facets",
    "JustifyRunFacet": "justify.importers.openlineage._facets",
    "LineageReceiver": "justify.importers.openlineage",
    "LoadSummary": "justify._load",
    "MemoryStore": "justify.store",
    "Node": "justify._trace",
    "Pattern": "justify._patterns",
    "PatternUse": "justify._patterns",
    "Problem": "justify.errors",
    "Progress": "justify.progress",
    "QueryError": "justify.errors",
    "QueryResult": "justify.store",
    "Requirement": "justify.requirements",
    "RequirementCatalogue": "justify.importers",
    "RequirementFileError": "justify.errors",
    "RequirementStatus": "justify.judgement",
    "RequirementView": "justify.explore",
    "RuleInfo": "justify.shacl",
    "ServerSettings": "justify.store",
    "Setting": "justify.config",
    "ShapeError": "justify.errors",
    "ShipVerdict": "justify.judgement",
    "Slot": "justify._patterns",
    "SlotState": "justify._elicit",
    "SourceImport": "justify.explore",
    "SourceUnavailable": "justify.errors",
    "SparqlStore": "justify.store",
    "StoreError": "justify.errors",
    "UsageError": "justify.errors",
    "app": "justify.serve",
    "canned_queries": "justify._query",
    "check": "justify.judgement",
    "copy_store": "justify.graphs",
    "demo": "justify._demo",
    "elicit": "justify._elicit",
    "export": "justify.graphs",
    "export_jpipe": "justify._jpipe",
    "format_result": "justify._query",
    "history": "justify._history",
    "import_dvc": "justify.importers.dvc",
    "import_git": "justify.importers.git",
    "import_mlflow": "justify.importers.mlflow",
    "import_openlineage": "justify.importers.openlineage",
    "init": "justify.scaffold",
    "judge": "justify.judgement",
    "judge_files": "justify.judgement",
    "lineage_receiver": "justify.importers.openlineage",
    "load": "justify._load",
    "load_config": "justify.config",
    "open_store": "justify.store",
    "patterns": "justify._patterns",
    "query": "justify._query",
    "read_requirements": "justify.requirements",
    "registered_importers": "justify.importers",
    "repair_store": "justify.graphs",
    "report": "justify.audit",
    "run_import": "justify.importers",
    "status": "justify.graphs",
    "sync": "justify._sync",
    "trace": "justify._trace",
}

if _typing.TYPE_CHECKING:
    from justify._demo import DemoResult, demo
    from justify._elicit import Elicitation, SlotState, elicit
    from justify._history import Change, history
    from justify._jpipe import JpipeExport, export_jpipe
    from justify._load import LoadSummary, load
    from justify._patterns import Pattern, PatternUse, Slot, patterns
    from justify._query import CannedQuery, canned_queries, format_result, query
    from justify._sync import sync
    from justify._trace import Node, trace
    from justify.audit import AuditReport, report
    from justify.config import Config, Setting, load_config
    from justify.errors import (
        ConfigError,
        JustifyError,
        Problem,
        QueryError,
        RequirementFileError,
        ShapeError,
        SourceUnavailable,
        StoreError,
        UsageError,
    )
    from justify.explore import RequirementView, SourceImport
    from justify.graphs import CopySummary, GraphStatus, copy_store, export, repair_store, status
    from justify.importers import (
        EvidenceSelector,
        Importer,
        ImportOption,
        ImportRun,
        ImportSummary,
        RequirementCatalogue,
        registered_importers,
        run_import,
    )
    from justify.importers.dvc import import_dvc
    from justify.importers.git import import_git
    from justify.importers.mlflow import import_mlflow
    from justify.importers.openlineage import LineageReceiver, import_openlineage, lineage_receiver
    from justify.importers.openlineage._facets import JustifyJobFacet, JustifyRunFacet
    from justify.judgement import (
        CheckReport,
        CriterionVerdict,
        JudgedValue,
        Judgement,
        RequirementStatus,
        ShipVerdict,
        check,
        judge,
        judge_files,
    )
    from justify.progress import Progress
    from justify.requirements import Attestation, Criterion, Requirement, read_requirements
    from justify.scaffold import InitResult, init
    from justify.serve import app
    from justify.shacl import CheckResult, RuleInfo
    from justify.store import (
        EmbeddedStore,
        GraphStore,
        GraphWriter,
        MemoryStore,
        QueryResult,
        ServerSettings,
        SparqlStore,
        open_store,
    )


def __getattr__(name: str) -> _typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'justify' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = [
    "Attestation",
    "AuditReport",
    "CannedQuery",
    "Change",
    "CheckReport",
    "CheckResult",
    "Config",
    "ConfigError",
    "CopySummary",
    "Criterion",
    "CriterionVerdict",
    "DemoResult",
    "Elicitation",
    "EmbeddedStore",
    "EvidenceSelector",
    "GraphStatus",
    "GraphStore",
    "GraphWriter",
    "ImportOption",
    "ImportRun",
    "ImportSummary",
    "Importer",
    "InitResult",
    "JpipeExport",
    "JudgedValue",
    "Judgement",
    "JustifyError",
    "JustifyJobFacet",
    "JustifyRunFacet",
    "LineageReceiver",
    "LoadSummary",
    "MemoryStore",
    "Node",
    "Pattern",
    "PatternUse",
    "Problem",
    "Progress",
    "QueryError",
    "QueryResult",
    "Requirement",
    "RequirementCatalogue",
    "RequirementFileError",
    "RequirementStatus",
    "RequirementView",
    "RuleInfo",
    "ServerSettings",
    "Setting",
    "ShapeError",
    "ShipVerdict",
    "Slot",
    "SlotState",
    "SourceImport",
    "SourceUnavailable",
    "SparqlStore",
    "StoreError",
    "UsageError",
    "__version__",
    "app",
    "canned_queries",
    "check",
    "copy_store",
    "demo",
    "elicit",
    "export",
    "export_jpipe",
    "format_result",
    "history",
    "import_dvc",
    "import_git",
    "import_mlflow",
    "import_openlineage",
    "init",
    "judge",
    "judge_files",
    "lineage_receiver",
    "load",
    "load_config",
    "open_store",
    "patterns",
    "query",
    "read_requirements",
    "registered_importers",
    "repair_store",
    "report",
    "run_import",
    "status",
    "sync",
    "trace",
]
