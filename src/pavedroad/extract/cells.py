"""A notebook's cells as extraction sees them: which are exported, which hold the parameters,
and each exported cell cut into its top-level statements with their original text.

Markers are strict: a cell is exported when its tags hold `export` or its first line is exactly
`# export` (trailing whitespace allowed). `# export for Bob`, `#export` and nbdev's `#| export`
are ordinary comments: a marker that also matches prose would export cells nobody chose.
The same holds for `parameters` (papermill's tag) and `# parameters`.
"""

from __future__ import annotations

import ast
import re
import tokenize
from dataclasses import dataclass, replace
from io import StringIO
from typing import Any, Literal

EXPORT, PARAMETERS = "export", "parameters"
_MARKER = {EXPORT: re.compile(r"# export\s*"), PARAMETERS: re.compile(r"# parameters\s*")}
# The start of a line that IPython rewrites before Python sees it: `!cmd`, `%magic`, `%%cell`,
# `x = !cmd`, `x = %magic`, `?name`, and `name?` / `name??` at the end.
_IPYTHON_LINE = re.compile(r"\s*([!%?]|[\w.,\s]+=\s*[!%])|.*\?\s*$")
_INSTALL = re.compile(r"\b(pip|conda|mamba|apt|apt-get|brew)\s+install\b")

# f-strings are one STRING token before Python 3.12, and START ... END tokens from 3.12 on.
_FSTRING_START: int = getattr(tokenize, "FSTRING_START", -1)
_FSTRING_END: int = getattr(tokenize, "FSTRING_END", -1)

Kind = Literal["import", "definition", "statement"]


@dataclass(frozen=True)
class Problem:
    """One reason the notebook cannot be extracted, at a cell (its index among all the
    notebook's cells, from 0, as `paved deps` and the NB checks count) and a line (from 1)."""

    cell: int
    line: int
    message: str

    def __str__(self) -> str:
        return f"cell {self.cell}, line {self.line}: {self.message}"


@dataclass(frozen=True)
class Cell:
    number: int
    source: str
    tags: frozenset[str]
    outputs: tuple[dict[str, Any], ...]

    def marked(self, marker: str) -> bool:
        first = self.source.split("\n", 1)[0]
        return marker in self.tags or _MARKER[marker].fullmatch(first) is not None


@dataclass(frozen=True)
class Piece:
    """A top-level statement of an exported cell, with the comments above it, as written."""

    cell: int
    kind: Kind
    text: str
    node: ast.stmt
    first_line: int  # the cell line where `text` starts

    @property
    def node_line(self) -> int:
        """The cell line of the statement itself (its first decorator for a definition)."""
        return _start(self.node)


@dataclass(frozen=True)
class Parameter:
    name: str
    annotation: str  # "int", "float", "str", "bool" or "str | None"
    default: str  # the literal as the notebook writes it
    value: object
    cell: int
    line: int


def code_cells(document: Any) -> list[Cell]:
    """The code cells of an nbformat v4 document, numbered by their index among all cells."""
    cells = []
    for number, cell in enumerate(document.cells):
        if cell.cell_type == "code":
            tags = cell.metadata.get("tags", [])
            cells.append(
                Cell(
                    number=number,
                    source=cell.source,
                    tags=frozenset(tag for tag in tags if isinstance(tag, str)),
                    outputs=tuple(cell.get("outputs", ())),
                )
            )
    return cells


def parse(cell: Cell) -> tuple[ast.Module | None, list[Problem]]:
    """The cell's AST, or the problems that keep it from being plain Python.

    Every IPython line is reported, not only the first: a line that fails is blanked and the
    cell parsed again. A `%%` cell magic makes the whole cell another language, so it stops there.
    """
    lines = cell.source.split("\n")
    problems: list[Problem] = []
    for _ in range(len(lines) + 1):
        try:
            tree = ast.parse("\n".join(lines))
            compile(tree, f"<cell {cell.number}>", "exec")
        except SyntaxError as error:
            line = error.lineno or 1
            text = lines[line - 1] if line <= len(lines) else ""
            if not _IPYTHON_LINE.match(text):
                reason = error.msg
                if "outside function" in reason:  # top-level await, return, yield
                    reason += ": not valid in a module's main()"
                problems.append(Problem(cell.number, line, f"not Python: {reason}"))
                return None, problems
            problems.append(Problem(cell.number, line, _ipython_message(text.strip())))
            if text.lstrip().startswith("%%"):
                return None, problems
            lines[line - 1] = text[: len(text) - len(text.lstrip())] + "pass"
            continue
        return (None, problems) if problems else (tree, [])
    return None, problems  # pragma: no cover - each round blanks one line of a finite cell


def _ipython_message(line: str) -> str:
    if _INSTALL.search(line):
        fix = "declare the package in the project's dependencies and delete the line"
    else:
        fix = "write it in Python, or leave it in a cell that is not exported"
    return f"`{line}` is IPython syntax, not Python ({fix})"


def pieces(cell: Cell, tree: ast.Module) -> list[Piece]:
    """The cell cut at its top-level statements. Comments above a statement stay with it, and
    the comments after the last one with that one. Statements that share a line (`a = 1; b = 2`)
    are taken one by one from their exact source: only the comment at the end of that line is
    lost, since it cannot go with both."""
    lines = cell.source.split("\n")
    cursor = 2 if _MARKER[EXPORT].fullmatch(lines[0]) else 1  # the marker is not code
    groups = _groups(tree.body)
    found: list[Piece] = []
    for index, group in enumerate(groups):
        end = len(lines) if index == len(groups) - 1 else _end(group[-1])
        if len(group) == 1:
            text, first = _trim(lines, cursor, end)
            found.append(Piece(cell.number, _kind(group[0]), text, group[0], first))
        else:
            found += _shared_line(cell, group, lines[cursor - 1 : _start(group[0]) - 1], cursor)
            after, _ = _trim(lines, _end(group[-1]) + 1, end)
            if after.strip():
                last = found.pop()
                found.append(replace(last, text=f"{last.text}\n{after}"))
        cursor = _end(group[-1]) + 1
    return found


def _shared_line(cell: Cell, group: list[ast.stmt], above: list[str], row: int) -> list[Piece]:
    """Statements sharing a line, each from its own source; the comment lines `above` them
    (from cell line `row`) go with the first."""
    while above and not above[0].strip():
        above, row = above[1:], row + 1
    found = []
    for node in group:
        segment = ast.get_source_segment(cell.source, node) or ast.unparse(node)
        if node is group[0] and above:
            found.append(Piece(cell.number, _kind(node), "\n".join([*above, segment]), node, row))
        else:
            found.append(Piece(cell.number, _kind(node), segment, node, node.lineno))
    return found


def top_module(node: ast.stmt) -> str | None:
    """The top-level module an import statement names (None for a relative import)."""
    if isinstance(node, ast.Import):
        return node.names[0].name.partition(".")[0]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return node.module.partition(".")[0]
    return None


def _groups(body: list[ast.stmt]) -> list[list[ast.stmt]]:
    groups: list[list[ast.stmt]] = []
    for node in body:
        if groups and _start(node) <= _end(groups[-1][-1]):
            groups[-1].append(node)
        else:
            groups.append([node])
    return groups


def _start(node: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    return min([node.lineno, *(decorator.lineno for decorator in decorators)])


def _end(node: ast.stmt) -> int:
    return node.end_lineno or node.lineno


def _kind(node: ast.stmt) -> Kind:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return "import"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return "definition"
    return "statement"


def _trim(lines: list[str], first: int, last: int) -> tuple[str, int]:
    """Cell lines `first`..`last` (1-based) without the blank lines around them, and the line
    where the text now starts. Lines are kept as written: a trailing space may be in a string."""
    while first < last and not lines[first - 1].strip():
        first += 1
    while last > first and not lines[last - 1].strip():
        last -= 1
    return "\n".join(lines[first - 1 : last]), first


def parameters(cell: Cell, tree: ast.Module) -> tuple[list[Parameter], list[Problem]]:
    """`name = literal` assignments (annotated or not) of a parameters cell. The type is the
    annotation when it names one a command line can parse, else that of the literal."""
    found: dict[str, Parameter] = {}
    problems = []
    for node in tree.body:
        parameter = _parameter(cell, node)
        if isinstance(parameter, Problem):
            problems.append(parameter)
        else:
            found[parameter.name] = parameter  # a later assignment wins, as when the cell runs
    return list(found.values()), problems


_TYPES: dict[type, str] = {bool: "bool", int: "int", float: "float", str: "str"}


def _parameter(cell: Cell, node: ast.stmt) -> Parameter | Problem:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value, annotation = node.targets[0], node.value, None
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target, value, annotation = node.target, node.value, node.annotation
    else:
        return Problem(
            cell.number,
            node.lineno,
            "a parameters cell holds only `name = literal` assignments: move this statement to an exported cell",
        )
    if not isinstance(target, ast.Name):
        return Problem(cell.number, node.lineno, "a parameter is assigned to a plain name")
    try:
        literal = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        literal = ...  # not a literal: no type to give it
    kind = "str | None" if literal is None else _TYPES.get(type(literal))
    if kind is None:
        return Problem(
            cell.number,
            node.lineno,
            f"parameter `{target.id}`: only int, float, str, bool or None literals become command-line options",
        )
    if kind == "int" and annotation is not None and ast.unparse(annotation) == "float":
        kind = "float"  # `rate: float = 1` takes 0.5 on the command line
    default = ast.get_source_segment(cell.source, value) or repr(literal)
    return Parameter(target.id, kind, default, literal, cell.number, node.lineno)


def string_continuations(text: str) -> set[int]:
    """The 0-based lines of `text` that continue a string spanning lines: indenting them would
    change the string's value, so they are moved into main() as they are."""
    inside: set[int] = set()
    opened: list[int] = []  # rows where the f-strings still open began (Python 3.12+ tokens)
    for token in tokenize.generate_tokens(StringIO(text).readline):
        start, end = token.start[0], token.end[0]
        if token.type == _FSTRING_START:
            opened.append(start)
        elif token.type == _FSTRING_END:
            start = opened.pop()
        elif token.type != tokenize.STRING:
            continue
        inside.update(range(start, end))  # rows are 1-based: these are the rows after `start`
    return inside


def saved_value(cell: Cell) -> str | None:
    """The text/plain of the value the cell showed when it was last run, if it has one."""
    for output in cell.outputs:
        if output.get("output_type") == "execute_result":
            text = output.get("data", {}).get("text/plain")
            return "".join(text) if isinstance(text, list) else text
    return None
