"""Every report format renders the same verdict, and each one parses as its consumers parse it.

The verdict comes from the real engine on a small real project: MOD001 (a built-in check) fails
on a tampered artifact, and a family of probe checks defined here yields the other statuses the
way any plugin's checks would: a gap per subject (one of them waived by the contract), a pass,
a SkipCheck and a crash.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from helpers import write_tree
from markdown_it import MarkdownIt

from pavedroad import __version__, engine
from pavedroad.cli import cli
from pavedroad.commands.options import FORMATS
from pavedroad.contract import find_contract, load_contract
from pavedroad.project import Project
from pavedroad.registry import Family, Gap, SkipCheck, builtin_families
from pavedroad.reporters import Format, Report, junit, markdown, renderer, sarif, text
from pavedroad.reporters import json as json_reporter
from pavedroad.results import Location, Result, Status, Verdict

SARIF_SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
)
SARIF_VALIDATOR = jsonschema.Draft4Validator(
    SARIF_SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
)
WAIVER_REASON = "kept for the legacy endpoint until Q1"
# A message and a fix with every character that some format must escape.
NASTY_MESSAGE = 'widget "alpha|beta" is <undocumented> & needs\na second line'
NASTY_FIX = "Document it in `README.md` under <Widgets> | see `docs/a|b.md`."

PROBES = Family("RPT", "Reporter probes", "Checks defined by the reporter tests.")


@PROBES.check("RPT001", "Every widget is documented")
def widgets_documented(project: Project) -> Iterator[Gap]:
    """Reports each widget of the probe project that has no documentation.

    Why: A probe for the reporters: it yields one gap per subject, with and without a location.

    Example: The widget `legacy`, mentioned nowhere in the README.

    Fix: Document the widget in the README.
    """
    yield Gap(
        subject="alpha|beta",
        message=NASTY_MESSAGE,
        location=project.location(project.root / "src" / "app.py", 3),
        fix=NASTY_FIX,
    )
    yield Gap(subject="legacy", message="widget legacy is undocumented")


@PROBES.check("RPT002", "Every gadget is documented")
def gadgets_documented(project: Project) -> Iterator[Gap]:
    """Reports each gadget that has no documentation; the probe project has none, so it passes.

    Why: A probe for the reporters: it passes.

    Example: None in the probe project.

    Fix: Nothing to fix.
    """
    yield from ()


@PROBES.check("RPT003", "Every gizmo is documented")
def gizmos_documented(project: Project) -> Iterator[Gap]:
    """Skips: the probe project declares no gizmos.

    Why: A probe for the reporters: it is skipped.

    Example: A project without gizmos.

    Fix: Nothing to fix.
    """
    raise SkipCheck("the project declares no gizmos")


@PROBES.check("RPT004", "Every doohickey is documented")
def doohickeys_documented(project: Project) -> Iterator[Gap]:
    """Crashes, as a check with a bug does.

    Why: A probe for the reporters: a crash must become an `error` result.

    Example: A check that indexes a list that turned out empty.

    Fix: Report the bug.
    """
    raise RuntimeError("the probe crashed on purpose")


PROJECT = {
    "handoff.toml": f"""\
[contract]
version = 1
name = "reporters-demo"

[model]
artifact = "models/churn.bin"
sha256 = "{"0" * 64}"

[[waivers]]
check = "RPT001"
subject = "legacy"
reason = "{WAIVER_REASON}"
expires = 2099-03-31
""",
    "models/churn.bin": "not the artifact that was validated\n",
    "src/app.py": "WIDGETS = ['alpha|beta', 'legacy']\n\n\ndef widget(name):\n    return name\n",
}


def report_of(verdict: Verdict, families: list[Family]) -> Report:
    everything = [*families, engine.META]
    return Report(
        verdict=verdict,
        checks={c.id: c for f in everything for c in f.checks},
        families={f.code: f.name for f in everything},
        project_name="reporters-demo",
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    root = write_tree(tmp_path_factory.mktemp("reporters") / "project", PROJECT)
    project = Project(root, load_contract(find_contract(root)))
    families = [*builtin_families(), PROBES]
    selection = engine.Selection(only=frozenset({"MOD001", "RPT", "CON"}))
    return report_of(engine.run(project, families, selection), families)


def one(report: Report, id: str, subject: str | None = None) -> Result:
    [result] = [
        r
        for r in report.verdict.results
        if r.id == id and (subject is None or r.subject == subject)
    ]
    return result


def test_the_probe_project_yields_every_status(report: Report) -> None:
    assert one(report, "MOD001").status is Status.FAIL
    assert one(report, "MOD001").location == Location(path="handoff.toml", line=7)
    assert one(report, "RPT001", "alpha|beta").status is Status.FAIL
    assert one(report, "RPT001", "legacy").status is Status.WAIVED
    assert one(report, "RPT002").status is Status.PASS
    assert one(report, "RPT003").status is Status.SKIP
    assert one(report, "RPT004").status is Status.ERROR
    assert one(report, "CON001").status is Status.PASS
    assert not report.verdict.ready


# -- json -----------------------------------------------------------------------------------


def test_json_has_the_documented_shape(report: Report) -> None:
    document = json.loads(json_reporter.render(report))
    assert document["schema_version"] == 1
    assert document["tool"] == {"name": "pavedroad", "version": __version__}
    assert document["project"] == "reporters-demo"
    assert document["verdict"] == "not_ready"
    keys = {"id", "family", "title", "status", "subject", "message", "fix", "location", "waiver"}
    for item in document["results"]:
        assert set(item) == keys
        assert item["status"] in {s.value for s in Status}
        assert item["location"] is None or set(item["location"]) == {"path", "line"}
    waived = [item for item in document["results"] if item["status"] == "waived"]
    assert waived
    assert all(set(item["waiver"]) == {"reason", "expires"} for item in waived)
    assert document["results"] == [r.to_dict() for r in report.verdict.results]


def test_json_locates_the_gap_in_the_contract(report: Report) -> None:
    document = json.loads(json_reporter.render(report))
    [mod] = [item for item in document["results"] if item["id"] == "MOD001"]
    assert mod["status"] == "fail"
    assert mod["location"] == {"path": "handoff.toml", "line": 7}


def test_json_verdict_is_ready_when_nothing_failed() -> None:
    verdict = Verdict(project="/p", results=(passing("MOD001"),))
    document = json.loads(json_reporter.render(report_of(verdict, builtin_families())))
    assert document["verdict"] == "ready"


# -- text -----------------------------------------------------------------------------------


def test_text_puts_gaps_first_and_the_summary_last(report: Report) -> None:
    lines = text.render(report).splitlines()
    assert lines[-1] == report.verdict.summary()
    assert lines[-1].startswith("NOT READY (cannot certify):")

    def row(id: str, mark: str) -> int:
        return next(i for i, line in enumerate(lines) if line.strip().startswith(f"{mark} {id}"))

    # Within the family, the failing gap comes before the waived one, the skip and the pass.
    assert row("RPT001", "✗") < row("RPT001", "~") < row("RPT003", "-") < row("RPT002", "✓")
    assert row("RPT004", "!") < row("RPT001", "~")


def test_text_shows_the_fix_under_each_gap(report: Report) -> None:
    rendered = text.render(report)
    mod = one(report, "MOD001")
    assert mod.fix
    assert f"fix: {mod.fix}" in rendered
    assert "handoff.toml:7" in rendered
    # A multi-line message does not hide the fix of its gap.
    assert f"fix: {NASTY_FIX}" in rendered


# -- junit ----------------------------------------------------------------------------------


def test_junit_has_one_testcase_per_result(report: Report) -> None:
    root = ET.fromstring(junit.render(report))
    assert root.tag == "testsuites"
    cases = root.findall("testsuite/testcase")
    expected = [
        (r.family, f"{r.id} {r.subject}" if r.subject else r.id) for r in report.verdict.results
    ]
    assert [(c.get("classname"), c.get("name")) for c in cases] == expected
    for case in cases:
        assert case.get("time") == "0"


def test_junit_marks_each_status_as_ci_servers_read_it(report: Report) -> None:
    root = ET.fromstring(junit.render(report))
    outcome = {case.get("name"): [child.tag for child in case] for case in root.iter("testcase")}
    assert outcome["MOD001 models/churn.bin"] == ["failure"]
    assert outcome["RPT001 alpha|beta"] == ["failure"]
    assert outcome["RPT001 legacy"] == ["skipped"]
    assert outcome["RPT002"] == []
    assert outcome["RPT003"] == ["skipped"]
    assert outcome["RPT004"] == ["error"]


def test_junit_failure_carries_message_location_and_fix(report: Report) -> None:
    root = ET.fromstring(junit.render(report))
    failure = root.find("testsuite/testcase[@name='RPT001 alpha|beta']/failure")
    assert failure is not None
    assert failure.get("type") == "RPT001"
    assert failure.get("message") == NASTY_MESSAGE
    assert failure.text is not None
    assert NASTY_MESSAGE in failure.text
    assert "location: src/app.py:3" in failure.text
    assert f"fix: {NASTY_FIX}" in failure.text
    error = root.find("testsuite/testcase[@name='RPT004']/error")
    assert error is not None
    assert error.get("type") == "RPT004"
    assert "the probe crashed on purpose" in (error.get("message") or "")


def test_junit_waived_gap_is_skipped_with_its_reason(report: Report) -> None:
    root = ET.fromstring(junit.render(report))
    skipped = root.find("testsuite/testcase[@name='RPT001 legacy']/skipped")
    assert skipped is not None
    message = skipped.get("message") or ""
    assert "waived" in message
    assert WAIVER_REASON in message
    plain_skip = root.find("testsuite/testcase[@name='RPT003']/skipped")
    assert plain_skip is not None
    assert plain_skip.get("message") == "the project declares no gizmos"


def test_junit_counts_per_family_and_in_total(report: Report) -> None:
    root = ET.fromstring(junit.render(report))
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    for code in {r.family for r in report.verdict.results}:
        counts = Counter(r.status for r in report.verdict.results if r.family == code)
        suite = suites[f"{code} {report.families[code]}"]
        assert suite.get("tests") == str(sum(counts.values()))
        assert suite.get("failures") == str(counts[Status.FAIL])
        assert suite.get("errors") == str(counts[Status.ERROR])
        assert suite.get("skipped") == str(counts[Status.SKIP] + counts[Status.WAIVED])
        assert len(suite.findall("testcase")) == sum(counts.values())
    total = report.verdict.counts
    assert root.get("tests") == str(len(report.verdict.results))
    assert root.get("failures") == str(total[Status.FAIL])
    assert root.get("errors") == str(total[Status.ERROR])
    assert suites["RPT Reporter probes"].get("failures") == "1"
    assert suites["RPT Reporter probes"].get("skipped") == "2"


def test_junit_survives_characters_xml_cannot_hold() -> None:
    broken = Result(
        id="MOD001",
        family="MOD",
        title="t",
        status=Status.ERROR,
        message="crashed reading b'\x00\x1b[31m'",
    )
    verdict = Verdict(project="/p", results=(broken,))
    root = ET.fromstring(junit.render(report_of(verdict, builtin_families())))
    error = root.find("testsuite/testcase/error")
    assert error is not None
    assert (error.get("message") or "").startswith("crashed reading b'")


# -- sarif ----------------------------------------------------------------------------------


def test_the_sarif_schema_is_the_official_one() -> None:
    assert SARIF_SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert SARIF_SCHEMA["id"].endswith("/sarif-schema-2.1.0.json")
    assert {"result", "run", "reportingDescriptor", "suppression"} <= set(
        SARIF_SCHEMA["definitions"]
    )
    # The validator is not vacuous: a level SARIF does not know is rejected.
    result = {"message": {"text": "m"}, "level": "fatal"}
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [result]}]}
    assert not SARIF_VALIDATOR.is_valid(bad)
    assert SARIF_VALIDATOR.is_valid({**bad, "runs": [{**bad["runs"][0], "results": []}]})


def test_sarif_is_valid_against_the_oasis_schema(report: Report) -> None:
    SARIF_VALIDATOR.validate(json.loads(sarif.render(report)))


def test_sarif_reports_fails_errors_and_waivers_only(report: Report) -> None:
    [run] = json.loads(sarif.render(report))["runs"]
    reported = [r for r in report.verdict.results if r.status in sarif.REPORTED]
    assert [(r["ruleId"], r["properties"].get("subject")) for r in run["results"]] == [
        (r.id, r.subject) for r in reported
    ]
    assert [r["properties"]["status"] for r in run["results"]] == [r.status.value for r in reported]
    assert {r["level"] for r in run["results"]} == {"error"}
    ids = {r["ruleId"] for r in run["results"]}
    assert {"MOD001", "RPT001", "RPT004"} <= ids
    assert not ids & {"RPT002", "RPT003", "CON001"}


def test_sarif_rules_are_the_checks_docs(report: Report) -> None:
    [run] = json.loads(sarif.render(report))["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "pavedroad"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    rules = driver["rules"]
    assert [rule["id"] for rule in rules] == list(
        dict.fromkeys(r["ruleId"] for r in run["results"])
    )
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    mod = next(rule for rule in rules if rule["id"] == "MOD001")
    check = report.checks["MOD001"]
    assert mod["shortDescription"]["text"] == check.title
    assert mod["fullDescription"]["text"] == check.doc.what
    assert mod["help"] == {"text": check.doc.markdown(), "markdown": check.doc.markdown()}


def test_sarif_locations_are_relative_to_the_source_root(report: Report) -> None:
    [run] = json.loads(sarif.render(report))["runs"]
    by_key = {(r["ruleId"], r["properties"].get("subject")): r for r in run["results"]}

    def where(key: tuple[str, str | None]) -> dict[str, object]:
        [location] = by_key[key]["locations"]
        physical: dict[str, object] = location["physicalLocation"]
        return physical

    assert where(("MOD001", "models/churn.bin")) == {
        "artifactLocation": {"uri": "handoff.toml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 7},
    }
    assert where(("RPT001", "alpha|beta")) == {
        "artifactLocation": {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3},
    }
    # No location of its own: code scanning still needs one, so it points at the contract.
    assert where(("RPT004", None)) == {
        "artifactLocation": {"uri": "handoff.toml", "uriBaseId": "%SRCROOT%"}
    }
    root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root == Path(report.verdict.project).as_uri() + "/"


def test_sarif_waived_gap_is_suppressed_with_the_reason(report: Report) -> None:
    [run] = json.loads(sarif.render(report))["runs"]
    waived = [r for r in run["results"] if r["properties"]["status"] == "waived"]
    assert [(r["ruleId"], r["properties"]["subject"]) for r in waived] == [("RPT001", "legacy")]
    [suppression] = waived[0]["suppressions"]
    assert suppression["kind"] == "external"
    assert suppression["status"] == "accepted"
    assert suppression["justification"] == f"{WAIVER_REASON} (waived until 2099-03-31)"
    assert all("suppressions" not in r for r in run["results"] if r not in waived)


def test_sarif_fingerprints_are_stable_and_distinct(report: Report) -> None:
    first = json.loads(sarif.render(report))["runs"][0]["results"]
    again = json.loads(sarif.render(report))["runs"][0]["results"]
    prints = [r["partialFingerprints"][sarif.FINGERPRINT] for r in first]
    assert prints == [r["partialFingerprints"][sarif.FINGERPRINT] for r in again]
    assert len(set(prints)) == len(prints)
    moved = replace(one(report, "MOD001"), location=Location(path="x", line=99), message="m")
    assert sarif.fingerprint(moved) == sarif.fingerprint(one(report, "MOD001"))


def test_sarif_invocation_fails_only_when_a_check_errored(report: Report) -> None:
    [run] = json.loads(sarif.render(report))["runs"]
    assert run["invocations"] == [{"executionSuccessful": False}]
    ready = report_of(Verdict(project="/p", results=(passing("MOD001"),)), builtin_families())
    document = json.loads(sarif.render(ready))
    SARIF_VALIDATOR.validate(document)
    assert document["runs"][0]["invocations"] == [{"executionSuccessful": True}]
    assert document["runs"][0]["results"] == []


# -- markdown -------------------------------------------------------------------------------


def table_rows(rendered: str) -> list[list[str]]:
    """The gap table as GitHub reads it: a GFM table parser, cells as rendered text."""
    parser = MarkdownIt("commonmark").enable("table")
    rows: list[list[str]] = []
    cells: list[str] = []
    in_body = False
    for token in parser.parse(rendered):
        if token.type == "tbody_open":
            in_body = True
        elif token.type == "tr_close" and in_body:
            rows.append(cells)
            cells = []
        elif token.type == "inline" and in_body:
            cells.append(html.unescape(parser.renderInline(token.content)))
    return rows


def test_markdown_heading_and_summary(report: Report) -> None:
    lines = markdown.render(report).splitlines()
    assert f"## ❌ {report.verdict.label}: reporters-demo" in lines
    assert f"**{report.verdict.summary()}**" in lines


def test_markdown_table_has_one_row_per_gap(report: Report) -> None:
    rows = table_rows(markdown.render(report))
    gaps = report.verdict.gaps()
    assert len(rows) == len(gaps)
    for row, gap in zip(rows, gaps, strict=True):
        status, id, subject, message, location, fix = row
        assert status.endswith(gap.status.value)
        assert id == f"<code>{gap.id}</code>"
        assert subject == (gap.subject or "")
        assert location == (f"<code>{gap.location}</code>" if gap.location else "")
        assert message.replace("<br>", "\n") == gap.message
        assert re.sub("</?code>", "", fix) == (gap.fix or "").replace("`", "")


def test_markdown_escapes_pipes_newlines_and_html_in_cells(report: Report) -> None:
    rows = table_rows(markdown.render(report))
    [row] = [r for r in rows if r[2] == "alpha|beta"]
    _, _, _, message, location, fix = row
    assert message == NASTY_MESSAGE.replace("\n", "<br>")
    assert location == "<code>src/app.py:3</code>"
    assert fix == (
        "Document it in <code>README.md</code> under <Widgets> | see <code>docs/a|b.md</code>."
    )


def test_markdown_folds_passes_skips_and_waivers_by_family(report: Report) -> None:
    rendered = markdown.render(report)
    folded = rendered[rendered.index("<details>") : rendered.index("</details>")]
    assert "#### RPT · Reporter probes" in folded
    assert "#### CON · Contract" in folded
    for result in report.verdict.results:
        line = f"{result.status.value} `{result.id}`"
        assert (line in folded) == (result.status in markdown.FOLDED), result
    assert WAIVER_REASON in folded
    assert "the project declares no gizmos" in folded


def test_markdown_ready_report_has_no_table() -> None:
    verdict = Verdict(project="/p", results=(passing("MOD001"),))
    rendered = markdown.render(report_of(verdict, builtin_families()))
    assert "## ✅ READY: reporters-demo" in rendered
    assert table_rows(rendered) == []
    assert "No gaps" in rendered


# -- cli ------------------------------------------------------------------------------------


CLI_PROJECT = {
    "handoff.toml": PROJECT["handoff.toml"].split("[[waivers]]")[0],
    "models/churn.bin": PROJECT["models/churn.bin"],
}


def cli_report(root: Path) -> Report:
    """The report `paved check --only MOD001` builds for `root`, built here through the library."""
    project = Project(root, load_contract(find_contract(root)))
    families = builtin_families()
    selection = engine.Selection(only=frozenset({"MOD001"}))
    return report_of(engine.run(project, families, selection), families)


@pytest.mark.parametrize("format", [f for f in Format if f is not Format.TEXT])
def test_cli_prints_each_format(tmp_path: Path, format: Format) -> None:
    root = write_tree(tmp_path / "project", CLI_PROJECT)
    outcome = CliRunner().invoke(
        cli,
        ["check", str(root), "--only", "MOD001", "--format", format.value],
        standalone_mode=False,
    )
    assert outcome.exception is None, outcome.output
    assert outcome.return_value == 1
    assert outcome.output == renderer(format)(cli_report(root))


def test_cli_writes_a_valid_sarif_file_and_exits_not_ready(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "project", CLI_PROJECT)
    output = tmp_path / "out" / "paved.sarif"
    command = ["check", str(root), "--only", "MOD001", "--format", "sarif", "--output", str(output)]
    completed = subprocess.run(
        [sys.executable, "-m", "pavedroad", *command],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1, completed.stderr
    assert "sarif report written to" in completed.stdout
    document = json.loads(output.read_text(encoding="utf-8"))
    SARIF_VALIDATOR.validate(document)
    [result] = document["runs"][0]["results"]
    assert result["ruleId"] == "MOD001"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 7}


def passing(id: str) -> Result:
    return Result(id=id, family=id[:3], title="t", status=Status.PASS, message="fine")


def test_the_format_option_offers_every_format() -> None:
    """The option is declared without importing the reporters, so it lists them by value."""
    assert tuple(f.value for f in Format) == FORMATS
