"""The ontology: parses, documents every term, matches the Python namespace, and
declares every term the package writes."""

from __future__ import annotations

import pyoxigraph
import pytest
import rdflib
from pyshacl import validate
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS

import justify
from justify.config import Config
from justify.rdfconv import to_rdflib_graph
from justify.resources import ontology_file, shapes_folder
from justify.store import EmbeddedStore
from justify.vocab import AMO, JF, MLS, OSLC_RM

JFNS = rdflib.Namespace(JF.iri)
ONTOLOGY = rdflib.URIRef("https://w3id.org/justify/ns")


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    return rdflib.Graph().parse(ontology_file(), format="turtle")


def declared(onto: rdflib.Graph) -> set[rdflib.URIRef]:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    return {s for k in kinds for s in onto.subjects(RDF.type, k) if isinstance(s, rdflib.URIRef)}


def test_parses_with_rdflib_and_pyoxigraph(onto: rdflib.Graph) -> None:
    quads = list(pyoxigraph.parse(path=str(ontology_file()), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(quads) == len(onto) > 500


def test_header_has_a_version(onto: rdflib.Graph) -> None:
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in onto
    assert onto.value(ONTOLOGY, OWL.versionInfo) == rdflib.Literal(justify.__version__)
    assert onto.value(ONTOLOGY, OWL.versionIRI) is not None


def test_every_term_is_documented(onto: rdflib.Graph) -> None:
    for term in declared(onto):
        assert onto.value(term, RDFS.label), f"{term} has no rdfs:label"
        definition = str(onto.value(term, SKOS.definition) or "")
        assert definition.endswith(".") and definition.count(". ") == 0, (
            f"{term} needs a one-sentence skos:definition, has {definition!r}"
        )
        assert onto.value(term, RDFS.isDefinedBy) == ONTOLOGY, f"{term} has no rdfs:isDefinedBy"


def test_object_properties_have_domain_and_range(onto: rdflib.Graph) -> None:
    for prop in onto.subjects(RDF.type, OWL.ObjectProperty):
        assert onto.value(prop, RDFS.domain) is not None, f"{prop} has no domain"
        assert onto.value(prop, RDFS.range) is not None, f"{prop} has no range"


def test_python_namespace_matches_the_turtle_exactly(onto: rdflib.Graph) -> None:
    in_turtle = {str(t)[len(JF.iri) :] for t in declared(onto) if str(t).startswith(JF.iri)}
    assert in_turtle == set(JF.terms)
    with pytest.raises(AttributeError, match="jf:Requirment is not a term"):
        _ = JF.Requirment


@pytest.mark.parametrize(
    ("term", "superterms"),
    [
        ("Requirement", [OSLC_RM.Requirement, PROV.Entity]),
        ("Run", [MLS.Run, PROV.Activity]),
        ("Experiment", [MLS.Experiment]),
        ("Measurement", [MLS.ModelEvaluation]),
        ("ParameterSetting", [MLS.HyperParameterSetting]),
        ("Dataset", [MLS.Dataset, PROV.Entity]),
        ("Model", [MLS.Model]),
        ("ModelVersion", [MLS.Model]),
        ("Commit", [PROV.Activity]),
        ("Import", [PROV.Activity]),
        ("Justification", [AMO.Argument]),
        ("parent", [OSLC_RM.decomposes]),
        ("statement", [DCTERMS.description]),
        ("parentCommit", [PROV.wasInformedBy]),
        ("usedDataset", [PROV.used]),
        ("author", [PROV.wasAssociatedWith]),
    ],
)
def test_alignment_to_standard_vocabularies(
    onto: rdflib.Graph, term: str, superterms: list
) -> None:
    node = JFNS[term]
    supers = set(onto.objects(node, RDFS.subClassOf)) | set(onto.objects(node, RDFS.subPropertyOf))
    for sup in superterms:
        assert rdflib.URIRef(getattr(sup, "value", sup)) in supers, f"jf:{term} is not under {sup}"


def _known_standard_term(iri: str, onto: rdflib.Graph) -> bool:
    """A standard term exists: rdflib knows it, or the ontology aligns to it."""
    for namespace in (PROV, DCTERMS, RDF, RDFS, rdflib.namespace.XSD, OWL):
        if iri.startswith(str(namespace)):
            try:
                namespace[iri[len(str(namespace)) :]]
            except (AttributeError, KeyError):
                return False
            return True
    aligned = set(onto.objects(None, RDFS.subClassOf)) | set(onto.objects(None, RDFS.subPropertyOf))
    return rdflib.URIRef(iri) in aligned or any(iri in v for v in (MLS, OSLC_RM, AMO))


def test_every_term_the_package_writes_is_declared(
    onto: rdflib.Graph, config: Config, store: EmbeddedStore
) -> None:
    justify.load(config=config)
    used = store.query("SELECT DISTINCT ?t WHERE { { ?s ?t ?o } UNION { ?s a ?t } }").values()
    terms = {row["t"] for row in used}
    assert len(terms) > 30
    ours = {str(t) for t in declared(onto)}
    undeclared = [
        t
        for t in terms
        if not (t in ours if t.startswith(JF.iri) else _known_standard_term(t, onto))
    ]
    assert undeclared == []


def test_loaded_requirements_conform_to_the_structure_shapes(
    config: Config, store: EmbeddedStore
) -> None:
    justify.load(config=config)
    data = to_rdflib_graph(store.quads())
    shapes = rdflib.Graph().parse(shapes_folder() / "requirements.ttl", format="turtle")
    conforms, _, text = validate(data, shacl_graph=shapes)
    assert conforms, text

    # The shapes do catch a requirement without a title and a non-numeric threshold.
    bad = rdflib.Graph()
    req, crit = rdflib.URIRef("urn:x:req"), rdflib.URIRef("urn:x:crit")
    bad.add((req, RDF.type, JFNS.Requirement))
    bad.add((req, DCTERMS.identifier, rdflib.Literal("R-1")))
    bad.add((req, JFNS.kind, rdflib.Literal("other")))
    bad.add((req, JFNS.status, rdflib.Literal("draft")))
    bad.add((req, JFNS.sourceFile, rdflib.Literal("r.yaml")))
    bad.add((crit, RDF.type, JFNS.AcceptanceCriterion))
    bad.add((crit, JFNS.metricKey, rdflib.Literal("m")))
    bad.add((crit, JFNS.comparator, rdflib.Literal(">=")))
    bad.add((crit, JFNS.threshold, rdflib.Literal("high")))
    conforms, _, text = validate(bad, shacl_graph=shapes)
    assert not conforms
    assert "JF-STRUCT-1: a requirement needs exactly one title" in text
    assert "JF-STRUCT-2: a criterion needs exactly one numeric threshold" in text
