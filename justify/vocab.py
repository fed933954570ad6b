"""Namespaces as closed sets of terms: a typo is an ``AttributeError`` at import
time of the caller, not a predicate nobody defined.

``JF`` mirrors ``ontology/justify.ttl`` exactly (a test keeps them equal). The
standard vocabularies list only the terms justify writes.
"""

from __future__ import annotations

from pyoxigraph import NamedNode


class Vocabulary:
    """A namespace whose attributes are the ``NamedNode`` of each declared term."""

    def __init__(self, iri: str, prefix: str, terms: str) -> None:
        self.iri = iri
        self.prefix = prefix
        self.terms = frozenset(terms.split())
        for term in self.terms:
            setattr(self, term, NamedNode(iri + term))

    def __getattr__(self, name: str) -> NamedNode:
        # Only reached for names that are not declared terms.
        raise AttributeError(f"{self.prefix}:{name} is not a term of <{self.iri}>")

    def __getitem__(self, name: str) -> NamedNode:
        if name not in self.terms:
            raise KeyError(f"{self.prefix}:{name} is not a term of <{self.iri}>")
        return NamedNode(self.iri + name)

    def __contains__(self, iri: object) -> bool:
        value = iri.value if isinstance(iri, NamedNode) else str(iri)
        return value.startswith(self.iri) and value[len(self.iri) :] in self.terms


JF = Vocabulary(
    "https://w3id.org/justify/ns#",
    "jf",
    """
    Requirement AcceptanceCriterion Annotation Justification Strategy Support Evidence
    Attestation Experiment Run Measurement ParameterSetting Tag Dataset Model
    RegisteredModel ModelVersion Repository Commit FileChange GitRef Import SourceGraph
    CheckRun StatusChange ofRequirement checkStatus previousStatus
    parent hasCriterion hasAnnotation conclusion justifiedBy strategy hasSupport supports
    hasAttestation currentEvidence inExperiment parentRun hasMeasurement historyPoint
    hasParameter hasTag
    usedDataset onDataset producedBy versionOf loggedModel onCommit parentCommit inRepository author
    committer hasFileChange pointsTo lastChangedIn importedInto
    statement kind status priority rationale usageDomain owner modelScope scopeModelName
    scopeAlias experimentName sourceFile sourceLine metricKey comparator threshold
    datasetRef position textValue attestedBy link experimentId runId runStatus
    lifecycleStage user value step timestamp key digest sourceType source context modelId
    versionNumber alias modelStatus gitCommitSha gitBranch remoteUrl localPath messageTitle
    messageBody path previousPath changeType refName personName email sourceKind
    sourceLocation toolVersion itemCount watermark
    RequirementRevision ValidationRecord revisedIn scopedVersion evidenceOf judgedFor meets
    latestEvidenceEnd
    patternName attestedAs
    JustificationPattern PatternSlot SlotSupport followsPattern conformsTo hasSlot fillsSlot
    filledBy selectorKind optionalSlot how conclusionTemplate strategyText agreesOn
    appliesToVersion scopeVersion contentHash requirementId criterionVerdict shipVerdict
    shipReason judgement inputFingerprint derivationFingerprint derivedLinks cause
    SourceFile byteCount readFrom hasField SchemaField
    """,
)
JF_ONTOLOGY = NamedNode("https://w3id.org/justify/ns")

RDF = Vocabulary("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "rdf", "type JSON")
RDFS = Vocabulary("http://www.w3.org/2000/01/rdf-schema#", "rdfs", "label comment seeAlso")
XSD = Vocabulary(
    "http://www.w3.org/2001/XMLSchema#",
    "xsd",
    "string integer double boolean dateTime date anyURI",
)
PROV = Vocabulary(
    "http://www.w3.org/ns/prov#",
    "prov",
    """Entity Activity Agent Person Collection used wasGeneratedBy wasDerivedFrom
    wasInformedBy wasAssociatedWith wasAttributedTo startedAtTime endedAtTime generated
    generatedAtTime specializationOf hadMember qualifiedUsage Usage entity""",
)
DCTERMS = Vocabulary(
    "http://purl.org/dc/terms/",
    "dcterms",
    "identifier title description created modified date source",
)
MLS = Vocabulary(
    "http://www.w3.org/ns/mls#",
    "mls",
    "Run Experiment Model Dataset ModelEvaluation HyperParameterSetting",
)
OSLC_RM = Vocabulary("http://open-services.net/ns/rm#", "oslc_rm", "Requirement decomposes")
AMO = Vocabulary("http://purl.org/spar/amo/", "amo", "Argument Claim Warrant Evidence")
SH = Vocabulary(
    "http://www.w3.org/ns/shacl#",
    "sh",
    "ValidationReport ValidationResult conforms result focusNode resultPath resultSeverity "
    "resultMessage sourceShape value Violation Warning Info",
)

STANDARD = (RDF, RDFS, XSD, PROV, DCTERMS, MLS, OSLC_RM, AMO, SH)

# Prefixes used when printing and exporting; the instance base is added at run time.
PREFIXES: dict[str, str] = {v.prefix: v.iri for v in (JF, *STANDARD)}
