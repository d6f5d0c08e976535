"""Who answers for the model and how it is configured: the contract's owners and settings, with
what the checks found about them (a required role left empty, a setting nobody documented)."""

from __future__ import annotations

from pathlib import Path

from pavedroad.contract import ROLES
from pavedroad.project import Project
from pavedroad.report.packet import OwnerView, SettingView
from pavedroad.reporters import Report
from pavedroad.results import Status

RESPONSIBILITIES = {
    "data_science": "The model itself: features, training, metrics and thresholds; answers for "
    "what it predicts and decides on retraining.",
    "engineering": "The code around it: packaging, dependencies, tests, and its integration into "
    "production systems.",
    "serving": "The service that runs it: deployment, scaling, and the latency and memory budgets.",
    "monitoring": "Dashboards and alerts on its inputs, outputs and service health.",
    "retraining": "Retraining on fresh data and validating the new model against this contract.",
    "drift": "Watching input and prediction drift, and deciding when it calls for retraining.",
    "on_call": "First response when the model or its service breaks in production.",
}
READ_CHECK, DOCUMENTED_CHECK = "CFG001", "CFG002"


def owners(project: Project) -> tuple[OwnerView, ...]:
    """Every role that is named or required, in the contract's order of roles."""
    section = project.contract.owners
    if section is None:
        return ()
    required = set(section.required)
    return tuple(
        OwnerView(
            role=role,
            names=tuple(section.named(role)),
            required=role in required,
            responsibility=RESPONSIBILITIES[role],
        )
        for role in ROLES
        if section.named(role) or role in required
    )


def settings(project: Project, report: Report) -> tuple[SettingView, ...]:
    """Each `[config].env` variable, where CFG002 found it documented (and that line), and
    whether CFG001 found it read."""
    config = project.contract.config
    if config is None:
        return ()
    by_subject = {
        (r.id, r.subject): r
        for r in report.verdict.results
        if r.id in (READ_CHECK, DOCUMENTED_CHECK)
    }
    views = []
    for name in config.env:
        documented = by_subject.get((DOCUMENTED_CHECK, name))
        where = documented.location if documented and documented.status is Status.PASS else None
        read = by_subject.get((READ_CHECK, name))
        views.append(
            SettingView(
                name=name,
                documented_at=str(where) if where else None,
                documentation=_line(project, name, where.path, where.line) if where else None,
                status=read.status if read else None,
                read_at=str(read.location)
                if read and read.status is Status.PASS and read.location
                else None,
            )
        )
    return tuple(views)


def _line(project: Project, name: str, path: str, line: int | None) -> str | None:
    """The documenting line; a Markdown table row reads as its cells joined, without the one
    that only repeats the variable's name."""
    text = project.text(project.root / Path(path)) if line is not None else None
    if text is None or line is None:
        return None
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return None
    found = lines[line - 1].strip()
    if found.startswith("|") and found.endswith("|"):
        cells = [cell.strip() for cell in found.strip("|").split("|")]
        found = " — ".join(c for c in cells if c and c.strip("`*") != name)
    return found or None
