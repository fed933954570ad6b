"""justify: the justification of every requirement of an ML system, in one RDF graph.

In Python, each command of the CLI is one function here, with the same options::

    import justify
    justify.load()                                  # justify load
    justify.query("trace", params={"id": "REQ-1"})  # justify query trace --param id=REQ-1
"""

__version__ = "0.1.0"

from justify._check import CheckResult, RuleInfo
from justify._demo import DemoResult, demo
from justify._history import Change, history
from justify._load import LoadSummary, load
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
    Importer,
    ImportOption,
    ImportRun,
    ImportSummary,
    RequirementCatalogue,
    registered_importers,
    run_import,
)
from justify.importers.git import import_git
from justify.importers.mlflow import import_mlflow
from justify.judgement import (
    CheckReport,
    CriterionVerdict,
    Judgement,
    RequirementStatus,
    ShipVerdict,
    check,
    judge,
)
from justify.progress import Progress
from justify.requirements import Attestation, Criterion, Requirement, read_requirements
from justify.scaffold import InitResult, init
from justify.serve import app
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
    "EmbeddedStore",
    "GraphStatus",
    "GraphStore",
    "GraphWriter",
    "ImportOption",
    "ImportRun",
    "ImportSummary",
    "Importer",
    "InitResult",
    "Judgement",
    "JustifyError",
    "LoadSummary",
    "MemoryStore",
    "Node",
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
    "export",
    "format_result",
    "history",
    "import_git",
    "import_mlflow",
    "init",
    "judge",
    "load",
    "load_config",
    "open_store",
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
