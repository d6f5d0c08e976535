"""Declared dependencies, read from small real projects (tests/fixtures/declared/<kind>/), one
per kind of source, plus the messy files public ML repositories really hold."""

from __future__ import annotations

import codecs
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import tomlkit
import yaml
from helpers import FIXTURES, write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pavedroad.contract import find_contract, load_contract
from pavedroad.declared import Declarations, declarations, read_declarations
from pavedroad.declared.conda import conda_version
from pavedroad.declared.poetry import Untranslatable, poetry_specifier
from pavedroad.declared.requirements_txt import logical_lines
from pavedroad.project import Project

DECLARED = FIXTURES / "declared"
CONTRACT = '[contract]\nname = "t"\n'
Tree = Callable[[Mapping[str, str]], Path]
Row = tuple[str, str, str, bool, str, int | None]


def project(root: Path) -> Project:
    return Project(root, load_contract(find_contract(root)))


def read(root: Path) -> Declarations:
    return read_declarations(project(root))


def rows(root: Path) -> set[Row]:
    """(name, group, specifier, pinned, file, line) of every declaration."""
    view = project(root)
    found = read_declarations(view)
    return {
        (d.name, d.group, d.specifier, d.pinned, view.rel(d.source), d.line)
        for d in found.dependencies
    }


def problems(root: Path) -> set[tuple[str, int | None, str]]:
    view = project(root)
    return {(view.rel(p.path), p.line, p.message) for p in read_declarations(view).problems}


# -- one project per source kind ---------------------------------------------------------------


def test_pyproject_dependencies_extras_groups_and_uv_dev_dependencies() -> None:
    root = DECLARED / "pep621"
    assert rows(root) == {
        ("numpy", "runtime", ">=1.26", False, "pyproject.toml", 10),
        ("pandas", "runtime", "==2.2.3", True, "pyproject.toml", 11),
        ("scikit-learn", "runtime", "~=1.5", False, "pyproject.toml", 12),
        # a direct URL with its sha256 names one artifact: pinned
        ("requests", "runtime", "", True, "pyproject.toml", 13),
        # a wildcard admits many versions
        ("fastapi", "runtime", "==0.115.*", False, "pyproject.toml", 14),
        ("joblib", "runtime", "===1.4.2", True, "pyproject.toml", 15),
        ("uvicorn", "extra:serve", ">=0.30", False, "pyproject.toml", 19),
        ("pytest", "dev:dev", ">=8", False, "pyproject.toml", 20),
        ("ruff", "dev:dev", "==0.6.9", True, "pyproject.toml", 20),
        ("mkdocs", "dev:docs", "", False, "pyproject.toml", 21),  # extra "Docs", normalised
        ("pytest-cov", "dev:test", "", False, "pyproject.toml", 24),
        ("mypy", "dev:lint", "==1.11.2", True, "pyproject.toml", 25),
        ("ipykernel", "dev:dev", "", False, "pyproject.toml", 28),
    }
    found = read(root)
    sklearn = next(d for d in found.dependencies if d.name == "scikit-learn")
    assert sklearn.requirement == "scikit_learn[alldeps]~=1.5; python_version >= '3.10'"
    assert sklearn.marker == 'python_version >= "3.10"'
    assert found.sources == (root.resolve() / "pyproject.toml",)
    assert found.problems == () and found.locks == ()


def test_requirements_files_with_includes_a_cycle_constraints_urls_and_hashes() -> None:
    root = DECLARED / "requirements"
    assert rows(root) == {
        ("requests", "runtime", ">=2.31", False, "requirements/base.txt", 3),
        ("pyyaml", "runtime", "", False, "requirements/base.txt", 4),
        # unpinned here, but constraints.txt (-c) pins it to 1.26.4
        ("numpy", "runtime", "", True, "requirements.txt", 5),
        ("scikit-learn", "runtime", "<1.6,>=1.4", False, "requirements.txt", 6),
        ("pandas", "runtime", "==2.2.3", True, "requirements.txt", 7),
        ("torch", "runtime", "", True, "requirements.txt", 8),  # URL with #sha256=
        ("black", "runtime", "", False, "requirements.txt", 9),  # bare URL, #egg=, no hash
        ("python-dateutil", "runtime", "", False, "requirements.txt", 10),  # wheel file name
        ("featurestore", "runtime", "", True, "requirements.txt", 11),  # -e VCS at a commit
        ("xgboost", "runtime", "==2.1.1", True, "requirements.txt", 15),  # hashes continue
        ("lightgbm", "runtime", ">=4", False, "requirements.txt", 18),
        ("hypothesis", "dev:test", "==6.112.1", True, "requirements/test.txt", 2),
        ("pytest", "dev:dev", "==8.3.3", True, "requirements-dev.txt", 4),
        # tooling.txt has no dev word of its own: only requirements-dev.txt includes it
        ("ruff", "dev:dev", "", False, "tooling.txt", 1),
        ("pre-commit", "dev:dev", "", False, "tooling.txt", 2),
    }
    # scipy is only a constraint, `-e .` is the project itself, options declare nothing
    assert problems(root) == {
        (
            "requirements.txt",
            20,
            "invalid requirement 'not a requirement!!': Expected semicolon (after name with no "
            "version specifier) or end\n    not a requirement!!\n        ^",
        ),
        ("requirements.txt", 21, "-r missing.txt: no such file"),
        (
            "requirements.txt",
            22,
            "-r https://example.com/shared/requirements.txt: a remote file is not read; vendor it",
        ),
    }
    found = read(root)
    pandas = next(d for d in found.dependencies if d.name == "pandas")
    assert pandas.requirement == 'pandas[parquet,performance]==2.2.3 ; python_version >= "3.10"'
    assert pandas.marker == 'python_version >= "3.10"'
    assert found.locks == ()  # requirements.txt mixes loose and pinned lines: not a lock


def test_requirements_in_utf16_with_a_byte_order_mark() -> None:
    # The bytes PowerShell's `pip freeze > requirements.txt` writes: UTF-16 LE, BOM, CRLF.
    root = DECLARED / "utf16"
    assert (root / "requirements.txt").read_bytes().startswith(codecs.BOM_UTF16_LE)
    assert rows(root) == {
        ("numpy", "runtime", "==1.26.4", True, "requirements.txt", 1),
        ("scikit-learn", "runtime", "==1.5.2", True, "requirements.txt", 2),
        ("matplotlib", "runtime", ">=3.8", False, "requirements.txt", 4),
    }


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-32-le", codecs.BOM_UTF32_LE),
    ],
)
def test_requirements_in_other_encodings_with_a_bom(tree: Tree, encoding: str, bom: bytes) -> None:
    root = tree({"handoff.toml": CONTRACT})
    (root / "requirements.txt").write_bytes(bom + "Scikit_Learn==1.5.2\n".encode(encoding))
    assert rows(root) == {("scikit-learn", "runtime", "==1.5.2", True, "requirements.txt", 1)}


def test_poetry_caret_tilde_groups_extras_and_multiple_constraints() -> None:
    root = DECLARED / "poetry"
    assert rows(root) == {
        ("numpy", "runtime", "<2.0.0,>=1.26.4", False, "pyproject.toml", 10),
        ("scikit-learn", "runtime", "<1.6.0,>=1.5", False, "pyproject.toml", 11),
        ("pandas", "runtime", "==2.2.3", True, "pyproject.toml", 12),  # poetry's bare = exact
        ("requests", "runtime", "", False, "pyproject.toml", 13),
        ("pydantic", "runtime", "<3,>=2.6", False, "pyproject.toml", 14),
        ("loguru", "runtime", "<0.8.0,>=0.7.2", False, "pyproject.toml", 15),
        ("lightgbm", "extra:boosting", "<5.0.0,>=4.5", False, "pyproject.toml", 16),
        ("torch", "runtime", "<3.0.0,>=2.4", False, "pyproject.toml", 18),
        ("torch", "runtime", "<2.3.0,>=2.2", False, "pyproject.toml", 19),
        ("featurestore", "runtime", "", True, "pyproject.toml", 21),  # git at a full commit
        ("tzdata", "runtime", "", False, "pyproject.toml", 22),  # a union PEP 440 cannot hold
        ("httpx", "runtime", "<0.28.0,>=0.27", False, "pyproject.toml", 24),
        ("pytest", "dev:dev", "<9.0.0,>=8.3", False, "pyproject.toml", 32),
        ("black", "dev:dev", "==24.8.0", True, "pyproject.toml", 33),
        ("mkdocs", "dev:docs", "<2.0.0,>=1.6", False, "pyproject.toml", 39),
        ("mypy", "dev:dev", "<2.0.0,>=1.11", False, "pyproject.toml", 42),
    }
    torch = [d for d in read(root).dependencies if d.name == "torch"]
    assert [d.marker for d in torch] == [
        'sys_platform == "linux" and python_full_version < "3.13" and '
        'python_full_version >= "3.10"',
        'python_full_version < "3.10"',
    ]
    assert torch[0].requirement.startswith("torch<3.0.0,>=2.4; ")
    assert not problems(root)


@pytest.mark.parametrize(
    ("constraint", "specifier"),
    [
        ("^1.2.3", "<2.0.0,>=1.2.3"),
        ("^0.2.3", "<0.3.0,>=0.2.3"),
        ("^0.0.3", "<0.0.4,>=0.0.3"),
        ("^0.0", "<0.1.0,>=0.0"),
        ("^0", "<1.0.0,>=0"),
        ("^1", "<2.0.0,>=1"),
        ("~1.2.3", "<1.3.0,>=1.2.3"),
        ("~1.2", "<1.3.0,>=1.2"),
        ("~1", "<2.0.0,>=1"),
        ("~=1.2", "~=1.2"),
        ("*", ""),
        ("", ""),
        ("1.2.3", "==1.2.3"),
        ("=1.2.3", "==1.2.3"),
        ("1.2.*", "==1.2.*"),
        (">=1.2 <1.5", "<1.5,>=1.2"),
        (">= 1.2, < 1.5", "<1.5,>=1.2"),
        ("!=1.3", "!=1.3"),
        ("^v2.0", "<3.0.0,>=2.0"),
    ],
)
def test_poetry_constraints_translate_with_poetrys_semantics(
    constraint: str, specifier: str
) -> None:
    assert poetry_specifier(constraint) == specifier


def test_poetry_constraints_that_cannot_be_translated() -> None:
    with pytest.raises(Untranslatable):
        poetry_specifier("^1.2 || ^2.0")
    for bad in ("^abc", ">=", "1.2 ; x"):
        with pytest.raises(ValueError, match="not a"):
            poetry_specifier(bad)


def test_pipfile_packages_and_dev_packages() -> None:
    root = DECLARED / "pipfile"
    assert rows(root) == {
        ("numpy", "runtime", "==1.26.4", True, "Pipfile", 7),
        ("pandas", "runtime", "", False, "Pipfile", 8),
        ("scikit-learn", "runtime", ">=1.4", False, "Pipfile", 9),
        ("requests", "runtime", "==2.32.3", True, "Pipfile", 10),
        ("pywin32", "runtime", "", False, "Pipfile", 11),
        ("featurestore", "runtime", "", False, "Pipfile", 12),  # a git tag can move
        ("pytest", "dev:dev", "", False, "Pipfile", 15),
        ("black", "dev:dev", "==24.8.0", True, "Pipfile", 16),
    }
    by_name = {d.name: d for d in read(root).dependencies}
    assert by_name["pywin32"].marker == 'sys_platform == "win32"'
    assert by_name["requests"].requirement == "requests[socks]==2.32.3"
    assert by_name["featurestore"].requirement == (
        "featurestore @ git+https://github.com/acme/featurestore.git@v1.2.0"
    )


def test_environment_yml_conda_and_pip_sections() -> None:
    root = DECLARED / "conda"
    assert rows(root) == {
        # python and pip are the interpreter and the installer, not dependencies
        ("numpy", "runtime", "==1.26.*", False, "environment.yml", 8),  # conda's fuzzy `=`
        ("scikit-learn", "runtime", "==1.5.2", True, "environment.yml", 9),
        ("pandas", "runtime", "==2.2.3", True, "environment.yml", 10),  # version=build: exact
        ("matplotlib", "runtime", "<4,>=3.8", False, "environment.yml", 11),
        ("pytorch", "runtime", "", False, "environment.yml", 12),
        ("cudatoolkit", "runtime", "==11.8.*", False, "environment.yml", 13),
        ("openssl", "runtime", "==3.0.15.*", False, "environment.yml", 14),
        ("mlflow", "runtime", "==2.16.2", True, "environment.yml", 16),
        ("shap", "runtime", ">=0.46", False, "environment.yml", 17),
        ("pytest", "dev:dev", "==8.3.*", False, "environment-dev.yml", 3),
        ("ruff", "dev:dev", "==0.6.9", True, "environment-dev.yml", 5),
    }
    sklearn = next(d for d in read(root).dependencies if d.name == "scikit-learn")
    assert sklearn.requirement == "conda-forge::scikit-learn==1.5.2"


@pytest.mark.parametrize(
    ("rest", "specifier", "exact"),
    [
        ("", "", False),
        ("=1.26", "==1.26.*", False),
        ("=1.26.4=py311h_0", "==1.26.4", True),
        ("==1.26.4", "==1.26.4", True),
        ("1.11.1 py36_0", "==1.11.1", True),
        ("1.8*", "==1.8.*", False),
        (">=1.8,<2", "<2,>=1.8", False),
        ("1.8|1.9", "", False),
        ("=1.1.1w", "", False),  # conda-only version: nothing PEP 440 can hold
        ("==1.1.1w", "", True),
    ],
)
def test_conda_versions(rest: str, specifier: str, exact: bool) -> None:
    assert conda_version(rest) == (specifier, exact)


def test_setup_cfg_install_requires_and_extras() -> None:
    root = DECLARED / "setupcfg"
    assert rows(root) == {
        ("numpy", "runtime", ">=1.26", False, "setup.cfg", 9),
        ("scikit-learn", "runtime", "==1.5.2", True, "setup.cfg", 10),
        ("pandas", "runtime", "", False, "setup.cfg", 11),
        ("pytest", "dev:tests", "", False, "setup.cfg", 13),
        ("fastapi", "extra:serve", "==0.115.0", True, "setup.cfg", 16),
        ("ruff", "dev:dev", "", False, "setup.cfg", 18),
        ("mypy", "dev:dev", "", False, "setup.cfg", 19),
    }
    pandas = next(d for d in read(root).dependencies if d.name == "pandas")
    assert pandas.requirement == 'pandas; python_version >= "3.10"'  # comment dropped


def _numpy_for_this_python() -> str:
    """The numpy each fixture lock resolves for this interpreter (see the locks' markers)."""
    if sys.version_info < (3, 11):
        return "2.2.6"
    return "2.4.6" if sys.version_info < (3, 12) else "2.5.5"


def test_uv_lock_versions_for_this_interpreter_and_hashes() -> None:
    root = DECLARED / "uvlock"
    found = read(root)
    (lock,) = found.locks
    assert (lock.kind, lock.path, lock.hashed) == ("uv.lock", root.resolve() / "uv.lock", True)
    assert lock.packages["numpy"] == _numpy_for_this_python()  # three forks in the lock
    assert lock.packages["colorama"] == "0.4.6"  # Windows only, still covered by the lock
    assert "churn" not in lock.packages  # the project itself (a virtual source)
    assert len(lock.packages) == 21  # 28 entries, 7 of them other forks of the same package
    assert rows(root) == {
        ("scikit-learn", "runtime", ">=1.5", False, "pyproject.toml", 5),
        ("pandas", "runtime", ">=2.2", False, "pyproject.toml", 5),
        ("pytest", "dev:dev", ">=8", False, "pyproject.toml", 8),
    }


def test_pylock_versions_for_this_interpreter() -> None:
    root = DECLARED / "pylock"
    (lock,) = read(root).locks
    assert (lock.kind, lock.hashed) == ("pylock", True)
    assert lock.packages["numpy"] == _numpy_for_this_python()
    assert lock.packages["scikit-learn"] == ("1.7.2" if sys.version_info < (3, 11) else "1.9.1")
    assert set(lock.packages) == set(read(DECLARED / "uvlock").locks[0].packages)


def test_a_compiled_requirements_file_is_a_lock_and_its_in_file_the_declaration() -> None:
    # `uv pip compile --generate-hashes requirements.in -o requirements.txt`: every transitive
    # package is pinned in the .txt; what the project declares is the .in.
    root = DECLARED / "compiled"
    found = read(root)
    (lock,) = found.locks
    assert (lock.kind, lock.hashed) == ("requirements", True)
    assert dict(lock.packages) == {
        "cloudpickle": "3.1.2",
        "joblib": "1.6.0",
        "numpy": "2.2.6",
        "scikit-learn": "1.7.2",
        "scipy": "1.15.3",
        "threadpoolctl": "3.8.0",
    }
    assert rows(root) == {
        ("scikit-learn", "runtime", ">=1.5", False, "requirements.in", 2),
        ("joblib", "runtime", "", False, "requirements.in", 3),
    }


def test_a_project_without_any_dependency_file() -> None:
    found = read(DECLARED / "nodeps")
    assert found == Declarations(dependencies=(), locks=(), sources=(), problems=())


def test_broken_files_are_problems_with_file_and_line_never_exceptions() -> None:
    root = DECLARED / "broken"
    assert problems(root) == {
        (
            "pyproject.toml",
            None,
            "pyproject.toml is not valid TOML: Unclosed array (at end of document)",
        ),
        (
            "setup.cfg",
            4,
            "setup.cfg is not valid: While reading from 'setup.cfg' [line  4]: section 'options' "
            "already exists",
        ),
        ("Pipfile", 2, "numpy: not a version or a table: 3"),
        ("Pipfile", 3, "pandas: extras must be an array of names, not 'parquet'"),
        (
            "environment.yml",
            6,
            "environment.yml is not valid YAML: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "requirements.txt",
            2,
            "requirements.txt is not UTF-8 text (byte 19); save it as UTF-8, or UTF-16 with a "
            "byte-order mark",
        ),
        (
            "requirements-dev.txt",
            2,
            "cannot tell which package ./libs/scratch installs; write it as "
            "`name @ ./libs/scratch` or add `#egg=name`",
        ),
        ("uv.lock", 4, "package entry without a name"),
        ("pylock.toml", None, "pylock.toml has no lock-version: not a PEP 751 lock file"),
    }
    # What could be read still is: a bare Pipfile version means ==, a local editable project
    # is named by its own pyproject, a wheel path by its file name.
    assert rows(root) == {
        ("scipy", "runtime", "==1.13", True, "Pipfile", 4),
        ("requests", "runtime", "==2.32.3", True, "Pipfile", 5),
        ("acme-featurestore", "dev:dev", "", False, "requirements-dev.txt", 1),
        ("tool", "dev:dev", "", False, "requirements-dev.txt", 3),
    }
    uv_lock, pylock = read(root).locks
    assert not uv_lock.hashed  # numpy's sdist carries no hash
    assert pylock.hashed  # nothing to download: nothing unchecked


# -- edge cases built inline -------------------------------------------------------------------


def test_a_requirements_file_that_is_a_symlink_to_itself(tree: Tree) -> None:
    root = tree({"handoff.toml": CONTRACT, "requirements-dev.txt": "pytest\n"})
    (root / "requirements.txt").symlink_to("requirements.txt")
    found = read(root)
    assert [(d.name, d.group) for d in found.dependencies] == [("pytest", "dev:dev")]
    # (Project.rel cannot take this path yet: Path.resolve raises on a loop in Python 3.11)
    (problem,) = found.problems
    assert (problem.path, problem.line) == (root.resolve() / "requirements.txt", None)
    assert problem.message == "cannot read requirements.txt: Too many levels of symbolic links"


def test_the_contracts_requirements_lock_needs_only_exact_pins(tree: Tree) -> None:
    contract = CONTRACT + '[dependencies]\nlock = "locks/prod.txt"\n'
    root = tree({"handoff.toml": contract, "locks/prod.txt": "numpy==2.2.6\nScipy==1.15.3\n"})
    (lock,) = read(root).locks
    assert (lock.kind, lock.hashed, dict(lock.packages)) == (
        "requirements",
        False,
        {"numpy": "2.2.6", "scipy": "1.15.3"},
    )
    assert read(root).dependencies == ()  # locks/ is not where requirement files are looked for

    (root / "locks/prod.txt").write_text("numpy==2.2.6\nscipy>=1.15\n", encoding="utf-8")
    found = read(root)
    assert found.locks == ()
    assert problems(root) == {
        (
            "locks/prod.txt",
            2,
            "prod.txt is the contract's lock, but scipy>=1.15 is not pinned with ==",
        )
    }


def test_the_contract_can_name_a_lock_outside_the_root_names(tree: Tree) -> None:
    lock = (DECLARED / "pylock" / "pylock.toml").read_text(encoding="utf-8")
    root = tree({"handoff.toml": CONTRACT + '[dependencies]\nlock = "build/pylock.prod.toml"\n'})
    write_tree(root, {"build/pylock.prod.toml": lock})
    (found,) = read(root).locks
    assert (found.kind, found.path.name) == ("pylock", "pylock.prod.toml")


def test_a_lock_entry_for_another_interpreter_gives_way_to_one_for_this_one(tree: Tree) -> None:
    uv_lock = """\
version = 1

[[package]]
name = "Numpy"
version = "1.16.6"
source = "not a table"
resolution-markers = [1, "python_version < '3'"]

[[package]]
name = "numpy"
version = "2.2.6"
source = { git = "https://github.com/numpy/numpy?rev=v2.2.6#0123456789abcdef" }

[[package]]
name = "scipy"
version = "1.15.3"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_version < '3'"]
"""
    root = tree({"handoff.toml": CONTRACT, "uv.lock": uv_lock})
    (lock,) = read(root).locks
    # numpy: the second entry holds here; scipy: none holds, the first written stands in
    assert dict(lock.packages) == {"numpy": "2.2.6", "scipy": "1.15.3"}
    assert not lock.hashed  # scipy comes from a registry and names no hash
    assert not problems(root)


def test_a_constraint_file_that_matches_the_requirement_names_is_not_a_declaration(
    tree: Tree,
) -> None:
    root = tree(
        {
            "handoff.toml": CONTRACT,
            "requirements.txt": "-c requirements/constraints.txt\npandas\n",
            "requirements/constraints.txt": "pandas==2.2.3\nnumpy==2.2.6\n",
        }
    )
    assert rows(root) == {("pandas", "runtime", "", True, "requirements.txt", 2)}


def test_every_spelling_of_the_include_options(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": CONTRACT,
            "requirements.txt": "-rone.txt\n--requirement=two.txt\n--constraint pins.txt\n"
            "--editable=./lib#egg=acme_lib\n--requirement three.txt\n",
            "one.txt": "numpy\n",
            "two.txt": "scipy\n",
            "three.txt": "pandas==2.2.3\n",
            "pins.txt": "numpy==2.2.6\n",
        }
    )
    assert {(name, pinned, path) for name, _, _, pinned, path, _ in rows(root)} == {
        ("numpy", True, "one.txt"),
        ("scipy", False, "two.txt"),
        ("acme-lib", False, "requirements.txt"),
        ("pandas", True, "three.txt"),
    }


def test_a_constraint_pins_only_when_every_install_applies_it(tree: Tree) -> None:
    # `pip install -r requirements.txt` constrains numpy; `pip install -r
    # requirements/gpu.txt` installs the same base.txt without the constraint.
    root = tree(
        {
            "handoff.toml": CONTRACT,
            "requirements.txt": "-r base.txt\n-c pins.txt\nscipy\n",
            "requirements/gpu.txt": "-r ../base.txt\n",
            "base.txt": "numpy\n",
            "pins.txt": "numpy==2.2.6\nscipy==1.15.3\n",
        }
    )
    assert {(name, pinned) for name, _, _, pinned, *_ in rows(root)} == {
        ("numpy", False),
        ("scipy", True),
    }


def test_a_dev_file_including_a_runtime_file_leaves_it_runtime(tree: Tree) -> None:
    # requirements/dev.txt is read first (sorted), yet base.txt stays runtime: prod.txt needs it.
    root = tree(
        {
            "handoff.toml": CONTRACT,
            "requirements/dev.txt": "-r common.txt\npytest\n",
            "requirements/prod.txt": "-r common.txt\n",
            "requirements/common.txt": "numpy\n",
        }
    )
    assert {(name, group) for name, group, *_ in rows(root)} == {
        ("numpy", "runtime"),
        ("pytest", "dev:dev"),
    }


def test_logical_lines_join_continuations_and_drop_comments_as_pip_does() -> None:
    text = "a==1 \\\n  --hash=sha256:ab \\\n  --hash=sha256:cd\n# note \\\nb  # why\nurl#egg=c\n\\"
    assert list(logical_lines(text)) == [
        (1, "a==1   --hash=sha256:ab   --hash=sha256:cd"),
        (5, "b"),
        (6, "url#egg=c"),
    ]


def test_names_by_group_and_kind() -> None:
    found = read(DECLARED / "pep621")
    assert found.names(groups=["runtime"]) == {d.name for d in found.runtime()}
    assert found.names(groups=["extra"]) == {"uvicorn"}
    assert found.names(groups=["dev:lint"]) == {"mypy"}
    assert found.names(groups=["dev"]) == {
        "pytest",
        "ruff",
        "mkdocs",
        "pytest-cov",
        "mypy",
        "ipykernel",
    }
    assert len(found.names()) == 13


def test_declarations_are_read_once_per_run() -> None:
    view = project(DECLARED / "pep621")
    assert declarations(view) is declarations(view)


def test_environment_yml_without_pyyaml_is_a_problem(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree({"handoff.toml": CONTRACT, "environment.yml": "dependencies: [numpy]\n"})
    monkeypatch.setitem(sys.modules, "yaml", None)  # what `import yaml` meets when not installed
    monkeypatch.delitem(sys.modules, "pavedroad.declared.conda")
    assert problems(root) == {
        ("environment.yml", None, "reading environment.yml needs PyYAML: `pip install pyyaml`")
    }


# -- property: whatever the files hold, reading ends in declarations and problems ---------------

_PIECES = [*"abcnumpy_-.=<>~!*[],;@:/#\\ \t\n\"'0123456789-recEh"]
_PIECES = [*_PIECES, "--hash=", "-r ", "-c ", "-e ", "git+https://x/y@", ".whl", "#egg="]
# Requirement-file text, built from the pieces the format is made of.
_REQUIREMENT_TEXT = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | _REQUIREMENT_TEXT,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "version",
                    "extras",
                    "markers",
                    "python",
                    "git",
                    "rev",
                    "path",
                    "optional",
                    "include-group",
                    "name",
                    "marker",
                    "resolution-markers",
                    "source",
                    "sdist",
                    "wheels",
                    "hash",
                    "x",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)
_TOML_DOCUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "project": st.dictionaries(
            st.sampled_from(["dependencies", "optional-dependencies", "name"]), _VALUES, max_size=3
        ),
        "dependency-groups": _VALUES,
        "tool": st.fixed_dictionaries(
            {},
            optional={
                "poetry": st.dictionaries(
                    st.sampled_from(["dependencies", "group", "dev-dependencies", "extras"]),
                    _VALUES,
                    max_size=3,
                ),
                "uv": st.dictionaries(st.just("dev-dependencies"), _VALUES),
            },
        ),
        "packages": _VALUES,
        "dev-packages": _VALUES,
        "package": _VALUES,
        "lock-version": st.just("1.0"),
    },
)


def _clean(value: object) -> object:
    """TOML has no null: drop None from generated values."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value if v is not None]
    return value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    requirements=_REQUIREMENT_TEXT,
    document=_TOML_DOCUMENTS,
    environment=_VALUES,
    setup=_REQUIREMENT_TEXT,
)
def test_reading_never_raises(
    requirements: str, document: dict[str, object], environment: object, setup: str
) -> None:
    toml = tomlkit.dumps(_clean(document))
    with tempfile.TemporaryDirectory() as folder:
        root = write_tree(
            Path(folder),
            {
                "handoff.toml": CONTRACT,
                "requirements.txt": requirements,
                "pyproject.toml": toml,
                "Pipfile": toml,
                "uv.lock": toml,
                "pylock.toml": toml,
                "environment.yml": yaml.safe_dump({"dependencies": environment}),
                "setup.cfg": "[options]\ninstall_requires =\n" + setup.replace("\n", "\n    "),
            },
        )
        found = read(root)
    for problem in found.problems:
        assert problem.message and (problem.line is None or problem.line >= 1)
    for declared in found.dependencies:
        assert declared.name and declared.group.partition(":")[0] in {"runtime", "extra", "dev"}
