"""A justify importer: review sign-offs of requirements, kept as JSON Lines.

Each line of the file is one sign-off:
{"id": "S-1", "requirement": "REQ-1", "reviewer": "Ada", "date": "2026-11-02"}
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from justify import Config, Setting
from justify.errors import SourceUnavailable, UsageError
from justify.importers import (
    EvidenceSelector,
    Importer,
    ImportOption,
    ImportRun,
    Lines,
    Terms,
    Vocabulary,
    literal,
)
from justify.vocab import PROV, RDF, RDFS

# The plug-in's own terms (a closed set: a typo is an AttributeError).
SIGNOFF = Vocabulary("https://example.org/signoffs#", "so", "SignOff signs reviewer")
SO, P, R, S = Terms(SIGNOFF), Terms(PROV), Terms(RDF), Terms(RDFS)


class SignoffImporter(Importer):
    name = "signoffs"
    summary = "review sign-offs of requirements, from a JSON Lines file"
    description = "Each line names a requirement, its reviewer and the day they signed it off."
    examples = ("justify import signoffs --file reviews/signoffs.jsonl",)
    options = (ImportOption("file", "The sign-off file (default: 'signoffs_file').", "PATH"),)
    settings = (Setting("signoffs_file", None, "A JSON Lines file of review sign-offs."),)
    sync_order = 30  # after MLflow (10) and Git (20)
    # Pattern slots may ask for a sign-off: `signoff: {reviewer: Ada Lovelace}`.
    selectors = (
        EvidenceSelector(
            "signoff",
            {"reviewer": False},
            "?filler so:signs $this ; so:reviewer ?by . "
            "FILTER (!BOUND(?reviewer) || ?by = ?reviewer)",
            prefixes={"so": SIGNOFF.iri},
            description="a review sign-off of the requirement, optionally by one reviewer",
        ),
    )

    def skip_reason(self, config: Config) -> str | None:
        return None if config.get("signoffs_file") else "no 'signoffs_file' set"

    def locate(self, config: Config, options: Mapping[str, Any]) -> str:
        given = options.get("file") or config.get("signoffs_file")
        if not given:
            raise UsageError("no sign-off file", hint="give --file or set 'signoffs_file'")
        path = config.path(given)
        if not path.is_file():
            raise SourceUnavailable(f"{path}: no such file", hint="check the path")
        return str(path)

    def read(self, run: ImportRun) -> Iterator[bytes]:
        # Small files: read whole on every import (no incremental state to keep).
        if not run.full:
            run.delete(types=[SIGNOFF.SignOff])
        out = Lines()
        text = Path(run.location).read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                sid, rid, who = item["id"], item["requirement"], item["reviewer"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise UsageError(
                    f"{run.location}:{number}: not a sign-off ({exc})",
                    hint='write {"id": ..., "requirement": ..., "reviewer": ...}',
                ) from exc
            node = f"<{run.minter.iri('signoff', sid).value}>"
            out.add(node, R.type, SO.SignOff)
            out.add(node, R.type, P.Entity)
            out.add(node, S.label, literal(f"sign-off {sid} by {who}"))
            out.add(node, SO.reviewer, literal(who))
            out.add(node, SO.signs, f"<{run.minter.requirement(rid).value}>")
            if rid not in run.requirements.ids:
                run.warn(f"{run.location}:{number}: '{rid}' names no loaded requirement")
            run.count("sign-offs")
        run.items = run.counts.get("sign-offs", 0)
        yield out.take()
