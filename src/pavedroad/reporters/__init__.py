"""Reporters render a Report in one format; they never decide anything about the verdict."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pavedroad import __version__
from pavedroad.registry import Check
from pavedroad.results import Verdict


@dataclass(frozen=True)
class Report:
    """What every reporter gets: the verdict, and the checks that produced it (for their docs)."""

    verdict: Verdict
    checks: Mapping[str, Check]  # by id
    families: Mapping[str, str]  # code -> name
    project_name: str
    contract_path: str = "handoff.toml"  # relative to the project root; where a gap with no
    # location of its own is shown (SARIF needs a location for every result)
    tool_version: str = __version__
    # what a command adds to its report: `paved evaluate` adds `metrics` and `budgets` objects,
    # which the JSON report carries at its top level and the text report shows as a table
    extra: Mapping[str, Any] = field(default_factory=dict)


class Format(str, enum.Enum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    SARIF = "sarif"
    MARKDOWN = "markdown"


def renderer(format: Format) -> Callable[[Report], str]:
    """The render function of a format; the match is exhaustive, so mypy flags a new format.
    Each format's module is imported only when it is chosen: a JSON report must not pay for
    rich."""
    match format:
        case Format.TEXT:
            from pavedroad.reporters import text

            return text.render
        case Format.JSON:
            from pavedroad.reporters import json

            return json.render
        case Format.JUNIT:
            from pavedroad.reporters import junit

            return junit.render
        case Format.SARIF:
            from pavedroad.reporters import sarif

            return sarif.render
        case Format.MARKDOWN:
            from pavedroad.reporters import markdown

            return markdown.render
