"""SPARQL for analysts: canned queries (``justify/queries/*.rq``), parameters, and
result formats. The CLI and the explorer both use this registry.

A canned query file starts with a header of comment lines::

    # title: Trace of one requirement
    # description: What one requirement is linked to.
    # param: id  the requirement id, e.g. REQ-REC-1

A parameter is a variable of the query (``?id``); its value is bound with a
``VALUES`` clause at the start of the query's outer ``WHERE`` block.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, serialize

from justify.choices import OUTPUT_FORMATS
from justify.config import Config, load_config
from justify.errors import QueryError
from justify.store import GraphStore, QueryResult, open_store
from justify.vocab import PREFIXES, XSD

_HEADER = re.compile(r"^#\s*(title|description|param):\s*(.*)$")
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_ERROR_AT = re.compile(r"error at (\d+):(\d+)")


@dataclass(frozen=True)
class CannedQuery:
    """A stored query: its name (the file stem), header and text."""

    name: str
    title: str
    description: str
    parameters: tuple[tuple[str, str], ...]
    text: str


def parse_query_file(name: str, text: str) -> CannedQuery:
    """Read the header of a ``.rq`` file."""
    title, description, params = name, "", []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if not match:
            continue
        key, value = match.group(1), match.group(2).strip()
        if key == "title":
            title = value
        elif key == "description":
            description = value
        else:
            pname, _, phelp = value.partition(" ")
            params.append((pname, phelp.strip()))
    return CannedQuery(name, title, description, tuple(params), text)


def canned_queries() -> dict[str, CannedQuery]:
    """The queries shipped with justify, by name."""
    folder = resources.files("justify") / "queries"
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".rq"):
            name = entry.name.removesuffix(".rq")
            found[name] = parse_query_file(name, entry.read_text(encoding="utf-8"))
    return found


def resolve(query: str) -> CannedQuery:
    """A query given inline, as ``@file.rq``, or by the name of a canned query."""
    if query.startswith("@"):
        path = Path(query[1:]).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise QueryError(
                f"{path}: cannot read the query file: {exc.strerror or exc}",
                hint="give an existing .rq file after '@'",
            ) from exc
        return parse_query_file(path.stem, text)
    canned = canned_queries()
    if query in canned:
        return canned[query]
    if re.fullmatch(r"[A-Za-z0-9_-]+", query.strip()):
        raise QueryError(
            f"no canned query named '{query}'",
            hint="canned queries: " + ", ".join(canned) + "; or give SPARQL text or @file.rq",
        )
    return parse_query_file("inline", query)


def term(value: str | NamedNode | Literal, *, iri: bool = False) -> str:
    """The one way a value enters a query: as a term written by pyoxigraph, which
    escapes literals and refuses a malformed IRI. ``iri`` reads text as an IRI."""
    if isinstance(value, NamedNode | Literal):
        return str(value)
    if not iri:
        return str(Literal(value))
    try:
        return str(NamedNode(value))
    except ValueError as exc:
        raise QueryError(
            f"{value[:200]!r} is not an IRI ({exc})",
            hint="give an absolute IRI such as https://example.org/x, or pick a node from a "
            "table or a link",
        ) from exc


def _parameter(value: str) -> str:
    """A --param value: <...> is an IRI, anything else a string literal."""
    if value.startswith("<") and value.endswith(">"):
        return term(value[1:-1], iri=True)
    return term(value)


def bind_parameters(canned: CannedQuery, params: Mapping[str, str]) -> str:
    """The query text with its parameters bound; every declared one is required."""
    declared = [p for p, _ in canned.parameters]
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise QueryError(
            f"query '{canned.name}' has no parameter {', '.join(unknown)}",
            hint=f"its parameters: {', '.join(declared) or 'none'}",
        )
    missing = [p for p in declared if p not in params]
    if missing:
        raise QueryError(
            f"query '{canned.name}' needs a value for: {', '.join(missing)}",
            hint="give it with --param " + " --param ".join(f"{p}=VALUE" for p in missing),
        )
    if not params:
        return canned.text
    match = _WHERE.search(canned.text)
    if match is None:
        raise QueryError(f"query '{canned.name}' has parameters but no WHERE block to bind them")
    values = " ".join(f"VALUES ?{k} {{ {_parameter(v)} }}" for k, v in params.items())
    return canned.text[: match.end()] + " " + values + " " + canned.text[match.end() :]


def values(name: str, terms: Iterable[NamedNode | Literal]) -> str:
    """``VALUES ?name { ... }`` binding a variable to terms written by pyoxigraph, which
    escapes them: values enter queries as terms, never as pasted text."""
    return f"VALUES ?{name} {{ {' '.join(term(t) for t in terms)} }}"


def iris(texts: Iterable[str]) -> list[NamedNode]:
    """IRIs from the store (already valid), as terms for :func:`values`."""
    return [NamedNode(t) for t in texts]


def query_kind(text: str) -> str:
    """'query' or 'update', decided by SPARQL 1.1's grammar (rdflib's parser), not by
    keywords: ``SELECT ?insert`` is a query. Text that is neither is left to the store,
    whose error names the line and column."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    try:
        parseQuery(with_prefixes(text))
        return "query"
    except ParseException:
        pass
    try:
        parseUpdate(with_prefixes(text))
        return "update"
    except ParseException:
        return "query"


def uses_service(text: str) -> bool:
    """Whether the query has a SERVICE pattern (a request to another server)."""
    if "service" not in text.lower():
        return False  # the parser is slow; most queries cannot have one
    from pyparsing import ParseException, ParseResults
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
    from rdflib.plugins.sparql.parserutils import CompValue

    def walk(node: object) -> bool:
        if isinstance(node, CompValue):
            return node.name == "ServiceGraphPattern" or any(walk(v) for v in node.values())
        if isinstance(node, list | tuple | ParseResults):
            return any(walk(v) for v in node)
        return False

    for parse in (parseQuery, parseUpdate):
        try:
            return walk(parse(with_prefixes(text)))
        except ParseException:
            continue
    return False


def refuse_service(text: str, where: str) -> None:
    """Queries from the console, shapes and reports never reach the network."""
    if uses_service(text):
        raise QueryError(
            f"{where} uses SERVICE, which would send a request to another server; "
            "justify does not reach the network from here",
            hint="query the graph justify holds; `justify query --allow-service` lets an "
            "analyst federate on their own machine",
        )


def with_prefixes(text: str) -> str:
    """Declare justify's prefixes on one leading line, unless the query declares them."""
    declared = {m.lower() for m in re.findall(r"PREFIX\s+([A-Za-z0-9_-]*):", text, re.I)}
    line = " ".join(f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items() if p not in declared)
    return line + "\n" + text


def run_query(store: GraphStore, text: str) -> QueryResult:
    """Run SPARQL text on a store; a syntax error names the line and column."""
    try:
        return store.query(with_prefixes(text))
    except QueryError as exc:
        raise QueryError(_locate_error(exc.message, text), hint=exc.hint) from exc


def _locate_error(message: str, text: str) -> str:
    match = _ERROR_AT.search(message)
    if not match:
        return message
    line, column = int(match.group(1)) - 1, int(match.group(2))  # -1: the prefix line
    lines = text.splitlines()
    message = _ERROR_AT.sub(f"error at line {line}, column {column}", message)
    if 1 <= line <= len(lines):
        source = lines[line - 1]
        return f"{message}\n  {line:>4} | {source}\n       | {' ' * max(column - 1, 0)}^"
    return message


def query(
    query: str,
    *,
    params: Mapping[str, str] | None = None,
    allow_service: bool = False,
    config: Config | None = None,
    store: GraphStore | None = None,
) -> QueryResult:
    """Run a query given inline, as ``@file.rq`` or by canned name, over all graphs.
    A SERVICE pattern (a request to another server) is refused unless ``allow_service``."""
    config = config or load_config()
    canned = resolve(query)
    text = bind_parameters(canned, params or {})
    if not allow_service:
        refuse_service(text, "the query")
    store = store or open_store(config)
    return run_query(store, text)


# ------------------------------------------------------------------ formatting


def term_text(term: object, *, compact: bool = False, base: str | None = None) -> str:
    """A term as a plain string; ``compact`` shortens IRIs with known prefixes."""
    if term is None:
        return ""
    if isinstance(term, NamedNode):
        if compact:
            if base and term.value.startswith(base):
                return ":" + term.value[len(base) :]
            for prefix, iri in PREFIXES.items():
                if term.value.startswith(iri):
                    return f"{prefix}:{term.value[len(iri) :]}"
        return term.value
    if isinstance(term, BlankNode):
        return "_:" + term.value
    if isinstance(term, Literal):
        return term.value
    return str(term)


def _json_term(term: object) -> dict[str, str]:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype != XSD.string:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": str(term)}


def _rows(result: QueryResult) -> tuple[list[str], list[tuple[object, ...]]]:
    if result.kind == "select":
        return result.variables, result.rows
    if result.kind == "ask":
        return ["result"], [(Literal("true" if result.boolean else "false"),)]
    return ["subject", "predicate", "object"], [
        (t.subject, t.predicate, t.object) for t in result.triples
    ]


def format_result(result: QueryResult, fmt: str = "table", *, base: str | None = None) -> str:
    """Render a result as a text table, CSV, TSV or JSON (SPARQL 1.1 results / JSON-LD)."""
    if fmt not in OUTPUT_FORMATS:
        raise QueryError(
            f"unknown output format {fmt!r}", hint="use one of: " + ", ".join(OUTPUT_FORMATS)
        )
    if fmt == "json":
        if result.kind == "ask":
            return json.dumps({"head": {}, "boolean": bool(result.boolean)}, indent=2)
        if result.kind == "graph":
            data = io.BytesIO()
            serialize(result.triples, data, format=RdfFormat.JSON_LD)
            return data.getvalue().decode("utf-8")
        bindings = [
            {v: _json_term(t) for v, t in zip(result.variables, row, strict=True) if t is not None}
            for row in result.rows
        ]
        return json.dumps(
            {"head": {"vars": result.variables}, "results": {"bindings": bindings}},
            indent=2,
            ensure_ascii=False,
        )
    header, rows = _rows(result)
    if fmt in ("csv", "tsv"):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows([term_text(t) for t in row] for row in rows)
        return buffer.getvalue().rstrip("\n")
    return text_table(
        header, [[term_text(t, compact=True, base=base) for t in row] for row in rows]
    )


def text_table(header: list[str], rows: list[list[str]], *, max_width: int = 60) -> str:
    """A plain aligned table, long cells cut with an ellipsis, and a row count."""

    def cut(cell: str) -> str:
        cell = cell.replace("\n", " ")
        return cell if len(cell) <= max_width else cell[: max_width - 1] + "…"

    cells = [[cut(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(header)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
        *("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells),
    ]
    noun = "row" if len(rows) == 1 else "rows"
    return "\n".join([*lines, f"({len(rows)} {noun})"])
