"""Def-use over the exported cells, checked against where each statement lands in the module.

A notebook's cells share one namespace; the module has two: module level (hoisted imports,
function and class definitions) and main()'s locals (every other top-level statement, and the
parameters). A name read from the wrong one fails only when the module runs, so each way it
can fail is found here, before anything is written:

- read and defined nowhere (no exported cell, parameter or import): a NameError;
- read in main() before the statement that defines it, in a later cell: an UnboundLocalError;
- read by a function or class from main()'s locals (a constant set in a cell): a NameError;
- bound both at module level and in main() (`f1_score = f1_score(...)`): Python makes the name
  local to all of main(), so even the uses before that line stop seeing the import;
- defined twice at module level: the last definition would serve every call, where the
  notebook used each one in turn.

Scopes (functions, lambdas, comprehensions, classes, `global`) are Python's own: the standard
library's symtable resolves them, on each statement alone.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from collections.abc import Iterable
from dataclasses import dataclass

from pavedroad.extract.cells import Parameter, Piece, Problem

BUILTINS = frozenset(dir(builtins))
RESERVED = frozenset({"main", "_cli"})  # the generated module's own names
# Names an IPython kernel injects that a module does not have, with what to do instead.
_KERNEL_NAMES = {
    "display": "import it: `from IPython.display import display`, or print instead",
    "get_ipython": "it exists only inside a kernel",
    "In": "IPython's input history exists only inside a kernel",
    "Out": "IPython's output history exists only inside a kernel",
}


@dataclass(frozen=True)
class Names:
    """What one top-level statement binds at its level and reads from the namespace around it."""

    binds: frozenset[str]
    reads: frozenset[str]
    declared_global: frozenset[str]


def names(node: ast.stmt) -> Names:
    table = symtable.symtable(ast.unparse(node), "<cell>", "exec")
    binds = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    reads = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    declared: set[str] = set()
    for child in table.get_children():
        _nested(child, reads, declared)
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        reads.add(node.target.id)  # `x += 1` reads x first (symtable counts it only bound)
    else:
        reads -= binds  # `x = f(x)` reads before it binds, but is let pass
    return Names(frozenset(binds), frozenset(reads), frozenset(declared))


def _nested(table: symtable.SymbolTable, reads: set[str], declared: set[str]) -> None:
    for symbol in table.get_symbols():
        if symbol.is_global() and symbol.is_referenced():
            reads.add(symbol.get_name())
        if symbol.is_declared_global():
            declared.add(symbol.get_name())
    for child in table.get_children():
        _nested(child, reads, declared)


def check(parameters: list[Parameter], pieces: list[Piece]) -> list[Problem]:
    """Every name problem of the exported cells, in cell and line order."""
    module_level, problems = _module_level(pieces)
    statements = [piece for piece in pieces if piece.kind == "statement"]
    local: dict[str, Piece | Parameter] = {p.name: p for p in parameters}
    for piece in statements:
        for name in names(piece.node).binds:
            local.setdefault(name, piece)
    star = any(_is_star(piece.node) for piece in pieces)
    problems += _reserved(parameters, pieces)
    problems += _clashes(parameters, statements, module_level)
    problems += _main_reads(parameters, statements, module_level, local, star)
    for piece in pieces:
        if piece.kind == "definition":
            problems += _definition_reads(piece, module_level, local, star)
    return sorted(set(problems), key=lambda p: (p.cell, p.line, p.message))


def _module_level(pieces: list[Piece]) -> tuple[dict[str, Piece], list[Problem]]:
    """Names bound at module level, each by the piece that binds it; a second, different
    binding of the same name is a problem (the same import twice is not: it is de-duplicated)."""
    found: dict[str, Piece] = {}
    problems = []
    for piece in pieces:
        if piece.kind == "statement":
            continue
        for name in sorted(names(piece.node).binds):
            first = found.setdefault(name, piece)
            if first is not piece and not _same_import(first.node, piece.node, name):
                problems.append(
                    Problem(
                        piece.cell,
                        piece.node_line,
                        f"`{name}` is already defined at module level in cell {first.cell}: "
                        "a module keeps one definition per name, so rename one of them",
                    )
                )
    return found, problems


def _same_import(first: ast.stmt, second: ast.stmt, name: str) -> bool:
    return _import_of(first, name) is not None and _import_of(first, name) == _import_of(
        second, name
    )


def _import_of(node: ast.stmt, name: str) -> tuple[object, ...] | None:
    """What `name` refers to when `node` imports it, comparable across statements."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if (alias.asname or alias.name.partition(".")[0]) == name:
                return ("import", alias.name if alias.asname else name, alias.asname)
    elif isinstance(node, ast.ImportFrom):
        for alias in node.names:
            if (alias.asname or alias.name) == name:
                return ("from", node.level, node.module, alias.name)
    return None


def _is_star(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)


def _reserved(parameters: list[Parameter], pieces: list[Piece]) -> Iterable[Problem]:
    where = [(p.name, p.cell, p.line) for p in parameters]
    for piece in pieces:
        for name in names(piece.node).binds & RESERVED:
            where.append((name, piece.cell, _line_of(piece.node, name)))
    for name, cell, line in where:
        if name in RESERVED:
            yield Problem(cell, line, f"`{name}` is the generated module's own name: rename it")


def _clashes(
    parameters: list[Parameter], statements: list[Piece], module_level: dict[str, Piece]
) -> Iterable[Problem]:
    for parameter in parameters:
        if parameter.name in module_level:
            where = module_level[parameter.name].cell
            yield Problem(
                parameter.cell,
                parameter.line,
                f"parameter `{parameter.name}` is also defined at module level in cell {where}: rename one",
            )
    for piece in statements:
        for name in sorted(names(piece.node).binds & module_level.keys()):
            yield Problem(
                piece.cell,
                _line_of(piece.node, name),
                f"`{name}` is assigned here and imported or defined in cell {module_level[name].cell}: "
                "in main() the assignment would hide it from every line, also the ones above; rename the variable",
            )


def _main_reads(
    parameters: list[Parameter],
    statements: list[Piece],
    module_level: dict[str, Piece],
    local: dict[str, Piece | Parameter],
    star: bool,
) -> Iterable[Problem]:
    bound = {p.name for p in parameters}
    for piece in statements:
        found = names(piece.node)
        for name in sorted(found.reads - BUILTINS - module_level.keys() - bound):
            line = _line_of(piece.node, name)
            if local.get(name, piece) is not piece:  # a later statement binds it
                yield Problem(
                    piece.cell,
                    line,
                    f"`{name}` is used before cell {local[name].cell} defines it: move the definition up",
                )
            elif not star:
                yield _undefined(piece.cell, line, name)
        bound |= found.binds


def _definition_reads(
    piece: Piece, module_level: dict[str, Piece], local: dict[str, Piece | Parameter], star: bool
) -> Iterable[Problem]:
    found = names(piece.node)
    title = f"`{getattr(piece.node, 'name', '?')}`"
    for name in sorted(found.declared_global):
        yield Problem(
            piece.cell,
            _line_of(piece.node, name),
            f"{title} declares `global {name}`: at module level it would not see main()'s variables; return the value instead",
        )
    for name in sorted(found.reads - BUILTINS - module_level.keys()):
        line = _line_of(piece.node, name)
        if name in local:
            yield Problem(
                piece.cell,
                line,
                f"{title} uses `{name}`, which cell {local[name].cell} sets at the top level and so "
                f"becomes a variable of main(): pass it to {title} as an argument",
            )
        elif not star:
            yield _undefined(piece.cell, line, name)


def _undefined(cell: int, line: int, name: str) -> Problem:
    hint = _KERNEL_NAMES.get(name, "define it in an exported cell, or tag the cell that does")
    return Problem(
        cell,
        line,
        f"`{name}` is used but no exported cell, parameter or import defines it ({hint})",
    )


def _line_of(node: ast.stmt, name: str) -> int:
    """The first line of `node` that names `name` (the statement's own line when none does)."""
    lines = [
        found.lineno
        for found in ast.walk(node)
        if isinstance(found, ast.stmt | ast.expr) and _names(found, name)
    ]
    return min(lines, default=node.lineno)


def _names(node: ast.AST, name: str) -> bool:
    if isinstance(node, ast.Name):
        return node.id == name
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == name
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return name in node.names
    return False
