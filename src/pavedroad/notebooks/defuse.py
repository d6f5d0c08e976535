"""Hidden state: the names a notebook's code uses before any cell above defines them.

The cells are read top to bottom, as a fresh kernel runs them, with Python's scoping rules:
module-level code, class bodies and comprehensions run at once and must find their names already
defined; function and lambda bodies run later, so their free names need only be defined by some
cell. `global` inside a function defines the name; `del` undefines it; `x += 1` reads before it
writes. A star import, `%run`, or a cell that does not parse may define anything: from there on
an unknown name is not reported (no guessing). Builtins, names IPython injects and the names the
contract lists as injected by the kernel are always defined.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pavedroad.notebooks.reader import PARSE_ERRORS, Cell, IPythonLine, Notebook

# Builtins of every Python a notebook may target (3.10 to 3.14), not only of the one running.
BUILTINS = frozenset(
    {*dir(builtins), "aiter", "anext", "EncodingWarning", "BaseExceptionGroup",
     "ExceptionGroup", "PythonFinalizationError"}
)  # fmt: skip
# What IPython defines in the user namespace before the first cell runs.
IPYTHON_NAMES = frozenset(
    {"In", "Out", "get_ipython", "exit", "quit", "display", "_", "__", "___", "_i", "_ii",
     "_iii", "_ih", "_oh", "_dh", "_exit_code", "__IPYTHON__", "__session__"}
)  # fmt: skip
_OUTPUT_HISTORY = re.compile(r"_i?\d+")  # _5 and _i5: the output and input of cell [5]
_ASSIGNED_MAGIC = re.compile(r"([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*=\s*[%!]")
_CODE_MAGICS = frozenset({"time", "timeit", "prun"})  # `%time x = f()` runs `x = f()`
# nodes that hold no name: nothing to visit below them
_LEAVES = frozenset({ast.Constant, ast.Load, ast.Store, ast.Del, ast.Pass, ast.Break, ast.Continue})
_Comprehension = ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
_Function = ast.FunctionDef | ast.AsyncFunctionDef
_TRY: tuple[type[ast.stmt], ...] = tuple(
    getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name)
)


@dataclass(frozen=True)
class HiddenName:
    """A name used where a fresh kernel would not have it: `why` is nowhere, later or deleted."""

    name: str
    cell: int
    line: int
    why: str  # "nowhere": no cell defines it; "later": only a cell below; "deleted": by `del`
    where: tuple[int, int] | None = None  # the (cell, line) that defines or deletes it


@dataclass
class _Scope:
    kind: str  # "class", "function", "comprehension"
    names: set[str]


@dataclass
class _Flow:
    """The state of a top-to-bottom run, and what it found."""

    known: frozenset[str]  # always defined: builtins, IPython's, the contract's
    defined: set[str] = field(default_factory=set)
    deleted: dict[str, tuple[int, int]] = field(default_factory=dict)
    anything: bool = False  # a star import or `%run` ran: any name may be defined
    first: dict[str, tuple[int, int]] = field(default_factory=dict)  # module-level definitions
    # first uses not defined at the time: run now (module level), or later (a function body);
    # whether a cell below defines them is known at the end of the run
    now: dict[str, tuple[int, int]] = field(default_factory=dict)
    later: dict[str, tuple[int, int]] = field(default_factory=dict)
    deleted_uses: dict[str, HiddenName] = field(default_factory=dict)
    cell: int = 0
    scopes: list[_Scope] = field(default_factory=list)

    # -- names -------------------------------------------------------------------------------

    def bind(self, name: str, line: int) -> None:
        if self.scopes:
            self.scopes[-1].names.add(name)
        else:
            self._define(name, line)

    def _define(self, name: str, line: int) -> None:
        self.defined.add(name)
        self.deleted.pop(name, None)
        self.first.setdefault(name, (self.cell, line))

    def use(self, name: str, line: int) -> None:
        if name in self.defined:
            return
        deferred = False
        for scope in reversed(self.scopes):
            if name in scope.names and (scope.kind != "class" or not deferred):
                return
            deferred = deferred or scope.kind == "function"
        if name in self.known or _OUTPUT_HISTORY.fullmatch(name):
            return
        if deferred:  # runs when called: defined by any cell, or by `global` in a function
            self.later.setdefault(name, (self.cell, line))
        elif name in self.deleted:
            hidden = HiddenName(name, self.cell, line, "deleted", self.deleted[name])
            self.deleted_uses.setdefault(name, hidden)
        elif not self.anything:
            self.now.setdefault(name, (self.cell, line))

    def hidden(self) -> list[HiddenName]:
        """What the run found, once it has seen every definition."""
        found = dict(self.deleted_uses)
        for name, (cell, line) in self.now.items():
            place = self.first.get(name)
            hidden = HiddenName(name, cell, line, "later" if place else "nowhere", place)
            found.setdefault(name, hidden)
        for name, (cell, line) in self.later.items():
            if name not in self.first and not self.anything:
                found.setdefault(name, HiddenName(name, cell, line, "nowhere"))
        return sorted(found.values(), key=lambda hidden: (hidden.cell, hidden.line))

    # -- statements --------------------------------------------------------------------------

    def body(self, statements: Iterable[ast.stmt], ipython: dict[int, IPythonLine]) -> None:
        for node in statements:
            self.statement(node, ipython)

    def statement(self, node: ast.stmt, ipython: dict[int, IPythonLine]) -> None:
        if isinstance(node, ast.Assign):
            self.expression(node.value)
            for target in node.targets:
                self.target(target)
        elif isinstance(node, ast.AugAssign):
            self.expression(node.value)
            if isinstance(node.target, ast.Name):  # reads it; defines nothing new
                self.use(node.target.id, node.lineno)
            else:
                self.target(node.target)
        elif isinstance(node, ast.AnnAssign):
            self.expression(node.annotation)
            if node.value is not None:
                self.expression(node.value)
                self.target(node.target)
        elif isinstance(node, ast.For | ast.AsyncFor):
            self.expression(node.iter)
            self.target(node.target)
            self.body(node.body, ipython)
            self.body(node.orelse, ipython)
        elif isinstance(node, ast.While | ast.If):
            self.expression(node.test)
            self.body(node.body, ipython)
            self.body(node.orelse, ipython)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                self.expression(item.context_expr)
                if item.optional_vars is not None:
                    self.target(item.optional_vars)
            self.body(node.body, ipython)
        elif isinstance(node, _TRY):
            self._try(node, ipython)
        elif isinstance(node, _Function):
            self._function(node)
        elif isinstance(node, ast.ClassDef):
            self._class(node, ipython)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                self.bind(alias.asname or alias.name.partition(".")[0], node.lineno)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    self.anything = True
                else:
                    self.bind(alias.asname or alias.name, node.lineno)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                self._delete(target)
        elif isinstance(node, ast.Match):
            self._match(node, ipython)
        elif isinstance(node, ast.Pass) and node.lineno in ipython and not self.scopes:
            self._ipython(ipython[node.lineno])
        elif not isinstance(node, ast.Global | ast.Nonlocal):
            for child in ast.iter_child_nodes(node):
                self.expression(child)

    def _try(self, node: ast.stmt, ipython: dict[int, IPythonLine]) -> None:
        self.body(getattr(node, "body", []), ipython)
        for handler in getattr(node, "handlers", []):
            if handler.type is not None:
                self.expression(handler.type)
            if handler.name:
                self.bind(handler.name, handler.lineno)
            self.body(handler.body, ipython)
        self.body(getattr(node, "orelse", []), ipython)
        self.body(getattr(node, "finalbody", []), ipython)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        """Decorators, defaults and annotations run now; the body when the function is called."""
        arguments = node.args
        now: list[ast.expr] = [*arguments.defaults, *(d for d in arguments.kw_defaults if d)]
        if not isinstance(node, ast.Lambda):
            now += node.decorator_list
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            now += [a.annotation for a in every if a.annotation is not None]
            now += [node.returns] if node.returns is not None else []
        for expression in now:
            self.expression(expression)
        if not isinstance(node, ast.Lambda):
            self.bind(node.name, node.lineno)
        body: list[ast.stmt] = [ast.Expr(node.body)] if isinstance(node, ast.Lambda) else node.body
        local, declared = _locals(arguments, body)
        for name in declared:  # `global x` then `x = ...`: defines x at module level
            if not self.scopes:
                self._define(name, node.lineno)
        self.scopes.append(_Scope("function", local))
        self.body(body, {})
        self.scopes.pop()

    def _class(self, node: ast.ClassDef, ipython: dict[int, IPythonLine]) -> None:
        for expression in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.expression(expression)
        self.scopes.append(_Scope("class", set()))
        self.body(node.body, ipython)
        self.scopes.pop()
        self.bind(node.name, node.lineno)

    def _delete(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.use(target.id, target.lineno)
            if not self.scopes:
                self.defined.discard(target.id)
                self.deleted[target.id] = (self.cell, target.lineno)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._delete(element)
        else:
            self.expression(target)

    def _match(self, node: ast.Match, ipython: dict[int, IPythonLine]) -> None:
        self.expression(node.subject)
        for case in node.cases:
            for pattern in ast.walk(case.pattern):
                if isinstance(pattern, ast.MatchValue):
                    self.expression(pattern.value)
                elif isinstance(pattern, ast.MatchClass):
                    self.expression(pattern.cls)
                name = getattr(pattern, "name", None) or getattr(pattern, "rest", None)
                if isinstance(name, str):
                    self.bind(name, case.pattern.lineno)
            if case.guard is not None:
                self.expression(case.guard)
            self.body(case.body, ipython)

    def _ipython(self, line: IPythonLine) -> None:
        """What an IPython line defines: `files = !ls`, `%time x = f()`; `%run` anything."""
        assigned = _ASSIGNED_MAGIC.match(line.text)
        if assigned:
            for name in assigned.group(1).split(","):
                self.bind(name.strip(), line.line)
            return
        magic, _, rest = line.text.lstrip("%").partition(" ")
        if not line.text.startswith("%") or line.text.startswith("%%"):
            return
        if magic == "run":
            self.anything = True
        elif magic in _CODE_MAGICS:
            code = _magic_code(rest)
            if code is not None:
                ast.increment_lineno(code, line.line - 1)
                self.body(code.body, {})

    # -- expressions -------------------------------------------------------------------------

    def target(self, node: ast.expr) -> None:
        """An assignment target: names are bound, the rest (`a[i]`, `obj.x`) is read."""
        if isinstance(node, ast.Name):
            self.bind(node.id, node.lineno)
        elif isinstance(node, ast.Tuple | ast.List):
            for element in node.elts:
                self.target(element)
        elif isinstance(node, ast.Starred):
            self.target(node.value)
        else:
            self.expression(node)

    def expression(self, node: ast.AST) -> None:
        kind = type(node)
        if kind is ast.Name:
            assert isinstance(node, ast.Name)
            if type(node.ctx) is ast.Load:
                self.use(node.id, node.lineno)
            else:
                self.bind(node.id, node.lineno)
        elif kind in _LEAVES:
            return
        elif kind is ast.Attribute:  # the most common nodes, without iter_child_nodes' cost
            self.expression(node.value)  # type: ignore[attr-defined]
        elif kind is ast.Call:
            assert isinstance(node, ast.Call)
            self.expression(node.func)
            for argument in node.args:
                self.expression(argument)
            for keyword in node.keywords:
                self.expression(keyword.value)
        elif isinstance(node, ast.NamedExpr):
            self.expression(node.value)
            self._walrus(node.target.id, node.lineno)
        elif isinstance(node, ast.Lambda):
            self._function(node)
        elif isinstance(node, _Comprehension):
            self._comprehension(node)
        else:
            for child in ast.iter_child_nodes(node):
                self.expression(child)

    def _walrus(self, name: str, line: int) -> None:
        """`:=` in a comprehension binds in the scope around it."""
        for scope in reversed(self.scopes):
            if scope.kind != "comprehension":
                scope.names.add(name)
                return
        self._define(name, line)

    def _comprehension(self, node: ast.expr) -> None:
        generators: list[ast.comprehension] = getattr(node, "generators", [])
        self.expression(generators[0].iter)  # evaluated in the enclosing scope
        self.scopes.append(_Scope("comprehension", set()))
        for index, generator in enumerate(generators):
            if index:
                self.expression(generator.iter)
            self.target(generator.target)
            for condition in generator.ifs:
                self.expression(condition)
        if isinstance(node, ast.DictComp):
            self.expression(node.key)
            self.expression(node.value)
        else:
            self.expression(getattr(node, "elt"))  # noqa: B009 - every other comprehension has one
        self.scopes.pop()


def _magic_code(rest: str) -> ast.Module | None:
    """The statement after `%time` / `%timeit -n 10 -r 3`, parsed; None when it is not Python."""
    words = rest.split()
    while words and words[0].startswith("-"):  # options, some with a value: `-n 10`
        words = words[2:] if len(words) > 1 and words[1].isdigit() else words[1:]
    try:
        return ast.parse(" ".join(words))
    except PARSE_ERRORS:
        return None


def _locals(arguments: ast.arguments, body: list[ast.stmt]) -> tuple[set[str], set[str]]:
    """A function's local names (its parameters and every name it binds, as Python decides
    them at compile time) and the names it declares `global`."""
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    local = {argument.arg for argument in every}
    declared: set[str] = set()
    for node in _own_nodes(body):
        if isinstance(node, ast.Global | ast.Nonlocal):
            declared.update(node.names)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            local.add(node.id)
        elif isinstance(node, _Function | ast.ClassDef):
            local.add(node.name)
        elif isinstance(node, ast.alias):
            local.add(node.asname or node.name.partition(".")[0])
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            local.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            local.add(node.rest)
    return local - declared, declared


def _own_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """The nodes of a function's body that belong to its scope: nested functions and classes
    only by their name, comprehensions only by their walrus targets."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _Function | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, _Comprehension):
            stack.extend(n.target for n in ast.walk(node) if isinstance(n, ast.NamedExpr))
            continue
        stack.extend(ast.iter_child_nodes(node))


# -- the notebook ----------------------------------------------------------------------------


def hidden_names(notebook: Notebook, injected: Iterable[str] = ()) -> list[HiddenName]:
    """Every name a top-to-bottom run would miss, once each, at its first use."""
    cells = [cell for cell in notebook.code_cells if cell.code.python is not None]
    flow = _Flow(known=BUILTINS | IPYTHON_NAMES | frozenset(injected))
    for cell in cells:
        flow.cell = cell.index
        tree = cell.tree
        if tree is None:  # a cell that does not parse may define anything
            flow.anything = True
            continue
        _run_cell(flow, cell, tree)
    return flow.hidden()


def _cell_magic_names(flow: _Flow, ipython: tuple[IPythonLine, ...]) -> None:
    """`%%capture out` defines `out`."""
    for line in ipython:
        words = line.text.split()
        if words and words[0] == "%%capture" and len(words) > 1 and words[-1].isidentifier():
            flow.bind(words[-1], line.line)


def _run_cell(flow: _Flow, cell: Cell, tree: ast.Module) -> None:
    _cell_magic_names(flow, cell.code.ipython)
    try:
        flow.body(tree.body, {line.line: line for line in cell.code.ipython})
    except RecursionError:  # an expression nested deeper than the walk can follow (generated
        flow.scopes.clear()  # code): what the cell defines is unknown, as after a star import
        flow.anything = True
