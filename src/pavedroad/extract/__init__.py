"""`paved extract`: a notebook's tagged cells as a module with a main() and a command line.

Cells tagged `export` become the module; a cell tagged `parameters` becomes main()'s keyword
arguments and the command line's options (a cell marked both is the parameters cell; its
values are the defaults, typed by their literals). Everything that would make the module differ from the
notebook (IPython syntax, a name defined nowhere or in the wrong namespace) is an error that
names the cell and line, found before any file is written. What is written: the module
(formatted by ruff when there is one) and a test stub that calls main() with the notebook's
parameters; existing files are kept unless `force`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pavedroad.errors import PavedError, UsageError
from pavedroad.extract import defuse, render
from pavedroad.extract.cells import (
    EXPORT,
    PARAMETERS,
    Cell,
    Parameter,
    Piece,
    Problem,
    code_cells,
    parameters,
    parse,
    pieces,
    saved_value,
    top_module,
)
from pavedroad.extract.layout import Layout, layout, local_folders, project_root
from pavedroad.fileio import write_atomic

__all__ = ["ExtractError", "Extraction", "extract_notebook"]


class ExtractError(PavedError):
    """The notebook cannot become a module as it is: every reason, each with cell and line."""

    def __init__(self, notebook: Path, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"cannot extract {notebook}:\n{lines}")


@dataclass(frozen=True)
class Extraction:
    """What was written, for the command to tell."""

    module: Path
    test: Path
    dotted: str
    cells: list[int]
    parameters: list[Parameter]
    local_modules: dict[str, Path]
    packages: list[Path]  # the __init__.py files created
    formatted: bool


def extract_notebook(notebook: Path, module: Path, *, force: bool = False) -> Extraction:
    cells = code_cells(_read(notebook))
    exported = [c for c in cells if c.marked(EXPORT) and not c.marked(PARAMETERS)]
    if not exported:
        raise UsageError(
            f"{notebook}: no code cell is exported: tag the cells `export` "
            "(or start them with a line `# export`)"
        )
    (parameters_, pieces_), problems = _collect(cells, exported)
    if not problems:  # names are checked only over cells that all parse: else they mislead
        problems = defuse.check(parameters_, pieces_)
    if problems:
        raise ExtractError(notebook, sorted(problems, key=lambda p: (p.cell, p.line)))
    where = layout(module)
    _refuse_overwrite(where, force)
    local = local_folders(notebook, _imported(pieces_))
    plan = render.Plan(
        source=_display(notebook, where),
        dotted=where.dotted,
        cells=[cell.number for cell in exported],
        parameters=parameters_,
        pieces=pieces_,
        local_modules=frozenset(local),
        local_paths=[render.local_path(where.module, f) for f in dict.fromkeys(local.values())],
    )
    return _write(where, plan, exported[-1], local)


def _read(notebook: Path) -> Any:
    try:
        import nbformat
    except ImportError as error:
        raise UsageError(
            "paved extract reads notebooks with nbformat: pip install 'pavedroad[notebooks]'"
        ) from error
    try:
        document = nbformat.read(notebook, as_version=4)  # type: ignore[no-untyped-call]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise UsageError(f"{notebook}: not a readable notebook: {error}") from error
    language = document.metadata.get("kernelspec", {}).get("language", "python")
    if str(language).lower() != "python":
        raise UsageError(f"{notebook}: a {language} notebook; only Python cells can be extracted")
    return document


def _collect(
    cells: list[Cell], exported: list[Cell]
) -> tuple[tuple[list[Parameter], list[Piece]], list[Problem]]:
    """The parameters and the exported pieces, or the problems that keep each cell from
    being read; all of them, so that one run lists everything to fix."""
    problems: list[Problem] = []
    found_parameters: list[Parameter] = []
    marked = [cell for cell in cells if cell.marked(PARAMETERS)]
    for extra in marked[1:]:
        problems.append(
            Problem(
                extra.number, 1, f"a second parameters cell (the first is cell {marked[0].number})"
            )
        )
    if marked:
        tree, trouble = parse(marked[0])
        problems += trouble
        if tree is not None:
            found, trouble = parameters(marked[0], tree)
            found_parameters, problems = found, problems + trouble
    found_pieces: list[Piece] = []
    for cell in exported:
        tree, trouble = parse(cell)
        problems += trouble
        if tree is not None:
            found_pieces += pieces(cell, tree)
    return (found_parameters, found_pieces), problems


def _imported(pieces_: list[Piece]) -> set[str]:
    tops = (top_module(piece.node) for piece in pieces_ if piece.kind == "import")
    return {top for top in tops if top}


def _refuse_overwrite(where: Layout, force: bool) -> None:
    existing = [path for path in (where.module, where.test) if path.exists()]
    if existing and not force:
        names = ", ".join(str(path) for path in existing)
        raise UsageError(f"{names} already exist: pass --force to overwrite")


def _write(where: Layout, plan: render.Plan, last: Cell, local: dict[str, Path]) -> Extraction:
    text, formatted = render.formatted(render.module_text(plan), where.module)
    compile(text, str(where.module), "exec")  # a bug here must not become a file
    stub, _ = render.formatted(render.stub_text(plan, saved_value(last)), where.test)
    for package in where.packages:
        write_atomic(package / "__init__.py", "")
    write_atomic(where.module, text)
    write_atomic(where.test, stub)
    return Extraction(
        module=where.module,
        test=where.test,
        dotted=where.dotted,
        cells=plan.cells,
        parameters=plan.parameters,
        local_modules=local,
        packages=where.packages,
        formatted=formatted,
    )


def _display(notebook: Path, where: Layout) -> str:
    """The notebook as the docstrings name it: relative to the module's project, so that the
    text does not depend on where the command ran."""
    resolved = notebook.resolve()
    root = project_root(where.module.parent)
    if root is not None and root in resolved.parents:
        return resolved.relative_to(root).as_posix()
    return resolved.name
