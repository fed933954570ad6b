"""justify's OpenLineage facets for the OpenLineage Python client: attach one to a run
(or a job) to make it evidence of requirements, as the MLflow tag does::

    from justify import JustifyRunFacet
    Run(runId=run_id, facets={"justify": JustifyRunFacet(requirements=["REQ-DATA-1"])})
"""

from __future__ import annotations

import attr
from openlineage.client.generated.base import JobFacet, RunFacet

SCHEMA = "urn:justify:openlineage:facets:1-0-0"  # $id of schemas/openlineage-justify-facets.json


@attr.define
class JustifyRunFacet(RunFacet):
    """The run is evidence of these requirements."""

    requirements: list[str] = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA + "#/$defs/JustifyRunFacet"


@attr.define
class JustifyJobFacet(JobFacet):
    """Every run of the job is evidence of these requirements."""

    requirements: list[str] = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA + "#/$defs/JustifyJobFacet"
