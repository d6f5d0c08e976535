"""`paved report`: the handoff packet of the bundled examples, read as a person would (its text),
checked as a browser loads it (headless Chromium: no console error, no request but the page),
and its edges (static runs, history, missing jinja2, output that cannot be written).

Regenerate the README's screenshot with `python tests/test_report.py docs/report.png`.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import re
import shutil
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pavedroad.history import EvaluationRecord, SQLiteHistory

if TYPE_CHECKING:
    from playwright.sync_api import FloatRect

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SERVICE = EXAMPLES / "churn-service"
NOTEBOOK = EXAMPLES / "churn-notebook"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_WIDTH, SCREENSHOT_HEIGHT = 1100, 1400
STATUSES = ("pass", "fail", "waived", "skip", "error")
INLINE = {"a", "b", "code", "em", "i", "span", "strong", "sub", "sup"}
FIELDS = (
    "tenure_months",
    "monthly_charges",
    "contract",
    "support_calls",
    "payment_method",
    "internet_service",
    "senior",
    "probability",
    "label",
)


class Page(HTMLParser):
    """What a reader sees (the text, scripts and styles left out) and every URL the page names."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.tags: list[str] = []
        self._skip = 0
        self.feed(html)
        self.text = " ".join("".join(self.parts).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in INLINE:
            self.parts.append(" ")
        self._skip += tag in ("style", "script", "title")
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "poster", "data") and value is not None:
                self.urls.append((tag, name, value))

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script", "title")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def paved(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pavedroad", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def joined(before: set[threading.Thread], timeout: float = 10.0) -> list[threading.Thread]:
    """Wait for the threads started since `before` to end (playwright's event loop leaves its
    executor's workers winding down), and return those still alive: a thread left running
    keeps the import index of later tests from forking its workers."""
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout)
    return [t for t in set(threading.enumerate()) - before if t.is_alive()]


def listing(root: Path) -> dict[str, float]:
    return {
        str(p.relative_to(root)): p.stat().st_mtime
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def service_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """The READY example's packet, with its tests and evaluation run (as `paved check` does),
    and the summary line the command printed."""
    before = listing(SERVICE)
    output = tmp_path_factory.mktemp("service") / "handoff.html"
    done = paved("report", str(SERVICE), "--output", str(output))
    assert done.returncode in (0, 1), done.stderr
    assert listing(SERVICE) == before, "paved report must not write into the project"
    return output, done.returncode, done.stdout.splitlines()[0]


@pytest.fixture(scope="module")
def notebook_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    output = tmp_path_factory.mktemp("notebook") / "handoff.html"
    done = paved("report", str(NOTEBOOK), "-o", str(output))
    assert done.returncode in (0, 1), done.stderr
    return output, done.returncode


def check_json(project: Path, *options: str) -> dict[str, Any]:
    done = paved("check", str(project), "--format", "json", *options)
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(match) for match in re.findall(r"<svg .*?</svg>", html, re.DOTALL)]


def assert_self_contained(page: Page, html: str) -> None:
    """Nothing the browser would fetch: no script, stylesheet link, image, frame or font."""
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(page.tags)
    assert all(value.startswith("#") for _, _, value in page.urls), page.urls
    assert "url(" not in html and "@import" not in html


# -- the READY example --------------------------------------------------------------------------


@pytest.mark.slow
def test_service_report_shows_the_verdict_the_card_and_the_plots(
    service_report: tuple[Path, int, str],
) -> None:
    path, code, summary = service_report
    html = path.read_text(encoding="utf-8")
    page = Page(html)
    static = check_json(SERVICE, "--static")
    assert code == 0 and static["verdict"] == "ready"
    assert "READY" in page.text and "NOT READY" not in page.text
    assert_self_contained(page, html)
    # the scorecard: one line per family with its counts, and the command's totals
    for family in {r["family"] for r in static["results"]}:
        assert re.search(rf"\b{family}\b", page.text), family
    totals = re.fullmatch(r"READY: (\d+) pass, (\d+) skip", summary)
    assert totals is not None, summary
    assert f"all {totals[1]} 0 0 {totals[2]} 0" in page.text
    assert "No gaps: every enforced check passed." in page.text
    # inputs and outputs, from the imported pydantic models
    for field in FIELDS:
        assert field in page.text
    assert ">= 0, <= 600" in page.text and "Months as a customer." in page.text
    assert 'one of "month-to-month", "one-year", "two-year"' in page.text
    assert '"tenure_months": 3' in page.text  # the input example, in the fields' order
    # metrics and their thresholds, this run's numbers, the accepted baseline, the slices
    for metric, threshold in (("roc_auc", ">= 0.82"), ("brier", "<= 0.2"), ("recall", ">= 0.45")):
        assert re.search(rf"{metric} higher is better|{metric} lower is better", page.text)
        assert threshold in page.text
    assert "this run: 1,000 rows of data/golden.csv" in page.text
    assert "Accepted baseline: run 1, accepted on 2026-11-22" in page.text
    for piece in ("contract=month-to-month", "contract=one-year", "contract=two-year"):
        assert piece in page.text
    assert "<= 256" in page.text and ">= 20,000" in page.text  # memory and throughput budgets
    # the documents, owners and settings
    assert "Schema drift" in page.text  # failure modes
    assert "133 MB peak RSS" in page.text  # resource requirements
    assert "golden dataset of the contract" in page.text  # training data (README#data)
    for owner in ("@alice-ds", "@acme/ml-platform", "@acme/ml-serving", "@acme/churn-oncall"):
        assert owner in page.text
    assert "CHURN_MODEL_PATH" in page.text and "src/churn/settings.py:30" in page.text
    # the environment
    assert f"Python {platform.python_version()}" in page.text
    assert "d49987bfcad1735fdb145c698eb5fbd1db67e133507f51f787a25e9a3929c723" in page.text
    assert "matches the contract" in page.text and "scikit-learn ==1.7.2" in page.text
    # the plots: each metric, the slices, latency, memory, throughput, ROC, calibration, confusion
    titles = [(svg.findtext("title") or "") for svg in svgs(html)]
    for wanted in (
        "roc_auc over time",
        "brier over time",
        "recall over time",
        "roc_auc on each slice",
        "single-row latency distribution",
        "peak memory",
        "batch throughput",
        "ROC curve",
        "calibration",
        "confusion matrix",
    ):
        assert any(t.startswith(wanted) for t in titles), (wanted, titles)
    confusion = next(svg for svg in svgs(html) if svg.findtext("title") == "confusion matrix")
    counts = [
        int(t.text.replace(",", ""))
        for t in confusion.iter("text")
        if t.get("font-weight") == "bold" and t.text
    ]
    assert sum(counts) == 1000  # every golden row, once


@pytest.mark.slow
def test_service_report_opens_in_chromium_with_no_error_and_no_request(
    service_report: tuple[Path, int, str], tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.is_file():
        pytest.skip(f"no browser: {CHROMIUM} is not installed (apt-get install chromium)")
    path, _, _ = service_report
    url = path.as_uri()
    threads = set(threading.enumerate())
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": SCREENSHOT_WIDTH, "height": 900})
            problems: list[str] = []
            requests: list[str] = []
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(url, wait_until="load")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            assert problems == []
            assert requests == [url]
            assert page.locator("#verdict").inner_text().startswith("READY")
            assert page.locator("svg.plot").count() >= 10
            assert page.locator("svg.plot").first.bounding_box()["width"] > 200  # type: ignore[index]

            # a phone: the page itself does not scroll sideways (wide tables scroll in place)
            page.set_viewport_size({"width": 390, "height": 800})
            assert page.evaluate("document.documentElement.scrollWidth") <= 390

            # printed: no navigation, the plots and the verdict kept
            page.emulate_media(media="print")
            assert not page.locator("nav.toc").is_visible()
            assert page.pdf(path=str(tmp_path / "report.pdf"))[:4] == b"%PDF"

            # JavaScript off changes nothing: there is none
            quiet = browser.new_context(java_script_enabled=False).new_page()
            quiet.goto(url)
            assert quiet.locator("#verdict").is_visible()
            assert quiet.locator("svg.plot").count() == page.locator("svg.plot").count()
        finally:
            browser.close()
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert joined(threads) == [], "playwright left a thread running"


# -- the NOT READY example ----------------------------------------------------------------------


def test_notebook_report_lists_every_gap_with_its_fix(notebook_report: tuple[Path, int]) -> None:
    path, code = notebook_report
    html = path.read_text(encoding="utf-8")
    page = Page(html)
    report = check_json(NOTEBOOK)
    assert code == 1 and report["verdict"] == "not_ready"
    assert "NOT READY" in page.text
    assert_self_contained(page, html)
    gaps = [r for r in report["results"] if r["status"] in ("fail", "error")]
    assert html.count('<article class="gap') == len(gaps) > 20
    for gap in gaps:
        assert " ".join(gap["message"].replace("`", "").split()) in page.text, gap["message"]
        assert " ".join(gap["fix"].replace("`", "").split()) in page.text, gap["fix"]
    for family in {g["family"] for g in gaps}:
        assert re.search(rf"\b{family}\b", page.text)
    # what the card cannot show, it says, and where to fix it
    assert "cannot import churn.schemas:Customer" in page.text
    assert "README.md#failure-modes does not document it yet" in page.text
    assert "alice@example.com" in page.text and "nobody" in page.text  # engineering unowned
    assert "not the artifact the contract validated (MOD001)" in page.text
    assert "Nothing to plot" in page.text


def test_markdown_packet_of_the_notebook() -> None:
    done = paved("report", str(NOTEBOOK), "--format", "markdown")
    assert done.returncode == 1
    text = done.stdout
    assert text.startswith("# Handoff packet: churn\n")
    assert (
        "**NOT READY**" in text and "<svg" not in text and "<!-- pavedroad-report -->" not in text
    )
    results = check_json(NOTEBOOK)["results"]
    counts = [sum(r["family"] == "DEP" and r["status"] == s for r in results) for s in STATUSES]
    assert "| **DEP** Dependencies | " + " | ".join(map(str, counts)) + " |" in text
    assert "Pin it: `numpy==" in text  # a gap's fix, in the gaps table
    assert "| **engineering** (required) | **nobody** |" in text
    assert "NOT READY" in done.stderr  # the summary, off the report's stream


# -- static runs and the history ----------------------------------------------------------------


def record(store: SQLiteHistory, when: dt.datetime, roc_auc: float, dataset: str) -> None:
    store.record(
        EvaluationRecord(
            project="churn",
            commit="f" * 40,
            contract_sha256="c" * 64,
            dataset_sha256=dataset,
            artifact_sha256="a" * 64,
            metrics={"roc_auc": roc_auc, "brier": 0.14, "recall": 0.5},
            budgets={"latency_p99_ms": 30.0, "peak_memory_mb": 200.0, "throughput_rows_s": 9e4},
            created=when,
        )
    )


def test_static_packet_shows_the_last_recorded_run_against_todays_thresholds(
    tmp_path: Path,
) -> None:
    """With --static no project code runs; the numbers are the newest run recorded on the same
    golden dataset, judged against the contract as it is now, with the whole history plotted."""
    project = tmp_path / "churn-service"
    shutil.copytree(SERVICE, project)
    store = SQLiteHistory(project / ".paved" / "history.db")
    golden = store.runs("churn")[0].dataset_sha256  # the accepted baseline's golden dataset
    assert golden is not None
    start = dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc)
    for day, value in enumerate((0.84, 0.83, 0.8123)):
        record(store, start + dt.timedelta(days=day), value, golden)
    record(store, start + dt.timedelta(days=9), 0.99, "another dataset")  # not comparable
    store.close()
    done = paved("report", str(project), "--static", "-o", "-")
    assert done.returncode == 0, done.stderr
    page = Page(done.stdout)
    assert "run 4 recorded on 2026-11-25" in page.text
    assert re.search(r"roc_auc higher is better 0\.8123 >= 0\.82 0\.8454 fail 4", page.text)
    assert "latency_p99_ms 30 <= 25 fail" in page.text
    assert "roc_auc: 4 recorded runs" in page.text
    assert "0.99" not in page.text
    assert "static only (--static)" in page.text
    assert "Read from the class's source (no project code ran)." in page.text
    assert ">= 0, <= 600" in page.text  # Field(ge=0, le=600), read from the source


SCHEMAS = '''
from dataclasses import dataclass
from pathlib import Path
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

Path("imported.marker").write_text("the schemas were imported")


class Reading(BaseModel):
    """One sensor reading."""

    sensor: str = Field(min_length=3, description="Sensor id.", examples=["s-01"])
    celsius: float = Field(-40.0, ge=-90, le=60)
    tags: list[str] = Field(default_factory=list)


@dataclass
class Window:
    start: int
    hours: float = 1.0


class Alarm(TypedDict):
    level: int
    reason: str
'''


def project(
    tree: Callable[[Mapping[str, str]], Path], input_schema: str, output_schema: str
) -> Path:
    return tree(
        {
            "handoff.toml": f'[contract]\nname = "sensors"\n\n[model]\n'
            f'input_schema = "{input_schema}"\noutput_schema = "{output_schema}"\n',
            "pyproject.toml": '[project]\nname = "sensors"\nversion = "1"\n'
            'requires-python = ">=3.10"\ndependencies = ["pydantic==2.14.3"]\n',
            "src/sensors/__init__.py": "",
            "src/sensors/schemas.py": SCHEMAS,
            "README.md": "# sensors\n\nFlags overheating sensors from their readings, hourly.\n",
        }
    )


def test_schemas_are_imported_in_a_subprocess_only_when_code_may_run(
    tree: Callable[[Mapping[str, str]], Path],
) -> None:
    root = project(tree, "sensors.schemas:Reading", "sensors.schemas:Alarm")
    marker = root / "imported.marker"
    static = Page(paved("report", str(root), "--static", "-o", "-").stdout)
    assert not marker.exists()
    assert "sensor str yes length >= 3 Sensor id." in static.text
    assert "celsius float no, default -40.0 >= -90, <= 60" in static.text
    assert "Flags overheating sensors" in static.text  # purpose: the README's opening
    dynamic = paved("report", str(root), "-o", "-")
    assert marker.is_file(), dynamic.stderr  # imported, in the project's folder, by the worker
    page = Page(dynamic.stdout)
    assert "sensor string yes length >= 3 Sensor id." in page.text
    assert "celsius number no, default -40.0 >= -90, <= 60" in page.text
    assert "tags list[string] no, default none" in page.text
    assert "level integer yes" in page.text and "reason string yes" in page.text  # TypedDict


def test_dataclass_schemas_and_a_failing_import(tree: Callable[[Mapping[str, str]], Path]) -> None:
    root = project(tree, "sensors.schemas:Window", "sensors.missing:Alarm")
    page = Page(paved("report", str(root), "-o", "-").stdout)
    assert "start integer yes" in page.text and "hours number no, default 1.0" in page.text
    assert "cannot import sensors.missing:Alarm: ModuleNotFoundError" in page.text


# -- the command's edges ------------------------------------------------------------------------


def test_default_output_is_handoff_html_in_the_current_folder(
    tree: Callable[[Mapping[str, str]], Path], tmp_path: Path
) -> None:
    root = project(tree, "sensors.schemas:Reading", "sensors.schemas:Alarm")
    here = tmp_path / "here"
    here.mkdir()
    done = paved("report", str(root), "--static", cwd=here)
    assert done.returncode == 1, done.stderr  # it has no tests (TST001)
    assert "html report written to handoff.html" in done.stdout
    assert sorted(p.name for p in here.iterdir()) == ["handoff.html"]  # no temporary left
    assert (here / "handoff.html").read_text(encoding="utf-8").startswith("<!doctype html>")


def test_an_output_that_cannot_be_written_is_a_usage_error(
    tree: Callable[[Mapping[str, str]], Path], tmp_path: Path
) -> None:
    root = project(tree, "sensors.schemas:Reading", "sensors.schemas:Alarm")
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    done = paved("report", str(root), "--static", "-o", str(blocker / "handoff.html"))
    assert done.returncode == 2
    assert "cannot write the report to" in done.stderr and "Traceback" not in done.stderr


def test_without_jinja2_the_error_names_the_extra(
    tree: Callable[[Mapping[str, str]], Path],
) -> None:
    root = project(tree, "sensors.schemas:Reading", "sensors.schemas:Alarm")
    blocked = (
        "import sys; sys.modules['jinja2'] = None; from pavedroad.cli import main; "
        f"main(['report', {str(root)!r}, '--static', '-o', '-'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", blocked], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "pip install 'pavedroad[report]'" in done.stderr and done.stdout == ""


def test_templates_ship_in_the_wheel(tmp_path: Path) -> None:
    """hatchling puts the templates in the wheel next to the code that loads them."""
    pytest.importorskip("hatchling")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(root),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("pavedroad-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in ("handoff.html.jinja", "handoff.md.jinja", "handoff.css"):
        assert f"pavedroad/report/templates/{template}" in names


# -- the README's screenshot --------------------------------------------------------------------


def screenshot(html: Path, png: Path) -> list[Path]:
    """The packet as a person first sees it (the verdict, the scorecard), and its plots, at a
    laptop's width: `png` and `<png>-plots.png`."""
    from playwright.sync_api import sync_playwright

    plots = png.with_name(f"{png.stem}-plots{png.suffix}")
    threads = set(threading.enumerate())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": SCREENSHOT_WIDTH, "height": 900})
            page.goto(html.as_uri())
            page.screenshot(path=str(png), clip=clip(0, SCREENSHOT_HEIGHT))
            box = page.locator("#plots").bounding_box()
            assert box is not None
            page.screenshot(
                path=str(plots), full_page=True, clip=clip(box["y"] - 10, SCREENSHOT_HEIGHT)
            )
        finally:
            browser.close()
    joined(threads)
    return [png, plots]


def clip(top: float, height: float) -> FloatRect:
    return {"x": 0, "y": top, "width": SCREENSHOT_WIDTH, "height": height}


def main(target: Path) -> None:
    html = target.with_suffix(".html")
    done = paved("report", str(SERVICE), "-o", str(html))
    print(done.stdout, end="")
    for png in screenshot(html, target):
        print(f"{png}: {png.stat().st_size:,} bytes")
    html.unlink()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/report.png").resolve())
