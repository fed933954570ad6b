"""N-Triples text, written directly: for bulk imports, formatting lines in Python
and letting Oxigraph parse them is several times faster than building term
objects one by one. Small graphs use pyoxigraph's terms instead."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from urllib.parse import quote

from pyoxigraph import Triple

from justify.urls import redact
from justify.vocab import DCTERMS, JF, PROV, RDF, RDFS, Vocabulary

_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
XSD_DOUBLE = "<http://www.w3.org/2001/XMLSchema#double>"
XSD_INTEGER = "<http://www.w3.org/2001/XMLSchema#integer>"
XSD_DATETIME = "<http://www.w3.org/2001/XMLSchema#dateTime>"


@functools.lru_cache(maxsize=65536)
def segment(value: str) -> str:
    """One IRI path segment, percent-encoded like ``justify.iris`` (keys repeat: cached)."""
    return quote(value, safe="-._~@")


@functools.lru_cache(maxsize=65536)
def literal(text: str) -> str:
    """A plain string literal (keys and names repeat: cached). Every text an importer
    stores passes here, so this is where stored values lose their credentials."""
    return '"' + redact(text, environment=False).translate(_ESCAPES) + '"'


def typed(lexical: str, datatype: str) -> str:
    """A typed literal; ``datatype`` is already in angle brackets."""
    return '"' + lexical.translate(_ESCAPES) + '"^^' + datatype


def is_number(value: object) -> bool:
    """A value a source gives as a number (int or float, not a bool), for ``double``."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def double(value: float) -> str:
    """An xsd:double literal, with the lexical forms XSD gives NaN and the infinities."""
    if math.isnan(value):
        return typed("NaN", XSD_DOUBLE)
    if math.isinf(value):
        return typed("INF" if value > 0 else "-INF", XSD_DOUBLE)
    return typed(repr(float(value)), XSD_DOUBLE)


class Terms:
    """The ``<iri>`` text of every term of a vocabulary, as attributes."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        for term in vocabulary.terms:
            setattr(self, term, f"<{vocabulary.iri}{term}>")

    def __getattr__(self, name: str) -> str:
        raise AttributeError(f"{name} is not a term of this vocabulary")


class Lines:
    """Collects N-Triples lines and hands them on in chunks of bytes."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, s: str, p: str, o: str) -> None:
        self.lines.append(f"{s} {p} {o} .\n")

    def raw(self, text: str) -> None:
        """Lines already formatted (each ending in " .\n"), for the hottest paths."""
        self.lines.append(text)

    def add_terms(self, triples: Iterable[Triple]) -> None:
        """pyoxigraph triples (whose str() is N-Triples syntax) as lines."""
        for t in triples:
            self.add(str(t.subject), str(t.predicate), str(t.object))

    def __len__(self) -> int:
        return len(self.lines)

    def take(self) -> bytes:
        """The lines so far as one chunk; the collector starts empty again."""
        data = "".join(self.lines).encode("utf-8")
        self.lines = []
        return data


# The terms every importer writes, as N-Triples text.
J, P = Terms(JF), Terms(PROV)
TYPE, LABEL, TITLE = f"<{RDF.type.value}>", f"<{RDFS.label.value}>", f"<{DCTERMS.title.value}>"
