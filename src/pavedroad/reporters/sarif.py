"""The SARIF 2.1.0 report, for code scanning (GitHub, GitLab, Azure DevOps, IDE viewers).

Only what needs attention becomes a SARIF result: fails and errors, and waived gaps as suppressed
results (a viewer shows them as accepted, with the waiver's reason). Passes and skips are left
out: code scanning shows a result of level `none` or `note` as an open alert, which would bury
the gaps under noise.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pavedroad.registry import Check
from pavedroad.reporters import Report
from pavedroad.results import Location, Result, Status

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://pypi.org/project/pavedroad/"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "pavedroad/v1"
REPORTED = (Status.FAIL, Status.ERROR, Status.WAIVED)


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"


def as_dict(report: Report) -> dict[str, Any]:
    reported = [r for r in report.verdict.results if r.status in REPORTED]
    rule_ids = list(dict.fromkeys(r.id for r in reported))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "pavedroad",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule_id, report, reported) for rule_id in rule_ids],
            }
        },
        "invocations": [{"executionSuccessful": report.verdict.certifiable}],
        "results": [_result(r, rule_ids.index(r.id), report.contract_path) for r in reported],
    }
    root = Path(report.verdict.project)
    if root.is_absolute():
        run["originalUriBaseIds"] = {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _rule(rule_id: str, report: Report, reported: list[Result]) -> dict[str, Any]:
    check: Check | None = report.checks.get(rule_id)
    if check is None:  # a result whose check is unknown to the report: describe it by its title
        title = next(r.title for r in reported if r.id == rule_id)
        return {"id": rule_id, "shortDescription": {"text": title}}
    help_text = check.doc.markdown()
    return {
        "id": rule_id,
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": check.doc.what or check.title},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["pavedroad", check.family]},
    }


def _result(result: Result, rule_index: int, contract_path: str) -> dict[str, Any]:
    # A result needs a location for code scanning to show it; a gap with none is the contract's.
    text = result.message + (f"\n\nFix: {result.fix}" if result.fix else "")
    sarif: dict[str, Any] = {
        "ruleId": result.id,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": "error",
        "message": {"text": text},
        "locations": [_location(result.location or Location(path=contract_path))],
        "partialFingerprints": {FINGERPRINT: fingerprint(result)},
        "properties": {"status": result.status.value, "family": result.family},
    }
    if result.subject is not None:
        sarif["properties"]["subject"] = result.subject
    if result.status is Status.WAIVED:
        sarif["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": _justification(result)}
        ]
    return sarif


def fingerprint(result: Result) -> str:
    """Stable across runs, lines and wording: code scanning keeps one alert per check and subject."""
    identity = f"{result.id}\0{result.subject or ''}"
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def _location(where: Location) -> dict[str, Any]:
    path = Path(where.path)  # a pure path operation; absolute when outside the project
    artifact = (
        {"uri": path.as_uri()}
        if path.is_absolute()
        else {"uri": quote(where.path), "uriBaseId": SRCROOT}
    )
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if where.line is not None:
        physical["region"] = {"startLine": where.line}
    return {"physicalLocation": physical}


def _justification(result: Result) -> str:
    if result.waiver is None:
        return result.message
    return f"{result.waiver.reason} (waived until {result.waiver.expires})"
