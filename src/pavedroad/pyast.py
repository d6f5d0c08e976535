"""Static symbol resolution: what a name in a project module is bound to, without importing it.

Checks must never run project code (it may need data, credentials or an hour of training), so a
reference such as `churn.cli:main` is resolved by reading the AST: find the module in the project
layout, find the statement that binds the name at top level, and follow `from x import y`
re-exports for as long as they stay inside the project. A name imported from outside the project
resolves to its qualified name there (`pydantic.BaseModel`), which is as far as static reading
can honestly go.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pavedroad.project import Project

# Bounds the chain of `A = B` aliases followed to a class; real code never comes close.
MAX_ALIASES = 8


class Unresolved(Exception):
    """A reference that does not resolve statically: why, and where to look when it is known.

    `line` is set when the cause is at a specific line of a project file (a syntax error, an
    import of a name its source lacks); otherwise the cause is the reference itself.
    """

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        super().__init__(message)


class ModuleMissing(Unresolved):
    """The module is not a file of the project."""


class NameMissing(Unresolved):
    """The module exists but binds no such name at top level."""


class BrokenModule(Unresolved):
    """The module exists but cannot be parsed (or read)."""


@dataclass(frozen=True)
class Definition:
    """A name defined by a statement of a project module: a def, a class or an assignment."""

    module: str
    path: Path
    node: ast.stmt
    qualname: str

    @property
    def line(self) -> int:
        return self.node.lineno

    @property
    def reference(self) -> str:
        return f"{self.module}:{self.qualname}"


@dataclass(frozen=True)
class ProjectModule:
    """A name bound to a module of the project (`import churn.features as features`)."""

    dotted: str
    path: Path


@dataclass(frozen=True)
class External:
    """A name imported from outside the project, as its qualified name there."""

    qualname: str
    path: Path  # the project file that imports it
    line: int


Binding = Definition | ProjectModule | External


# -- references -------------------------------------------------------------------------------


def split_reference(reference: str) -> tuple[str, list[str]]:
    """`"churn.cli:App.run"` -> `("churn.cli", ["App", "run"])`."""
    module, _, attributes = reference.partition(":")
    return module.strip(), [part.strip() for part in attributes.split(".")] if attributes else []


def resolve_reference(project: Project, reference: str) -> Binding:
    """What `module:name` (or `module:Class.attribute`) names in the project."""
    module, attributes = split_reference(reference)
    if not attributes:
        return ProjectModule(module, load_module(project, module)[0])
    return _attributes(project, lookup(project, module, attributes[0]), attributes[1:])


def find_class(project: Project, reference: str) -> Definition:
    """The class `reference` names, following re-exports and `Alias = Class` assignments.

    Raises Unresolved when it names nothing, or something that is not a class of the project.
    """
    binding = follow_aliases(project, resolve_reference(project, reference))
    if isinstance(binding, Definition) and isinstance(binding.node, ast.ClassDef):
        return binding
    raise Unresolved(f"{reference} is {describe(project, binding)}, not a class of the project")


def follow_aliases(project: Project, binding: Binding) -> Binding:
    """`Customer = CustomerV2` names what CustomerV2 names."""
    for _ in range(MAX_ALIASES):
        if not isinstance(binding, Definition):
            return binding
        value = _alias_value(binding.node)
        resolved = None if value is None else resolve_expr(project, binding.module, value)
        if resolved is None:
            return binding
        binding = resolved
    return binding


def describe(project: Project, binding: Binding) -> str:
    """A short phrase for error messages: 'a function (src/churn/model.py:3)'."""
    if isinstance(binding, ProjectModule):
        return f"the module {binding.dotted} ({project.rel(binding.path)})"
    if isinstance(binding, External):
        return (
            f"{binding.qualname}, imported from outside the project "
            f"({project.rel(binding.path)}:{binding.line})"
        )
    kinds = {
        ast.FunctionDef: "a function",
        ast.AsyncFunctionDef: "an async function",
        ast.ClassDef: "a class",
    }
    kind = kinds.get(type(binding.node), "a variable")
    return f"{kind} ({project.rel(binding.path)}:{binding.line})"


# -- modules and names ------------------------------------------------------------------------


def load_module(project: Project, dotted: str) -> tuple[Path, ast.Module]:
    """The file and AST of project module `dotted`; its parent packages must parse too, since
    importing `churn.cli` runs `churn/__init__.py` first."""
    path = project.module_path(dotted)
    if path is None:
        raise ModuleMissing(
            f"module {dotted} is not in the project (expected {_expected(project, dotted)})"
        )
    parts = dotted.split(".")
    for depth in range(1, len(parts)):
        parent = project.module_path(".".join(parts[:depth]))
        if parent is not None and parent.name == "__init__.py":
            parse(project, parent)
    return path, parse(project, path)


def parse(project: Project, path: Path) -> ast.Module:
    """The module's AST, or BrokenModule naming the file and the line that does not parse."""
    tree = project.tree(path)
    if tree is not None:
        return tree
    error = project.syntax_errors.get(path)
    if error is None:
        raise BrokenModule(f"{project.rel(path)} cannot be read as UTF-8 text", path)
    line = error.lineno
    where = f"{project.rel(path)}:{line}" if line else project.rel(path)
    raise BrokenModule(f"{where} does not parse: {error.msg}", path, line)


def lookup(project: Project, module: str, name: str) -> Binding:
    """What top-level `name` of project module `module` is bound to, re-exports followed."""
    return _lookup(project, module, name, seen=())


def _lookup(project: Project, module: str, name: str, seen: tuple[tuple[str, str], ...]) -> Binding:
    if (module, name) in seen:
        chain = " -> ".join(f"{m}:{n}" for m, n in (*seen, (module, name)))
        raise Unresolved(f"`{name}` is imported in a cycle: {chain}")
    seen = (*seen, (module, name))
    path, tree = load_module(project, module)
    found = last_binding(tree.body, name)
    if found is None:
        return _from_star_imports(project, module, path, tree, name, seen)
    node, alias = found
    if isinstance(node, ast.ImportFrom) and alias is not None:
        source = import_source(module, path, node)
        return _follow(project, source, alias.name, path, node.lineno, seen)
    if isinstance(node, ast.Import) and alias is not None:
        imported = alias.name if alias.asname else alias.name.split(".")[0]
        return _module_binding(project, imported, path, node.lineno)
    return Definition(module, path, node, name)


def _follow(
    project: Project,
    source: str,
    name: str,
    path: Path,
    line: int,
    seen: tuple[tuple[str, str], ...],
) -> Binding:
    """`from source import name`, seen from `path`:`line`."""
    if project.module_path(source) is None:
        return External(f"{source}.{name}", path, line)
    # `from churn import features` imports the submodule when `churn` binds no such name, as
    # `churn/__init__.py` itself does to expose it.
    submodule = project.module_path(f"{source}.{name}")
    if submodule is not None and (source, name) in seen:
        return ProjectModule(f"{source}.{name}", submodule)
    try:
        return _lookup(project, source, name, seen)
    except NameMissing as error:
        if submodule is not None:
            return ProjectModule(f"{source}.{name}", submodule)
        raise NameMissing(
            f"{error.message}, yet {project.rel(path)}:{line} imports it from {source}", path, line
        ) from None


def _from_star_imports(
    project: Project,
    module: str,
    path: Path,
    tree: ast.Module,
    name: str,
    seen: tuple[tuple[str, str], ...],
) -> Binding:
    for node in _statements(tree.body):
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            source = import_source(module, path, node)
            if project.module_path(source) is None:
                continue
            try:
                return _lookup(project, source, name, seen)
            except NameMissing:
                continue
    raise NameMissing(f"`{name}` is not defined at the top level of {project.rel(path)}", path)


def _module_binding(project: Project, dotted: str, path: Path, line: int) -> Binding:
    found = project.module_path(dotted)
    return ProjectModule(dotted, found) if found is not None else External(dotted, path, line)


def import_source(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` in `module` (at `path`) reads from."""
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    parts = package.split(".") if package else []
    base = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
    return ".".join([*base, *([node.module] if node.module else [])])


def _expected(project: Project, dotted: str) -> str:
    base = project.source_roots[0].joinpath(*dotted.split("."))
    return f"{project.rel(base)}.py or {project.rel(base / '__init__.py')}"


# -- bindings in a body ----------------------------------------------------------------------


def last_binding(body: list[ast.stmt], name: str) -> tuple[ast.stmt, ast.alias | None] | None:
    """The last statement of `body` that binds `name` (the one in force once the body ran)."""
    found = None
    for bound, node, alias in bindings(body):
        if bound == name:
            found = (node, alias)
    return found


def bindings(body: list[ast.stmt]) -> Iterator[tuple[str, ast.stmt, ast.alias | None]]:
    """Each (name, statement, import alias) that `body` binds, in order, looking inside the
    `if`/`try`/`with` blocks that run at import time (not `if TYPE_CHECKING:`)."""
    for node in _statements(body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name, node, None
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for name in _target_names(target):
                    yield name, node, None
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            for name in _target_names(node.target):
                yield name, node, None
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.asname or alias.name.split(".")[0], node, alias
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    yield alias.asname or alias.name, node, alias


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of `body`, flattening the blocks that run when the module is imported."""
    for node in body:
        if isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _statements(node.body)
            yield from _statements(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _statements(node.body)
            for handler in node.handlers:
                yield from _statements(handler.body)
            yield from _statements(node.orelse)
            yield from _statements(node.finalbody)
        elif isinstance(node, ast.With):
            yield from _statements(node.body)
        else:
            yield node


def _is_type_checking(test: ast.expr) -> bool:
    names = dotted_name(test)
    return names is not None and names[-1] == "TYPE_CHECKING"


def _target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


# -- expressions and classes -----------------------------------------------------------------


def dotted_name(expr: ast.expr) -> list[str] | None:
    """`pydantic.BaseModel` -> ["pydantic", "BaseModel"]; a subscript reads as what it
    subscripts (`Generic[T]`); anything else is None."""
    if isinstance(expr, ast.Subscript):
        return dotted_name(expr.value)
    if isinstance(expr, ast.Name):
        return [expr.id]
    if isinstance(expr, ast.Attribute):
        head = dotted_name(expr.value)
        return None if head is None else [*head, expr.attr]
    return None


def resolve_expr(project: Project, module: str, expr: ast.expr) -> Binding | None:
    """What a dotted-name expression written at top level of `module` names; None when the
    expression is not a dotted name (a call's result, a lambda)."""
    names = dotted_name(expr)
    if names is None:
        return None
    head, *rest = names
    path = project.module_path(module)
    try:
        binding = lookup(project, module, head)
    except NameMissing as error:
        if error.path != path or error.line is not None:
            raise  # the name is imported here, and missing where it is imported from
        if not hasattr(builtins, head) or path is None:
            where = project.rel(path) if path else module
            raise NameMissing(f"`{head}` is not defined in {where}", path, expr.lineno) from None
        binding = External(f"builtins.{head}", path, expr.lineno)
    return _attributes(project, binding, rest)


def _attributes(project: Project, binding: Binding, attributes: list[str]) -> Binding:
    """`binding.a.b`: into project modules and class bodies; outside the project, by name."""
    for attribute in attributes:
        if isinstance(binding, External):
            binding = External(f"{binding.qualname}.{attribute}", binding.path, binding.line)
        elif isinstance(binding, ProjectModule):
            binding = lookup(project, binding.dotted, attribute)
        elif isinstance(binding.node, ast.ClassDef):
            found = last_binding(binding.node.body, attribute)
            if found is None:
                raise NameMissing(
                    f"class {binding.reference} has no attribute `{attribute}`",
                    binding.path,
                    binding.line,
                )
            qualname = f"{binding.qualname}.{attribute}"
            binding = Definition(binding.module, binding.path, found[0], qualname)
        else:
            raise Unresolved(
                f"{binding.reference} is {describe(project, binding)}, so `{attribute}` on it "
                "cannot be found statically"
            )
    return binding


def _alias_value(node: ast.stmt) -> ast.expr | None:
    if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(
        node.value, ast.Name | ast.Attribute
    ):
        return node.value
    return None


def class_bases(project: Project, cls: Definition) -> list[Binding | None]:
    """What each base of class `cls` names (None for a base that is not a dotted name)."""
    node = _class_node(cls)
    return [_resolve_class_expr(project, cls, base) for base in node.bases]


def class_decorators(project: Project, cls: Definition) -> list[Binding | None]:
    """What each decorator of `cls` names; `@dataclass(frozen=True)` names `dataclass`."""
    node = _class_node(cls)
    return [
        _resolve_class_expr(project, cls, expr.func if isinstance(expr, ast.Call) else expr)
        for expr in node.decorator_list
    ]


def _resolve_class_expr(project: Project, cls: Definition, expr: ast.expr) -> Binding | None:
    binding = resolve_expr(project, cls.module, expr)
    return None if binding is None else follow_aliases(project, binding)


def _class_node(cls: Definition) -> ast.ClassDef:
    if not isinstance(cls.node, ast.ClassDef):
        raise TypeError(f"{cls.reference} is not a class")
    return cls.node
