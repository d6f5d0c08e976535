"""The Project view: a read-only, lazily computed, cached picture of a project tree.

Checks never walk or parse files themselves; they ask the view, so each file is read and parsed
once per run however many checks look at it, and a static run touches only what its checks need.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from pavedroad.contract import Contract, LoadedContract
from pavedroad.results import Location
from pavedroad.tree import Listing, files_by_suffix, list_tree, source_roots

T = TypeVar("T")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TEST_DIRS = frozenset({"tests", "test", "testing"})
README_NAMES = ("README.md", "README.rst", "README.txt", "README")
CODEOWNERS_PLACES = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")


class Project:
    """A project tree and its contract. Paths it returns are absolute; `rel` makes them relative."""

    def __init__(self, root: Path, loaded: LoadedContract, listing: Listing | None = None) -> None:
        """`listing`: the walk of `root` (`tree.walk`) when the caller has walked it already."""
        self.root = root.resolve()
        self.loaded = loaded
        self._listing = listing
        self._texts: dict[Path, str | None] = {}
        self._trees: dict[Path, ast.Module | None] = {}
        self.syntax_errors: dict[Path, SyntaxError] = {}
        self.pyproject_error: str | None = None
        self._facts: dict[Callable[[Project], Any], Any] = {}

    @property
    def contract(self) -> Contract:
        return self.loaded.contract

    def fact(self, compute: Callable[[Project], T]) -> T:
        """`compute(self)`, computed once per run: facts that several checks share (the env
        reads, the coverage run) cost one computation however many checks ask."""
        if compute not in self._facts:
            self._facts[compute] = compute(self)
        return self._facts[compute]  # type: ignore[no-any-return]

    def provide(self, compute: Callable[[Project], T], value: T) -> None:
        """Record `compute`'s fact computed elsewhere: a command that shows progress while it
        computes a fact hands the result over, and the checks reuse it instead of running again."""
        self._facts[compute] = value

    # -- locations -------------------------------------------------------------------------

    def rel(self, path: Path) -> str:
        """`path` relative to the root, with forward slashes, as every reporter shows it."""
        try:
            # realpath, not resolve(): a symlink that points at itself must not raise here
            return Path(os.path.realpath(path)).relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def location(self, path: Path, line: int | None = None) -> Location:
        return Location(path=self.rel(path), line=line)

    def contract_location(self, *key_path: str | int) -> Location:
        """Where a contract key is written, so a gap in the contract points at its line."""
        path, line = self.loaded.where(*key_path)
        return Location(path=self.rel(path), line=line)

    # -- files -----------------------------------------------------------------------------

    @property
    def listing(self) -> Listing:
        """Every folder of the project with its files (`tree.walk`), walked once per run."""
        if self._listing is None:
            self._listing = list_tree(self.root)
        return self._listing

    @cached_property
    def _walk(self) -> dict[str, tuple[Path, ...]]:
        """One walk of the tree (`tree.walk`) for the files checks read, by suffix."""
        return files_by_suffix(self.listing, (".py", ".ipynb"))

    @cached_property
    def python_files(self) -> tuple[Path, ...]:
        """Every .py file of the project, outside hidden folders, virtual envs and build output."""
        return self._walk[".py"]

    @cached_property
    def notebook_files(self) -> tuple[Path, ...]:
        """The notebooks under `[notebooks].paths` (files or folders), else every .ipynb."""
        every = self._walk[".ipynb"]
        notebooks = self.contract.notebooks
        if notebooks is None or not notebooks.paths:
            return every
        wanted = [(self.root / p).resolve() for p in notebooks.paths]
        return tuple(
            path
            for path in every
            if any(path.resolve() == w or w in path.resolve().parents for w in wanted)
        )

    @cached_property
    def test_files(self) -> tuple[Path, ...]:
        return tuple(path for path in self.python_files if self.is_test_file(path))

    @cached_property
    def source_files(self) -> tuple[Path, ...]:
        """Python files that ship or run in production: everything but the tests."""
        return tuple(path for path in self.python_files if not self.is_test_file(path))

    def is_test_file(self, path: Path) -> bool:
        relative = path.relative_to(self.root)
        name = relative.name
        return (
            any(part in TEST_DIRS for part in relative.parts[:-1])
            or name.startswith("test_")
            or name.endswith("_test.py")
            or name == "conftest.py"
        )

    def text(self, path: Path) -> str | None:
        """The file's text, or None when it cannot be read as UTF-8."""
        if path not in self._texts:
            try:
                self._texts[path] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                self._texts[path] = None
        return self._texts[path]

    def tree(self, path: Path) -> ast.Module | None:
        """The parsed module, or None when it does not parse (the error is in `syntax_errors`)."""
        if path not in self._trees:
            text = self.text(path)
            tree = None
            if text is not None:
                try:
                    tree = ast.parse(text, filename=str(path))
                except (SyntaxError, ValueError) as error:
                    self.syntax_errors[path] = (
                        error if isinstance(error, SyntaxError) else SyntaxError(str(error))
                    )
            self._trees[path] = tree
        return self._trees[path]

    # -- packaging -------------------------------------------------------------------------

    @cached_property
    def pyproject_path(self) -> Path:
        return self.root / "pyproject.toml"

    @cached_property
    def pyproject(self) -> dict[str, Any] | None:
        """The parsed pyproject.toml; None when absent. A parse error is in `pyproject_error`."""
        text = self.text(self.pyproject_path) if self.pyproject_path.is_file() else None
        if text is None:
            return None
        try:
            data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            self.pyproject_error = str(error)
            return None
        return data

    @cached_property
    def source_roots(self) -> tuple[Path, ...]:
        """Where top-level packages live: src/ first (the src layout), then the root (flat)."""
        return source_roots(self.root)

    def module_path(self, dotted: str) -> Path | None:
        """The file that defines module `dotted` in the project's layout, or None."""
        parts = dotted.split(".")
        for base in self.source_roots:
            candidate = base.joinpath(*parts)
            if (candidate / "__init__.py").is_file():
                return candidate / "__init__.py"
            module = candidate.with_name(candidate.name + ".py")
            if module.is_file():
                return module
        return None

    def package_dir(self, name: str) -> Path | None:
        """The directory of top-level package `name` (regular or namespace), or None."""
        for base in self.source_roots:
            if (base / name).is_dir() and (
                (base / name / "__init__.py").is_file() or any((base / name).glob("*.py"))
            ):
                return base / name
        return None

    # -- documents -------------------------------------------------------------------------

    @cached_property
    def readme(self) -> Path | None:
        return next((self.root / n for n in README_NAMES if (self.root / n).is_file()), None)

    @cached_property
    def doc_files(self) -> tuple[Path, ...]:
        """The README and every Markdown, reStructuredText or text file under docs/."""
        found = [self.readme] if self.readme else []
        docs = self.root / "docs"
        if docs.is_dir():
            found.extend(sorted(p for p in docs.rglob("*") if p.suffix in {".md", ".rst", ".txt"}))
        return tuple(found)

    @cached_property
    def codeowners(self) -> Path | None:
        return next((self.root / p for p in CODEOWNERS_PLACES if (self.root / p).is_file()), None)
