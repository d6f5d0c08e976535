"""The JSON report: a stable, versioned interface for other tools (`schema_version` 1)."""

from __future__ import annotations

import json
from typing import Any

from pavedroad.reporters import Report

SCHEMA_VERSION = 1


def as_dict(report: Report) -> dict[str, Any]:
    verdict = report.verdict
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "pavedroad", "version": report.tool_version},
        "project": report.project_name,
        "verdict": "ready" if verdict.ready else "not_ready",
        "certifiable": verdict.certifiable,
        "summary": {status.value: count for status, count in sorted(verdict.counts.items())},
        "results": [result.to_dict() for result in verdict.results],
        **report.extra,
    }


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
