"""Reporters render a Report in one format; they never decide anything about the verdict."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

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


class Format(str, enum.Enum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    SARIF = "sarif"
    MARKDOWN = "markdown"


def renderer(format: Format) -> Callable[[Report], str]:
    """The render function of a format; the match is exhaustive, so mypy flags a new format."""
    from pavedroad.reporters import json, junit, markdown, sarif, text

    match format:
        case Format.TEXT:
            return text.render
        case Format.JSON:
            return json.render
        case Format.JUNIT:
            return junit.render
        case Format.SARIF:
            return sarif.render
        case Format.MARKDOWN:
            return markdown.render
