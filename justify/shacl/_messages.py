"""The message of a validation result, for both engines: which of a shape's messages
is shown, how its placeholders are filled, and what is said when a shape has none."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import rdflib
from rdflib.namespace import SH

_PLACEHOLDER = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


def choose(messages: Iterable[rdflib.Literal]) -> str:
    """One message of several (one per language, say): the one without a language,
    else English, else the first by language tag."""
    ranked = sorted(
        messages,
        key=lambda m: (
            m.language not in (None, ""),
            (m.language or "").lower() != "en",
            m.language or "",
            str(m),
        ),
    )
    return str(ranked[0]) if ranked else ""


def fill(template: str, values: Mapping[str, str]) -> str:
    """``{?name}`` and ``{$name}`` replaced by the lexical form of what is bound to them."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


_DEFAULTS = {
    SH.MinCountConstraintComponent: ("has fewer than {} values", SH.minCount),
    SH.MaxCountConstraintComponent: ("has more than {} values", SH.maxCount),
    SH.UniqueLangConstraintComponent: ("has two values in one language", None),
    SH.HasValueConstraintComponent: ("lacks the value {}", SH.hasValue),
    SH.ClassConstraintComponent: ("value {value} is not an instance of {}", SH["class"]),
    SH.DatatypeConstraintComponent: ("value {value} is not a well-formed {}", SH.datatype),
    SH.NodeKindConstraintComponent: ("value {value} is not a {}", SH.nodeKind),
    SH.InConstraintComponent: ("value {value} is not one of the allowed values", None),
    SH.PatternConstraintComponent: ("value {value} does not match {}", SH.pattern),
    SH.MinLengthConstraintComponent: ("value {value} is shorter than {}", SH.minLength),
    SH.MaxLengthConstraintComponent: ("value {value} is longer than {}", SH.maxLength),
    SH.LanguageInConstraintComponent: ("value {value} is not in an allowed language", None),
    SH.SPARQLConstraintComponent: ("value {value} fails the shape's SPARQL constraint", None),
}


def default_message(
    shapes: rdflib.Graph,
    shape: rdflib.term.Node | None,
    component: rdflib.term.Node,
    value: str | None,
) -> str:
    """What a result says when its shape gives no sh:message: the constraint
    component, what failed and the parameter it failed, the same from both engines."""
    name = str(component).removeprefix(str(SH)).removesuffix("ConstraintComponent")
    default: tuple[str, rdflib.URIRef | None] = ("value {value} fails sh:" + name, None)
    template, parameter = _DEFAULTS.get(rdflib.URIRef(str(component)), default)
    shown = ""
    if parameter is not None and shape is not None:
        values = sorted(shapes.objects(shape, parameter), key=str)
        shown = " or ".join(
            str(v) if isinstance(v, rdflib.Literal) else v.n3(shapes.namespace_manager)
            for v in values
        )
    return f"{name}: " + template.replace("{value}", value or "").replace("{}", shown)
