"""Check reports for people and for tools: text, JSON, JUnit XML, SARIF 2.1.0,
Markdown (a pull-request comment) and GitHub workflow commands."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

from justify import __version__
from justify.choices import CHECK_FORMATS
from justify.errors import UsageError
from justify.judgement import CheckReport, CriterionVerdict, ShipVerdict
from justify.shacl import CheckResult

SUMMARY_STATUSES = ("justified", "failing", "unjustified", "stale", "draft")
JSON_SCHEMA_VERSION = 2


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def summary_line(report: CheckReport) -> str:
    if not report.requirements and not report.models and report.results:
        # `check --data --shapes`: results of shapes, no requirement to count.
        return (
            f"{_plural(len({r.focus for r in report.results}), 'focus node')} with results: "
            f"{_plural(report.count('violation'), 'violation')}, "
            f"{_plural(report.count('warning'), 'warning')}, {report.count('info')} info"
        )
    counts = {s: sum(1 for v in report.statuses.values() if v == s) for s in SUMMARY_STATUSES}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    ships = sum(1 for m in report.models if m.may_ship)
    models = (
        f"; {ships} of {_plural(len(report.models), 'model version')} may ship"
        if (report.models)
        else ""
    )
    return (
        f"{len(report.requirements)} requirements: {summary}; "
        f"{_plural(report.count('violation'), 'violation')}, "
        f"{_plural(report.count('warning'), 'warning')}{models}"
    )


def criterion_line(c: CriterionVerdict) -> str:
    """One criterion and its verdict, as every text renderer prints it."""
    threshold = f"{c.threshold:g}" if c.threshold is not None else "(no number)"
    wanted = f"{c.metric} {c.op} {threshold}" + (f" on {c.dataset}" if c.dataset else "")
    if c.value is None:
        return f"{wanted}: {c.verdict}"
    on = f" on {c.measured_on}" if c.measured_on else ""
    return f"{wanted}: {c.verdict} ({c.metric} = {c.value}{on})"


_MARKDOWN_SPECIAL = re.compile(r"([\\`\[\]|])")
_TAG_START = re.compile(r"<(?=[A-Za-z!/?])")


def markdown_text(text: str) -> str:
    """User text (run names, statements, messages) as inert Markdown on one line: no
    table cell split by '|' or a newline, no code span, link, image, HTML comment or
    tag that could hide what follows or load something from elsewhere."""
    text = " ".join(text.splitlines())
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _TAG_START.sub("&lt;", text)  # "<=" stays as it is


def ship_line(m: ShipVerdict) -> str:
    return f"{m.label}: {m.verdict.upper()}"


def _location(report: CheckReport, result: CheckResult) -> tuple[str | None, int]:
    req = report.requirement_of(result)
    return (req.file, req.line) if req is not None else (None, 1)


def to_text(report: CheckReport) -> str:
    lines = []
    by_focus: dict[str, list[str]] = {}
    for r in report.results:
        by_focus.setdefault(r.focus, []).append(f"    {r.severity:<9} {r.rule:<13} {r.message}")
    for req in report.requirements.values():
        where = f"{req.file}:{req.line}" if req.file else ""
        lines.append(f"{req.id:<16} {req.status:<12} {where}")
        if req.declared == "approved" and (req.current_evidence or req.criteria):
            evidence = req.current_evidence_name or req.current_evidence
            lines.append(f"    evidence  {('run ' + evidence) if evidence else 'none current'}")
            lines.extend(f"    criterion {criterion_line(c)}" for c in req.criteria)
        lines.extend(by_focus.pop(req.iri, []))
    versions = {m.iri for m in report.models}
    for focus, found in sorted(by_focus.items()):  # results about runs, commits...
        if focus not in versions:
            lines.append(focus)
            lines.extend(found)
    if report.models:
        lines.append("\nmodel versions (ship verdicts, fail-on " + report.fail_on + "):")
        for m in report.models:
            lines.append(f"  {ship_line(m)}")
            lines.extend(f"      {reason}" for reason in m.reasons)
    if report.changed_since:
        lines.append("\nnote: the graph changed after the last recorded check; judged afresh")
    lines.append("\n" + summary_line(report))
    return "\n".join(lines)


def to_json(report: CheckReport) -> str:
    """The documented, stable schema: see justify/schemas/check-report.schema.json."""
    results = []
    for r in report.results:
        req = report.requirement_of(r)
        results.append(
            {
                "rule": r.rule,
                "severity": r.severity,
                "requirement": req.id if req else None,
                "focus": r.focus,
                "path": r.path,
                "value": r.value,
                "source_shape": r.shape,
                "component": r.component,
                "message": r.message,
                "file": req.file if req else None,
                "line": req.line if req else None,
            }
        )
    data = {
        "version": JSON_SCHEMA_VERSION,
        "tool": {"name": "justify", "version": __version__},
        "engine": report.engine,
        "fail_on": report.fail_on,
        "summary": {s: sum(1 for v in report.statuses.values() if v == s) for s in SUMMARY_STATUSES}
        | {"violations": report.count("violation"), "warnings": report.count("warning")},
        "requirements": [
            {
                "id": q.id,
                "title": q.title,
                "kind": q.kind,
                "status": q.status,
                "declared": q.declared,
                "file": q.file,
                "line": q.line,
                "parents": list(q.parents),
                "current_evidence": {"run": q.current_evidence, "name": q.current_evidence_name}
                if q.current_evidence
                else None,
                "scoped_version": q.scoped_version,
                "criteria": [
                    {
                        "criterion": c.iri,
                        "metric": c.metric,
                        "op": c.op,
                        "threshold": c.threshold,
                        "dataset": c.dataset,
                        "verdict": c.verdict,
                        "run": c.run,
                        "value": c.value,
                        "measured_on": c.measured_on,
                    }
                    for c in q.criteria
                ],
            }
            for q in report.requirements.values()
        ],
        "models": [
            {
                "model": m.model,
                "version": m.version,
                "iri": m.iri,
                "aliases": list(m.aliases),
                "run": m.run,
                "verdict": m.verdict,
                "requirements": [{"id": rid, "status": st} for rid, st in m.requirements],
                "reasons": list(m.reasons),
            }
            for m in report.models
        ],
        "results": results,
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def to_junit(report: CheckReport) -> str:
    """One test case per requirement: violations fail it, drafts are skipped."""
    suite = ET.Element("testsuite", name="justify", tests=str(len(report.requirements)))
    by_focus: dict[str, list[CheckResult]] = {}
    for r in report.results:
        by_focus.setdefault(r.focus, []).append(r)
    failures = skipped = 0
    for req in report.requirements.values():
        case = ET.SubElement(
            suite,
            "testcase",
            name=f"{req.id}: {req.title}",
            classname=f"justify.{req.kind or 'requirement'}",
            file=req.file,
            line=str(req.line),
        )
        found = by_focus.get(req.iri, [])
        violations = [r for r in found if r.severity == "violation"]
        if req.status in ("draft", "retired"):
            ET.SubElement(case, "skipped", message=f"{req.id} is {req.status}")
            skipped += 1
        elif violations:
            failure = ET.SubElement(
                case, "failure", message=violations[0].message, type=violations[0].rule
            )
            failure.text = "\n".join(f"{r.rule}: {r.message}" for r in violations)
            failures += 1
        others = [r for r in found if r.severity != "violation"]
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(
                f"{r.severity} {r.rule}: {r.message}" for r in others
            )
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    suite.set("errors", "0")
    root = ET.Element("testsuites", name="justify check")
    root.append(suite)
    if report.models:
        models = ET.Element("testsuite", name="justify models", tests=str(len(report.models)))
        blocked = 0
        for m in report.models:
            case = ET.SubElement(models, "testcase", name=m.label, classname="justify.model")
            if not m.may_ship:
                failure = ET.SubElement(case, "failure", message=f"{m.label}: DO NOT SHIP",
                                        type="ship-verdict")  # fmt: skip
                failure.text = "\n".join(m.reasons)
                blocked += 1
            else:
                ET.SubElement(case, "system-out").text = f"{m.verdict}: " + "; ".join(m.reasons)
        models.set("failures", str(blocked))
        models.set("skipped", "0")
        models.set("errors", "0")
        root.append(models)
    ET.indent(root)
    # ElementTree escapes markup but writes control characters XML 1.0 forbids (an
    # escape sequence in a run name): CI's parsers would reject the whole file.
    text = _XML_FORBIDDEN.sub("\ufffd", ET.tostring(root, encoding="unicode"))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text


_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_SARIF_LEVEL = {"violation": "error", "warning": "warning", "info": "note"}


def to_sarif(report: CheckReport) -> str:
    """SARIF 2.1.0: locations point at the requirement's file and line."""
    rules = [
        {
            "id": info.id,
            "name": info.id.replace("-", ""),
            "shortDescription": {"text": info.label},
            "fullDescription": {"text": info.description or info.label},
            "defaultConfiguration": {"level": _SARIF_LEVEL.get(info.severity, "error")},
        }
        for info in report.rules.values()
    ]
    results = []
    for r in report.results:
        file, line = _location(report, r)
        result: dict[str, object] = {
            "ruleId": r.rule,
            "level": _SARIF_LEVEL.get(r.severity, "error"),
            "message": {"text": r.message},
            # The SHACL validation result itself, for tools that read more than text.
            "properties": {
                key: value
                for key, value in (
                    ("focusNode", r.focus),
                    ("resultPath", r.path),
                    ("value", r.value),
                    ("sourceShape", r.source_shape or r.shape),
                    ("sourceConstraintComponent", r.component),
                )
                if value is not None
            },
        }
        if file:
            result["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": file},
                        "region": {"startLine": line},
                    }
                }
            ]
        results.append(result)
    data = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "justify",
                        "version": __version__,
                        "informationUri": "https://w3id.org/justify",
                        "rules": rules,
                    }
                },
                "results": results,
                "properties": {
                    "failOn": report.fail_on,
                    "models": [
                        {
                            "model": m.model,
                            "version": m.version,
                            "aliases": list(m.aliases),
                            "verdict": m.verdict,
                            "reasons": list(m.reasons),
                        }
                        for m in report.models
                    ],
                },
            }
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def to_markdown(report: CheckReport) -> str:
    """A summary table for a pull-request comment."""
    lines = [
        "## justify check",
        "",
        summary_line(report),
        "",
        "| requirement | status | problems |",
        "|---|---|---|",
    ]
    by_focus: dict[str, list[CheckResult]] = {}
    for r in report.results:
        by_focus.setdefault(r.focus, []).append(r)
    for req in report.requirements.values():
        problems = "<br>".join(
            f"**{r.rule}** {markdown_text(r.message)}" for r in by_focus.get(req.iri, [])
        )
        lines.append(f"| `{req.id}` {markdown_text(req.title)} | {req.status} | {problems} |")
    if report.models:
        lines += ["", "| model version | verdict | reasons |", "|---|---|---|"]
        for m in report.models:
            reasons = "<br>".join(markdown_text(r) for r in m.reasons)
            lines.append(f"| {markdown_text(m.label)} | {m.verdict.upper()} | {reasons} |")
    return "\n".join(lines) + "\n"


def _command_data(text: str) -> str:
    """A workflow command's message: a newline would end the command early."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _command_property(text: str) -> str:
    """A workflow command's property value: ',' and ':' would also end it."""
    return _command_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(report: CheckReport) -> str:
    """GitHub Actions workflow commands: annotations on the requirement files."""
    lines = []
    for r in report.results:
        file, line = _location(report, r)
        kind = "error" if r.severity == "violation" else "warning"
        where = f"file={_command_property(file)},line={line}," if file else ""
        title = _command_property(r.rule)
        lines.append(f"::{kind} {where}title={title}::{_command_data(r.message)}")
    lines.append(f"::notice title=justify::{_command_data(summary_line(report))}")
    return "\n".join(lines)


FORMATS: dict[str, Callable[[CheckReport], str]] = dict(
    zip(CHECK_FORMATS, (to_text, to_json, to_junit, to_sarif, to_markdown, to_github), strict=True)
)
EXTENSIONS = {
    ".json": "json",
    ".xml": "junit",
    ".sarif": "sarif",
    ".md": "markdown",
    ".txt": "text",
}


def render(report: CheckReport, fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r}", hint="use one of: " + ", ".join(FORMATS))
    return FORMATS[fmt](report)


def write_report(text: str, path: Path) -> None:
    """Write a report file whole (a partial file never replaces a good one)."""
    tmp = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"{path}: cannot write the report: {exc.strerror or exc}") from exc


def output_target(spec: str) -> tuple[str, str]:
    """``FORMAT:FILE`` or a file whose extension names the format."""
    fmt, sep, path = spec.partition(":")
    if sep and fmt in FORMATS:
        return fmt, path
    for ext, name in EXTENSIONS.items():
        if spec.endswith(ext):
            return name, spec
    raise UsageError(
        f"cannot tell the report format of {spec!r}",
        hint="write FORMAT:FILE (e.g. sarif:check.sarif) or use .json, .xml, .sarif, .md, .txt",
    )
