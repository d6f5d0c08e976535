"""NB: the static notebook audit, reported exactly on fixture notebooks with planted hazards.

Each fixture is a real project with real .ipynb files (tests/fixtures/nb0*/). The exploratory
notebook looks like what a data scientist saves: plots, dataframes, a session's disorder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import FIXTURES, check_project

from pavedroad.results import Result, Status

EXPLORATORY = FIXTURES / "nb0-exploratory"
CODE = {"cell_type": "code", "metadata": {}, "outputs": []}


def fails(root: Path, only: str = "NB") -> set[tuple[str, str | None]]:
    return {(r.id, r.subject) for r in check_project(root, only).results if r.status is Status.FAIL}


def results(root: Path, check_id: str) -> list[Result]:
    return [r for r in check_project(root, check_id).results if r.id == check_id]


def notebook(
    *sources: str, counts: bool = False, metadata: Mapping[str, object] | None = None
) -> str:
    cells = [
        {**CODE, "source": source, "execution_count": index + 1 if counts else None}
        for index, source in enumerate(sources)
    ]
    return json.dumps(
        {"cells": cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}
    )


Tree = Callable[[Mapping[str, str]], Path]


# -- the exploratory notebook: every planted hazard, nothing on the clean one ----------------


def test_every_hazard_planted_in_the_exploratory_notebook_is_reported_exactly() -> None:
    nb = "notebooks/explore.ipynb"
    assert fails(EXPLORATORY) == {
        ("NB001", f"{nb}:order"),  # cell 8 ran [6] after cell 7 [7]
        ("NB002", f"{nb}:X"),  # used in cell 7, defined in cell 8
        ("NB002", f"{nb}:y"),
        ("NB002", f"{nb}:feature_names"),  # defined by no cell
        ("NB003", f"{nb}:/Users/alice/Downloads/churn_final_v2.csv"),
        ("NB004", f"{nb} cell 10 line 1: password in a URL"),
        ("NB005", f"{nb}:!pip install seaborn==0.13.2"),
        ("NB006", f"{nb}:sklearn.model_selection.train_test_split"),
        ("NB006", f"{nb}:sklearn.ensemble.RandomForestClassifier"),
        ("NB007", f"{nb}:cell 11"),
    }


def test_the_clean_notebook_beside_it_is_not_mentioned() -> None:
    verdict = check_project(EXPLORATORY, "NB")
    assert not [r for r in verdict.results if "baseline.ipynb" in f"{r.subject} {r.message}"]


def test_messages_name_the_notebook_the_cell_and_the_line() -> None:
    by_id = {r.id: r for r in check_project(EXPLORATORY, "NB").results if r.status is Status.FAIL}
    assert by_id["NB003"].message == (
        "notebooks/explore.ipynb cell 3 line 1: `/Users/alice/Downloads/churn_final_v2.csv` is a "
        "path on one machine"
    )
    assert by_id["NB001"].message == (
        "notebooks/explore.ipynb: code cells ran out of order: cell 8 [6] below cell 7 [7]"
    )
    assert by_id["NB007"].message == (
        "notebooks/explore.ipynb cell 11: saved with an error output: NameError: name "
        "'feature_names' is not defined"
    )
    for result in by_id.values():
        assert result.location is not None and result.location.path == "notebooks/explore.ipynb"
        assert result.fix


def test_hidden_state_says_where_the_name_is_defined() -> None:
    messages = {r.subject: r.message for r in results(EXPLORATORY, "NB002")}
    assert messages["notebooks/explore.ipynb:X"] == (
        "notebooks/explore.ipynb cell 7 line 1: `X` is used before any cell above defines it "
        "(first defined in cell 8 line 1): it only works in a session where that cell ran first"
    )
    assert "no cell defines it" in messages["notebooks/explore.ipynb:feature_names"]


# -- each check's fixtures, exactly ----------------------------------------------------------


def test_nb001_reports_each_unreadable_notebook_once_and_still_audits_the_others() -> None:
    found = {r.subject: r for r in results(FIXTURES / "nb001" / "fail-malformed", "NB001")}
    assert {s: r.status for s, r in found.items()} == {
        "notebooks/no-outputs.ipynb": Status.FAIL,
        "notebooks/old-v3.ipynb": Status.FAIL,
        "notebooks/truncated.ipynb": Status.FAIL,
    }
    # fine.ipynb, beside them, is audited by every other check
    (path,) = results(FIXTURES / "nb001" / "fail-malformed", "NB003")
    assert path.subject == "notebooks/fine.ipynb:/home/alice/data.csv"
    assert found["notebooks/no-outputs.ipynb"].message.endswith("cells[0] has no 'outputs' field")
    v3 = found["notebooks/old-v3.ipynb"]
    assert "nbformat 3" in v3.message and v3.fix is not None
    assert "jupyter nbconvert --to notebook --nbformat 4" in v3.fix
    truncated = found["notebooks/truncated.ipynb"]
    assert truncated.message.startswith("notebooks/truncated.ipynb is not valid JSON (line 8")
    assert truncated.location is not None and truncated.location.line == 8


def test_nb001_a_stripped_notebook_is_clean_and_says_so() -> None:
    rows = results(FIXTURES / "nb001" / "pass", "NB001")
    assert [(r.status, r.subject) for r in rows] == [(Status.PASS, "notebooks/stripped.ipynb")]


def test_nb001_names_the_cells_never_run() -> None:
    (result,) = results(FIXTURES / "nb001" / "fail-unrun", "NB001")
    assert result.message.startswith("notebooks/partial.ipynb: code cell 2 never ran")


def test_nb002_fixture_exactly() -> None:
    nb = "notebooks/hidden.ipynb"
    rows = {r.subject: r.message for r in results(FIXTURES / "nb002" / "fail", "NB002")}
    assert set(rows) == {f"{nb}:{name}" for name in ("model", "X", "y", "cleanup", "score", "raw")}
    assert (
        rows[f"{nb}:raw"] == f"{nb} cell 4 line 2: `raw` is used after `del raw` in cell 4 line 1"
    )


def test_nb002_scoping_kedro_preset_injected_names_and_star_imports_pass() -> None:
    rows = results(FIXTURES / "nb002" / "pass", "NB002")
    assert {r.status for r in rows} == {Status.PASS}
    # the R notebook is noted, not audited as Python
    assert [r.message for r in rows] == [
        "notebooks/analysis-r.ipynb: R notebook (kernel ir), not audited as Python"
    ]


def test_nb003_fixture_exactly() -> None:
    nb = "notebooks/laptop.ipynb"
    rows = {r.subject: r.message for r in results(FIXTURES / "nb003" / "fail", "NB003")}
    assert set(rows) == {
        f"{nb}:/Users/alice/projects/churn",
        f"{nb}:C:\\Users\\alice\\Downloads\\churn.csv",
        f"{nb}:~/secrets/config.yaml",
        f"{nb}:/home/alice/work",  # from `%cd`
        f"{nb}:/mnt/shared/exports/latest.parquet",  # from a `!cp` line
        f"{nb}:/Volumes/USB/",  # the start of an f-string
    }
    assert rows[f"{nb}:/Users/alice/projects/churn"].endswith("(also in cells 1, 3)")


def test_nb004_fixture_exactly_and_redacted() -> None:
    nb = "notebooks/leaky.ipynb"
    rows = {r.subject: r.message for r in results(FIXTURES / "nb004" / "fail", "NB004")}
    assert rows == {
        f"{nb} cell 0 line 2: AWS access key id": f"{nb} cell 0 line 2: AWS access key id "
        "(`AKIA…`, 20 characters) in the source",
        f"{nb} cell 1 line 2: GitHub token": f"{nb} cell 1 line 2: GitHub token (`ghp_…`, "
        "41 characters) in the source",
        f"{nb} cell 1 line 3: Slack token": f"{nb} cell 1 line 3: Slack token (`xoxb…`, "
        "54 characters) in the source",
        f"{nb} cell 2 (output 0): OpenAI-style API key": f"{nb} cell 2 (output 0): "
        "OpenAI-style API key (`sk-p…`, 40 characters) in an output",
        f"{nb} cell 3 line 1: private key": f"{nb} cell 3 line 1: private key (191 characters) "
        "in the source",
        f"{nb} cell 4 line 2: password in a URL": f"{nb} cell 4 line 2: password in a URL "
        "(4 characters) in the source",
        f"{nb} cell 4 (output 0): password in a URL": f"{nb} cell 4 (output 0): password in a "
        "URL (4 characters) in an output",
        f"{nb} cell 5 line 1: password assigned to db_password": f"{nb} cell 5 line 1: password "
        "assigned to db_password (18 characters) in the source",
    }


def test_nb005_fixture_exactly() -> None:
    rows = {r.message.partition(": ")[2] for r in results(FIXTURES / "nb005" / "fail", "NB005")}
    declared = "at run time, outside the declared dependencies"
    assert rows == {
        f"`!pip install seaborn lightgbm==4.3.0` installs seaborn, lightgbm==4.3.0 {declared}",
        f"`%conda install -c conda-forge -y xgboost` installs xgboost {declared}",
        f"`apt-get install -y libgomp1` installs libgomp1 {declared}",  # in a %%bash cell
        f"`python -m pip install shap` installs shap {declared}",  # subprocess.check_call
        f"`!pip install --quiet optuna` installs optuna {declared}",  # continued with `\`
        f"`out = !python -m pip install 'plotly>=5'` installs plotly>=5 {declared}",
    }


def test_nb006_fixture_exactly() -> None:
    nb = "notebooks/unseeded.ipynb"
    rows = {r.subject for r in results(FIXTURES / "nb006" / "fail", "NB006")}
    assert rows == {
        f"{nb}:numpy.random.rand",
        f"{nb}:sklearn.model_selection.train_test_split",
        f"{nb}:sklearn.ensemble.RandomForestClassifier",
        f"{nb}:sklearn.model_selection.StratifiedKFold",  # shuffle=True
        f"{nb}:df.sample",
        f"{nb}:random.choice",
        f"{nb}:numpy.random.default_rng",  # a generator of its own, without a seed
        f"{nb}:torch.nn.Linear",
    }


def test_nb008_names_the_largest_cells() -> None:
    (result,) = results(FIXTURES / "nb008" / "fail", "NB008")
    assert result.message == (
        "notebooks/dump.ipynb: outputs weigh 11 KiB, over the 8 KiB limit; largest: cell 1 "
        "(11 KiB), cell 2 (1 KiB)"
    )


# -- edge cases on throw-away projects -------------------------------------------------------


def test_no_notebooks_skips_every_nb_check(tree: Tree) -> None:
    root = tree({"handoff.toml": "[contract]\nversion = 1\n", "main.py": "print(1)\n"})
    verdict = check_project(root, "NB")
    assert {(r.status, r.message) for r in verdict.results} == {
        (Status.SKIP, "no notebooks (under [notebooks].paths, else anywhere in the project)")
    }


def test_only_unreadable_notebooks_skip_the_other_checks(tree: Tree) -> None:
    root = tree({"handoff.toml": "", "a.ipynb": "{"})
    statuses = {r.id: r.status for r in check_project(root, "NB").results}
    assert statuses.pop("NB001") is Status.FAIL
    assert set(statuses.values()) == {Status.SKIP}


def test_an_r_only_project_skips_the_python_checks_with_the_reason(tree: Tree) -> None:
    metadata = {"kernelspec": {"name": "julia-1.10", "display_name": "Julia"}}
    root = tree({"handoff.toml": "", "a.ipynb": notebook("x = 1", metadata=metadata)})
    (row,) = results(root, "NB002")
    assert (row.status, row.message) == (Status.SKIP, "no Python notebook: a.ipynb (julia)")


def test_notebooks_paths_limit_the_audit(tree: Tree) -> None:
    hazard = notebook("open('/home/alice/x.csv')")
    root = tree(
        {
            "handoff.toml": '[notebooks]\npaths = ["audited"]\n',
            "audited/a.ipynb": hazard,
            "scratch/b.ipynb": hazard,
        }
    )
    assert {r.subject for r in results(root, "NB003")} == {"audited/a.ipynb:/home/alice/x.csv"}


@pytest.mark.parametrize(
    ("sources", "hidden"),
    [
        (["total += 1", "total = 0"], {"total"}),  # read before it is written
        (["[i for i in range(3)]\nprint(i)"], {"i"}),  # a comprehension's variable is its own
        (["def f():\n    return g()\n", "f()"], {"g"}),  # a function body: defined nowhere
        (["def f():\n    return g()\n", "f()", "def g():\n    return 1"], set()),
        (["x = 1\ndel x\nx"], {"x"}),
        (["class A:\n    k = 1\n    def m(self):\n        return k\n"], {"k"}),  # class scope
        (["from pathlib import *\nPath('.')", "unknown_name"], set()),  # star: no guessing
        (["print(before_star)\nfrom pathlib import *"], {"before_star"}),
        (["%run helpers.py\nhelper()"], set()),
        (["lines = !cat x\nprint(lines)"], set()),
        (["%timeit -n 10 r = sum(range(3))\nprint(r)"], set()),
        (["if (n := 3) > 2:\n    pass\nprint(n)"], set()),
        (["match point:\n    case (a, b):\n        print(a, b)\n"], {"point"}),
        (["import os.path\nos.getcwd()"], set()),
        (["display(In, Out, _, __, _i, _2, _i2, get_ipython, exit)"], set()),
        (["print(ExceptionGroup, aiter)"], set()),  # builtins of newer Pythons
        (["f = lambda v: v + offset", "offset = 1"], set()),
        (["x = (", "x = 1\nprint(y)"], set()),  # a cell that does not parse may define y
        (["x = " + "+".join(["a"] * 3000)], set()),  # too deep to follow: not a crash
    ],
)
def test_hidden_state_analysis(tree: Tree, sources: list[str], hidden: set[str]) -> None:
    root = tree({"handoff.toml": "", "n.ipynb": notebook(*sources)})
    rows = [r for r in results(root, "NB002") if r.status is not Status.PASS]
    assert {r.subject for r in rows} == {f"n.ipynb:{name}" for name in hidden}, rows


def test_injected_names_come_from_the_contract(tree: Tree) -> None:
    source = notebook("catalog.load('x')\nspark.read")
    without = tree({"handoff.toml": "", "n.ipynb": source})
    assert {r.subject for r in results(without, "NB002")} == {"n.ipynb:catalog", "n.ipynb:spark"}
    contract = '[notebooks]\npreset = "kedro"\ninjected_names = ["spark"]\n'
    (without / "handoff.toml").write_text(contract, encoding="utf-8")
    assert {r.status for r in results(without, "NB002")} == {Status.PASS}


@pytest.mark.parametrize(
    ("source", "generators"),
    [
        ("import numpy as np\nnp.random.seed(1)\nnp.random.rand(2)", set()),
        ("import numpy as np\nnp.random.rand(2)\nnp.random.seed(1)", {"numpy.random.rand"}),
        ("import numpy as np\nnp.random.seed()\nnp.random.rand(2)", {"numpy.random.rand"}),
        ("import numpy as np\nnp.random.seed(1)\nfrom sklearn.svm import SVC\nSVC()", set()),
        ("from sklearn.linear_model import LogisticRegression\nLogisticRegression()", set()),
        (
            "from sklearn.linear_model import LogisticRegression\nLogisticRegression(solver='saga')",
            {"sklearn.linear_model.LogisticRegression"},
        ),
        ("from sklearn.model_selection import KFold\nKFold(5)", set()),
        ("from sklearn.ensemble import RandomForestClassifier as RF\nRF(**params)", set()),
        ("import torch\ntorch.manual_seed(0)\ntorch.rand(3)", set()),
        (
            "import transformers, torch, random\ntransformers.set_seed(1)\ntorch.rand(1)\nrandom.random()",
            set(),
        ),
        ("import tensorflow as tf\ntf.random.normal([2])", {"tensorflow.random.normal"}),
        ("import random\nrng = random.Random(3)\nrng.random()", set()),
    ],
)
def test_randomness_analysis(tree: Tree, source: str, generators: set[str]) -> None:
    root = tree({"handoff.toml": "", "n.ipynb": notebook(source)})
    rows = [r for r in results(root, "NB006") if r.status is Status.FAIL]
    assert {r.subject for r in rows} == {f"n.ipynb:{name}" for name in generators}


def test_execution_counts_out_of_order_and_reruns(tree: Tree) -> None:
    def counts(*values: int | None) -> str:
        cells = [{**CODE, "source": "x = 1", "execution_count": v} for v in values]
        return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})

    root = tree({"handoff.toml": "", "gaps.ipynb": counts(1, 5, 9), "rerun.ipynb": counts(3, 3)})
    assert {r.subject for r in results(root, "NB001") if r.status is Status.FAIL} == {
        "rerun.ipynb:order"
    }
