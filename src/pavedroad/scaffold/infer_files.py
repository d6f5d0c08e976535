"""What `paved init` infers from the files of a project, without parsing its code: the model
artifact, the tabular data, the notebooks, the README's sections, the dependency files."""

from __future__ import annotations

import ast
import configparser
import os
from collections.abc import Iterator
from pathlib import Path

from pavedroad.declared import read_declarations
from pavedroad.fileio import sha256_of
from pavedroad.markdown_sections import headings
from pavedroad.project import TEST_DIRS, Project
from pavedroad.scaffold.findings import Artifact, Dependencies, Docs
from pavedroad.tree import PRUNED_DIRS

ARTIFACT_SUFFIXES = (".joblib", ".pkl", ".pickle", ".sav")
DATASET_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
MODEL_DIRS = ("models", "model", "artifacts")
# Words in a file name that say it holds the held-out rows a model is judged on, best first.
GOLDEN_WORDS = ("golden", "holdout", "test", "eval", "valid")
RESOURCES = "resource-requirements"
FAILURE_MODES = "failure-modes"
RESOURCE_WORDS = ("resource", "hardware", "sizing")
FAILURE_WORDS = ("failure", "troubleshoot", "runbook")


def files(root: Path) -> Iterator[Path]:
    """The project's files outside hidden folders, virtual environments, build output and tests
    (whose pickles and CSV files are fixtures, not the model or its data)."""
    for directory, subdirs, names in os.walk(root):
        if "pyvenv.cfg" in names and directory != str(root):
            subdirs[:] = []
            continue
        subdirs[:] = sorted(
            d
            for d in subdirs
            if not d.startswith(".")
            and d not in PRUNED_DIRS
            and d not in TEST_DIRS
            and not d.endswith(".egg-info")
        )
        for name in sorted(names):
            yield Path(directory) / name


def artifact(project: Project, found: list[Path]) -> Artifact | None:
    """The model file: under models/ (or model/, artifacts/) first, then the shallowest."""
    candidates = [p for p in found if p.name.endswith(ARTIFACT_SUFFIXES)]
    if not candidates:
        return None

    def rank(path: Path) -> tuple[bool, int, str]:
        parts = path.relative_to(project.root).parts
        return (not any(part in MODEL_DIRS for part in parts[:-1]), len(parts), path.name)

    best, *others = sorted(candidates, key=rank)
    return Artifact(
        path=project.rel(best),
        sha256=sha256_of(best),
        others=tuple(project.rel(p) for p in others),
    )


def datasets(project: Project, found: list[Path]) -> tuple[str, ...]:
    """Tabular files, the likeliest golden dataset first (by the words in its name)."""
    tabular = [p for p in found if p.name.lower().endswith(DATASET_SUFFIXES)]
    ranked = sorted(tabular, key=lambda p: (_golden_rank(p), len(p.parts), project.rel(p)))
    return tuple(project.rel(p) for p in ranked)


def is_golden(path: str) -> bool:
    """Whether a file's name says it holds held-out rows (`holdout.csv`, `test_set.parquet`)."""
    return _golden_rank(Path(path)) < len(GOLDEN_WORDS)


def _golden_rank(path: Path) -> int:
    name = path.name.lower()
    return next((i for i, word in enumerate(GOLDEN_WORDS) if word in name), len(GOLDEN_WORDS))


def notebook_paths(project: Project) -> tuple[str, ...]:
    """`[notebooks].paths`: each top-level folder that holds notebooks, and notebooks at the
    root by name."""
    paths: dict[str, None] = {}
    for notebook in project.notebook_files:
        parts = notebook.relative_to(project.root).parts
        if parts[0] in TEST_DIRS:
            continue
        paths[f"{parts[0]}/" if len(parts) > 1 else parts[0]] = None
    return tuple(sorted(paths))


def docs(project: Project) -> Docs:
    """[docs]: the README's headings on resources and failure modes when it has them, else the
    anchors of the sections it should have (DOC001 and DOC002 then say they are missing)."""
    readme = project.readme
    name = readme.name if readme is not None else "README.md"
    text = project.text(readme) if readme is not None else None
    anchors = [h.anchor for h in headings(text, rst=name.endswith(".rst"))] if text else []
    resources = next((a for a in anchors if any(w in a for w in RESOURCE_WORDS)), None)
    failures = next((a for a in anchors if any(w in a for w in FAILURE_WORDS)), None)
    return Docs(
        readme=project.rel(readme) if readme is not None else None,
        resources=f"{name}#{resources or RESOURCES}",
        failure_modes=f"{name}#{failures or FAILURE_MODES}",
        found=tuple(a for a in (resources, failures) if a),
    )


def dependencies(project: Project) -> Dependencies:
    """The files that declare the dependencies, the lock, and the supported Pythons as the
    packaging metadata states them (never guessed from the interpreter at hand)."""
    declared = read_declarations(project)
    lock = declared.locks[0].path if declared.locks else None
    sources = [project.rel(s) for s in declared.sources if lock is None or s != lock]
    return Dependencies(
        sources=tuple(sources),
        lock=project.rel(lock) if lock is not None else None,
        python=_requires_python(project),
    )


def _requires_python(project: Project) -> str | None:
    pyproject = project.pyproject or {}
    table = pyproject.get("project")
    if isinstance(table, dict) and isinstance(table.get("requires-python"), str):
        return str(table["requires-python"])
    setup_cfg = project.root / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(setup_cfg, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            pass
        else:
            value = parser.get("options", "python_requires", fallback=None)
            if value:
                return value.strip()
    setup_py = project.root / "setup.py"
    tree = project.tree(setup_py) if setup_py.is_file() else None
    return setup_keyword(tree, "python_requires") if tree is not None else None


def setup_keyword(tree: ast.Module, keyword: str) -> str | None:
    """The literal string given to `setup(keyword=...)` in a setup.py, if any."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node) == "setup":
            for given in node.keywords:
                if given.arg == keyword and isinstance(given.value, ast.Constant):
                    value = given.value.value
                    return value if isinstance(value, str) else None
    return None


def _called(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None
