"""SHACL-SPARQL's rules for the queries of constraints and targets: what a query may
contain, how ``$this`` and ``$PATH`` are pre-bound, and when the fast engine may run
one query for all focus nodes instead of one per focus node."""

from __future__ import annotations

import functools
import itertools
import re
import threading
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import SH

from justify.errors import ShapeError

# Strings, IRIs and comments: text in which `{` or `$PATH` means nothing.
_SKIP = (
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\s]*>'
    r"|#[^\n]*"
)
_BRACE = re.compile(f"({_SKIP})|\\{{")
_PATH_VAR = re.compile(f"({_SKIP})|[$?]PATH\\b")


def _parsed(node: Any) -> bool:
    """Whether ``node`` is a part of a query rdflib parsed (its parser is imported
    only for a query the quick reading cannot judge: 0.15 s a check)."""
    from rdflib.plugins.sparql.parserutils import CompValue

    return isinstance(node, CompValue)


_FORM = re.compile(f"({_SKIP})|\\b(SELECT|CONSTRUCT|ASK|DESCRIBE)\\b", re.IGNORECASE)
_WHERE_GROUP = re.compile(f"({_SKIP})|\\bWHERE\\s*\\{{", re.IGNORECASE)


def with_focus(query: str, focus: str, where: str) -> str:
    """``query`` with ``focus`` (a pattern binding ?this) first in its WHERE group."""
    form = next((m.group(2).upper() for m in _FORM.finditer(query) if m.group(2)), "SELECT")
    # A CONSTRUCT's first group is its template: its WHERE group is the one after
    # the keyword. A SELECT or ASK may leave the keyword out: its first group.
    finder = _WHERE_GROUP if form == "CONSTRUCT" else _BRACE
    for match in finder.finditer(query):
        if match.group(1) is None:
            return query[: match.end()] + " " + focus + " " + query[match.end() :]
    raise ShapeError(
        f"{where}: its SPARQL query has no WHERE group", hint="write SELECT ... WHERE { ... }"
    )


_PREFIXED = re.compile(f"({_SKIP})|(?<![\\w?$:/.-])([A-Za-z][\\w.-]*)?:(?=[A-Za-z_0-9])")
_DECLARED = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:", re.IGNORECASE)


def undeclared_prefixes(text: str) -> list[str]:
    """The prefixes a query uses without declaring them (``ex:`` for ``ex:Thing``)."""
    declared = {m.group(1) or "" for m in _DECLARED.finditer(text)}
    used = {m.group(2) or "" for m in _PREFIXED.finditer(text) if m.group(1) is None}
    return sorted(f"{p}:" for p in used - declared)


def with_path(query: str, path: str) -> str:
    """``$PATH`` replaced by the property shape's path, as SHACL-SPARQL pre-binds it."""
    return _PATH_VAR.sub(lambda m: m.group(1) or path, query)


def path_text(shapes: rdflib.Graph, path: rdflib.term.Node) -> str:
    """A SHACL property path as a SPARQL property path."""
    if isinstance(path, rdflib.URIRef):
        return f"<{path}>"
    if (path, rdflib.RDF.first, None) in shapes:
        return "(" + "/".join(path_text(shapes, p) for p in Collection(shapes, path)) + ")"
    for predicate, operator in (
        (SH.inversePath, "^"),
        (SH.zeroOrMorePath, "*"),
        (SH.oneOrMorePath, "+"),
        (SH.zeroOrOnePath, "?"),
    ):
        inner = shapes.value(path, predicate)
        if inner is not None:
            text = path_text(shapes, inner)
            return f"^{text}" if operator == "^" else f"({text}){operator}"
    alternatives = shapes.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(path_text(shapes, p) for p in Collection(shapes, alternatives)) + ")"
    raise ShapeError(
        "a shape's sh:path is not a SHACL property path", hint="see SHACL section 2.3.1"
    )


PARSING = threading.Lock()


@functools.lru_cache(maxsize=512)
def _parse_text(text: str) -> Any:
    from rdflib.plugins.sparql.parser import parseQuery

    with PARSING:  # pyparsing's parser keeps state: one thread at a time
        return parseQuery(text)


def _parse(text: str, where: str) -> Any:
    try:
        return _parse_text(text)
    except Exception as exc:  # pyparsing's ParseException, with line and column
        raise ShapeError(f"{where}: its SPARQL query does not parse: {exc}") from exc


def _children(node: Any) -> list[Any]:
    if _parsed(node):
        return list(node.values())
    if isinstance(node, list | tuple):
        return list(node)
    if hasattr(node, "asList") and not isinstance(node, str):
        return list(node)
    return []


def _walk(node: Any) -> Any:
    yield node
    for child in _children(node):
        yield from _walk(child)


_THIS = rdflib.Variable("this")


def _mentions(node: Any, var: rdflib.Variable = _THIS) -> bool:
    return any(n == var for n in _walk(node) if isinstance(n, rdflib.Variable))


def _in_scope(where: Any, var: rdflib.Variable) -> bool:
    """Whether a triple pattern or BIND of ``where`` binds ``var`` (a rough test of
    SPARQL's in-scope variables, enough for the sub-query rule)."""
    for node in _walk(where):
        if _parsed(node) and node.name == "TriplesBlock" and _mentions(node, var):
            return True
        if _parsed(node) and node.name == "Bind" and dict.get(node, "var") == var:
            return True
    return False


_TOKEN = re.compile(
    f"({_SKIP})|(\\{{|\\}}|\\(|\\))|\\b(SELECT|CONSTRUCT|WHERE|MINUS|VALUES|SERVICE|FILTER|BIND|"
    "EXISTS|LIMIT|OFFSET)\\b|([$?]this\\b)",
    re.IGNORECASE,
)


def _plainly_batchable(text: str) -> bool:
    """A quick reading of the text, for the common case: no MINUS, VALUES or SERVICE,
    sub-queries that return $this (see :func:`_plain_subquery`), and $this in an
    expression only in the top-level group or in the EXISTS bodies of its filters.
    True only when that is certain; otherwise the query is parsed (pyparsing takes
    about 50 ms a query, most of a small check)."""
    tokens = [m for m in _TOKEN.finditer(text) if m.group(1) is None]
    words = [(m.group(3) or "").upper() for m in tokens]
    if {"MINUS", "VALUES", "SERVICE"} & set(words):
        return False
    if "CONSTRUCT" in words:  # its template comes first: start at WHERE
        if "WHERE" not in words:
            return False
        tokens = tokens[words.index("WHERE") :]
        words = words[words.index("WHERE") :]
    elif "SELECT" in words:  # the query's own SELECT: the others are sub-queries
        first = words.index("SELECT")
        tokens, words = tokens[first + 1 :], words[first + 1 :]
    if not all(_plain_subquery(text, tokens, i) for i, w in enumerate(words) if w == "SELECT"):
        return False
    # Per open group: "top", "exists" (substituted) or "nested", and whether a triple
    # pattern of that very group has named $this yet.
    contexts: list[tuple[str, bool]] = []
    parens = 0  # depth of the parentheses of the current FILTER or BIND expression
    expression = False
    after_exists = False
    projection = False  # a sub-query's SELECT, GROUP BY, ORDER BY or HAVING clause
    for m in tokens:
        symbol, word, this = m.group(2), (m.group(3) or "").upper(), m.group(4)
        if word in ("FILTER", "BIND"):
            expression, parens = True, 0
        elif word == "EXISTS":
            after_exists = True
        elif word in ("SELECT", "GROUP", "ORDER", "HAVING"):
            projection = True
        elif symbol == "{":
            if not contexts:
                contexts.append(("top", False))
            elif after_exists and contexts[-1][0] in ("top", "exists"):
                contexts.append(("exists", False))
            else:
                contexts.append(("nested", False))
            after_exists = projection = expression = False
        elif symbol == "}":
            if not contexts:
                return False
            contexts.pop()
            projection = False
        elif symbol == "(" and expression:
            parens += 1
        elif symbol == ")" and expression:
            parens -= 1
            expression = parens > 0
        elif this and contexts and not expression and not projection:
            contexts[-1] = (contexts[-1][0], True)
        elif this and contexts and contexts[-1] == ("nested", False) and expression:
            # In a nested group, $this in an expression is bound as pre-binding binds
            # it only where a triple pattern of the same group bound it first (a
            # sub-query that builds an IRI from $this, say).
            return False
    return not contexts


_STAR = re.compile(r"\s*(?:DISTINCT|REDUCED)?\s*\*\s*(?:WHERE)?\s*", re.IGNORECASE)


def _plain_subquery(text: str, tokens: list[re.Match[str]], at: int) -> bool:
    """Whether the sub-query whose SELECT is ``tokens[at]`` is certainly joined as
    pre-binding would bind it: it returns ``$this`` (SHACL-SPARQL refuses one that
    does not) and, if it uses it, does not LIMIT its answers (a limit per focus node
    is not a limit over all of them)."""
    start = next((i for i in range(at + 1, len(tokens)) if tokens[i].group(2) == "{"), None)
    if start is None:
        return False
    depth, end = 0, None
    for i in range(start, len(tokens)):
        depth += {"{": 1, "}": -1}.get(tokens[i].group(2) or "", 0)
        if depth == 0:
            end = i
            break
    if end is None:
        return False
    uses = any(t.group(4) for t in tokens[start:end])
    projection = text[tokens[at].end() : tokens[start].start()]
    names = _VARIABLE.format("this")
    star = _STAR.fullmatch(projection) is not None
    if not (re.search(names, projection) or (star and uses)):
        return False
    # Its modifiers, up to the end of the group that holds it.
    after = itertools.takewhile(lambda t: t.group(2) not in ("{", "}"), tokens[end + 1 :])
    limited = any((t.group(3) or "").upper() in ("LIMIT", "OFFSET") for t in after)
    return not (uses and limited)


def check_syntax(text: str, where: str) -> bool:
    """Refuse what SHACL-SPARQL forbids in the query of a constraint or a target
    (MINUS, VALUES, SERVICE, a sub-query that does not return ``$this``); return
    whether one query may serve every focus node at once: true when ``$this``
    appears outside the top-level group only in triple patterns, which a join with
    the focus nodes binds exactly as pre-binding would."""
    return _plainly_batchable(text) or analysed(text, where)


def analysed(text: str, where: str) -> bool:
    """:func:`check_syntax` on the parsed query, every case."""
    parsed = _parse(text, where)
    query = parsed[1]
    for node in _walk(query):
        if not _parsed(node):
            continue
        if node.name == "MinusGraphPattern":
            raise ShapeError(
                f"{where}: SHACL-SPARQL forbids MINUS in a shape's query",
                hint="use FILTER NOT EXISTS",
            )
        if node.name == "InlineData" or (
            node.name.endswith("Query") and dict.get(node, "valuesClause") is not None
        ):
            raise ShapeError(
                f"{where}: SHACL-SPARQL forbids VALUES in a shape's query",
                hint="use FILTER (?x IN (...))",
            )
        if node.name == "ServiceGraphPattern":
            raise ShapeError(
                f"{where}: uses SERVICE, which would send a request to another server; "
                "shapes never reach the network",
                hint="remove the SERVICE pattern from the shape",
            )
        if node.name == "SubSelect":
            projected = _projects(node, _THIS)
            if not projected:
                raise ShapeError(
                    f"{where}: a sub-query uses $this without returning it; SHACL-SPARQL "
                    "requires sub-queries to return every pre-bound variable",
                    hint="add $this to the sub-query's SELECT",
                )
    return _safe_group(dict.get(query, "where"), bound=True)


def _binds_this(part: Any) -> bool:
    return _parsed(part) and part.name == "TriplesBlock" and _mentions(part)


def _safe_group(group: Any, *, bound: bool) -> bool:
    """Whether joining the focus nodes in gives what pre-binding $this gives, for a
    group evaluated on its own (SPARQL evaluates groups bottom-up): $this in a
    triple pattern is joined on either way; in an expression it must be bound in the
    group that evaluates it, by the focus pattern (the top group) or by one of the
    group's own triple patterns."""
    if not _parsed(group):
        return not _mentions(group)
    if group.name != "GroupGraphPatternSub":  # a sub-query: a group of its own
        if dict.get(group, "limitoffset") is not None and _mentions(dict.get(group, "where")):
            return False  # a limit per focus node is not a limit over all of them
        return _safe_group(dict.get(group, "where"), bound=False)
    parts = dict.get(group, "part") or []
    bound_here = bound or any(_binds_this(p) for p in parts)
    seen_binding = bound
    for part in parts:
        if not _parsed(part):
            continue
        if part.name == "TriplesBlock":
            seen_binding = seen_binding or _mentions(part)
        elif part.name == "Filter":
            if not _safe_expression(dict.get(part, "expr"), bound=bound_here):
                return False
        elif part.name == "Bind":  # evaluated on what precedes it in the group
            if not _safe_expression(dict.get(part, "expr"), bound=seen_binding):
                return False
        elif part.name == "OptionalGraphPattern":
            # Its filters see the solutions it extends.
            if not _safe_group(dict.get(part, "graph"), bound=bound_here):
                return False
        elif part.name == "GroupOrUnionGraphPattern":
            if not all(_safe_group(g, bound=False) for g in dict.get(part, "graph") or []):
                return False
        elif part.name == "GraphGraphPattern":
            if not _safe_group(dict.get(part, "graph"), bound=False):
                return False
        elif _mentions(part):
            return False
    return True


def _safe_expression(expr: Any, *, bound: bool) -> bool:
    if bound:
        return True  # $this has its value here; EXISTS bodies get it substituted too
    for node in _walk(expr):
        if (
            _parsed(node)
            and node.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS")
            and not _safe_group(dict.get(node, "graph"), bound=False)
        ):
            return False
    return not any(n == _THIS for n in _walk_outside_exists(expr) if isinstance(n, rdflib.Variable))


def _walk_outside_exists(node: Any) -> Any:
    if _parsed(node) and node.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
        return
    yield node
    for child in _children(node):
        yield from _walk_outside_exists(child)


def _projects(select: Any, var: rdflib.Variable) -> bool:
    """Whether a SELECT returns ``var``: named in its projection, or in scope under ``*``."""
    projection = dict.get(select, "projection")
    if projection is not None and (
        isinstance(projection, list | tuple) or hasattr(projection, "asList")
    ):
        return any(_parsed(p) and dict.get(p, "var") == var for p in projection)
    return _in_scope(dict.get(select, "where"), var)


_VARIABLE = r"[$?]{}\b"


_FRESH = itertools.count()
_SELECT = re.compile(f"({_SKIP})|\\bSELECT\\b|\\bWHERE\\b|\\{{", re.IGNORECASE)


def bind_text(text: str, name: str, term: str) -> str:
    """Pre-binding written into the text: in a SELECT clause ``$name`` becomes
    ``(term AS ?name)``, ``bound($name)`` becomes ``true``, and every other
    ``$name`` / ``?name`` the term itself, in every group and sub-query."""
    var = _VARIABLE.format(re.escape(name))
    out, last, in_select = [], 0, False
    for match in _SELECT.finditer(text):
        if match.group(1) is not None:
            continue
        word = match.group(0).upper()
        segment = text[last : match.start()]
        out.append(_bind_segment(segment, var, term, in_select, name))
        out.append(match.group(0))
        last = match.end()
        in_select = word == "SELECT"
    out.append(_bind_segment(text[last:], var, term, in_select, name))
    return "".join(out)


def _bind_segment(segment: str, var: str, term: str, in_select: bool, name: str) -> str:
    if in_select:
        # A fresh name: ?name itself may be in scope already (a sub-query returned it),
        # and nobody reads the column: the caller knows what it bound.
        pattern = re.compile(f"({_SKIP})|{var}")
        return pattern.sub(
            lambda m: m.group(1) or f"({term} AS ?justifyBound{next(_FRESH)})", segment
        )
    bound = re.compile(f"({_SKIP})|\\bbound\\s*\\(\\s*{var}\\s*\\)", re.IGNORECASE)
    segment = bound.sub(lambda m: m.group(1) or "(true)", segment)
    plain = re.compile(f"({_SKIP})|{var}")
    return plain.sub(lambda m: m.group(1) or term, segment)


def prebind(
    text: str, where: str, values: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]
) -> tuple[str, dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal]]:
    """Pre-bind variables to terms: Oxigraph substitutes a variable the query returns;
    one it does not return is written into the text (an IRI or a literal can be)."""
    substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal] = {}
    for name, term in values.items():
        if not re.search(_VARIABLE.format(name), text):
            continue
        if isinstance(term, ox.BlankNode):
            # A blank node cannot be written in a query: Oxigraph's substitution, which
            # binds it where the query returns it (see the departures file).
            substitutions[ox.Variable(name)] = term
        else:
            text = bind_text(text, name, str(term))
    return text, substitutions
