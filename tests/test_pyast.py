"""Static symbol resolution over small real project trees."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from pavedroad import pyast
from pavedroad.contract import find_contract, load_contract
from pavedroad.project import Project

Tree = Callable[[Mapping[str, str]], Path]


@pytest.fixture
def project(tree: Tree) -> Callable[[Mapping[str, str]], Project]:
    def build(files: Mapping[str, str]) -> Project:
        root = tree({"handoff.toml": "", **files})
        return Project(root, load_contract(find_contract(root)))

    return build


def test_split_reference() -> None:
    assert pyast.split_reference("churn.cli:App.run") == ("churn.cli", ["App", "run"])
    assert pyast.split_reference("churn.cli") == ("churn.cli", [])


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("def main(): ...\n", ast.FunctionDef),
        ("async def main(): ...\n", ast.AsyncFunctionDef),
        ("class main: ...\n", ast.ClassDef),
        ("main = lambda: 0\n", ast.Assign),
        ("main, other = 1, 2\n", ast.Assign),
        ("main: int = 0\n", ast.AnnAssign),
        ("try:\n    import ujson\nexcept ImportError:\n    def main(): ...\n", ast.FunctionDef),
    ],
)
def test_lookup_finds_top_level_definitions(
    project: Callable[[Mapping[str, str]], Project], source: str, kind: type[ast.stmt]
) -> None:
    view = project({"src/churn/__init__.py": "", "src/churn/cli.py": source})
    found = pyast.lookup(view, "churn.cli", "main")
    assert isinstance(found, pyast.Definition)
    assert isinstance(found.node, kind)
    assert found.module == "churn.cli"
    assert found.reference == "churn.cli:main"


def test_the_last_binding_wins(project: Callable[[Mapping[str, str]], Project]) -> None:
    view = project({"m.py": "def main(): ...\n\n\nmain = 3\n"})
    found = pyast.lookup(view, "m", "main")
    assert isinstance(found, pyast.Definition)
    assert found.line == 4


@pytest.mark.parametrize(
    "source",
    [
        "main: int\n",  # an annotation alone binds nothing at run time
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from x import main\n",
        "def other():\n    main = 1\n",  # not top level
    ],
)
def test_lookup_ignores_what_does_not_bind_at_import(
    project: Callable[[Mapping[str, str]], Project], source: str
) -> None:
    view = project({"m.py": source})
    with pytest.raises(pyast.NameMissing, match=r"`main` is not defined at the top level of m\.py"):
        pyast.lookup(view, "m", "main")


def test_reexports_are_followed_inside_the_project(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project(
        {
            "src/churn/__init__.py": "from .api import predict as score\n",
            "src/churn/api.py": "from churn.model.core import *\n",
            "src/churn/model/__init__.py": "",
            "src/churn/model/core.py": "from ..impl import predict\n",
            "src/churn/impl.py": "def predict(rows):\n    return rows\n",
        }
    )
    found = pyast.lookup(view, "churn", "score")
    assert isinstance(found, pyast.Definition)
    assert found.reference == "churn.impl:predict"
    assert view.rel(found.path) == "src/churn/impl.py"


def test_imports_from_outside_the_project_resolve_to_their_qualified_name(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project(
        {"m.py": "import numpy as np\nimport os.path\nfrom pydantic import BaseModel as Base\n"}
    )
    base = pyast.lookup(view, "m", "Base")
    assert isinstance(base, pyast.External)
    assert (base.qualname, base.line) == ("pydantic.BaseModel", 3)
    numpy = pyast.lookup(view, "m", "np")
    assert isinstance(numpy, pyast.External) and numpy.qualname == "numpy"
    os = pyast.lookup(view, "m", "os")  # `import os.path` binds `os`
    assert isinstance(os, pyast.External) and os.qualname == "os"


def test_a_submodule_imported_by_name_is_a_project_module(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project(
        {
            "pkg/__init__.py": "",
            "pkg/jobs.py": "def run(): ...\n",
            "pkg/cli.py": "from pkg import jobs\nimport pkg.jobs as j\n",
        }
    )
    for name in ("jobs", "j"):
        found = pyast.lookup(view, "pkg.cli", name)
        assert isinstance(found, pyast.ProjectModule) and found.dotted == "pkg.jobs"


def test_a_reexport_of_a_name_its_source_lacks_points_at_the_import(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project(
        {"pkg/__init__.py": "", "pkg/cli.py": "\nfrom .impl import main\n", "pkg/impl.py": ""}
    )
    with pytest.raises(pyast.NameMissing) as raised:
        pyast.lookup(view, "pkg.cli", "main")
    assert raised.value.message == (
        "`main` is not defined at the top level of pkg/impl.py, "
        "yet pkg/cli.py:2 imports it from pkg.impl"
    )
    assert raised.value.path is not None and view.rel(raised.value.path) == "pkg/cli.py"
    assert raised.value.line == 2


def test_an_import_cycle_is_reported_not_recursed(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project({"a.py": "from b import x\n", "b.py": "from a import x\n"})
    with pytest.raises(pyast.Unresolved, match=r"imported in a cycle: a:x -> b:x -> a:x"):
        pyast.lookup(view, "a", "x")


def test_a_missing_module_says_where_it_was_expected(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project({"src/churn/__init__.py": ""})
    with pytest.raises(pyast.ModuleMissing) as raised:
        pyast.lookup(view, "churn.cli", "main")
    assert raised.value.message == (
        "module churn.cli is not in the project "
        "(expected src/churn/cli.py or src/churn/cli/__init__.py)"
    )
    assert raised.value.line is None


def test_a_syntax_error_names_the_file_and_line(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project({"pkg/__init__.py": "", "pkg/cli.py": "import os\n\ndef main(:\n    pass\n"})
    with pytest.raises(pyast.BrokenModule) as raised:
        pyast.lookup(view, "pkg.cli", "main")
    assert raised.value.message.startswith("pkg/cli.py:3 does not parse: ")
    assert raised.value.line == 3


def test_a_syntax_error_in_a_parent_package_breaks_its_submodules(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project({"pkg/__init__.py": "x = (\n", "pkg/cli.py": "def main(): ...\n"})
    with pytest.raises(pyast.BrokenModule, match=r"^pkg/__init__\.py:1 does not parse"):
        pyast.lookup(view, "pkg.cli", "main")


def test_a_file_that_is_not_utf8_is_broken(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project({"m.py": ""})
    (view.root / "m.py").write_bytes(b"x = '\xff'\n")
    with pytest.raises(pyast.BrokenModule, match=r"m\.py cannot be read as UTF-8 text"):
        pyast.lookup(view, "m", "x")


def test_resolve_reference_reaches_into_classes_and_modules(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project(
        {
            "pkg/__init__.py": "from pkg import gui\n",
            "pkg/gui.py": "class App:\n    class Window:\n        def open(self): ...\n",
        }
    )
    found = pyast.resolve_reference(view, "pkg.gui:App.Window.open")
    assert isinstance(found, pyast.Definition)
    assert (found.qualname, found.line) == ("App.Window.open", 3)
    through_module = pyast.resolve_reference(view, "pkg:gui.App")
    assert isinstance(through_module, pyast.Definition) and through_module.qualname == "App"
    with pytest.raises(pyast.NameMissing, match=r"class pkg\.gui:App has no attribute `close`"):
        pyast.resolve_reference(view, "pkg.gui:App.close")


def test_attributes_of_a_function_cannot_be_resolved(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project({"m.py": "def main(): ...\n"})
    with pytest.raises(pyast.Unresolved, match=r"m:main is a function \(m\.py:1\), so `x`"):
        pyast.resolve_reference(view, "m:main.x")


def test_find_class_follows_aliases_and_rejects_non_classes(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project(
        {
            "m.py": "from n import CustomerV2\n\nCustomer = CustomerV2\n\n\ndef score(): ...\n",
            "n.py": "class CustomerV2:\n    age: int\n",
        }
    )
    found = pyast.find_class(view, "m:Customer")
    assert found.reference == "n:CustomerV2"
    with pytest.raises(pyast.Unresolved, match=r"m:score is a function \(m\.py:6\), not a class"):
        pyast.find_class(view, "m:score")


def test_class_bases_and_decorators_resolve_across_modules(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project(
        {
            "src/churn/__init__.py": "",
            "src/churn/base.py": "import pydantic as pd\n\nclass Base(pd.BaseModel): ...\n",
            "src/churn/schemas.py": (
                "import dataclasses\nfrom typing import Generic, TypeVar\n"
                "from churn import base\n\nT = TypeVar('T')\n\n"
                "@dataclasses.dataclass(frozen=True)\n"
                "class Row(base.Base, Generic[T], object, make()):\n    x: int\n"
            ),
        }
    )
    row = pyast.find_class(view, "churn.schemas:Row")
    bases = pyast.class_bases(view, row)
    assert isinstance(bases[0], pyast.Definition) and bases[0].reference == "churn.base:Base"
    assert isinstance(bases[1], pyast.External) and bases[1].qualname == "typing.Generic"
    assert isinstance(bases[2], pyast.External) and bases[2].qualname == "builtins.object"
    assert bases[3] is None
    (decorator,) = pyast.class_decorators(view, row)
    assert isinstance(decorator, pyast.External)
    assert decorator.qualname == "dataclasses.dataclass"
    (grand,) = pyast.class_bases(view, bases[0])
    assert isinstance(grand, pyast.External) and grand.qualname == "pydantic.BaseModel"


def test_an_undefined_base_points_at_its_line(
    project: Callable[[Mapping[str, str]], Project],
) -> None:
    view = project({"m.py": "\n\nclass Row(Missing):\n    x: int\n"})
    row = pyast.find_class(view, "m:Row")
    with pytest.raises(pyast.NameMissing) as raised:
        pyast.class_bases(view, row)
    assert raised.value.message == "`Missing` is not defined in m.py"
    assert raised.value.line == 3


@pytest.mark.parametrize(
    ("module", "path", "statement", "expected"),
    [
        ("pkg.sub.mod", "pkg/sub/mod.py", "from . import x", "pkg.sub"),
        ("pkg.sub.mod", "pkg/sub/mod.py", "from .a import x", "pkg.sub.a"),
        ("pkg.sub.mod", "pkg/sub/mod.py", "from ..a import x", "pkg.a"),
        ("pkg.sub", "pkg/sub/__init__.py", "from .a import x", "pkg.sub.a"),
        ("pkg", "pkg/__init__.py", "from os import x", "os"),
    ],
)
def test_import_source(module: str, path: str, statement: str, expected: str) -> None:
    node = ast.parse(statement).body[0]
    assert isinstance(node, ast.ImportFrom)
    assert pyast.import_source(module, Path(path), node) == expected


def test_flat_layout_modules_resolve(project: Callable[[Mapping[str, str]], Project]) -> None:
    view = project({"churn/__init__.py": "", "churn/cli.py": "def main(): ...\n"})
    found = pyast.resolve_reference(view, "churn.cli:main")
    assert isinstance(found, pyast.Definition)
    assert view.rel(found.path) == "churn/cli.py"
