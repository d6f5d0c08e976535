"""The packet from a checked project: the verdict the engine reached, and what the model card
needs beside it. Runs after the checks, reusing the facts they computed (the evaluation, the
declarations), so nothing is measured twice."""

from __future__ import annotations

import datetime as dt

from pavedroad.project import Project
from pavedroad.report import docs, people
from pavedroad.report.environment import environment
from pavedroad.report.measures import measured, this_evaluation
from pavedroad.report.packet import FamilyScore, Packet
from pavedroad.report.schemas import schema_views
from pavedroad.reporters import Report
from pavedroad.results import Result, Status

GAPS = (Status.FAIL, Status.ERROR)
# Rows inside a family: gaps first, then what needs a look (waived), then the rest.
ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WAIVED: 2, Status.SKIP: 3, Status.PASS: 4}


def gather(
    project: Project, report: Report, *, static: bool, now: dt.datetime | None = None
) -> Packet:
    found, why_not = this_evaluation(project, static=static)
    return Packet(
        report=report,
        generated=now or dt.datetime.now(dt.timezone.utc),
        static=static,
        scorecard=scorecard(report),
        purpose=docs.purpose(project),
        training_data=docs.training_data(project),
        resources=docs.contract_doc(project, "resources", "Resource requirements"),
        failure_modes=docs.contract_doc(project, "failure_modes", "Failure modes"),
        schemas=schema_views(project, static=static),
        measured=measured(project, found, why_not),
        owners=people.owners(project),
        settings=people.settings(project, report),
        environment=environment(project, found),
    )


def scorecard(report: Report) -> tuple[FamilyScore, ...]:
    """One line per family that has results: families with gaps first, then by code."""
    by_family: dict[str, list[Result]] = {}
    for result in report.verdict.results:
        by_family.setdefault(result.family, []).append(result)
    scores = []
    for code, results in by_family.items():
        ordered = sorted(results, key=lambda r: (ORDER[r.status], r.id))
        scores.append(
            FamilyScore(
                code=code,
                name=report.families.get(code, code),
                counts={s: sum(r.status is s for r in results) for s in Status},
                gaps=tuple(r for r in ordered if r.status in GAPS),
                others=tuple(r for r in ordered if r.status not in GAPS),
            )
        )
    return tuple(sorted(scores, key=lambda s: (not s.gaps, s.code)))
