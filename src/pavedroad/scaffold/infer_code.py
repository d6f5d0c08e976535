"""What `paved init` infers from the code, by reading its AST (nothing is imported or run): the
package, its entry points, the Pydantic models and the role a web route gives them, candidate
`predict` functions, Flask and FastAPI apps, and the environment variables the code reads."""

from __future__ import annotations

import ast
import configparser
import re
from collections.abc import Iterator
from pathlib import Path

from pavedroad import pyast
from pavedroad.checks.cfg import production_reads
from pavedroad.checks.sch import Kind, schema_kind
from pavedroad.project import TEST_DIRS, Project
from pavedroad.scaffold.findings import Framework, Role, SchemaCandidate, WebApp
from pavedroad.scaffold.infer_files import setup_keyword

# Folders of a repository that hold code, but not the package that ships.
NOT_PACKAGES = TEST_DIRS | {"docs", "notebooks", "scripts", "examples", "benchmarks"}
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "api_route", "route"})
PREDICT_NAMES = frozenset({"predict", "predict_batch", "batch_predict", "score", "inference"})
# The call that creates an app, and the module it must be imported from.
APPS: dict[str, tuple[Framework, str]] = {
    "Flask": ("Flask", "flask"),
    "FastAPI": ("FastAPI", "fastapi"),
}
# Words of a class name that say which side of the model it is on, when no route says so.
INPUT_WORDS = frozenset({"input", "inputs", "request", "features", "payload", "record", "row"})
OUTPUT_WORDS = frozenset({"output", "outputs", "response", "prediction", "score", "result"})
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def packages(project: Project) -> list[str]:
    """Top-level packages (folders with __init__.py) in the source roots, the one named like the
    distribution first."""
    found = [
        folder.name
        for base in project.source_roots
        for folder in sorted(base.iterdir())
        if folder.is_dir()
        and (folder / "__init__.py").is_file()
        and folder.name.isidentifier()
        and folder.name not in NOT_PACKAGES
    ]
    named = _distribution_name(project)
    return sorted(dict.fromkeys(found), key=lambda name: name != named)


def _distribution_name(project: Project) -> str | None:
    table = (project.pyproject or {}).get("project")
    name = table.get("name") if isinstance(table, dict) else None
    if name is None and (project.root / "setup.py").is_file():
        tree = project.tree(project.root / "setup.py")
        name = setup_keyword(tree, "name") if tree is not None else None
    return re.sub(r"[-.]+", "_", name).lower() if isinstance(name, str) else None


def entry_points(project: Project) -> list[str]:
    """The console scripts the packaging declares (pyproject, setup.cfg, setup.py), as the
    `module:function` a scheduler can call."""
    found: list[str] = []
    table = (project.pyproject or {}).get("project")
    scripts = table.get("scripts") if isinstance(table, dict) else None
    if isinstance(scripts, dict):
        found.extend(str(v) for v in scripts.values())
    setup_cfg = project.root / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(setup_cfg, encoding="utf-8")
            lines = parser.get("options.entry_points", "console_scripts", fallback="")
        except (configparser.Error, UnicodeDecodeError):
            lines = ""
        found.extend(line.partition("=")[2] for line in lines.splitlines() if "=" in line)
    setup_py = project.root / "setup.py"
    tree = project.tree(setup_py) if setup_py.is_file() else None
    if tree is not None:
        found.extend(spec.partition("=")[2] for spec in _setup_console_scripts(tree))
    references = (re.sub(r"\s+", "", spec).partition("[")[0] for spec in found)
    return list(dict.fromkeys(r for r in references if re.fullmatch(r"[\w.]+:[\w.]+", r)))


def _setup_console_scripts(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values, strict=True):
            if (
                isinstance(key, ast.Constant)
                and key.value == "console_scripts"
                and isinstance(value, ast.List | ast.Tuple)
            ):
                yield from (
                    e.value
                    for e in value.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                )


def module_name(project: Project, path: Path) -> str | None:
    """The dotted name `path` imports as in the project's layout, if it is importable."""
    for base in project.source_roots:
        try:
            parts = list(path.relative_to(base).with_suffix("").parts)
        except ValueError:
            continue
        if parts and parts[-1] == "__init__":
            parts.pop()
        if parts and all(part.isidentifier() for part in parts):
            return ".".join(parts)
    return None


def _modules(project: Project) -> Iterator[tuple[str, Path, ast.Module]]:
    """Every importable production module with its AST (tests, notebooks and setup.py aside)."""
    for path in project.source_files:
        if path.name == "setup.py" and path.parent == project.root:
            continue
        module = module_name(project, path)
        tree = project.tree(path)
        if module is not None and tree is not None:
            yield module, path, tree


def schemas(project: Project) -> list[SchemaCandidate]:
    """The project's Pydantic models, each with the role a web route gives it (a FastAPI
    parameter is an input, a response model or return annotation an output), else the role its
    name says, else none."""
    roles: dict[str, tuple[Role, str]] = {}
    classes: list[pyast.Definition] = []
    for module, path, tree in _modules(project):
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                definition = pyast.Definition(module, path, node, node.name)
                try:
                    if schema_kind(project, definition) is Kind.PYDANTIC:
                        classes.append(definition)
                except pyast.Unresolved:
                    continue
        for reference, role, why in _route_roles(project, module, path, tree):
            roles.setdefault(reference, (role, why))
    found = []
    for cls in classes:
        if cls.reference in roles:
            role, why = roles[cls.reference]
            found.append(SchemaCandidate(cls.reference, role, why))
        else:
            by_name = _role_by_name(cls.qualname)
            found.append(SchemaCandidate(cls.reference, by_name, "its name" if by_name else ""))
    return found


def _route_roles(
    project: Project, module: str, path: Path, tree: ast.Module
) -> Iterator[tuple[str, Role, str]]:
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            route = _route(decorator)
            if route is None or not isinstance(decorator, ast.Call):
                continue
            where = f"{route} in {project.rel(path)}:{node.lineno}"
            for argument in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs):
                for reference in _classes_in(project, module, argument.annotation):
                    yield reference, "input", f"parameter of {where}"
            response = next(
                (k.value for k in decorator.keywords if k.arg == "response_model"), node.returns
            )
            for reference in _classes_in(project, module, response):
                yield reference, "output", f"response of {where}"


def _route(decorator: ast.expr) -> str | None:
    """`POST /predict` for `@app.post("/predict")` (FastAPI) or `@app.route(...)` (Flask)."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
        return None
    method = decorator.func.attr
    if method not in ROUTE_METHODS:
        return None
    path = decorator.args[0] if decorator.args else None
    url = path.value if isinstance(path, ast.Constant) and isinstance(path.value, str) else "?"
    verb = method.upper() if method not in ("route", "api_route") else "route"
    return f"{verb} {url}"


def _classes_in(project: Project, module: str, annotation: ast.expr | None) -> Iterator[str]:
    """The project classes an annotation names: `Customer`, `list[Customer]`, `Optional[...]`."""
    if annotation is None:
        return
    if isinstance(annotation, ast.Subscript):
        inner = annotation.slice
        for element in inner.elts if isinstance(inner, ast.Tuple) else [inner]:
            yield from _classes_in(project, module, element)
        return
    if isinstance(annotation, ast.BinOp):  # `Customer | None`
        yield from _classes_in(project, module, annotation.left)
        yield from _classes_in(project, module, annotation.right)
        return
    try:
        binding = pyast.resolve_expr(project, module, annotation)
        if binding is not None:
            binding = pyast.follow_aliases(project, binding)
    except pyast.Unresolved:
        return
    if isinstance(binding, pyast.Definition) and isinstance(binding.node, ast.ClassDef):
        yield binding.reference


def _role_by_name(name: str) -> Role | None:
    words = {w.lower() for w in _WORDS.findall(name)}
    is_input, is_output = bool(words & INPUT_WORDS), bool(words & OUTPUT_WORDS)
    if is_input == is_output:
        return None
    return "input" if is_input else "output"


def predict_candidates(project: Project) -> list[str]:
    """Top-level functions named like a model's entry (`predict`, `score`, ...) that are not web
    routes: what `[model].predict` may name, for a person to confirm."""
    found = []
    for module, _, tree in _modules(project):
        for node in tree.body:
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name in PREDICT_NAMES
                and not any(_route(d) for d in node.decorator_list)
            ):
                found.append(f"{module}:{node.name}")
    return found


def web_apps(project: Project) -> list[WebApp]:
    """Modules that create a Flask or FastAPI application."""
    found = []
    for _, path, tree in _modules(project):
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        } | {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        for node in ast.walk(tree):
            names = pyast.dotted_name(node.func) if isinstance(node, ast.Call) else None
            app = APPS.get(names[-1]) if names else None
            if app is not None and app[1] in imported:
                found.append(WebApp(project.rel(path), app[0]))
                break
    return found


def environment(project: Project) -> dict[str, str]:
    """Each variable production code reads from the environment, and where it is first read."""
    found: dict[str, str] = {}
    for read in production_reads(project):
        found.setdefault(read.name, f"{project.rel(read.path)}:{read.line}")
    return dict(sorted(found.items()))


def source_modules(project: Project, package: str | None) -> list[str]:
    """The files `[tests].core_paths` may name: the package's modules, or the project's."""
    folder = project.package_dir(package) if package else None
    return [
        project.rel(path)
        for path in project.source_files
        if (folder is None or folder in path.parents)
        and path.name not in ("__init__.py", "setup.py", "conftest.py")
        and not any(part in TEST_DIRS for part in path.relative_to(project.root).parts)
    ]
