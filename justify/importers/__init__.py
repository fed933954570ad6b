"""Importers: one module per source, each a plug-in writing the one named graph it owns.

Built-in and third-party importers register the same way, under the entry-point
group ``justify.importers``; see the README's "Write an importer". ``Lines``,
``Terms``, ``Vocabulary``, ``literal`` and ``typed`` write N-Triples text.
"""

from justify.importers._orchestrator import (
    ENTRY_POINT_GROUP,
    broken_importers,
    get_importer,
    registered_importers,
    requirement_catalogue,
    run_import,
)
from justify.importers._protocol import (
    Deletion,
    EvidenceSelector,
    Importer,
    ImportOption,
    ImportRun,
    ImportSummary,
    RequirementCatalogue,
)
from justify.ntriples import Lines, Terms, literal, typed
from justify.vocab import Vocabulary

__all__ = [
    "ENTRY_POINT_GROUP",
    "Deletion",
    "EvidenceSelector",
    "ImportOption",
    "ImportRun",
    "ImportSummary",
    "Importer",
    "Lines",
    "RequirementCatalogue",
    "Terms",
    "Vocabulary",
    "broken_importers",
    "get_importer",
    "literal",
    "registered_importers",
    "requirement_catalogue",
    "run_import",
    "typed",
]
