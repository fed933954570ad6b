"""Reading OpenLineage events from files, each validated against the OpenLineage
JSON schema and the standard facets' schemas (vendored in ``justify/schemas``).

A file holds a sequence of JSON documents: one per line (JSON lines, what the file
transport writes with ``append: true`` and what ``justify lineage receive``
appends), or one pretty-printed document per file (the file transport's default and
its debug mode). Every event keeps the line it starts on, for messages.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs

from justify.resources import package_file

# What a folder of events holds: the file transport writes ``*.json``; JSON lines
# files are often ``*.jsonl`` or ``*.ndjson``.
EVENT_SUFFIXES = (".json", ".jsonl", ".ndjson")
_MESSAGE_LIMIT = 240  # a schema error quotes the instance; an event can be long
_WHITESPACE = " \t\r\n"


@dataclass(frozen=True)
class Event:
    """One JSON document of an events file, and where it starts."""

    file: str  # as shown in messages: relative to the events folder
    line: int
    data: Any


def _no_network(uri: str) -> Any:
    # Every schema the events need is vendored; a reference to anything else is a
    # bug in the schemas, never a reason to reach the network.
    raise ValueError(f"{uri} is not among justify's vendored OpenLineage schemas")


@functools.cache
def _validators() -> dict[str, Any]:
    """The validators of run events (with their facets), dataset events and job events."""
    folder = package_file("schemas/openlineage")
    spec = json.loads((folder / "OpenLineage.json").read_text(encoding="utf-8"))
    facets = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((folder / "facets").glob("*.json"))
    ]
    own = json.loads(
        package_file("schemas/openlineage-justify-facets.json").read_text(encoding="utf-8")
    )
    # Each facet file defines one facet (its root's one property) and says which kind
    # it is: a run, job, dataset, input or output facet. Where facets of that kind go,
    # a facet of that name must follow that definition.
    where: dict[str, dict[str, list[dict[str, str]]]] = {}
    for kind in ("RunFacet", "JobFacet"):
        where[kind] = {"justify": [{"$ref": own["$id"] + "#/$defs/JustifyFacet"}]}
    for doc in facets:
        kinds = {
            part["$ref"].split("#/$defs/")[1]
            for definition in doc.get("$defs", {}).values()
            for part in definition.get("allOf", [])
            if "#/$defs/" in part.get("$ref", "")
        }
        for kind in sorted(kinds):
            for name in doc.get("properties", {}):
                ref = {"$ref": f"{doc['$id']}#/properties/{name}"}
                where.setdefault(kind, {}).setdefault(name, []).append(ref)

    def each(kind: str) -> dict[str, Any]:
        names = where.get(kind, {})
        return {"properties": {name: {"allOf": refs} for name, refs in sorted(names.items())}}

    def dataset(extra: str, kind: str) -> dict[str, Any]:
        return {"items": {"properties": {"facets": each("DatasetFacet"), extra: each(kind)}}}

    run_event = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": spec["$id"] + "#/$defs/RunEvent",
        "properties": {
            "run": {"properties": {"facets": each("RunFacet")}},
            "job": {"properties": {"facets": each("JobFacet")}},
            "inputs": dataset("inputFacets", "InputDatasetFacet"),
            "outputs": dataset("outputFacets", "OutputDatasetFacet"),
        },
    }
    registry = jsonschema_rs.Registry(
        [(doc["$id"], doc) for doc in (spec, *facets, own)], retriever=_no_network
    )

    def validator(schema: dict[str, Any]) -> Any:
        return jsonschema_rs.Draft202012Validator(
            schema, validate_formats=True, registry=registry, retriever=_no_network
        )

    return {
        "RunEvent": validator(run_event),
        "DatasetEvent": validator({"$ref": spec["$id"] + "#/$defs/DatasetEvent"}),
        "JobEvent": validator({"$ref": spec["$id"] + "#/$defs/JobEvent"}),
    }


def is_run_event(data: Any) -> bool:
    return isinstance(data, dict) and "run" in data


def problem(data: Any) -> str | None:
    """Why ``data`` is not a valid OpenLineage event, or None when it is one."""
    validators = _validators()
    if not isinstance(data, dict):
        return f"an OpenLineage event is a JSON object, not {type(data).__name__}"
    kind = "RunEvent" if "run" in data else "DatasetEvent" if "dataset" in data else "JobEvent"
    if kind == "JobEvent" and "job" not in data:
        return (
            "neither a run event (with 'run' and 'job'), a dataset event (with 'dataset') "
            "nor a job event (with 'job')"
        )
    validator = validators[kind]
    if validator.is_valid(data):
        return None
    for error in validator.iter_errors(data):
        path = _path(error.instance_path)
        message = error.message
        if _not_finite(data, error.instance_path):
            # Python's json writes NaN and Infinity, which JSON (and so the schema) has
            # not; the validator sees them as null.
            message = "NaN or Infinity is not a JSON number; send null or leave it out"
        if len(message) > _MESSAGE_LIMIT:
            message = message[: _MESSAGE_LIMIT - 1] + "…"
        return f"{path}: {message}" if path else message
    return None


def _not_finite(data: Any, parts: Any) -> bool:
    for part in parts:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(data, float) and not math.isfinite(data)


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class FileState:
    """How much of an events file an import read: its size then and the digest of
    those bytes. A file that still starts with them only grew (an appended log)."""

    size: int
    digest: str


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def event_files(location: Path) -> list[tuple[str, Path]]:
    """The events files at ``location`` (a file, or a folder searched recursively),
    each with the name messages and the graph use for it, in a stable order."""
    if location.is_file():
        return [(location.name, location)]
    found = sorted(p for p in location.rglob("*") if p.suffix in EVENT_SUFFIXES and p.is_file())
    return [(p.relative_to(location).as_posix(), p) for p in found]


class NotJson(ValueError):
    """A file's text at ``line`` is not JSON."""

    def __init__(self, line: int, why: str) -> None:
        super().__init__(why)
        self.line = line
        self.why = why


def documents(text: str, first_line: int = 1) -> Iterator[tuple[int, Any]]:
    """The JSON documents in ``text``, one after another, each with its first line."""
    decode = json.JSONDecoder().raw_decode
    end, size, line = 0, len(text), first_line
    while True:
        start = end
        while end < size and text[end] in _WHITESPACE:
            end += 1
        line += text.count("\n", start, end)
        if end >= size:
            return
        try:
            value, stop = decode(text, end)
        except json.JSONDecodeError as exc:
            raise NotJson(line + text.count("\n", end, exc.pos), exc.msg) from None
        yield line, value
        line += text.count("\n", end, stop)
        end = stop
