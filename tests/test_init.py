"""`paved init`: a starting contract inferred from real projects of four shapes, and the to-do
list it prints, which must name the real gaps of each and nothing else.

Each project is copied to tmp_path (init writes handoff.toml into it). The gaps are compared as
(check, subject) pairs with what a person reading the project finds wrong with it.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import FIXTURES, check_project

from pavedroad import cli
from pavedroad.contract import Contract, load_contract
from pavedroad.results import Status
from pavedroad.scaffold import contract_text
from pavedroad.scaffold.init import inspect

EXAMPLES = Path(__file__).parent.parent / "examples"
Tree = Callable[[Mapping[str, str]], Path]


def copy(source: Path, tmp_path: Path) -> Path:
    root = Path(shutil.copytree(source, tmp_path / source.name))
    (root / "handoff.toml").unlink(missing_ok=True)
    return root


def invoke(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        cli.main(list(args))
    assert isinstance(exited.value.code, int)
    return exited.value.code


def init(root: Path, *options: str) -> Contract:
    assert invoke("init", str(root), *options) == 0
    return load_contract(root / "handoff.toml").contract


def gaps(root: Path) -> set[tuple[str, str | None]]:
    verdict = check_project(root, static=True)
    assert verdict.certifiable, [r for r in verdict.results if r.status is Status.ERROR]
    return {(r.id, r.subject) for r in verdict.results if r.status is Status.FAIL}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


OWNERS = {("OWN001", "data_science"), ("OWN001", "engineering")}  # the placeholders


def test_the_notebook_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy(EXAMPLES / "churn-notebook", tmp_path)
    contract = init(root, "--static")
    out = capsys.readouterr().out
    assert contract.package is None  # utils.py next to a notebook is no package
    assert contract.model is not None
    assert contract.model.artifact == "model.pkl"
    assert contract.model.sha256 == sha256(root / "model.pkl")
    assert contract.model.predict is None and contract.model.input_schema is None
    assert contract.config is not None and contract.config.env == ["DB_PASSWORD"]
    assert contract.notebooks is not None and contract.notebooks.paths == ["notebooks/"]
    assert contract.owners is not None and contract.owners.data_science == "TODO"
    assert contract.performance is None  # no golden dataset: its keys are commented out
    assert "settings read from the environment: DB_PASSWORD" in out
    assert "to fill in, marked TODO(handoff):" in out
    assert "handoff.toml:11  who answers for each role" in out
    assert out.rstrip().splitlines()[-1].startswith("NOT READY")
    # The README of the example lists these gaps; the sha256 is now the file's own.
    assert gaps(root) == OWNERS | {
        *(("DEP002", p) for p in ("joblib", "matplotlib", "seaborn", "jupyter", "psycopg2-binary")),
        *(("DEP004", p) for p in ("numpy", "scikit-learn", "joblib", "matplotlib", "seaborn")),
        *(("DEP004", p) for p in ("jupyter", "sqlalchemy", "psycopg2-binary")),
        ("DOC001", "README.md#resource-requirements"),
        ("DOC002", "README.md#failure-modes"),
        ("NB001", "notebooks/churn.ipynb:order"),
        ("NB003", "notebooks/churn.ipynb:/Users/alice/projects/churn"),
        ("NB005", "notebooks/churn.ipynb:!pip install scikit-learn joblib seaborn"),
        ("PKG002", "pyproject.toml"),
        ("TST001", "tests/"),
    }


def test_a_flask_app_with_a_pickle(tmp_path: Path) -> None:
    root = copy(FIXTURES / "init-flask-pickle", tmp_path)
    contract = init(root, "--static")
    assert contract.model is not None and contract.model.artifact == "model.pkl"
    assert contract.model.sha256 == sha256(root / "model.pkl")
    assert contract.model.predict is None  # the route reads a request: no batch predict
    assert contract.performance is not None
    assert contract.performance.dataset == "data/holdout.csv"  # held out, by its name
    assert contract.config is not None and contract.config.env == ["MODEL_PATH", "PORT"]
    assert contract.docs is not None and contract.docs.resources == "README.md#resources"
    text = (root / "handoff.toml").read_text(encoding="utf-8")
    assert "# app.py is a Flask app" in text
    assert gaps(root) == OWNERS | {
        ("CFG002", "MODEL_PATH"),
        ("CFG002", "PORT"),
        ("DEP007", "numpy"),  # the pickle needs numpy; requirements.txt does not say so
        ("DOC002", "README.md#failure-modes"),
        ("PKG002", "pyproject.toml"),
        ("TST001", "tests/"),
    }


def test_a_bare_folder_of_notebooks(tmp_path: Path) -> None:
    root = copy(FIXTURES / "init-notebooks", tmp_path)
    contract = init(root, "--static")
    assert contract.notebooks is not None
    assert contract.notebooks.paths == ["exploration/", "train.ipynb"]
    assert contract.performance is None  # orders.csv is data, not a held-out set
    assert contract.config is not None and contract.config.env == []
    assert "(tables found: orders.csv)" in (root / "handoff.toml").read_text(encoding="utf-8")
    assert gaps(root) == OWNERS | {
        ("DEP001", "pandas"),
        ("DEP001", "scikit-learn"),
        ("DOC001", "README.md#resource-requirements"),
        ("DOC002", "README.md#failure-modes"),
        ("PKG002", "pyproject.toml"),
        ("TST001", "tests/"),
    }


def test_a_package_with_setup_py_and_a_fastapi_app(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy(FIXTURES / "init-setuppy", tmp_path)
    contract = init(root)  # the whole check: the project's tests run too, and pass
    assert "✓ TST002  `pytest -q` passed: 1 passed" in capsys.readouterr().out
    assert contract.package is not None and contract.package.name == "loan_scorer"
    assert contract.package.entry_points == ["loan_scorer.train:main"]
    assert contract.dependencies is not None and contract.dependencies.python == ">=3.10"
    assert contract.model is not None
    assert contract.model.input_schema == "loan_scorer.schemas:LoanApplication"  # a parameter
    assert contract.model.output_schema == "loan_scorer.schemas:RiskScore"  # the response
    assert contract.model.artifact == "models/scorer.joblib"
    assert contract.config is not None and contract.config.env == ["LOAN_MODEL_PATH"]
    text = (root / "handoff.toml").read_text(encoding="utf-8")
    assert "(candidates: loan_scorer.model:predict)" in text
    found = gaps(root)
    # not setup.py's own `import setuptools`: a build requirement, not a runtime one
    assert found == OWNERS | {
        ("DEP001", "pytest"),  # the tests import it; nothing declares it
        ("DEP007", "numpy"),
        ("PKG002", "pyproject.toml"),
    }


def test_a_src_package_whose_class_names_say_their_roles(tree: Tree) -> None:
    schemas = (
        "from pydantic import BaseModel\n\n\n"
        "class OrderFeatures(BaseModel):\n    price: float\n\n\n"
        "class OrderPrediction(BaseModel):\n    quantity: float\n\n\n"
        "class Address(BaseModel):\n    city: str\n"
    )
    root = tree(
        {
            "pyproject.toml": '[project]\nname = "shop-demand"\nversion = "1"\n'
            'requires-python = ">=3.11"\n[project.scripts]\nshop = "shop_demand.cli:main"\n',
            "src/shop_demand/__init__.py": "",
            "src/shop_demand/schemas.py": schemas,
            "src/shop_demand/cli.py": "def main() -> int:\n    return 0\n",
            "src/other/__init__.py": "",
            "models/demand.joblib": "weights",
            "models/old/demand-v0.joblib": "older weights",
        }
    )
    contract = init(root, "--static")
    assert contract.contract is not None and contract.contract.name == "shop-demand"
    assert contract.package is not None and contract.package.name == "shop_demand"
    assert contract.package.entry_points == ["shop_demand.cli:main"]
    assert contract.dependencies is not None and contract.dependencies.python == ">=3.11"
    assert contract.model is not None
    assert contract.model.input_schema == "shop_demand.schemas:OrderFeatures"
    assert contract.model.output_schema == "shop_demand.schemas:OrderPrediction"
    assert contract.model.artifact == "models/demand.joblib"
    text = (root / "handoff.toml").read_text(encoding="utf-8")
    assert "# also found: other" in text
    assert "# also found: models/old/demand-v0.joblib" in text


def test_an_empty_folder_gets_a_contract_that_loads(tmp_path: Path) -> None:
    contract = init(tmp_path, "--static")
    assert contract.package is None and contract.model is not None
    assert contract.model.artifact is None and contract.notebooks is None


def test_an_existing_contract_is_kept_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy(FIXTURES / "init-flask-pickle", tmp_path)
    (root / "handoff.toml").write_text('[owners]\ndata_science = "@alice"\n', encoding="utf-8")
    assert invoke("init", str(root), "--static") == 2
    assert "already holds a contract" in capsys.readouterr().err
    assert (root / "handoff.toml").read_text(encoding="utf-8").startswith("[owners]")
    contract = init(root, "--static", "--force")
    assert contract.model is not None and contract.model.artifact == "model.pkl"
    assert "(replacing handoff.toml)" in capsys.readouterr().out


def test_a_contract_that_cannot_be_written_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "handoff.toml").mkdir()  # not a contract, and in the way
    assert invoke("init", str(tmp_path), "--static") == 2
    assert "cannot write" in capsys.readouterr().err
    assert not [p for p in tmp_path.iterdir() if p.name != "handoff.toml"]  # no temporary left


def test_a_contract_in_pyproject_counts_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.paved.owners]\ndata_science = "@a"\n', encoding="utf-8"
    )
    assert invoke("init", str(tmp_path)) == 2
    assert "[tool.paved] in pyproject.toml" in capsys.readouterr().err
    assert not (tmp_path / "handoff.toml").exists()


def test_every_todo_is_listed_with_its_line() -> None:
    text = contract_text.render(inspect(FIXTURES / "init-setuppy"))
    lines = text.splitlines()
    listed = contract_text.todos(text)
    assert [n for n, _ in listed] == [
        n for n, line in enumerate(lines, 1) if line.startswith("# TODO(handoff):")
    ]
    assert all(what and lines[n - 1].endswith(what) for n, what in listed)
