"""`paved lock`: which lock is written from which files, and real uv runs against the registry.

The slow tests run the real uv (from the `uv` package) against PyPI, with a cache of their own
shared by the session, and prove each lock by building an environment from it where the
fixture project's tests pass.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from helpers import FIXTURES

from pavedroad import cli
from pavedroad import lock as locking
from pavedroad.commands.lock import lock
from pavedroad.errors import PavedError

Tree = Callable[[Mapping[str, str]], Path]
LOCK_FIXTURES = FIXTURES / "lock"
UNSATISFIABLE = "packaging==0.0.0.dev999"


def copy_fixture(name: str, tmp_path: Path) -> Path:
    """Locks are written next to the project's files: never into the repository's fixtures."""
    return Path(shutil.copytree(LOCK_FIXTURES / name, tmp_path / name))


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# -- which lock, from which files --------------------------------------------------------------


def test_a_pyproject_project_is_locked_by_uv_lock_without_a_contract(tmp_path: Path) -> None:
    root = copy_fixture("uv-project", tmp_path)
    plan = locking.plan(root / "src")  # from any folder of the project, as uv finds it
    assert (plan.source, plan.output, plan.python) == (
        root / "pyproject.toml",
        root / "uv.lock",
        None,
    )
    assert plan.from_pyproject


def test_requirements_in_compiles_to_requirements_txt_for_the_contracts_oldest_python(
    tmp_path: Path,
) -> None:
    root = copy_fixture("requirements-project", tmp_path)
    plan = locking.plan(root / "tests")  # the contract's folder is the project
    assert (plan.source, plan.output) == (root / "requirements.in", root / "requirements.txt")
    assert plan.python == "3.10"  # from `python = ">=3.10,<3.14"` in handoff.toml
    assert locking.plan(root, python="3.12").python == "3.12"  # --python wins


def test_without_a_contract_the_nearest_folder_with_requirements_is_the_project(
    tree: Tree,
) -> None:
    root = tree({"requirements.in": "attrs\n", "notebooks/eda/notes.md": ""})
    assert locking.plan(root / "notebooks" / "eda").source == root / "requirements.in"


def test_the_search_stops_at_the_repository_root(tree: Tree) -> None:
    root = tree({"requirements.txt": "attrs\n", "repo/.git/HEAD": "", "repo/docs/x.md": ""})
    with pytest.raises(PavedError, match="nothing to lock in"):
        locking.plan(root / "repo" / "docs")


@pytest.mark.parametrize(
    ("files", "source", "output"),
    [
        # a hand-written requirements.txt next to requirements.in is not the lock to overwrite
        (
            {"requirements.in": "attrs\n", "requirements.txt": "attrs>=23\n"},
            "requirements.in",
            "requirements.lock.txt",
        ),
        # a compiled one (every line ==, as pip-compile writes it) is
        (
            {"requirements.in": "attrs\n", "requirements.txt": "attrs==23.1.0\n    # via -r in\n"},
            "requirements.in",
            "requirements.txt",
        ),
        # an unpinned requirements.txt is the input: it stays the user's
        (
            {"requirements.txt": "attrs\npackaging>=23\n"},
            "requirements.txt",
            "requirements.lock.txt",
        ),
        # pip freeze output: pinned, no hashes, no transitive guarantee: locked beside it
        ({"requirements.txt": "attrs==23.1.0\n"}, "requirements.txt", "requirements.lock.txt"),
        # the contract names the lock
        (
            {
                "handoff.toml": '[dependencies]\nlock = "locks/pylock.toml"\n',
                "requirements.in": "attrs\n",
            },
            "requirements.in",
            "locks/pylock.toml",
        ),
    ],
)
def test_the_lock_of_a_requirements_project(
    tree: Tree, files: dict[str, str], source: str, output: str
) -> None:
    root = tree(files)
    plan = locking.plan(root)
    assert (plan.source, plan.output) == (root / source, root / output)
    assert not plan.from_pyproject


def test_a_contract_naming_another_lock_gets_it_exported_from_uv_lock(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[dependencies]\nlock = "pylock.toml"\n',
            "pyproject.toml": '[project]\nname = "x"\nversion = "1"\n',
        }
    )
    assert locking.plan(root).output == root / "pylock.toml"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"README.md": "no dependencies here\n"}, "nothing to lock in"),
        ({"pyproject.toml": "[tool.ruff]\nline-length = 99\n"}, "no [project] table"),
        ({"pyproject.toml": "[project\n"}, "not valid TOML"),  # found looking for a contract
        (
            {"handoff.toml": "[dependencies]\n", "pyproject.toml": "[project\n"},
            "is not valid TOML",
        ),
        (
            {"requirements.txt": "attrs==23.1.0 --hash=sha256:" + "0" * 64 + "\n"},
            "is already a lock",
        ),
        (
            {"handoff.toml": '[dependencies]\nlock = "uv.lock"\n', "requirements.in": "attrs\n"},
            "uv.lock needs a [project] table",
        ),
        (
            {
                "handoff.toml": '[dependencies]\nlock = "requirements.txt"\n',
                "requirements.txt": "attrs==23.1.0\n",
            },
            "it is also the file that declares",
        ),
        (
            {
                "handoff.toml": '[dependencies]\nlock = "requirements.txt"\n',
                "pyproject.toml": '[project]\nname = "x"\nversion = "1"\n',
                "requirements.txt": "attrs>=23\n",
            },
            "a file a person wrote",
        ),
    ],
)
def test_what_cannot_be_locked_says_why_and_writes_nothing(
    tree: Tree, files: dict[str, str], expected: str
) -> None:
    root = tree(files)
    before = snapshot(root)
    with pytest.raises(PavedError) as raised:
        locking.plan(root)
    assert expected in str(raised.value)
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("specifier", "floor"),
    [
        (">=3.10,<3.13", "3.10"),
        ("<3.13,>=3.9", "3.9"),
        ("~=3.11", "3.11"),
        ("==3.12.*", "3.12"),
        (">=3.9,>=3.11", "3.11"),  # the stricter floor
        (">=3.10.2", "3.10.2"),
        ("<3.13", None),  # no floor: uv's default
        ("!=3.11.0", None),
        ("python3", None),  # not a specifier: never a crash
    ],
)
def test_minimum_python(specifier: str, floor: str | None) -> None:
    assert locking.minimum_python(specifier) == floor


HASH = "--hash=sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "pinned", "hashed", "count"),
    [
        (f"attrs==23.1.0 \\\n    {HASH}\n    # via -r requirements.in\n", True, True, 1),
        (
            f"# header\n--index-url https://example.org/simple\n-r base.txt\n\n"
            f"colorama==0.4.6 ; sys_platform == 'win32' \\\n    {HASH} \\\n    {HASH}\n"
            f"attrs==23.1.0 {HASH}  # inline comment\n",
            True,
            True,
            2,
        ),
        ("attrs==23.1.0\npackaging\n", False, False, 2),
        ("attrs==23.*\n", False, False, 1),
        ("attrs>=23,==23.1.0\n", False, False, 1),  # two clauses: not one exact version
        ("-e ./lib\nattrs==23.1.0\n", False, False, 2),  # an editable is not pinned
        ("this is not a requirement\n", False, False, 1),
        ("# nothing\n\n", False, False, 0),  # empty: not a lock, nothing compiled it
    ],
)
def test_requirement_files_read_as_uv_writes_them(
    tmp_path: Path, text: str, pinned: bool, hashed: bool, count: int
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(text, encoding="utf-8")
    assert (locking.is_pinned(path), locking.is_hashed_lock(path)) == (pinned, hashed)
    assert locking.count_packages(path) == count


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_requirement_files_with_a_byte_order_mark(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(f"attrs==23.1.0 \\\n    {HASH}\n".encode(encoding))
    assert locking.is_hashed_lock(path)


def test_without_uv_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uv", None)  # `import uv` raises ImportError
    monkeypatch.setenv("PATH", "")
    with pytest.raises(PavedError, match=r'pip install "pavedroad\[lock\]"'):
        locking.find_uv()


def test_uv_is_found_from_the_installed_package() -> None:
    assert Path(locking.find_uv()).name.startswith("uv")


# What uv 0.13 printed here for an unsatisfiable requirement and a broken interpreter shim.
UV_STDERR = """\
warning: Failed to inspect Python interpreter from search path at `/root/.pyenv/shims/python3.10`
  cause: Querying Python at `/root/.pyenv/shims/python3.10` failed with exit status 127

         pyenv: python3.10: command not found
Using CPython 3.11.7 interpreter at: /usr/bin/python3
error: No solution found when resolving dependencies
  cause: Because there is no version of packaging==0.0.0.dev999 and your project depends on packaging==0.0.0.dev999, we can conclude that your project's requirements are unsatisfiable.
""".splitlines()


def test_a_resolution_failure_is_explained_by_uvs_own_words_only() -> None:
    text = locking.explain_failure(UV_STDERR, source="pyproject.toml")
    assert text.splitlines()[:3] == [
        "uv could not resolve the dependencies:",
        "  No solution found when resolving dependencies",
        "    cause: Because there is no version of packaging==0.0.0.dev999 and your project "
        "depends on packaging==0.0.0.dev999, we can conclude that your project's requirements "
        "are unsatisfiable.",
    ]
    assert "pyproject.toml" in text.splitlines()[3]  # the hint names the file to change
    assert "pyenv" not in text and "Using CPython" not in text


def test_another_uv_failure_shows_its_tail() -> None:
    lines = [f"line {n}" for n in range(30)]
    text = locking.explain_failure(lines, source="requirements.in")
    assert text.startswith("uv could not write the lock:\n")
    assert "line 9\n" not in text and text.endswith("line 29")


def test_warnings_are_kept_whole_and_apart() -> None:
    [warning] = locking.warning_blocks(UV_STDERR)
    assert warning.startswith("warning: Failed to inspect")
    assert warning.endswith("pyenv: python3.10: command not found")


def test_paved_lock_is_a_command_of_paved() -> None:
    assert cli.cli.commands.get("lock") is lock


# -- real uv against the registry ---------------------------------------------------------------


@pytest.fixture(scope="session")
def uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the session: the second resolution reads what the first downloaded."""
    return tmp_path_factory.mktemp("uv-cache")


@pytest.fixture
def uv_env(uv_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """uv as `paved lock` runs it, with the test's cache; no Python downloads (a missing
    interpreter for `--python` only changes which one builds sdists, never the lock)."""
    monkeypatch.setenv("UV_CACHE_DIR", str(uv_cache))
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    # `paved` registers the command in cli.py; the tests must not depend on that edit landing.
    monkeypatch.setitem(cli.cli.commands, "lock", lock)
    yield locking.find_uv()


def paved(*args: str) -> int:
    """The real entry point, in-process, as `paved lock` runs."""
    with pytest.raises(SystemExit) as exited:
        cli.main(list(args))
    code = exited.value.code
    assert isinstance(code, int)
    return code


def uv(uv_bin: str, *args: str | Path, cwd: Path | None = None) -> None:
    subprocess.run([uv_bin, *map(str, args), "--quiet"], cwd=cwd, check=True)


def environment_from(uv_bin: str, requirements: Path, root: Path, tmp_path: Path) -> Path:
    """A new venv holding exactly what `requirements` pins (`uv pip sync` in the project, where
    an exported `-e .` means the project itself); its python."""
    venv = tmp_path / "venv"
    uv(uv_bin, "venv", venv, "--python", sys.executable)
    python = venv / "bin" / "python"
    uv(uv_bin, "pip", "sync", "--python", python, requirements, cwd=root)
    return python


def project_tests_pass(python: Path, root: Path) -> bool:
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return done.returncode == 0 and "1 passed" in done.stdout


@pytest.mark.slow
def test_uv_lock_builds_an_environment_where_the_project_tests_pass(
    uv_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_fixture("uv-project", tmp_path)
    declared = (root / "pyproject.toml").read_bytes()
    assert paved("lock", str(root)) == 0
    # attrs, packaging, pytest and pytest's own (for every platform and Python): not the project
    assert capsys.readouterr().out == f"locked 10 packages in {root / 'uv.lock'}\n"
    assert (root / "pyproject.toml").read_bytes() == declared
    # The engineer's path: the lock exported with the project itself, then synced.
    requirements = tmp_path / "exported.txt"
    uv(uv_env, "export", "--frozen", "--format", "requirements.txt", "-o", requirements, cwd=root)
    python = environment_from(uv_env, requirements, root, tmp_path)
    assert project_tests_pass(python, root)


@pytest.mark.slow
def test_pip_compile_builds_an_environment_where_the_project_tests_pass(
    uv_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_fixture("requirements-project", tmp_path)
    before = snapshot(root)
    assert paved("lock", str(root)) == 0
    lock_file = root / "requirements.txt"
    assert capsys.readouterr().out == f"locked 10 packages in {lock_file}\n"
    after = snapshot(root)
    assert set(after) - set(before) == {"requirements.txt"}  # no temporary file left
    assert all(after[name] == before[name] for name in before)  # the inputs untouched
    text = lock_file.read_text(encoding="utf-8")
    assert locking.is_hashed_lock(lock_file)
    assert "#    paved lock\n" in text  # the header says how to make it again
    # the contract supports 3.10: its backports are pinned, behind their markers
    assert "exceptiongroup==" in text and "python_full_version < '3.11'" in text
    python = environment_from(uv_env, lock_file, root, tmp_path)
    assert project_tests_pass(python, root)


@pytest.mark.slow
def test_python_selects_the_target_version(
    uv_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_fixture("requirements-project", tmp_path)
    assert paved("lock", str(root), "--python", "3.12") == 0
    text = (root / "requirements.txt").read_text(encoding="utf-8")
    assert "exceptiongroup" not in text  # nothing to backport to 3.12
    assert "#    paved lock --python 3.12\n" in text
    assert capsys.readouterr().out == f"locked 7 packages in {root / 'requirements.txt'}\n"


@pytest.mark.slow
def test_a_lock_keeps_its_pins_unless_upgrade(uv_env: str, tmp_path: Path) -> None:
    root = copy_fixture("requirements-project", tmp_path)
    (root / "requirements.txt").write_text("attrs==23.1.0\n", encoding="utf-8")
    assert paved("lock", str(root)) == 0
    assert "\nattrs==23.1.0 \\\n" in "\n" + (root / "requirements.txt").read_text(encoding="utf-8")
    assert paved("lock", str(root), "--upgrade") == 0
    assert "attrs==23.1.0" not in (root / "requirements.txt").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["requirements.lock.txt", "pylock.toml"])
def test_uv_lock_is_exported_to_the_lock_the_contract_names(
    uv_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    root = copy_fixture("uv-project", tmp_path)
    (root / "handoff.toml").write_text(f'[dependencies]\nlock = "{name}"\n', encoding="utf-8")
    assert paved("lock", str(root)) == 0
    assert capsys.readouterr().out == f"locked 10 packages in {root / name}\n"
    assert (root / "uv.lock").is_file()
    if name.endswith(".txt"):  # what pip's hash-checking mode installs: no `-e .` line
        assert locking.is_hashed_lock(root / name)


@pytest.mark.slow
def test_pylock_toml_when_the_contract_names_it(
    uv_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_fixture("requirements-project", tmp_path)
    contract = '[dependencies]\npython = ">=3.10"\nlock = "pylock.toml"\n'
    (root / "handoff.toml").write_text(contract, encoding="utf-8")
    assert paved("lock", str(root)) == 0
    assert capsys.readouterr().out == f"locked 10 packages in {root / 'pylock.toml'}\n"
    assert sorted(p.name for p in root.glob("pylock*")) == ["pylock.toml"]


@pytest.mark.slow
def test_an_unresolvable_requirement_exits_1_with_uvs_explanation(
    uv_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_fixture("uv-project", tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace('"packaging>=23"', f'"{UNSATISFIABLE}"'),
        encoding="utf-8",
    )
    before = snapshot(root)
    assert paved("lock", str(root)) == 1
    err = capsys.readouterr().err
    assert "error: uv could not resolve the dependencies:" in err
    assert f"there is no version of {UNSATISFIABLE}" in err
    assert "Traceback" not in err
    assert snapshot(root) == before  # no uv.lock, nothing else written


@pytest.mark.slow
def test_a_failed_compile_leaves_the_previous_lock_whole(
    uv_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_fixture("requirements-project", tmp_path)
    assert paved("lock", str(root)) == 0
    with (root / "requirements.in").open("a", encoding="utf-8") as requirements:
        requirements.write(f"{UNSATISFIABLE}\n")
    before = snapshot(root)
    capsys.readouterr()
    assert paved("lock", str(root)) == 1
    assert "uv could not resolve the dependencies:" in capsys.readouterr().err
    assert snapshot(root) == before  # the lock as it was, no temporary file


@pytest.mark.slow
def test_python_is_passed_to_uv_lock(
    uv_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_fixture("uv-project", tmp_path)
    missing = tmp_path / "no-such-python"
    assert paved("lock", str(root), "--python", str(missing)) == 1
    err = capsys.readouterr().err
    assert "error: uv could not write the lock:" in err and str(missing) in err
    assert not (root / "uv.lock").exists()
