"""The engine's rules, on families built here: crashes, prerequisites, selection, waivers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from pavedroad import engine
from pavedroad.contract import load_contract
from pavedroad.errors import UsageError
from pavedroad.project import Project
from pavedroad.registry import (
    Check,
    CheckDoc,
    CheckFunction,
    Evidence,
    Family,
    Gap,
    PluginFailure,
    SkipCheck,
)
from pavedroad.results import Location, Result, Status, Verdict

Tree = Callable[[Mapping[str, str]], Path]
TODAY = dt.date(2026, 6, 1)
DOC = """Checks something.

Why: Because.

Example: An example.

Fix: Do the thing."""


def _check(family: Family, id: str, **options: Any) -> Callable[[CheckFunction], CheckFunction]:
    """Register a function as a check, with the four-part docstring every check has."""

    def register(function: CheckFunction) -> CheckFunction:
        function.__doc__ = DOC
        return family.check(id, f"title of {id}", **options)(function)

    return register


def families() -> list[Family]:
    """AAA: one passing, one failing per subject, one crashing, one dependent of each.
    BBB: section-gated, dynamic, self-skipping."""
    aaa = Family("AAA", "Alpha")
    bbb = Family("BBB", "Beta")

    @_check(aaa, "AAA001")
    def passes(project: Project) -> Iterator[Gap]:
        yield from ()

    @_check(aaa, "AAA002")
    def fails(project: Project) -> Iterator[Gap]:
        for subject in ("flask", "numpy"):
            yield Gap(
                subject=subject,
                message=f"{subject} is bad",
                location=project.location(project.root / "x.py", 3),
            )

    @_check(aaa, "AAA003")
    def crashes(project: Project) -> Iterator[Gap]:
        raise KeyError("boom")

    @_check(aaa, "AAA004", requires=("AAA002",))
    def after_failing(project: Project) -> Iterator[Gap]:
        yield Gap(message="cascade")

    @_check(aaa, "AAA005", requires=("AAA003",))
    def after_crashing(project: Project) -> Iterator[Gap]:
        yield Gap(message="cascade")

    @_check(aaa, "AAA006", requires=("AAA001", "ZZZ999"))  # a missing plugin's check is ignored
    def after_passing(project: Project) -> Iterator[Gap]:
        yield from ()

    @_check(aaa, "AAA007", requires=("AAA004",))
    def two_steps_after_failing(project: Project) -> Iterator[Gap]:
        yield Gap(message="cascade")

    @_check(bbb, "BBB001", section="model")
    def needs_model(project: Project) -> Iterator[Gap]:
        yield from ()

    @_check(bbb, "BBB004", requires=("BBB001",))
    def after_not_applicable(project: Project) -> Iterator[Gap]:
        yield Gap(subject="ran", message="ran although BBB001 did not apply")

    @_check(bbb, "BBB002", dynamic=True)
    def dynamic(project: Project) -> Iterator[Gap]:
        yield Gap(subject="run", message="ran project code")

    @_check(bbb, "BBB003")
    def skips_itself(project: Project) -> Iterator[Gap]:
        raise SkipCheck("no notebooks here")

    return [aaa, bbb]


WAIVERS_HEAD = "[contract]\nname = 'w'\n"


def project_of(tree: Tree, contract: str = "") -> Project:
    root = tree({"handoff.toml": contract, "x.py": "x = 1\n"})
    return Project(root, load_contract(root / "handoff.toml"))


def run(project: Project, **selection: object) -> Verdict:
    return engine.run(
        project,
        families(),
        engine.Selection(**selection),  # type: ignore[arg-type]
        today=TODAY,
    )


def by_id(verdict: Verdict) -> dict[str, list[Result]]:
    found: dict[str, list[Result]] = {}
    for result in verdict.results:
        found.setdefault(result.id, []).append(result)
    return found


def one(verdict: Verdict, id: str) -> Result:
    results = by_id(verdict)[id]
    assert len(results) == 1, results
    return results[0]


# -- running ---------------------------------------------------------------------------------


def test_a_crashing_check_is_an_error_and_the_run_goes_on(tree: Tree) -> None:
    verdict = run(project_of(tree))
    crashed = one(verdict, "AAA003")
    assert crashed.status is Status.ERROR
    assert crashed.message.startswith("check AAA003 crashed: KeyError: 'boom' (at ")
    assert crashed.fix is not None and "bug in the check" in crashed.fix
    assert one(verdict, "AAA001").status is Status.PASS  # the others still ran
    assert one(verdict, "BBB003").status is Status.SKIP
    assert not verdict.ready and not verdict.certifiable
    assert verdict.label == "NOT READY (cannot certify)"


def test_a_crash_alone_is_never_ready(tree: Tree) -> None:
    verdict = run(project_of(tree), only=frozenset({"AAA001", "AAA003"}))
    assert verdict.counts == {Status.PASS: 1, Status.ERROR: 1}
    assert not verdict.ready
    assert verdict.summary() == "NOT READY (cannot certify): 1 pass, 1 error"


def test_a_check_yielding_something_else_than_a_gap_is_an_error(tree: Tree) -> None:
    odd = Family("ODD", "Odd")

    @_check(odd, "ODD001")
    def yields_text(project: Project) -> Iterator[Gap]:
        yield "not a gap"  # type: ignore[misc]

    verdict = engine.run(project_of(tree), [odd], today=TODAY)
    result = one(verdict, "ODD001")
    assert result.status is Status.ERROR
    assert "yielded str 'not a gap', not a Gap" in result.message


def test_one_failing_result_per_subject_with_the_docstring_fix(tree: Tree) -> None:
    results = by_id(run(project_of(tree)))["AAA002"]
    assert [(r.status, r.subject, r.message) for r in results] == [
        (Status.FAIL, "flask", "flask is bad"),
        (Status.FAIL, "numpy", "numpy is bad"),
    ]
    assert results[0].fix == "Do the thing."
    assert results[0].location == Location(path="x.py", line=3)


def test_a_dependent_of_a_failing_check_is_skipped_with_the_reason(tree: Tree) -> None:
    verdict = run(project_of(tree))
    assert one(verdict, "AAA004").status is Status.SKIP
    assert one(verdict, "AAA004").message == "requires AAA002, which did not pass"
    assert one(verdict, "AAA005").message == "requires AAA003, which did not pass"
    assert one(verdict, "AAA006").status is Status.PASS


def test_a_skip_caused_by_a_failure_cascades_but_a_skip_for_another_reason_does_not(
    tree: Tree,
) -> None:
    verdict = run(project_of(tree))
    assert one(verdict, "AAA007").status is Status.SKIP
    assert one(verdict, "AAA007").message.startswith("requires AAA004, which was skipped")
    # BBB001 does not apply (no [model]); that is no reason to hold back what depends on it
    assert one(verdict, "BBB004").status is Status.FAIL


def test_an_absent_section_skips_its_checks(tree: Tree) -> None:
    skipped = one(run(project_of(tree)), "BBB001")
    assert (skipped.status, skipped.message) == (Status.SKIP, "no [model] section in the contract")
    ran = one(run(project_of(tree, "[model]\n")), "BBB001")
    assert ran.status is Status.PASS


def test_a_check_can_skip_itself(tree: Tree) -> None:
    result = one(run(project_of(tree)), "BBB003")
    assert (result.status, result.message) == (Status.SKIP, "no notebooks here")


def test_static_skips_dynamic_checks(tree: Tree) -> None:
    assert one(run(project_of(tree)), "BBB002").status is Status.FAIL
    result = one(run(project_of(tree), static=True), "BBB002")
    assert (result.status, result.message) == (Status.SKIP, "dynamic check skipped (--static)")


# -- selection ---------------------------------------------------------------------------


def test_only_by_id_and_by_family(tree: Tree) -> None:
    project = project_of(tree)
    assert set(by_id(run(project, only=frozenset({"AAA001"})))) == {"AAA001"}
    assert set(by_id(run(project, only=frozenset({"BBB"})))) == {
        "BBB001",
        "BBB002",
        "BBB003",
        "BBB004",
    }


def test_skip_by_id_and_by_family(tree: Tree) -> None:
    project = project_of(tree)
    assert set(by_id(run(project, skip=frozenset({"AAA"})))) == {
        "BBB001",
        "BBB002",
        "BBB003",
        "BBB004",
    }
    assert "AAA003" not in by_id(run(project, skip=frozenset({"AAA003"})))


def test_a_prerequisite_left_out_still_gates_but_is_not_reported(tree: Tree) -> None:
    verdict = run(project_of(tree), only=frozenset({"AAA004"}))
    assert set(by_id(verdict)) == {"AAA004"}
    assert one(verdict, "AAA004").message == "requires AAA002, which did not pass"
    skipped = run(project_of(tree), skip=frozenset({"AAA002"}))
    assert "AAA002" not in by_id(skipped)
    assert not skipped.ready  # AAA003 still crashes


@pytest.mark.parametrize(
    ("name", "suggestion"), [("AAA01", "AAA001"), ("BBBB", "BBB"), ("CON01", "CON001")]
)
def test_an_unknown_id_is_a_usage_error_with_a_suggestion(
    tree: Tree, name: str, suggestion: str
) -> None:
    with pytest.raises(
        UsageError, match=rf"unknown check or family '{name}' \(did you mean {suggestion}\?\)"
    ):
        run(project_of(tree), skip=frozenset({name}))


def test_the_engine_s_own_checks_can_be_selected(tree: Tree) -> None:
    contract = '[[waivers]]\ncheck = "AAA009"\nreason = "r"\nexpires = 2030-01-01\n'
    project = project_of(tree, contract)
    assert set(by_id(run(project, only=frozenset({"CON"})))) == {"CON001"}
    assert "CON001" not in by_id(run(project, skip=frozenset({"CON001"})))


def test_duplicate_ids_are_refused(tree: Tree) -> None:
    first, second = Family("DUP", "One"), Family("DUP", "Two")
    doc = CheckDoc.parse(DOC)
    first.checks.append(Check("DUP001", "DUP", "t", run=None, doc=doc))
    second.checks.append(Check("DUP001", "DUP", "t", run=lambda p: [], doc=doc))
    with pytest.raises(UsageError, match="check id DUP001 is registered twice"):
        engine.run(project_of(tree), [first, second], today=TODAY)


# -- waivers -----------------------------------------------------------------------------


def waiver(check: str, *, subject: str | None = None, expires: str = "2026-12-31") -> str:
    line = f'subject = "{subject}"\n' if subject else ""
    return f'\n[[waivers]]\ncheck = "{check}"\n{line}reason = "accepted for now"\nexpires = {expires}\n'


def test_an_active_waiver_waives_and_the_verdict_can_be_ready(tree: Tree) -> None:
    project = project_of(tree, waiver("AAA002"))
    verdict = run(project, only=frozenset({"AAA001", "AAA002", "CON"}))
    results = by_id(verdict)["AAA002"]
    assert [r.status for r in results] == [Status.WAIVED, Status.WAIVED]  # not pass
    assert results[0].message == "flask is bad (waived until 2026-12-31: accepted for now)"
    assert one(verdict, "CON001").status is Status.PASS
    assert verdict.ready and verdict.label == "READY"


def test_an_expired_waiver_fails_again_and_says_when_it_expired(tree: Tree) -> None:
    project = project_of(tree, waiver("AAA002", expires="2026-05-31"))
    verdict = run(project, only=frozenset({"AAA002", "CON"}))
    results = by_id(verdict)["AAA002"]
    assert [r.status for r in results] == [Status.FAIL, Status.FAIL]
    assert results[0].message == "flask is bad (waiver expired 2026-05-31)"
    assert one(verdict, "CON001").status is Status.PASS  # it matched: the problem is the date
    assert not verdict.ready


def test_a_waiver_is_valid_on_its_expiry_date(tree: Tree) -> None:
    project = project_of(tree, waiver("AAA002", expires=TODAY.isoformat()))
    results = by_id(run(project, only=frozenset({"AAA002"})))["AAA002"]
    assert {r.status for r in results} == {Status.WAIVED}


def test_an_active_waiver_wins_over_an_expired_one_listed_first(tree: Tree) -> None:
    contract = waiver("AAA002", expires="2020-01-01") + waiver("AAA002")
    results = by_id(run(project_of(tree, contract), only=frozenset({"AAA002"})))["AAA002"]
    assert {r.status for r in results} == {Status.WAIVED}


def test_a_waiver_with_a_subject_waives_only_that_subject(tree: Tree) -> None:
    project = project_of(tree, waiver("AAA002", subject="numpy"))
    verdict = run(project, only=frozenset({"AAA002", "CON"}))
    statuses = {r.subject: r.status for r in by_id(verdict)["AAA002"]}
    assert statuses == {"flask": Status.FAIL, "numpy": Status.WAIVED}
    assert one(verdict, "CON001").status is Status.PASS
    assert not verdict.ready


def test_a_waiver_that_matches_nothing_is_a_con001_failure_at_its_line(tree: Tree) -> None:
    contract = WAIVERS_HEAD + waiver("AAA002", subject="pandas") + waiver("AAA001")
    verdict = run(project_of(tree, contract), only=frozenset({"AAA001", "AAA002", "CON"}))
    failures = by_id(verdict)["CON001"]
    assert [(r.status, r.subject, r.location) for r in failures] == [
        (Status.FAIL, "AAA002 pandas", Location(path="handoff.toml", line=4)),
        (Status.FAIL, "AAA001", Location(path="handoff.toml", line=10)),
    ]
    assert failures[0].message == (
        "waiver for AAA002 pandas matches no gap: the gap is fixed or the subject is wrong"
    )
    assert failures[0].fix is not None
    assert not verdict.ready


def test_a_waiver_naming_an_unknown_check_is_a_con001_failure(tree: Tree) -> None:
    verdict = run(project_of(tree, waiver("XYZ123")), only=frozenset({"AAA001", "CON"}))
    result = one(verdict, "CON001")
    assert result.status is Status.FAIL
    assert result.message == "waiver names check XYZ123, which does not exist"
    assert result.location == Location(path="handoff.toml", line=2)


def test_a_waiver_cannot_hide_the_engine_s_own_checks(tree: Tree) -> None:
    result = one(run(project_of(tree, waiver("CON002")), only=frozenset({"CON"})), "CON001")
    assert result.status is Status.FAIL
    assert "CON002, which the engine decides" in result.message


@pytest.mark.parametrize(
    ("contract", "selection"),
    [
        (waiver("BBB002"), {"static": True}),  # its check was skipped: unknown, not unused
        (waiver("AAA003"), {}),  # its check crashed
        (waiver("AAA004"), {}),  # its check was skipped behind a failing prerequisite
        (waiver("AAA002"), {"only": frozenset({"AAA001", "CON"})}),  # its check was not selected
    ],
)
def test_a_waiver_whose_check_did_not_decide_is_not_reported(
    tree: Tree, contract: str, selection: dict[str, object]
) -> None:
    verdict = run(project_of(tree, contract), **selection)
    assert [r.status for r in by_id(verdict)["CON001"]] == [Status.PASS]


def test_no_waivers_no_con001(tree: Tree) -> None:
    assert "CON001" not in by_id(run(project_of(tree)))


def test_a_waiver_for_a_passing_check_is_unused(tree: Tree) -> None:
    verdict = run(project_of(tree, waiver("AAA001")), only=frozenset({"AAA001", "CON"}))
    assert one(verdict, "CON001").status is Status.FAIL


# -- plugins -----------------------------------------------------------------------------


def test_a_plugin_that_failed_to_load_is_a_con002_error(tree: Tree) -> None:
    failure = PluginFailure("broken", "broken_pkg:family", "ImportError: no module named x")
    verdict = engine.run(
        project_of(tree),
        families(),
        engine.Selection(only=frozenset({"AAA001", "CON"})),
        plugin_failures=[failure],
        today=TODAY,
    )
    result = one(verdict, "CON002")
    assert (result.status, result.subject) == (Status.ERROR, "broken")
    assert "'broken' (broken_pkg:family) failed to load: ImportError" in result.message
    assert one(verdict, "AAA001").status is Status.PASS
    assert verdict.label == "NOT READY (cannot certify)"


def test_progress_is_told_of_each_check_that_runs_and_not_of_skipped_ones(tree: Tree) -> None:
    started: list[str] = []
    engine.run(
        project_of(tree),
        families(),
        engine.Selection(static=True),
        today=TODAY,
        on_check=lambda check: started.append(check.id),
    )
    # AAA004/5/7 are held back by failed prerequisites, BBB001 by its absent section, BBB002
    # by --static: none of them starts.
    assert started == ["AAA001", "AAA002", "AAA003", "AAA006", "BBB004", "BBB003"]


def test_evidence_is_a_passing_row_per_subject_beside_the_gaps(tree: Tree) -> None:
    ccc = Family("CCC", "Gamma")

    @_check(ccc, "CCC001")
    def mixed(project: Project) -> Iterator[Gap | Evidence]:
        yield Evidence(subject="a.py", message="a.py covered at 95%")
        yield Gap(subject="b.py", message="b.py covered at 40%")

    verdict = engine.run(project_of(tree), [ccc], today=TODAY)
    rows = {(r.subject, r.status, r.message, r.fix is None) for r in verdict.results}
    assert rows == {
        ("a.py", Status.PASS, "a.py covered at 95%", True),
        ("b.py", Status.FAIL, "b.py covered at 40%", False),
    }
    assert not verdict.ready
