"""What the explorer and the audit report show, read from the store.

Every function here only reads, and returns plain data (dictionaries, lists,
dataclasses) that can be pickled, so the Streamlit app can cache it with
``st.cache_data`` and the report can render it without Streamlit. Statuses come
from the latest recorded check (the ``check`` graph written by ``justify check``),
so reading never runs the check nor writes the derived graph.
"""

from justify.explore._common import (
    SEVERITY_ORDER,
    SHOWN_STATUSES,
    STATUS_COLOURS,
    STATUS_ORDER,
    VERDICT_COLOURS,
    Row,
    store_version,
)
from justify.explore._console import console_query
from justify.explore._diagram import DIAGRAM_LEGEND, justification_dot
from justify.explore._overview import (
    Overview,
    Problem,
    SourceImport,
    check_results,
    imports,
    judgement,
    last_check,
    models,
    overview,
    requirements,
    shown_models,
)
from justify.explore._records import (
    CommitView,
    Neighbourhood,
    RunView,
    commit_view,
    commits,
    find_run,
    labels_of,
    neighbourhood,
    run_view,
    runs,
    store_query,
)
from justify.explore._requirement import (
    RequirementView,
    find_requirement,
    requirement_view,
    requirements_by_ids,
)

__all__ = [
    "DIAGRAM_LEGEND",
    "SEVERITY_ORDER",
    "SHOWN_STATUSES",
    "STATUS_COLOURS",
    "STATUS_ORDER",
    "VERDICT_COLOURS",
    "CommitView",
    "Neighbourhood",
    "Overview",
    "Problem",
    "RequirementView",
    "Row",
    "RunView",
    "SourceImport",
    "check_results",
    "commit_view",
    "commits",
    "console_query",
    "find_requirement",
    "find_run",
    "imports",
    "judgement",
    "justification_dot",
    "labels_of",
    "last_check",
    "models",
    "neighbourhood",
    "overview",
    "requirement_view",
    "requirements",
    "requirements_by_ids",
    "run_view",
    "runs",
    "shown_models",
    "store_query",
    "store_version",
]
