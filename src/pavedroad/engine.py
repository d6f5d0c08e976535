"""Run the selected checks over a project and turn what they find into a Verdict.

The engine owns the rules that make the verdict trustworthy: a crashing check is an `error`
(never a pass), a check whose prerequisite failed is skipped (no cascades of red), a waived gap
stays visible, an expired waiver stops waiving, and a waiver that matches nothing is reported.
"""

from __future__ import annotations

import datetime as dt
import difflib
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pavedroad.contract import Waiver
from pavedroad.errors import UsageError
from pavedroad.project import Project
from pavedroad.registry import (
    Check,
    CheckDoc,
    Evidence,
    Family,
    Gap,
    PluginFailure,
    SkipCheck,
    all_checks,
)
from pavedroad.results import Result, Status, Verdict, WaiverNote

UNUSED_WAIVER = "CON001"
PLUGIN_FAILED = "CON002"
META = Family(
    "CON",
    "Contract",
    "Checks of the contract itself, decided by the engine from the whole run.",
    checks=[
        Check(
            id=UNUSED_WAIVER,
            family="CON",
            title="Every waiver matches a gap",
            run=None,
            doc=CheckDoc(
                what="Reports each `[[waivers]]` entry that matches no failing result, or that "
                "names a check that does not exist.",
                why="A waiver is a gap both sides accepted for a while. Once the gap is fixed, or "
                "when the subject is misspelt, the waiver silently turns into a standing exemption "
                "that will hide the next regression of the same check.",
                example='`[[waivers]] check = "DEP002", subject = "flask"` after flask was removed '
                "from the dependencies.",
                fix="Delete the waiver, or correct its `check` and `subject` to the id and subject "
                "shown in the gap's row.",
            ),
        ),
        Check(
            id=PLUGIN_FAILED,
            family="CON",
            title="Every check plugin loads",
            run=None,
            doc=CheckDoc(
                what="Reports each package registered in the `pavedroad.checks` entry-point group "
                "whose family cannot be loaded.",
                why="A plugin that fails to load means its checks did not run; the verdict would "
                "be certified on less evidence than the organisation asked for.",
                example="A platform team's `acme-checks` package imports a module that was renamed.",
                fix="Reinstall or fix the package that provides the entry point, or uninstall it.",
            ),
        ),
    ],
)


_META_BY_ID = {check.id: check for check in META.checks}


@dataclass(frozen=True)
class Selection:
    """Which checks run: `only` and `skip` hold check ids or family codes."""

    only: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()
    static: bool = False

    def validate(self, checks: Sequence[Check]) -> None:
        known = {c.id for c in checks} | {c.family for c in checks}
        for name in sorted(self.only | self.skip):
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise UsageError(
                    f"unknown check or family {name!r}{hint}; `paved explain` lists them"
                )

    def picks(self, check: Check) -> bool:
        names = {check.id, check.family}
        if self.only and not names & self.only:
            return False
        return not names & self.skip


@dataclass
class _Run:
    project: Project
    today: dt.date
    results: dict[str, list[Result]] = field(default_factory=dict)
    used_waivers: set[int] = field(default_factory=set)
    blocked: set[str] = field(default_factory=set)  # skipped because a prerequisite did not pass
    on_check: Callable[[Check], None] | None = None


def run(
    project: Project,
    families: Iterable[Family],
    selection: Selection = Selection(),
    *,
    plugin_failures: Sequence[PluginFailure] = (),
    today: dt.date | None = None,
    on_check: Callable[[Check], None] | None = None,
) -> Verdict:
    """`on_check` is told of each check as it starts, so a long dynamic check shows progress."""
    checks = list(all_checks(families))
    _reject_duplicates(checks)
    selection.validate([*checks, *META.checks])
    state = _Run(project=project, today=today or dt.date.today(), on_check=on_check)
    by_id = {c.id: c for c in checks}
    for check in checks:
        if selection.picks(check):
            _run_one(check, by_id, selection, state)
    # A prerequisite that was not selected still ran, to spare its dependents a cascade, but
    # `--skip X` must not report X.
    picked = {c.id for c in checks if selection.picks(c)}
    results = [r for id_, rs in state.results.items() if id_ in picked for r in rs]
    if selection.picks(_META_BY_ID[PLUGIN_FAILED]):
        results.extend(_plugin_results(plugin_failures))
    if selection.picks(_META_BY_ID[UNUSED_WAIVER]):
        results.extend(_waiver_results(project, state, selection, by_id))
    return Verdict(project=str(project.root), results=tuple(results))


def _run_one(
    check: Check, by_id: dict[str, Check], selection: Selection, state: _Run
) -> list[Result]:
    if check.id in state.results:
        return state.results[check.id]
    state.results[check.id] = []  # guards against a requires cycle
    reason = _not_applicable(check, selection, state)
    if reason is None:
        reason = _blocked_by(check, by_id, selection, state)
        if reason is not None:
            state.blocked.add(check.id)
    results = [_result(check, Status.SKIP, reason)] if reason else _execute(check, state)
    state.results[check.id] = results
    return results


def _not_applicable(check: Check, selection: Selection, state: _Run) -> str | None:
    """Why the check does not apply to this run: its section is absent, or it is dynamic and
    the run is static. Such a skip does not hold back the checks that require this one."""
    if check.section is not None and getattr(state.project.contract, check.section, None) is None:
        return f"no [{check.section}] section in the contract"
    if check.dynamic and selection.static:
        return "dynamic check skipped (--static)"
    return None


def _blocked_by(
    check: Check, by_id: dict[str, Check], selection: Selection, state: _Run
) -> str | None:
    """Why a prerequisite holds the check back: it did not pass, or was itself held back."""
    for required in check.requires:
        if required not in by_id:
            continue
        prerequisite = _run_one(by_id[required], by_id, selection, state)
        if any(r.status in (Status.FAIL, Status.ERROR, Status.WAIVED) for r in prerequisite):
            return f"requires {required}, which did not pass"
        if required in state.blocked:  # the chain was cut further up: one red row, not three
            return (
                f"requires {required}, which was skipped because its own prerequisite did not pass"
            )
    return None


def _execute(check: Check, state: _Run) -> list[Result]:
    if check.run is None:
        raise TypeError(f"check {check.id} has no function to run")
    if state.on_check is not None:
        state.on_check(check)
    try:
        findings = list(check.run(state.project))
        strays = [f for f in findings if not isinstance(f, Gap | Evidence)]
        if strays:
            raise TypeError(
                f"yielded {type(strays[0]).__name__} {strays[0]!r}, not a Gap or Evidence"
            )
    except SkipCheck as skip:
        return [_result(check, Status.SKIP, skip.reason)]
    except Exception as error:  # a crashing check is evidence missing, not a verdict
        frame = traceback.extract_tb(error.__traceback__)[-1]
        return [
            _result(
                check,
                Status.ERROR,
                f"check {check.id} crashed: {type(error).__name__}: {error} "
                f"(at {frame.filename}:{frame.lineno})",
                fix="This is a bug in the check, not in your project: please report it with "
                "this message. The verdict cannot be certified until the check runs.",
            )
        ]
    if not findings:
        return [_result(check, Status.PASS, check.title)]
    return [_finding_result(check, finding, state) for finding in findings]


def _finding_result(check: Check, finding: Gap | Evidence, state: _Run) -> Result:
    """A gap is a failing row (unless a waiver holds it); evidence is a passing row."""
    result = Result(
        id=check.id,
        family=check.family,
        title=check.title,
        status=Status.FAIL if isinstance(finding, Gap) else Status.PASS,
        subject=finding.subject,
        message=finding.message,
        location=finding.location,
    )
    if isinstance(finding, Evidence):
        return result
    return _apply_waivers(
        check, replace(result, fix=finding.fix or _first_sentence(check.doc.fix)), state
    )


def _apply_waivers(check: Check, result: Result, state: _Run) -> Result:
    """An active waiver wins over an expired one for the same gap, whatever their order."""
    matching = [
        (index, waiver)
        for index, waiver in enumerate(state.project.contract.waivers)
        if waiver.check == check.id and waiver.subject in (None, result.subject)
    ]
    if not matching:
        return result
    active = [(i, w) for i, w in matching if w.expires >= state.today]
    index, waiver = (active or matching)[0]
    state.used_waivers.add(index)
    note = WaiverNote(reason=waiver.reason, expires=waiver.expires.isoformat())
    if not active:
        return replace(
            result, message=f"{result.message} (waiver expired {waiver.expires})", waiver=note
        )
    return replace(
        result,
        status=Status.WAIVED,
        message=f"{result.message} (waived until {waiver.expires}: {waiver.reason})",
        waiver=note,
    )


def _waiver_results(
    project: Project, state: _Run, selection: Selection, by_id: dict[str, Check]
) -> list[Result]:
    """CON001: a waiver must match a gap, or it silently rots into a blanket exemption."""
    waivers = project.contract.waivers
    if not waivers:
        return []
    findings: list[Result] = []
    for index, waiver in enumerate(waivers):
        check = by_id.get(waiver.check)
        if check is not None and not _decided(check, selection, state):
            continue  # its check did not run to a verdict, so whether it matches is unknown
        if index in state.used_waivers:
            continue
        findings.append(_unused_waiver(project, index, waiver, known=check is not None))
    if findings:
        return findings
    return [_meta_result(UNUSED_WAIVER, Status.PASS, "every waiver matches a gap")]


def _decided(check: Check, selection: Selection, state: _Run) -> bool:
    """The check was selected and ran to pass or fail (not skipped by --static, not crashed)."""
    results = state.results.get(check.id, [])
    return selection.picks(check) and any(
        r.status in (Status.PASS, Status.FAIL, Status.WAIVED) for r in results
    )


def _unused_waiver(project: Project, index: int, waiver: Waiver, *, known: bool) -> Result:
    subject = f"{waiver.check}" + (f" {waiver.subject}" if waiver.subject else "")
    if waiver.check in _META_BY_ID:
        message = f"waiver names {waiver.check}, which the engine decides and no waiver can hide"
    elif not known:
        message = f"waiver names check {waiver.check}, which does not exist"
    else:
        message = f"waiver for {subject} matches no gap: the gap is fixed or the subject is wrong"
    return _meta_result(
        UNUSED_WAIVER,
        Status.FAIL,
        message,
        subject=subject,
        location=project.contract_location("waivers", index),
        fix="Delete the waiver, or correct its `check` and `subject` to match the gap's row.",
    )


def _plugin_results(failures: Sequence[PluginFailure]) -> list[Result]:
    return [
        _meta_result(
            PLUGIN_FAILED,
            Status.ERROR,
            f"check plugin {failure.name!r} ({failure.value}) failed to load: {failure.error}",
            subject=failure.name,
            fix="Reinstall or fix the package that provides this entry point in the "
            "`pavedroad.checks` group, or uninstall it.",
        )
        for failure in failures
    ]


def _reject_duplicates(checks: Sequence[Check]) -> None:
    seen: dict[str, Check] = {}
    for check in checks:
        if check.id in seen:
            raise UsageError(
                f"check id {check.id} is registered twice (by {_module_of(check)} "
                f"and {_module_of(seen[check.id])}); ids must be unique"
            )
        seen[check.id] = check


def _module_of(check: Check) -> str:
    return getattr(check.run, "__module__", None) or f"family {check.family}"


def _result(check: Check, status: Status, message: str, fix: str | None = None) -> Result:
    return Result(
        id=check.id, family=check.family, title=check.title, status=status, message=message, fix=fix
    )


def _meta_result(id: str, status: Status, message: str, **details: Any) -> Result:
    title = _META_BY_ID[id].title
    return Result(id=id, family=META.code, title=title, status=status, message=message, **details)


def _first_sentence(text: str) -> str | None:
    if not text:
        return None
    paragraph = text.split("\n\n", 1)[0].replace("\n", " ")
    return paragraph.strip()
