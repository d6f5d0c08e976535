"""Where things are: the module's import name, where its test goes, which folders the
notebook's own modules come from.

- The import name: with a `src/` folder in the project, the path below it (`src/churn/train.py`
  is `churn.train`, and each folder in between gets an `__init__.py` if it has none, so the
  package is a regular one that pytest, mypy and a wheel all see); otherwise the folders with an
  `__init__.py` above the module.
- The test: in the project's `tests/` folder when there is one, else next to the module (where
  pytest still collects it). The project is the nearest folder above with a pyproject.toml,
  handoff.toml, setup.py, setup.cfg or .git.
- The notebook's own modules: an import whose top-level name is a `.py` file or a package in the
  notebook's folder or a folder above it, up to the project's root. The notebook found them
  through its working directory or a `sys.path.append`; the module puts those folders on
  sys.path relative to its own file (see render.local_path).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pavedroad.errors import UsageError

ROOT_MARKERS = ("pyproject.toml", "handoff.toml", "setup.py", "setup.cfg", ".git")


@dataclass(frozen=True)
class Layout:
    module: Path
    test: Path
    dotted: str
    packages: list[Path]  # folders that need an __init__.py to make the import name work


def layout(module: Path) -> Layout:
    module = module.resolve()
    if module.suffix != ".py" or not module.stem.isidentifier():
        raise UsageError(f"{module.name}: the module must be a .py file named like a Python name")
    root = project_root(module.parent)
    source = _source_root(module, root)
    if source is not None:
        parts = list(module.relative_to(source).with_suffix("").parts)
        packages = [source.joinpath(*parts[:depth]) for depth in range(1, len(parts))]
    else:
        parts, packages = _package_parts(module), []
    if not all(part.isidentifier() for part in parts):
        raise UsageError(f"{module}: {'.'.join(parts)} is not an importable module name")
    tests = root / "tests" if root is not None else None
    folder = tests if tests is not None and tests.is_dir() else module.parent
    return Layout(
        module=module,
        test=folder / f"test_{module.stem}.py",
        dotted=".".join(parts),
        packages=[folder for folder in packages if not (folder / "__init__.py").exists()],
    )


def project_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return None


def _source_root(module: Path, root: Path | None) -> Path | None:
    if root is None:
        return None
    source = root / "src"
    return source if source in module.parents else None


def _package_parts(module: Path) -> list[str]:
    parts = [module.stem]
    folder = module.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return parts


def local_folders(notebook: Path, modules: Iterable[str]) -> dict[str, Path]:
    """Each imported top-level name that is a file or package of the notebook's own project,
    with the folder it is found in (the nearest to the notebook wins, as on its sys.path)."""
    notebook = notebook.resolve()
    root = project_root(notebook.parent)
    folders = [notebook.parent]
    if root is not None and root in notebook.parents:
        folders += [f for f in notebook.parent.parents if f == root or root in f.parents]
    found: dict[str, Path] = {}
    for name in modules:
        for folder in folders:
            if (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file():
                found[name] = folder
                break
    return found
