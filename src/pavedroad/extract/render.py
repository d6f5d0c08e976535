"""The module and its test stub as text. The cells' own lines are copied, never regenerated
from the AST: their comments are the notebook's documentation, and `ast.unparse` would drop them.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pavedroad.extract.cells import Parameter, Piece, string_continuations, top_module

INDENT = " " * 4
_NUMPY_SCALAR = re.compile(r"np\.\w+\((.*)\)", re.DOTALL)  # numpy 2 shows np.float64(0.85)


@dataclass(frozen=True)
class Plan:
    """Everything the module is made of, decided before a line of it is written."""

    source: str  # the notebook, as the docstrings name it
    dotted: str  # the module's import name, for `python -m` and the stub's import
    cells: list[int]
    parameters: list[Parameter]
    pieces: list[Piece]
    local_modules: frozenset[str]  # top-level names the notebook imports from its own folders
    local_paths: list[str]  # expressions of the folders those come from, relative to __file__


def module_text(plan: Plan) -> str:
    parts = [_docstring(plan), *_imports(plan), *_definitions(plan), _main(plan), _cli(plan)]
    return "\n\n\n".join(part for part in parts if part) + "\n"


def _docstring(plan: Plan) -> str:
    cells = cell_list(plan.cells)
    return (
        f'"""Extracted by `paved extract` from {plan.source} ({cells}).\n\n'
        "Imports are hoisted, functions and classes stay at module level, and every other\n"
        "statement runs in main(), in the notebook's order.\n\n"
        f"Run it: {usage(plan.dotted, plan.parameters)}" + '\n"""'
    )


def cell_list(numbers: list[int]) -> str:
    """`cell 3` or `cells 2, 3, 5`."""
    return ("cell " if len(numbers) == 1 else "cells ") + ", ".join(map(str, numbers))


def usage(dotted: str, parameters: list[Parameter]) -> str:
    """`python -m pkg.train [--n 3] [--loud | --no-loud]`: the command line with defaults."""
    options = []
    for parameter in parameters:
        if parameter.annotation == "bool":
            options.append(f"[--{parameter.name} | --no-{parameter.name}]")
        elif parameter.value is None:
            options.append(f"[--{parameter.name} {parameter.name.upper()}]")
        else:
            options.append(f"[--{parameter.name} {parameter.default}]")
    return " ".join([f"python -m {dotted}", *options])


def _imports(plan: Plan) -> Iterable[str]:
    """Hoisted imports in notebook order, each statement once; `__future__` first, the
    notebook's own modules last, after the lines that let Python find them."""
    seen: set[tuple[object, ...]] = set()
    future, regular, local = [], [], []
    for piece in plan.pieces:
        if piece.kind != "import" or not _new_import(piece.node, seen):
            continue
        if isinstance(piece.node, ast.ImportFrom) and piece.node.module == "__future__":
            future.append(piece.text)
        elif top_module(piece.node) in plan.local_modules:
            local.append(piece.text)
        else:
            regular.append(piece.text)
    if plan.local_paths:
        regular += [text for text in ("import sys", "from pathlib import Path") if _new(text, seen)]
    yield "\n".join(future)
    yield "\n".join(regular)
    if plan.local_paths:
        names = ", ".join(sorted(plan.local_modules))
        inserts = "\n".join(f"sys.path.insert(0, str({path}))" for path in plan.local_paths)
        yield (
            f"# The notebook imports {names} from its project's folders, found through\n"
            "# sys.path in the notebook too; until that code moves into the package, the\n"
            f"# module looks for it there.\n{inserts}\n" + "\n".join(local)
        )


def _new(text: str, seen: set[tuple[object, ...]]) -> bool:
    return _new_import(ast.parse(text).body[0], seen)


def _new_import(node: ast.stmt, seen: set[tuple[object, ...]]) -> bool:
    """Whether the statement imports anything not imported above; records what it imports."""
    keys: set[tuple[object, ...]] = set()
    if isinstance(node, ast.Import):
        keys = {("import", alias.name, alias.asname) for alias in node.names}
    elif isinstance(node, ast.ImportFrom):
        keys = {("from", node.level, node.module, a.name, a.asname) for a in node.names}
    fresh = bool(keys - seen)
    seen |= keys
    return fresh


def _definitions(plan: Plan) -> Iterable[str]:
    for piece in plan.pieces:
        if piece.kind == "definition":
            yield piece.text


def _main(plan: Plan) -> str:
    signature = ", ".join(f"{p.name}: {p.annotation} = {p.default}" for p in plan.parameters)
    lines = [
        f"def main({'*, ' + signature if signature else ''}):",
        f'{INDENT}"""The notebook\'s exported cells, top to bottom; returns the last one\'s value."""',
    ]
    returned = _returned(plan)
    cell = None
    for piece in plan.pieces:
        if piece.kind != "statement":
            continue
        if piece.cell != cell:
            cell = piece.cell
            lines.append(f"{INDENT}# cell {cell}")
        text = _with_return(piece) if piece is returned else piece.text
        lines.append(_indent(text))
    return "\n".join(lines)


def _returned(plan: Plan) -> Piece | None:
    """The last exported cell's last statement, when it is an expression: the cell's value."""
    last = [piece for piece in plan.pieces if piece.cell == plan.cells[-1]]
    if last and last[-1].kind == "statement" and isinstance(last[-1].node, ast.Expr):
        return last[-1]
    return None


def _with_return(piece: Piece) -> str:
    lines = piece.text.split("\n")
    row = piece.node.lineno - piece.first_line  # top-level: the expression starts at column 0
    lines[row] = "return " + lines[row]
    return "\n".join(lines)


def _indent(text: str) -> str:
    keep = string_continuations(text)
    return "\n".join(
        line if index in keep or not line.strip() else INDENT + line
        for index, line in enumerate(text.split("\n"))
    )


def _cli(plan: Plan) -> str:
    options = [f"{INDENT}parser.add_argument({_option(p)})" for p in plan.parameters]
    return "\n".join(
        [
            "def _cli(argv: list[str] | None = None) -> None:",
            f'{INDENT}"""`python -m {plan.dotted}`: main() with parameters from the command line."""',
            f"{INDENT}import argparse",
            "",
            f'{INDENT}parser = argparse.ArgumentParser(prog="python -m {plan.dotted}")',
            *options,
            f"{INDENT}result = main(**vars(parser.parse_args(argv)))",
            f"{INDENT}if result is not None:",
            f"{INDENT * 2}print(result)",
            "",
            "",
            'if __name__ == "__main__":',
            f"{INDENT}_cli()",
        ]
    )


def _option(parameter: Parameter) -> str:
    flags = [f"--{parameter.name}"]
    if "_" in parameter.name:
        flags.append(f"--{parameter.name.replace('_', '-')}")
    names = ", ".join(repr(flag) for flag in flags)
    default = f'default={parameter.default}, help="default: %(default)s"'
    if parameter.annotation == "bool":  # --flag / --no-flag, which shows its default itself
        return f"{names}, action=argparse.BooleanOptionalAction, default={parameter.default}"
    kind = parameter.annotation.partition(" ")[0]  # `str | None` parses as str
    return f"{names}, type={kind}, {default}"


def stub_text(plan: Plan, saved: str | None) -> str:
    """A test that calls main() with the notebook's parameters and, when the notebook saved the
    value of its last cell as a number, a string or a bool, expects that value again."""
    arguments = ", ".join(f"{p.name}={p.default}" for p in plan.parameters)
    expected = _expected(saved) if _returned(plan) else None
    body = [f"{INDENT}result = main({arguments})"]
    if expected is None:
        body = [f"{INDENT}main({arguments})  # TODO: assert on what it computes"]
    elif isinstance(expected, float | int) and not isinstance(expected, bool):
        body.append(f"{INDENT}assert result == pytest.approx({expected!r})")
    else:
        body.append(f"{INDENT}assert result == {expected!r}")
    uses_pytest = any("pytest." in line for line in body)
    return "\n".join(
        [
            f'"""Written by `paved extract` from {plan.source}: main() runs with the notebook\'s',
            'parameters and gives the value the notebook showed. Grow it into the real tests."""',
            "",
            *(["import pytest", ""] if uses_pytest else []),
            f"from {plan.dotted} import main",
            "",
            "",
            "def test_main_gives_what_the_notebook_showed() -> None:",
            *body,
            "",
        ]
    )


def _expected(saved: str | None) -> object:
    if saved is None:
        return None
    scalar = _NUMPY_SCALAR.fullmatch(saved.strip())
    try:
        value = ast.literal_eval(scalar.group(1) if scalar else saved.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, bool | int | float | str) else None


def local_path(module: Path, folder: Path) -> str:
    """An expression for `folder` relative to the module file, which is where it is found on
    every machine (the notebook's sys.path.append named a folder on its author's disk)."""
    if folder in module.parents:
        return f"Path(__file__).resolve().parents[{module.parents.index(folder)}]"
    relative = Path(os.path.relpath(folder, module.parent)).as_posix()
    return f'(Path(__file__).resolve().parent / "{relative}").resolve()'


def ruff() -> str | None:
    """ruff from the environment pavedroad runs in (pinned with it), else the one on PATH."""
    return shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


def formatted(text: str, path: Path) -> tuple[str, bool]:
    """`text` through `ruff format` with the configuration that applies at `path`; unchanged
    (and False) when there is no ruff or it declines, since the text is valid as it is."""
    executable = ruff()
    if executable is None:
        return text, False
    done = subprocess.run(
        [executable, "format", "--stdin-filename", str(path), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    return (done.stdout, True) if done.returncode == 0 and done.stdout else (text, False)
