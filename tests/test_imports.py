"""The import index: every import of a real fixture project, exactly, and its cache."""

from __future__ import annotations

import json
import os
import shutil
import sys
import sysconfig
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import FIXTURES

from pavedroad import imports
from pavedroad.contract import find_contract, load_contract
from pavedroad.imports import (
    ImportIndex,
    ImportSite,
    index_imports,
    is_local,
    third_party_sites,
)
from pavedroad.notebooks.reader import python_of_cell
from pavedroad.project import Project
from pavedroad.workqueue import available_workers

PROJECT = FIXTURES / "imports" / "project"
OLD = 1_600_000_000  # a time long past, so a file's stat is trusted by the cache

Row = tuple[str, str, int, int | None, bool, bool]

# (top, path, line, cell, optional, type_checking) of every import of the fixture project
EXPECTED: set[Row] = {
    ("plotly", "notebooks/utils.py", 1, None, False, False),
    ("yaml", "scripts/helpers.py", 1, None, False, False),
    ("chardet", "scripts/legacy.py", 3, None, False, False),  # a latin-1 file (PEP 263)
    ("sys", "scripts/train.py", 3, None, False, False),
    ("helpers", "scripts/train.py", 5, None, False, False),
    ("churn", "scripts/train.py", 6, None, False, False),
    ("mlflow", "scripts/train.py", 7, None, False, False),
    ("tqdm", "scripts/train.py", 8, None, False, False),
    ("__future__", "src/churn/__init__.py", 3, None, False, False),
    ("churn", "src/churn/__init__.py", 5, None, False, False),
    ("churn", "src/churn/__init__.py", 6, None, False, False),
    ("__future__", "src/churn/features.py", 3, None, False, False),
    ("os", "src/churn/features.py", 5, None, False, False),
    ("os", "src/churn/features.py", 6, None, False, False),
    ("numpy", "src/churn/features.py", 7, None, False, False),
    ("pandas", "src/churn/features.py", 7, None, False, False),
    ("sklearn", "src/churn/features.py", 8, None, False, False),
    ("churn", "src/churn/features.py", 13, None, False, False),
    ("requests", "src/churn/features.py", 14, None, False, False),
    ("__future__", "src/churn/model.py", 3, None, False, False),
    ("importlib", "src/churn/model.py", 5, None, False, False),
    ("contextlib", "src/churn/model.py", 6, None, False, False),
    ("importlib", "src/churn/model.py", 7, None, False, False),
    ("typing", "src/churn/model.py", 8, None, False, False),
    ("ujson", "src/churn/model.py", 11, None, True, False),
    ("json", "src/churn/model.py", 13, None, False, False),  # the fallback itself is required
    ("rich", "src/churn/model.py", 16, None, True, False),
    ("rich", "src/churn/model.py", 20, None, False, False),  # `else:` runs only on success
    ("logging", "src/churn/model.py", 22, None, False, False),  # `finally:` always runs
    ("lightgbm", "src/churn/model.py", 25, None, True, False),  # with suppress(ImportError)
    ("collections", "src/churn/model.py", 28, None, False, True),
    ("sklearn", "src/churn/model.py", 30, None, False, True),
    ("mypy_extensions", "src/churn/model.py", 33, None, False, True),
    ("typing_extensions", "src/churn/model.py", 35, None, False, False),
    ("attrs", "src/churn/model.py", 38, None, False, False),
    ("cattrs", "src/churn/model.py", 40, None, False, True),  # `if not TYPE_CHECKING: ... else:`
    ("sklearn", "src/churn/model.py", 45, None, False, False),
    ("torch", "src/churn/model.py", 49, None, False, False),  # in a def: the try does not guard it
    ("xgboost", "src/churn/model.py", 58, None, False, False),
    ("churn", "src/churn/model.py", 59, None, False, False),
    ("churn", "src/churn/model.py", 60, None, False, False),
    ("churn", "src/churn/model.py", 61, None, False, False),
    ("dill", "src/churn/model.py", 64, None, False, False),
    ("joblib", "src/churn/model.py", 70, None, True, False),  # except Exception
    ("cloudpickle", "src/churn/model.py", 74, None, True, False),  # bare except
    ("onnx", "src/churn/model.py", 78, None, False, False),  # except ValueError does not guard
    ("tqdm", "src/churn/progress.py", 1, None, False, False),  # after a byte-order mark
    ("churn", "src/churn/sub/deep.py", 1, None, False, False),
    ("churn", "src/churn/sub/deep.py", 2, None, False, False),
    ("churn", "src/churn/sub/deep.py", 3, None, False, False),
    ("", "src/churn/sub/deep.py", 4, None, False, False),  # beyond the top-level package
    ("churn", "src/churn/sub/deep.py", 5, None, False, False),
    ("urllib3", "src/requests/__init__.py", 3, None, False, False),
    ("pytest", "tests/test_features.py", 1, None, False, False),
    ("churn", "tests/test_features.py", 3, None, False, False),
    ("seaborn", "notebooks/explore.ipynb", 4, 1, False, False),
    ("utils", "notebooks/explore.ipynb", 5, 1, False, False),
    ("pandas", "notebooks/explore.ipynb", 6, 1, False, False),
    ("statsmodels", "notebooks/explore.ipynb", 2, 2, False, False),  # a %%time cell
    ("pyarrow", "notebooks/explore.ipynb", 7, 4, False, False),
    ("polars", "notebooks/explore.ipynb", 9, 4, True, False),
    ("tensorflow", "notebooks/explore.ipynb", 4, 7, False, False),  # %%capture after blank lines
    ("httpx", "notebooks/explore.ipynb", 1, 9, False, False),  # top-level await is fine
    ("sympy", "notebooks/explore.ipynb", 2, 10, False, False),
}

EXPECTED_THIRD_PARTY = {
    "attrs", "cattrs", "chardet", "cloudpickle", "dill", "httpx", "joblib", "lightgbm", "mlflow",
    "mypy_extensions", "numpy", "onnx", "pandas", "plotly", "polars", "pyarrow", "pytest", "rich",
    "seaborn", "sklearn", "statsmodels", "sympy", "tensorflow", "torch", "tqdm",
    "typing_extensions", "ujson", "urllib3", "xgboost", "yaml",
}  # fmt: skip


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test caches in its own folder, never in the user's."""
    monkeypatch.setenv("PAVED_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PAVED_NO_CACHE", raising=False)
    return tmp_path / "cache"


def project_at(root: Path) -> Project:
    return Project(root, load_contract(find_contract(root)))


def rows(project: Project, index: ImportIndex) -> list[Row]:
    return [
        (s.top, project.rel(s.path), s.line, s.cell, s.optional, s.type_checking)
        for s in index.sites
    ]


def site(project: Project, path: str, line: int, cell: int | None = None) -> ImportSite:
    (found,) = [
        s
        for s in index_imports(project).sites
        if project.rel(s.path) == path and s.line == line and s.cell == cell
    ]
    return found


def copy_project(tmp_path: Path) -> Path:
    return Path(shutil.copytree(PROJECT, tmp_path / "project"))


def write(root: Path, files: Mapping[str, str]) -> Project:
    for relative, text in {"handoff.toml": '[contract]\nname = "x"\n', **files}.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return project_at(root)


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Spy on the parse of .py files (it still runs): which sources were parsed."""
    parsed: list[bytes] = []
    real = imports._scan_python

    def spy(source: bytes, module: str | None, package: str | None) -> object:
        parsed.append(source)
        return real(source, module, package)

    monkeypatch.setattr(imports, "_scan_python", spy)
    return parsed


# -- the fixture's ground truth ---------------------------------------------------------------


def test_every_import_of_the_project_is_indexed_exactly_once() -> None:
    project = project_at(PROJECT)
    found = rows(project, index_imports(project))
    assert set(found) == EXPECTED
    assert len(found) == len(EXPECTED)


def test_relative_and_dynamic_imports_are_resolved_against_the_files_package() -> None:
    project = project_at(PROJECT)
    expected = {
        # path, line: module, relative, dynamic
        ("src/churn/__init__.py", 5): ("churn", True, False),  # from . import model
        ("src/churn/__init__.py", 6): ("churn.features", True, False),
        ("src/churn/sub/deep.py", 1): ("churn", True, False),  # from .. import features
        ("src/churn/sub/deep.py", 2): ("churn.model", True, False),
        ("src/churn/sub/deep.py", 3): ("churn.sub", True, False),
        ("src/churn/sub/deep.py", 4): ("...outside", True, False),  # cannot be resolved
        ("src/churn/sub/deep.py", 5): ("churn.sub.sibling", False, False),
        ("src/churn/model.py", 58): ("xgboost", False, True),
        ("src/churn/model.py", 59): ("churn.features", True, True),  # (".features", __package__)
        ("src/churn/model.py", 60): ("churn.plugins.catboost_backend", True, True),
        ("src/churn/model.py", 61): ("churn.model", True, True),  # ("..model", __name__)
        ("src/churn/model.py", 64): ("dill.settings", False, True),  # __import__
        ("src/churn/features.py", 8): ("sklearn.preprocessing", False, False),
    }
    for (path, line), (module, relative, dynamic) in expected.items():
        found = site(project, path, line)
        assert (found.module, found.relative, found.dynamic) == (module, relative, dynamic)
        assert found.top == module.partition(".")[0]
        assert found.path == PROJECT.resolve() / path


def test_files_that_do_not_parse_are_failures_and_the_rest_is_still_indexed() -> None:
    project = project_at(PROJECT)
    failures = {
        (project.rel(f.path), f.line, f.cell, f.message) for f in index_imports(project).failures
    }
    assert failures == {
        ("src/churn/broken.py", 5, None, "invalid syntax"),
        ("notebooks/explore.ipynb", 2, 5, "invalid syntax"),  # one cell; the others count
        ("notebooks/old-v3.ipynb", None, None, 'not an nbformat 4 notebook: no "cells" list'),
        (
            "notebooks/truncated.ipynb",
            9,
            None,
            "not valid JSON: Expecting property name enclosed in double quotes",
        ),
    }


def test_third_party_sites_leave_out_the_stdlib_future_relative_and_local_modules() -> None:
    project = project_at(PROJECT)
    found = third_party_sites(project)
    assert set(found) == EXPECTED_THIRD_PARTY
    assert list(found) == sorted(found)
    # the local src/requests/ shadows PyPI's; the sibling helpers.py and notebooks/utils.py
    assert not {"requests", "helpers", "utils", "churn", "os", "__future__", ""} & set(found)
    # TYPE_CHECKING-only and optional sites are kept, flagged, for the caller to weigh
    assert [s.type_checking for s in found["cattrs"]] == [True]
    assert [(s.line, s.type_checking) for s in found["sklearn"]] == [
        (8, False),
        (30, True),
        (45, False),
    ]
    assert [s.optional for s in found["joblib"]] == [True]
    assert {project.rel(s.path) for s in found["pandas"]} == {
        "src/churn/features.py",
        "notebooks/explore.ipynb",
    }


def test_the_standard_library_of_every_supported_python_is_not_third_party(
    tmp_path: Path,
) -> None:
    project = write(
        tmp_path,
        {"job.py": "import tomllib\nimport annotationlib\nimport asyncore\nimport telnetlib\n"},
    )
    assert len(index_imports(project).sites) == 4
    assert third_party_sites(project) == {}


def test_local_is_a_source_root_module_or_a_sibling_of_the_importing_file(tmp_path: Path) -> None:
    project = write(
        tmp_path,
        {
            "app.py": "import tools\nimport shared\nimport lib\nimport src\nimport data\n",
            "tools.py": "",
            "src/shared/__init__.py": "",
            "lib/helpers.py": "",  # a namespace package: no __init__.py
            "data/train.csv": "a\n1\n",  # a folder, but no Python in it
            "sub/job.py": "import tools\nimport neighbour\n",
            "sub/neighbour/__init__.py": "",
        },
    )
    local = {
        (project.rel(s.path), s.top): is_local(project, s) for s in index_imports(project).sites
    }
    assert local == {
        ("app.py", "tools"): True,  # the root is a source root next to src/
        ("app.py", "shared"): True,
        ("app.py", "lib"): True,
        ("app.py", "src"): True,  # `import src.churn` from a notebook works from the root
        ("app.py", "data"): False,
        ("sub/job.py", "tools"): True,
        ("sub/job.py", "neighbour"): True,
    }


# -- notebook cells ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "python"),
    [
        ("import a\n%matplotlib inline\nimport b", "import a\npass\nimport b"),
        ("if x:\n    !pip install a \\\n      b\n    import c", "if x:\n    pass\n\n    import c"),
        ("files = !ls\nx, y = %sx echo 1\nimport a", "pass\npass\nimport a"),
        ("np.mean?\n??pd.read_csv\ndf.plot??\nf()?", "pass\npass\npass\npass"),
        ("%%time\nimport a\n%time f()", "\nimport a\npass"),
        ("\n%%timeit -n 3\nimport a", "\n\nimport a"),
        ("%%capture out\nimport a", "\nimport a"),
        ("%%bash\nimport a", None),
        ("%%writefile x.py\nimport a", None),
        ("%%\nimport a", None),
        ("x = a != b\ny = 10 % 3\nz = 'why?'", "x = a != b\ny = 10 % 3\nz = 'why?'"),
    ],
)
def test_ipython_syntax_is_blanked_and_line_numbers_kept(cell: str, python: str | None) -> None:
    assert python_of_cell(cell) == python


def test_notebook_problems_are_failures_never_crashes(tmp_path: Path) -> None:
    def code(source: str) -> str:
        return f'{{"cell_type": "code", "metadata": {{}}, "outputs": [], "source": {source}}}'

    cells = [code('["import a\\n", 7]'), code('["import b"]'), "3", '{"cell_type": "code"}']
    project = write(
        tmp_path,
        {
            "list.ipynb": "[]",
            "deep.ipynb": "[" * 100_000,
            "latin.ipynb": "",
            "cells.ipynb": f'{{"cells": [{", ".join(cells)}], "nbformat": 4}}',
        },
    )
    (tmp_path / "latin.ipynb").write_bytes(b'{"cells": "caf\xe9"}')
    index = index_imports(project)
    assert rows(project, index) == [("b", "cells.ipynb", 1, 1, False, False)]
    assert {(project.rel(f.path), f.line, f.cell, f.message) for f in index.failures} == {
        ("cells.ipynb", None, 0, "the cell's source is not text"),
        ("latin.ipynb", None, None, "not UTF-8 text: invalid continuation byte"),
        ("list.ipynb", None, None, 'not an nbformat 4 notebook: no "cells" list'),
        ("deep.ipynb", None, None, "not valid JSON: nested too deeply to read"),
    }


# -- python sources ---------------------------------------------------------------------------


def test_line_numbers_and_guards_survive_the_skipping_of_bodies_without_imports(
    tmp_path: Path,
) -> None:
    shapes = """\
from x \\
    import y
@register(importlib.import_module('plug'))
def f():
    pass
class C:
    '''No import here'''
    def m(self):
        for i in range(3):
            while i:
                with open(i) as h:
                    match h:
                        case 1:
                            import deep
text = 'import not_code'
# import commented_out
"""
    project = write(
        tmp_path,
        {
            "crlf.py": "import a\r\n\r\ndef f():\r\n    import b\r\n",
            "cr.py": "import a\r\rdef f():\r    import b\r",
            "shapes.py": shapes,  # the keyword on a statement's second line; a decorator
            "nulls.py": "",
            "generated.py": "import a\nTABLE = " + "1 + " * 200_000 + "1\n",
        },
    )
    (tmp_path / "nulls.py").write_bytes(b"import a\x00\n")
    index = index_imports(project)
    expected = {
        ("a", "cr.py", 1, None, False, False),
        ("b", "cr.py", 4, None, False, False),
        ("a", "crlf.py", 1, None, False, False),
        ("b", "crlf.py", 4, None, False, False),
        ("x", "shapes.py", 1, None, False, False),
        ("plug", "shapes.py", 3, None, False, False),
        ("deep", "shapes.py", 14, None, False, False),
    }
    failures = [project.rel(f.path) for f in index.failures]
    if sys.version_info >= (3, 11):  # the parser refuses the 200,000-term expression
        assert failures == ["generated.py", "nulls.py"]
    else:  # 3.10 parses it on a big stack instead of crashing
        expected.add(("a", "generated.py", 1, None, False, False))
        assert failures == ["nulls.py"]
    assert set(rows(project, index)) == expected


@pytest.mark.skipif(sys.version_info < (3, 11), reason="except* is Python 3.11+")
def test_an_exception_group_handler_makes_an_import_optional(tmp_path: Path) -> None:
    project = write(
        tmp_path, {"job.py": "try:\n    import a\nexcept* ImportError:\n    a = None\n"}
    )
    assert rows(project, index_imports(project)) == [("a", "job.py", 2, None, True, False)]


def test_a_symlink_to_itself_is_a_failure_and_does_not_stop_the_index(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    churn = root / "src" / "churn"
    (churn / "loop.py").symlink_to("loop.py")
    (churn / "itself").symlink_to("itself")
    (churn / "here").symlink_to(".")  # a folder that contains itself
    project = project_at(root)
    index = index_imports(project)
    assert set(rows(project, index)) == EXPECTED
    (loop,) = [f for f in index.failures if f.path.name == "loop.py"]
    assert loop.message == "cannot be read: Too many levels of symbolic links"
    assert third_party_sites(project).keys() == EXPECTED_THIRD_PARTY


# -- the cache --------------------------------------------------------------------------------


def test_the_cache_lives_outside_the_project_and_gives_the_same_index(
    tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_project(tmp_path)
    before = sorted((p, p.stat().st_mtime_ns) for p in root.rglob("*"))
    cold = index_imports(project_at(root))
    assert sorted((p, p.stat().st_mtime_ns) for p in root.rglob("*")) == before
    assert [p.name for p in cache_home.iterdir()] == ["imports-v1"]
    assert len(list((cache_home / "imports-v1").iterdir())) == 1
    parsed = count_parses(monkeypatch)
    warm = index_imports(project_at(root))
    assert warm == cold
    assert parsed == []


def test_a_file_whose_size_and_mtime_did_not_change_is_not_read_again(tmp_path: Path) -> None:
    project = write(tmp_path, {"job.py": "import alpha\n"})
    os.utime(tmp_path / "job.py", ns=(OLD * 10**9, OLD * 10**9))
    assert rows(project, index_imports(project)) == [("alpha", "job.py", 1, None, False, False)]
    # same size, same mtime: the stat is the fast path, and it trusts the file unchanged
    (tmp_path / "job.py").write_text("import gamma\n", encoding="utf-8")
    os.utime(tmp_path / "job.py", ns=(OLD * 10**9, OLD * 10**9))
    assert rows(project, index_imports(project))[0][0] == "alpha"
    os.utime(tmp_path / "job.py", ns=(OLD * 10**9, (OLD + 1) * 10**9))
    assert rows(project, index_imports(project))[0][0] == "gamma"


def test_a_file_written_just_now_is_checked_by_its_hash(tmp_path: Path) -> None:
    """A coarse filesystem clock can give two writes in a row the same mtime."""
    project = write(tmp_path, {"job.py": "import alpha\n"})
    mtime = (tmp_path / "job.py").stat().st_mtime_ns
    assert rows(project, index_imports(project))[0][0] == "alpha"
    (tmp_path / "job.py").write_text("import gamma\n", encoding="utf-8")
    os.utime(tmp_path / "job.py", ns=(mtime, mtime))
    assert rows(project, index_imports(project))[0][0] == "gamma"


def test_a_touched_file_with_the_same_content_is_not_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write(tmp_path, {"job.py": "import alpha\n", "other.py": "import beta\n"})
    for name in ("job.py", "other.py"):
        os.utime(tmp_path / name, ns=(OLD * 10**9, OLD * 10**9))
    first = index_imports(project)
    os.utime(tmp_path / "job.py", ns=(OLD * 10**9, (OLD + 5) * 10**9))  # a git checkout
    (tmp_path / "other.py").write_text("import delta\n", encoding="utf-8")
    parsed = count_parses(monkeypatch)
    second = index_imports(project)
    assert parsed == [b"import delta\n"]
    assert [s.top for s in second.sites] == ["alpha", "delta"]
    assert second.sites[0] == first.sites[0]


def test_an_edited_file_of_the_same_size_is_indexed_again_when_its_mtime_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write(tmp_path, {"job.py": "import alpha\n", "pkg/other.py": "import beta\n"})
    for name in ("job.py", "pkg/other.py"):
        os.utime(tmp_path / name, ns=(OLD * 10**9, OLD * 10**9))
    assert [s.top for s in index_imports(project).sites] == ["alpha", "beta"]
    (tmp_path / "pkg/other.py").write_text("import delta\n", encoding="utf-8")  # same size
    os.utime(tmp_path / "pkg/other.py", ns=(OLD * 10**9, (OLD + 60) * 10**9))
    parsed = count_parses(monkeypatch)
    assert [s.top for s in index_imports(project).sites] == ["alpha", "delta"]
    assert parsed == [b"import delta\n"]
    parsed.clear()
    assert [s.top for s in index_imports(project).sites] == ["alpha", "delta"]
    assert parsed == []  # and the new stat is trusted from then on


@pytest.mark.parametrize(
    "change", [{"version": "imports-v0"}, {"root": "/somewhere/else"}, {"version": None}]
)
def test_a_cache_of_another_version_or_project_is_ignored(
    tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch, change: dict[str, object]
) -> None:
    project = write(tmp_path, {"job.py": "import alpha\n"})
    os.utime(tmp_path / "job.py", ns=(OLD * 10**9, OLD * 10**9))
    expected = index_imports(project)
    (cache_file,) = (cache_home / "imports-v1").iterdir()
    data = json.loads(cache_file.read_text(encoding="utf-8"))
    for entry in data["entries"].values():
        entry[3] = [["bogus", 1, None, 0]]  # what a wrongly trusted cache would report
    cache_file.write_text(json.dumps({**data, **change}), encoding="utf-8")
    parsed = count_parses(monkeypatch)
    assert index_imports(project) == expected
    assert parsed == [b"import alpha\n"]


def test_a_corrupt_cache_is_ignored_and_replaced(
    tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_project(tmp_path)
    expected = index_imports(project_at(root))
    (cache_file,) = (cache_home / "imports-v1").iterdir()
    good = json.loads(cache_file.read_text(encoding="utf-8"))
    damaged = [b"", b"\x00\x01garbage", b"[" * 100_000, cache_file.read_bytes()[:100]]
    for rel, shape in zip(good["entries"], ([], 5, [None] * 5, "text", {}), strict=False):
        good["entries"][rel] = shape  # well-formed JSON, entries of the wrong shape
    for rel in list(good["entries"])[5:]:
        stat, sha256, context, sites, failures = good["entries"][rel]
        good["entries"][rel] = [stat, sha256, context, [*sites, ["x", "line", None, 0]], failures]
    damaged.append(json.dumps(good).encode())
    for garbage in damaged:
        cache_file.write_bytes(garbage)
        assert index_imports(project_at(root)) == expected
    parsed = count_parses(monkeypatch)
    assert index_imports(project_at(root)) == expected
    assert parsed == []


def test_no_cache_when_disabled_or_when_the_folder_cannot_be_written(
    tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_project(tmp_path)
    expected = index_imports(project_at(root))
    shutil.rmtree(cache_home)
    monkeypatch.setenv("PAVED_NO_CACHE", "1")
    assert index_imports(project_at(root)) == expected
    assert not cache_home.exists()
    monkeypatch.delenv("PAVED_NO_CACHE")
    cache_home.write_text("a file where the folder should be", encoding="utf-8")
    assert index_imports(project_at(root)) == expected


def test_the_cache_folder_follows_xdg_when_not_set_explicitly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAVED_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    project = write(tmp_path / "p", {"job.py": "import alpha\n"})
    index_imports(project)
    assert imports.cache_dir() == tmp_path / "xdg" / "pavedroad" / "imports-v1"
    assert len(list(imports.cache_dir().iterdir())) == 1


# -- parsing in worker processes --------------------------------------------------------------


@pytest.fixture
def stdlib_project(tmp_path: Path) -> Callable[[], Project]:
    """A project made of real code: a few packages of the standard library."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    root = tmp_path / "stdlib"
    for package in ("json", "email", "logging", "http", "importlib"):
        shutil.copytree(
            stdlib / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    (root / "handoff.toml").write_text('[contract]\nname = "stdlib"\n', encoding="utf-8")
    return lambda: project_at(root)


@pytest.mark.skipif(
    available_workers() < 2, reason="forked workers need Linux, two cores and no threads"
)
def test_workers_index_exactly_what_one_process_does(
    stdlib_project: Callable[[], Project], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAVED_NO_CACHE", "1")
    monkeypatch.setattr(imports, "PARALLEL_MIN_BYTES", 1 << 60)
    alone = index_imports(stdlib_project())
    monkeypatch.setattr(imports, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(imports, "CHUNK_BYTES", 4096)  # many chunks: workers and this process
    together = index_imports(stdlib_project())
    assert together == alone
    assert len(alone.sites) > 300
    assert any(s.optional for s in alone.sites)
