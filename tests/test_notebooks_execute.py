"""`paved notebooks --execute`: notebooks run in real kernels (NB009), outputs compared (NB010).

The comparison's normalisation is tested on its own, without a kernel. The kernels are started
once, for one project of notebooks that each end differently (runs, raises, exits, kills its
kernel, sleeps past the timeout, prints other numbers), all run at once: a kernel start costs
about a second, so the slow tests share that run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import nbformat
import pytest
from helpers import FIXTURES, check_project, write_tree
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from pavedroad.commands.notebooks import audit
from pavedroad.contract import find_contract, load_contract
from pavedroad.notebooks.execute import (
    NotebookRun,
    Options,
    Watcher,
    comparable_lines,
    compare,
    first_difference,
    normalise,
    same_line,
)
from pavedroad.project import Project
from pavedroad.results import Result, Status

CONTRACT = '[contract]\nversion = 1\n\n[notebooks]\npaths = ["notebooks/"]\n'

# -- normalisation: what changes on every run is set aside ------------------------------------


def test_memory_addresses_dates_times_and_durations_are_set_aside() -> None:
    assert normalise("<__main__.Model at 0x7f3a2c1b9e50>") == ["<__main__.Model at 0x…>"]
    assert normalise("run at 2024-03-05 14:02:11.123456") == ["run at <date>"]
    assert normalise("at 2024-03-05T14:02:11Z, then") == ["at <date>, then"]
    assert normalise("Tue Mar  5 14:02:11 2024") == ["<date>"]
    assert normalise("elapsed 00:01:23") == ["elapsed <time>"]
    assert normalise("fit in 1.2 s, predict in 35 ms") == [
        "fit in <duration>, predict in <duration>"
    ]
    assert normalise("id 3f2b8c1e-9d4a-4c2b-8e1f-0a1b2c3d4e5f") == ["id <uuid>"]


def test_timing_magics_and_progress_bars_are_dropped() -> None:
    text = (
        "CPU times: user 12.5 ms, sys: 762 µs, total: 13.2 ms\n"
        "Wall time: 9.86 ms\n"
        "1.23 ms ± 45.6 µs per loop (mean ± std. dev. of 7 runs, 1,000 loops each)\n"
        " 45%|####5     | 45/100 [00:01<00:02, 30.12it/s]\n"
        "12/100 [==>...........] - ETA: 3s - loss: 0.4\n"
        "accuracy 0.91\n"
    )
    assert normalise(text) == ["accuracy 0.91"]


def test_a_rewritten_line_is_what_the_terminal_shows_and_spaces_do_not_count() -> None:
    assert normalise("epoch 1\repoch 2\repoch 3\n") == ["epoch 3"]
    assert normalise("[0.5  0.25]\n\n\n   x\t\ty  \n") == ["[0.5 0.25]", "x y"]
    assert normalise("[]\n{}") == ["[]", "{}"]  # brackets are no progress bar


def test_numbers_are_equal_within_the_relative_tolerance() -> None:
    assert same_line("loss 0.123456789", "loss 0.1234567891", 1e-6)
    assert not same_line("loss 0.1234", "loss 0.1235", 1e-6)
    assert same_line("loss 0.1234", "loss 0.1235", 1e-3)
    assert same_line("[ 1.5e-03 -0.0]", "[ 1.5000000001e-03 0.0]", 1e-6)
    assert not same_line("3 rows", "4 rows", 1e-6)
    assert not same_line("3 rows", "3 columns", 1e-6)
    assert not same_line("1 2", "1 2 3", 1e-6)
    assert same_line("model_v2 at 7", "model_v2 at 7.0", 1e-6)


def stream(text: str, name: str = "stdout") -> Any:
    return new_output("stream", name=name, text=text)


def result(plain: str, **others: str) -> Any:
    return new_output("execute_result", data={"text/plain": plain, **others}, execution_count=1)


def test_what_is_compared_of_a_cells_outputs() -> None:
    outputs = [
        stream("a = "),
        stream("1\n"),  # one print, split in two messages: joined
        stream("DeprecationWarning: /home/x/.venv/lib/sklearn/x.py:3\n", "stderr"),
        new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/html": "<div/>"}),
        result("<Figure size 640x480 with 1 Axes>", **{"text/html": '<div id="x1"></div>'}),
        new_output("error", ename="KeyError", evalue="'tenure'", traceback=[]),
    ]
    assert comparable_lines(outputs) == [
        "a = 1",
        "<Figure size 640x480 with 1 Axes>",
        "KeyError: 'tenure'",
    ]


def test_the_first_difference_of_a_cell_and_the_cells_never_run() -> None:
    assert first_difference(["a 1", "b 2"], ["a 1", "b 3"], 1e-6) == ("b 2", "b 3")
    assert first_difference(["a 1"], ["a 1", "b 2"], 1e-6) == (None, "b 2")
    assert first_difference(["a 1"], [], 1e-6) == ("a 1", None)
    assert first_difference(["a 1"], ["a 1.0000000001"], 1e-6) is None
    saved = [
        new_markdown_cell("# title"),
        new_code_cell("print(1)", execution_count=1, outputs=[stream("1\n")]),
        new_code_cell("print(2)"),  # never run: nothing saved to compare with
        new_code_cell("x", execution_count=2, outputs=[result("0.5")]),
    ]
    now = [
        new_markdown_cell("# title"),
        new_code_cell("print(1)", execution_count=1, outputs=[stream("1\n")]),
        new_code_cell("print(2)", execution_count=2, outputs=[stream("2\n")]),
        new_code_cell("x", execution_count=3, outputs=[result("0.7")]),
    ]
    compared, differences = compare(saved, now, 1e-6)
    assert compared == 2
    assert [(d.cell, d.saved, d.now) for d in differences] == [(3, "0.5", "0.7")]


# -- opt-in: nothing runs unless asked --------------------------------------------------------


def test_without_execute_nothing_runs_and_the_skip_says_how_to_ask(tmp_path: Path) -> None:
    write_tree(tmp_path, {"handoff.toml": CONTRACT})
    write_notebook(tmp_path / "notebooks" / "a.ipynb", [("import os\nos._exit(1)", None)])
    for verdict in (
        check_project(tmp_path, "NB009,NB010"),
        audit(project_of(tmp_path)).verdict,  # `paved notebooks` without --execute
    ):
        rows = [r for r in verdict.results if r.id in ("NB009", "NB010")]
        assert [r.status for r in rows] == [Status.SKIP, Status.SKIP]
        assert all("--execute" in r.message and "execute = true" in r.message for r in rows)


# -- real kernels ---------------------------------------------------------------------------


def write_notebook(
    path: Path, cells: list[tuple[str, str | None]], *, kernel: str = "python3"
) -> None:
    """A notebook whose code cells were saved with `printed` on stdout (None: not run)."""
    made = []
    for count, (source, printed) in enumerate(cells, start=1):
        if printed is None:
            made.append(new_code_cell(source))
        else:
            outputs = [stream(printed)] if printed else []
            made.append(new_code_cell(source, execution_count=count, outputs=outputs))
    language = "python" if kernel == "python3" else "R"
    spec = {"name": kernel, "display_name": kernel, "language": language}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=made, metadata={"kernelspec": spec}), path)


def project_of(root: Path) -> Project:
    return Project(root, load_contract(find_contract(root)))


class Recorder(Watcher):
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int]] = []
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def _add(self, event: str, path: Path, number: int) -> None:
        with self._lock:
            self.events.append((event, path.name, number))
            self.threads.add(threading.current_thread().name)

    def waiting(self, path: Path, cells: int) -> None:
        self._add("waiting", path, cells)

    def started(self, path: Path) -> None:
        self._add("started", path, 0)

    def cell(self, path: Path, index: int, position: int) -> None:
        self._add("cell", path, index)

    def finished(self, run: NotebookRun) -> None:
        self._add("finished", run.path, run.cells)


NOTEBOOKS: dict[str, list[tuple[str, str | None]]] = {
    "runs.ipynb": [("x = 21", ""), ("print(x * 2)", "42\n"), ("print(1 / 3)", "0.3333333\n")],
    "raises.ipynb": [
        ("def tenure(row):\n    return row['tenure']", ""),
        ("rows = [{}]\n\nvalues = [tenure(r) for r in rows]", ""),
    ],
    "exits.ipynb": [("import sys\n\nsys.exit(3)", "")],
    "dies.ipynb": [("print('starting')", "starting\n"), ("import os\nos._exit(1)", "")],
    "sleeps.ipynb": [("import time\ntime.sleep(120)", "")],
    "stripped.ipynb": [("print('no outputs saved')", None)],
    "differs.ipynb": [("print('setup')", "setup\n"), ("print(0.75)", "0.8125\n")],
    "sub/cwd.ipynb": [("import os\nprint(os.path.basename(os.getcwd()))", "sub\n")],
}


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Result], Any]:
    """One `paved notebooks --execute` of all NOTEBOOKS at once, by the command's own `audit`."""
    root = write_tree(tmp_path_factory.mktemp("project"), {"handoff.toml": CONTRACT})
    for name, cells in NOTEBOOKS.items():
        write_notebook(root / "notebooks" / name, cells)
    write_notebook(root / "notebooks" / "analysis.ipynb", [("summary(df)", "")], kernel="ir")
    before = {p: p.read_bytes() for p in root.rglob("*.ipynb")}
    recorder = Recorder()
    report = audit(
        project_of(root), execute=True, options=Options(timeout=3, jobs=4), watcher=recorder
    )
    assert {p: p.read_bytes() for p in root.rglob("*.ipynb")} == before  # never written back
    rows = {f"{r.id} {r.subject}": r for r in report.verdict.results if r.id in ("NB009", "NB010")}
    return root, rows, recorder


def row(rows: dict[str, Result], check: str, name: str) -> Result:
    return rows[f"{check} notebooks/{name}"]


@pytest.mark.slow
def test_a_notebook_that_runs_and_reproduces(executed: Any) -> None:
    _, rows, _ = executed
    for name, cells in (("runs.ipynb", 3), ("sub/cwd.ipynb", 1)):  # cwd: the notebook's folder
        assert row(rows, "NB009", name).status is Status.PASS
        assert f"ran top to bottom in a fresh kernel ({cells} code cell" in (
            row(rows, "NB009", name).message
        )
        assert row(rows, "NB010", name).status is Status.PASS
        assert "reproduced the saved outputs" in row(rows, "NB010", name).message


@pytest.mark.slow
def test_an_exception_names_the_cell_the_line_and_the_error(executed: Any) -> None:
    _, rows, _ = executed
    failed = row(rows, "NB009", "raises.ipynb")
    assert failed.status is Status.FAIL
    assert failed.message == (
        "notebooks/raises.ipynb cell 1 line 3: KeyError: 'tenure' at "
        "`values = [tenure(r) for r in rows]`"
    )
    assert failed.fix is not None and "cell 1" in failed.fix
    assert "not compared" in row(rows, "NB010", "raises.ipynb").message


@pytest.mark.slow
def test_sys_exit_and_a_killed_kernel_fail_clearly(executed: Any) -> None:
    _, rows, _ = executed
    exits = row(rows, "NB009", "exits.ipynb")
    assert exits.status is Status.FAIL
    assert exits.message == "notebooks/exits.ipynb cell 0 line 3: SystemExit: 3 at `sys.exit(3)`"
    assert exits.fix is not None and "sys.exit" in exits.fix
    dies = row(rows, "NB009", "dies.ipynb")
    assert dies.status is Status.FAIL
    assert dies.message.startswith("notebooks/dies.ipynb cell 1: the kernel died (exit status 1)")
    assert dies.fix is not None and "os._exit" in dies.fix


@pytest.mark.slow
def test_a_cell_over_the_timeout_stops_its_notebook(executed: Any) -> None:
    _, rows, _ = executed
    slow = row(rows, "NB009", "sleeps.ipynb")
    assert slow.status is Status.FAIL
    assert slow.message == "notebooks/sleeps.ipynb cell 0: did not finish within 3 s (the timeout)"
    assert slow.fix is not None and "--timeout" in slow.fix


@pytest.mark.slow
def test_other_outputs_and_no_saved_outputs(executed: Any) -> None:
    _, rows, _ = executed
    differs = row(rows, "NB010", "differs.ipynb")
    assert differs.status is Status.FAIL
    assert differs.message == (
        "notebooks/differs.ipynb: cell 1 gives other outputs than the saved ones; first, cell 1: "
        "saved `0.8125`, now `0.75`"
    )
    stripped = row(rows, "NB010", "stripped.ipynb")
    assert stripped.status is Status.PASS
    assert "nothing saved to compare" in stripped.message


@pytest.mark.slow
def test_an_r_notebook_is_noted_not_run(executed: Any) -> None:
    _, rows, recorder = executed
    for check in ("NB009", "NB010"):
        assert "R notebook" in row(rows, check, "analysis.ipynb").message
    assert "analysis.ipynb" not in {name for _, name, _ in recorder.events}


@pytest.mark.slow
def test_progress_is_told_per_notebook_and_per_cell(executed: Any) -> None:
    _, _, recorder = executed
    names = {Path(name).name for name in NOTEBOOKS}
    events = recorder.events
    assert {name for kind, name, _ in events if kind == "waiting"} == names
    assert {name for kind, name, _ in events if kind == "finished"} == names
    assert [index for kind, name, index in events if kind == "cell" and name == "runs.ipynb"] == [
        0,
        1,
        2,
    ]
    for name in names:  # each notebook queued, its kernel started, its cells, then finished
        mine = [kind for kind, n, _ in events if n == name]
        assert mine[:2] == ["waiting", "started"] and mine[-1] == "finished", (name, mine)
        assert set(mine[2:-1]) <= {"cell"}
    assert recorder.threads == {"paved-notebooks"}


@pytest.mark.slow
def test_paved_notebooks_execute_reports_the_unseeded_notebook() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pavedroad",
            "notebooks",
            str(FIXTURES / "nb010" / "fail"),
            "--execute",
            "--jobs",
            "1",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    results = {r["id"]: r for r in json.loads(done.stdout)["results"]}
    assert results["NB009"]["status"] == "pass"
    assert results["NB010"]["status"] == "fail"
    assert "cells 2, 3 give other outputs" in results["NB010"]["message"]
    assert results["NB006"]["status"] == "fail"  # the static audit saw it coming
