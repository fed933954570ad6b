"""Plain YAML data with line numbers, read with limits.

Requirement files are data written by people, and read by CI on every push, so the
reader refuses what plain data never needs and what could hang or exhaust a
machine: tags other than YAML's own (``!foo``, ``!!python/object/apply:...``),
aliases that contain themselves, aliases that expand to more than
``MAX_ALIAS_NODES`` values (a "billion laughs"), nesting deeper than
``MAX_DEPTH`` and integers too large for a double.

It builds its own small nodes straight from libyaml's events instead of PyYAML's
node and mark objects: on a 10 MB file that is several times faster and smaller,
and the time and memory grow linearly with the file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import yaml

SEQ, MAP, SCALAR = 0, 1, 2
# Values aliases may add once expanded: far more than any real file, far fewer than
# an alias bomb would build.
MAX_ALIAS_NODES = 100_000
MAX_DEPTH = 100

_YAML = "tag:yaml.org,2002:"
_STR, _SEQ_TAG, _MAP_TAG = _YAML + "str", _YAML + "seq", _YAML + "map"
_SCALAR_TAGS = frozenset(_YAML + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
# libyaml's parser when PyYAML was built with it: the same events, much faster.
_PARSER: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None)
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
_CONSTRUCTOR = yaml.SafeLoader("")


class Node:
    """One value: ``kind`` is SEQ (``value`` a list of nodes), MAP (a list of
    (key, value) node pairs) or SCALAR (the constructed Python value)."""

    __slots__ = ("kind", "line", "size", "value")

    def __init__(self, kind: int, value: Any, line: int) -> None:
        self.kind = kind
        self.value = value
        self.line = line  # 1-based
        self.size = 1  # values it holds, aliases expanded (kept for anchored nodes)

    def data(self) -> Any:
        """The plain Python value (lists, dicts, scalars); depth is bounded by MAX_DEPTH."""
        if self.kind == SCALAR:
            return self.value
        if self.kind == SEQ:
            return [item.data() for item in self.value]
        return {_hashable(k.data()): v.data() for k, v in self.value}


def _hashable(key: Any) -> Any:
    return key if not isinstance(key, list | dict) else repr(key)


class PlainYamlError(Exception):
    """The text is not plain YAML data within the limits; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _events(text: str) -> Iterator[Any]:
    parser = _PARSER(text) if _PARSER is not None else yaml.SafeLoader(text)
    try:
        while parser.check_event():
            yield parser.get_event()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = str(exc.problem or exc.context or "invalid YAML")
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            what += f" ({exc.context} started at line {exc.context_mark.line + 1})"
        elif exc.context and exc.problem:
            what = f"{exc.context}: {what}"
        raise PlainYamlError(line, f"YAML syntax error: {what}") from None
    except yaml.YAMLError as exc:
        raise PlainYamlError(1, f"YAML error: {exc}") from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()


def _refused_tag(tag: str, line: int) -> PlainYamlError:
    return PlainYamlError(
        line,
        f"YAML tag '{tag.removeprefix(_YAML)}' is not allowed; requirement files take plain "
        "data (text, numbers, lists, mappings)",
    )


def _scalar(event: Any, line: int, problems: list[tuple[int, str]]) -> Any:
    value: str = event.value
    tag = event.tag
    if tag is None or tag == "!":
        if event.implicit[0]:  # plain: YAML 1.1's implicit types (PyYAML's resolvers)
            tag = _STR
            for candidate, pattern in _RESOLVERS.get(value[:1] or "", ()):
                if pattern.match(value):
                    tag = candidate
                    break
        else:
            return value
    if tag == _STR:
        return value
    if tag not in _SCALAR_TAGS:
        raise _refused_tag(tag, line)
    try:
        result = _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, value))
    except (ValueError, TypeError, yaml.YAMLError) as exc:
        raise PlainYamlError(line, f"{value!r} is not a valid {tag.removeprefix(_YAML)}") from exc
    too_big = isinstance(result, int) and abs(result) > sys.float_info.max
    if too_big and not isinstance(result, bool):
        problems.append(
            (
                line,
                f"the integer {value[:20]}... ({len(value)} digits) is too large for a number "
                "justify can compare; write it as text or as a decimal",
            )
        )
        return None
    return result


def compose_reporting(text: str, report: Callable[[int, str], None]) -> tuple[bool, Node | None]:
    """``compose`` for a reader that collects problems, each handed to ``report(line,
    message)``: (False, None) when the text is not plain data at all, else (True, the
    root node, or None for an empty document)."""
    unusable: list[tuple[int, str]] = []
    try:
        root = compose(text, unusable)
    except PlainYamlError as exc:
        report(exc.line, exc.message)
        return False, None
    for line, message in unusable:
        report(line, message)
    return True, root


def compose(text: str, problems: list[tuple[int, str]] | None = None) -> Node | None:
    """The first document of ``text`` as nodes (None if there is none); raises
    ``PlainYamlError`` for syntax errors and anything outside plain data. Values that
    are read but unusable (an integer too large for a double, read as None) are
    added to ``problems`` as (line, message), so that the rest is still checked."""
    problems = [] if problems is None else problems
    anchors: dict[str, Node] = {}
    open_anchors: set[str] = set()
    expanded = 0
    # Each frame: [node, anchor, pending key (maps)]
    stack: list[list[Any]] = []
    root: Node | None = None

    def attach(node: Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        frame = stack[-1]
        parent: Node = frame[0]
        parent.size += node.size
        if parent.kind == SEQ:
            parent.value.append(node)
        elif frame[2] is None:
            frame[2] = node
        else:
            parent.value.append((frame[2], node))
            frame[2] = None

    for event in _events(text):
        kind = type(event).__name__
        if kind == "ScalarEvent":
            line = event.start_mark.line + 1
            node = Node(SCALAR, _scalar(event, line, problems), line)
            if event.anchor is not None:
                anchors[event.anchor] = node
            attach(node)
        elif kind in ("SequenceStartEvent", "MappingStartEvent"):
            line = event.start_mark.line + 1
            expected = _SEQ_TAG if kind == "SequenceStartEvent" else _MAP_TAG
            if event.tag not in (None, "!", expected):
                raise _refused_tag(event.tag, line)
            if len(stack) >= MAX_DEPTH:
                raise PlainYamlError(
                    line, f"lists and mappings are nested deeper than {MAX_DEPTH} levels"
                )
            node = Node(SEQ if kind == "SequenceStartEvent" else MAP, [], line)
            if event.anchor is not None:
                anchors[event.anchor] = node
                open_anchors.add(event.anchor)
            stack.append([node, event.anchor, None])
        elif kind in ("SequenceEndEvent", "MappingEndEvent"):
            node, anchor, _ = stack.pop()
            if anchor is not None:
                open_anchors.discard(anchor)
            attach(node)
        elif kind == "AliasEvent":
            line = event.start_mark.line + 1
            if event.anchor in open_anchors:
                raise PlainYamlError(
                    line,
                    f"the alias *{event.anchor} refers to a node that contains it; "
                    "requirement files take plain data",
                )
            target = anchors.get(event.anchor)
            if target is None:
                raise PlainYamlError(line, f"the alias *{event.anchor} names no anchor before it")
            expanded += target.size
            if expanded > MAX_ALIAS_NODES:
                raise PlainYamlError(
                    line,
                    f"YAML aliases expand to more than {MAX_ALIAS_NODES:,} values by this "
                    "line; write the data out instead of nesting aliases",
                )
            attach(target)
        elif kind == "DocumentEndEvent":
            return root
    return root
