"""Test helpers: run checks on real fixture projects, build throw-away projects inline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from pavedroad import engine
from pavedroad.contract import find_contract, load_contract
from pavedroad.project import Project
from pavedroad.registry import builtin_families
from pavedroad.results import Result, Status, Verdict

FIXTURES = Path(__file__).parent / "fixtures"
PLUGIN = Path(__file__).parent / "plugin"


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    """Write a project from a dict of relative path -> text, as copier's own tests do."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def check_project(
    root: Path, only: str | None = None, *, static: bool = False, today: dt.date | None = None
) -> Verdict:
    """Run the built-in checks (or `only` these ids/families, comma-separated) on `root`."""
    project = Project(root, load_contract(find_contract(root)))
    ids = frozenset(only.split(",")) if only else frozenset()
    selection = engine.Selection(only=ids, static=static)
    return engine.run(project, builtin_families(), selection, today=today)


def results_of(root: Path, check_id: str, **options: object) -> list[Result]:
    """The results of one check on `root`."""
    verdict = check_project(root, check_id, **options)  # type: ignore[arg-type]
    return [r for r in verdict.results if r.id == check_id]


def statuses(results: list[Result]) -> set[Status]:
    return {r.status for r in results}
