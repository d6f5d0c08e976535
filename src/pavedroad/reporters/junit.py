"""The JUnit XML report, so CI servers (GitLab, Jenkins, ...) show each check as a test case.

One <testsuite> per family, one <testcase> per result. A waived gap is reported as <skipped>, not
as a pass: CI then shows it apart from the passes, with the waiver's reason.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from pavedroad.reporters import Report
from pavedroad.results import Result, Status

# Characters XML 1.0 cannot carry at all; a crashing check's message may contain them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Results carry no duration; consumers such as Jenkins require the attribute anyway.
NO_TIME = "0"


def render(report: Report) -> str:
    by_family: dict[str, list[Result]] = {}
    for result in report.verdict.results:
        by_family.setdefault(result.family, []).append(result)
    root = ET.Element("testsuites", name=f"pavedroad {report.project_name}")
    for code, results in by_family.items():
        root.append(_suite(code, report.families.get(code, code), results))
    _count(root, report.verdict.results)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _suite(code: str, name: str, results: list[Result]) -> ET.Element:
    suite = ET.Element("testsuite", name=_clean(f"{code} {name}"))
    _count(suite, results)
    for result in results:
        suite.append(_case(result))
    return suite


def _count(element: ET.Element, results: Iterable[Result]) -> None:
    statuses = [r.status for r in results]
    element.set("tests", str(len(statuses)))
    element.set("failures", str(statuses.count(Status.FAIL)))
    element.set("errors", str(statuses.count(Status.ERROR)))
    element.set("skipped", str(statuses.count(Status.SKIP) + statuses.count(Status.WAIVED)))
    element.set("time", NO_TIME)


def _case(result: Result) -> ET.Element:
    name = f"{result.id} {result.subject}" if result.subject else result.id
    case = ET.Element("testcase", classname=result.family, name=_clean(name), time=NO_TIME)
    match result.status:
        case Status.FAIL:
            _outcome(case, "failure", result.message, result, type=result.id)
        case Status.ERROR:
            _outcome(case, "error", result.message, result, type=result.id)
        case Status.WAIVED:
            _outcome(case, "skipped", f"waived: {result.message}", result)
        case Status.SKIP:
            _outcome(case, "skipped", result.message, result)
        case Status.PASS:
            pass
    return case


def _outcome(case: ET.Element, tag: str, message: str, result: Result, **extra: str) -> None:
    element = ET.SubElement(case, tag, {"message": _clean(message), **extra})
    element.text = _clean(_body(result))


def _body(result: Result) -> str:
    """What a CI page shows under the test name: the gap, where it is, and how to fix it."""
    lines = [f"{result.id}: {result.title}", result.message]
    if result.location is not None:
        lines.append(f"location: {result.location}")
    if result.fix:
        lines.append(f"fix: {result.fix}")
    return "\n".join(lines)


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
