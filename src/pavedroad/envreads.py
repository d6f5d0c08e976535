"""Find the environment variables a module reads, from its AST alone (the code is never run).

Recognised reads, with imports followed through aliases (`import os as o`, `from os import
environ as env`, `from os import getenv`): `os.environ["X"]`, `os.environ.get("X")`,
`os.environ.setdefault("X", ...)`, `os.environ.pop("X")`, `"X" in os.environ`, `os.getenv("X")`;
and the fields of pydantic-settings classes (`BaseSettings` from pydantic_settings, or pydantic
v1), each of which is read from `env_prefix + field name`, or from its alias.

A name must be a string literal or a module-level constant bound once to one; other dynamic names
(`os.environ[name]`) cannot be resolved statically and are not reported. Settings classes are
followed through subclasses in the same module only.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

SETTINGS_MODULES = frozenset(
    {
        "pydantic_settings",
        "pydantic",
        "pydantic.v1",
        "pydantic.env_settings",
        "pydantic.v1.env_settings",
    }
)
_ENVIRON_METHODS = frozenset({"get", "setdefault", "pop"})
_ALIAS_KEYWORDS = ("validation_alias", "alias", "env")  # `env` is pydantic v1's Field(env=...)
_Literal = Callable[[ast.expr | None], str | None]


@dataclass(frozen=True)
class EnvRead:
    """One place that reads environment variable `name`, and how (for the message)."""

    name: str
    path: Path
    line: int
    via: str
    case_sensitive: bool = True  # pydantic-settings matches names case-insensitively by default

    def reads(self, variable: str) -> bool:
        """Whether this read is of `variable`, honouring the reader's case sensitivity."""
        return (
            self.name == variable if self.case_sensitive else self.name.upper() == variable.upper()
        )


@dataclass
class _Names:
    """What the module's imports bind: names for `os`, `os.environ`, `os.getenv`, BaseSettings."""

    os: set[str]
    environ: set[str]
    getenv: set[str]
    settings_modules: set[str]
    settings_bases: set[str]


def env_reads(tree: ast.Module, path: Path) -> list[EnvRead]:
    """Every environment variable read in `tree` (the module at `path`), in source order."""
    names = _imports(tree)
    constants = _string_constants(tree)
    found = list(_direct_reads(tree, path, names, constants))
    found.extend(_settings_reads(tree, path, names))
    return sorted(found, key=lambda read: read.line)


def _imports(tree: ast.Module) -> _Names:
    names = _Names(set(), set(), set(), set(), set())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "os" or (alias.name.startswith("os.") and alias.asname is None):
                    names.os.add(alias.asname or "os")
                elif alias.name in SETTINGS_MODULES:
                    names.settings_modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            for alias in node.names:
                bound = alias.asname or alias.name
                if node.module == "os" and alias.name == "environ":
                    names.environ.add(bound)
                elif node.module == "os" and alias.name == "getenv":
                    names.getenv.add(bound)
                elif node.module in SETTINGS_MODULES and alias.name == "BaseSettings":
                    names.settings_bases.add(bound)
    return names


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level names bound exactly once, to a string: `MODEL_PATH = "CHURN_MODEL_PATH"`."""
    values: dict[str, str] = {}
    seen: set[str] = set()
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            if target.id in seen:
                values.pop(target.id, None)
            elif isinstance(value, ast.Constant) and isinstance(value.value, str):
                values[target.id] = value.value
            seen.add(target.id)
    return values


def _direct_reads(
    tree: ast.Module, path: Path, names: _Names, constants: dict[str, str]
) -> Iterator[EnvRead]:
    def literal(node: ast.expr | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return constants.get(node.id)
        return None

    for node in ast.walk(tree):
        if not isinstance(node, ast.expr):
            continue
        found = _read_in(node, names, literal)
        if found is not None:
            name, via = found
            yield EnvRead(name=name, path=path, line=node.lineno, via=via)


def _read_in(node: ast.expr, names: _Names, literal: _Literal) -> tuple[str, str] | None:
    """(variable, how) when `node` itself reads one variable of the environment."""
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.ctx, ast.Load)
        and _is_environ(node.value, names)
    ):
        name = literal(node.slice)
        return (name, "os.environ[...]") if name is not None else None
    if isinstance(node, ast.Call):
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in _ENVIRON_METHODS
            and _is_environ(func.value, names)
        ):
            name = literal(node.args[0]) if node.args else None
            return (name, f"os.environ.{func.attr}()") if name is not None else None
        if _is_getenv(func, names):
            argument = node.args[0] if node.args else _keyword(node, "key")
            name = literal(argument)
            return (name, "os.getenv()") if name is not None else None
    if (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.ops[0], (ast.In, ast.NotIn))
        and _is_environ(node.comparators[0], names)
    ):
        name = literal(node.left)
        return (name, "... in os.environ") if name is not None else None
    return None


def _is_environ(node: ast.expr, names: _Names) -> bool:
    if isinstance(node, ast.Name):
        return node.id in names.environ
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id in names.os
    )


def _is_getenv(node: ast.expr, names: _Names) -> bool:
    if isinstance(node, ast.Name):
        return node.id in names.getenv
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "getenv"
        and isinstance(node.value, ast.Name)
        and node.value.id in names.os
    )


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


@dataclass(frozen=True)
class _SettingsConfig:
    """The env-related configuration of a settings class; None: not set here, inherited."""

    prefix: str | None = None
    case_sensitive: bool | None = None

    def over(self, parent: _SettingsConfig) -> _SettingsConfig:
        return _SettingsConfig(
            self.prefix if self.prefix is not None else parent.prefix,
            self.case_sensitive if self.case_sensitive is not None else parent.case_sensitive,
        )


_DEFAULTS = _SettingsConfig(prefix="", case_sensitive=False)  # pydantic-settings' own defaults


def _settings_reads(tree: ast.Module, path: Path, names: _Names) -> Iterator[EnvRead]:
    """The variables read by each pydantic-settings class: one per field."""
    configs: dict[str, _SettingsConfig] = {}
    for node in ast.walk(tree):  # breadth first: a parent class is seen before its subclasses
        if not isinstance(node, ast.ClassDef):
            continue
        parent = _settings_parent(node, names, configs)
        if parent is None:
            continue
        config = configs[node.name] = _class_config(node).over(parent)
        for name, field in _fields(node):
            yield from _field_reads(f"{node.name}.{name}", name, field, config, path)


def _settings_parent(
    node: ast.ClassDef, names: _Names, configs: dict[str, _SettingsConfig]
) -> _SettingsConfig | None:
    for base in node.bases:
        dotted = _dotted(base)
        if dotted in names.settings_bases or any(
            dotted == f"{module}.BaseSettings" for module in names.settings_modules
        ):
            return _DEFAULTS
        if dotted in configs:
            return configs[dotted]
    return None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner is not None else None
    return None


def _class_config(node: ast.ClassDef) -> _SettingsConfig:
    """env_prefix and case_sensitive, from class keywords, `model_config` or a v1 `class Config`."""
    config = _config_from(node.keywords)
    for statement in node.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets):
                config = _config_from(_config_items(statement.value)).over(config)
        elif isinstance(statement, ast.ClassDef) and statement.name == "Config":
            config = _config_from(_class_items(statement)).over(config)
    return config


def _config_items(value: ast.expr | None) -> list[ast.keyword]:
    """`SettingsConfigDict(env_prefix=...)` or `{"env_prefix": ...}`, as keywords."""
    if isinstance(value, ast.Call):
        return value.keywords
    if isinstance(value, ast.Dict):
        return [
            ast.keyword(arg=key.value, value=item)
            for key, item in zip(value.keys, value.values, strict=True)
            if isinstance(key, ast.Constant) and isinstance(key.value, str)
        ]
    return []


def _class_items(config: ast.ClassDef) -> list[ast.keyword]:
    return [
        ast.keyword(arg=target.id, value=statement.value)
        for statement in config.body
        if isinstance(statement, ast.Assign)
        for target in statement.targets
        if isinstance(target, ast.Name)
    ]


def _config_from(items: list[ast.keyword]) -> _SettingsConfig:
    values = {item.arg: item.value for item in items if item.arg is not None}
    prefix = values.get("env_prefix")
    sensitive = values.get("case_sensitive")
    return _SettingsConfig(
        prefix=prefix.value
        if isinstance(prefix, ast.Constant) and isinstance(prefix.value, str)
        else None,
        case_sensitive=sensitive.value
        if isinstance(sensitive, ast.Constant) and isinstance(sensitive.value, bool)
        else None,
    )


def _fields(node: ast.ClassDef) -> Iterator[tuple[str, ast.AnnAssign]]:
    """The annotated fields of a class body, by name (ClassVars and private names are not)."""
    for statement in node.body:
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and not statement.target.id.startswith("_")
            and statement.target.id != "model_config"
            and not _is_classvar(statement.annotation)
        ):
            yield statement.target.id, statement


def _is_classvar(annotation: ast.expr) -> bool:
    if isinstance(annotation, ast.Subscript):
        annotation = annotation.value
    dotted = _dotted(annotation)
    return dotted is not None and dotted.split(".")[-1] == "ClassVar"


def _field_reads(
    qualified: str, name: str, field: ast.AnnAssign, config: _SettingsConfig, path: Path
) -> Iterator[EnvRead]:
    sensitive = bool(config.case_sensitive)
    aliases = _aliases(field)
    for variable in aliases or [f"{config.prefix or ''}{name}"]:
        yield EnvRead(
            name=variable if sensitive or aliases else variable.upper(),
            path=path,
            line=field.lineno,
            via=f"pydantic-settings field {qualified}",
            case_sensitive=sensitive,
        )


def _aliases(field: ast.AnnAssign) -> list[str]:
    """The names a `Field(validation_alias=..., alias=..., env=...)` reads instead of the prefix
    and field name; AliasChoices and v1's list of names give several."""
    call = _field_call(field)
    if call is None:
        return []
    for keyword in _ALIAS_KEYWORDS:
        value = _keyword(call, keyword)
        if value is not None:
            return _strings_in(value)
    return []


def _field_call(field: ast.AnnAssign) -> ast.Call | None:
    """`x: int = Field(...)`, or `x: Annotated[int, Field(...)]`."""
    candidates: list[ast.expr] = [field.value] if field.value is not None else []
    annotation = field.annotation
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.slice, ast.Tuple):
        candidates.extend(annotation.slice.elts[1:])
    for candidate in candidates:
        if isinstance(candidate, ast.Call) and (_dotted(candidate.func) or "").endswith("Field"):
            return candidate
    return None


def _strings_in(value: ast.expr) -> list[str]:
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return [value.value]
    elements: list[ast.expr] = []
    if isinstance(value, ast.List | ast.Tuple | ast.Set):
        elements = value.elts
    elif isinstance(value, ast.Call) and _dotted(value.func) in {
        "AliasChoices",
        "pydantic.AliasChoices",
    }:
        elements = value.args
    return [e.value for e in elements if isinstance(e, ast.Constant) and isinstance(e.value, str)]
