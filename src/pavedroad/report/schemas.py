"""The model's input and output schemas as the model card shows them: fields, types, constraints,
examples.

With project code allowed, the classes are imported in a subprocess (`schema_worker`) and read
from the JSON Schema pydantic derives, which is exactly what a request is validated against.
With `--static`, or when the import fails, the fields are read from the class's source: each
annotation and the literal arguments of its `Field(...)`.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pavedroad import pyast
from pavedroad.checks import sch
from pavedroad.project import Project
from pavedroad.report.packet import FieldView, SchemaView

TIMEOUT_S = 120.0  # importing a schema may import the model's whole stack
STDERR_TAIL = 1000
Key = Literal["input_schema", "output_schema"]
KEYS: tuple[Key, ...] = ("input_schema", "output_schema")
# JSON Schema keywords -> how a constraint reads; pydantic's names where they differ.
CONSTRAINTS = {
    "minimum": ">= {}",
    "maximum": "<= {}",
    "exclusiveMinimum": "> {}",
    "exclusiveMaximum": "< {}",
    "minLength": "length >= {}",
    "maxLength": "length <= {}",
    "minItems": "items >= {}",
    "maxItems": "items <= {}",
    "multipleOf": "multiple of {}",
    "pattern": "matches {}",
}
FIELD_KEYWORDS = {
    "ge": ">= {}",
    "le": "<= {}",
    "gt": "> {}",
    "lt": "< {}",
    "min_length": "length >= {}",
    "max_length": "length <= {}",
    "multiple_of": "multiple of {}",
    "pattern": "matches {}",
}


def schema_views(project: Project, *, static: bool) -> tuple[SchemaView, ...]:
    model = project.contract.model
    if model is None:
        return ()
    declared = {k: getattr(model, k) for k in KEYS if getattr(model, k) is not None}
    if not declared:
        return ()
    imported = {} if static else _imported(project, declared)
    views = []
    for key, reference in declared.items():
        found = imported.get(key, {})
        if "schema" in found:
            views.append(from_json_schema(key, reference, found["schema"]))
        else:
            views.append(from_source(project, key, reference, problem=found.get("error")))
    return tuple(views)


def _imported(project: Project, declared: dict[Key, str]) -> dict[str, Any]:
    """The worker's answer: per key, {"schema": ...} or {"error": ...}."""
    with tempfile.TemporaryDirectory(prefix="paved-report-") as scratch:
        request, answer = Path(scratch, "request.json"), Path(scratch, "answer.json")
        request.write_text(
            json.dumps(
                {"source_roots": [str(p) for p in project.source_roots], "schemas": declared}
            ),
            encoding="utf-8",
        )
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pavedroad.report.schema_worker", str(request), str(answer)],
                cwd=project.root,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            why = f"importing the schemas took longer than {TIMEOUT_S:g} s"
            return {key: {"error": why} for key in declared}
        if done.returncode != 0 or not answer.is_file():
            tail = done.stderr[-STDERR_TAIL:].strip()
            why = f"the schema worker exited with status {done.returncode}: {tail}"
            return {key: {"error": why} for key in declared}
        found: dict[str, Any] = json.loads(answer.read_text(encoding="utf-8"))
        return found


# -- from the JSON Schema -----------------------------------------------------------------------


def from_json_schema(key: Key, reference: str, schema: dict[str, Any]) -> SchemaView:
    definitions: dict[str, Any] = schema.get("$defs", {})
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    fields = tuple(
        FieldView(
            name=name,
            type=type_text(node, definitions),
            required=name in required,
            constraints=tuple(_constraints(node, definitions)),
            default=json.dumps(node["default"]) if "default" in node else None,
            description=node.get("description"),
            examples=tuple(json.dumps(v) for v in node.get("examples", [])),
        )
        for name, node in properties.items()
    )
    examples = schema.get("examples")
    example = None
    if isinstance(examples, list) and examples and isinstance(examples[0], dict):
        first = examples[0]  # in the fields' order, not the JSON Schema's sorted one
        ordered = {n: first[n] for n in properties if n in first}
        example = json.dumps({**ordered, **first}, indent=2)
    return SchemaView(
        key=key,
        reference=reference,
        fields=fields,
        description=schema.get("description"),
        example=example,
    )


def type_text(node: dict[str, Any], definitions: dict[str, Any]) -> str:
    """A JSON Schema type as a person reads it: `integer`, `one of "a", "b"`, `list[number]`."""
    if "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        target = definitions.get(name, {})
        return type_text(target, definitions) if "enum" in target else name
    if "enum" in node:
        return "one of " + ", ".join(json.dumps(v) for v in node["enum"])
    if "const" in node:
        return json.dumps(node["const"])
    for union in ("anyOf", "oneOf"):
        if union in node:
            return " | ".join(type_text(n, definitions) for n in node[union])
    kind = node.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind == "array":
        items = node.get("items")
        return f"list[{type_text(items, definitions)}]" if isinstance(items, dict) else "list"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"dict[string, {type_text(node['additionalProperties'], definitions)}]"
    if kind is None:
        return "any"
    return f"{kind} ({node['format']})" if "format" in node else str(kind)


def _constraints(node: dict[str, Any], definitions: dict[str, Any]) -> Iterator[str]:
    for keyword, text in CONSTRAINTS.items():
        if keyword in node:
            value = node[keyword]
            yield text.format(f"`{value}`" if keyword == "pattern" else _number(value))
    for union in ("anyOf", "oneOf"):
        for branch in node.get(union, []):
            yield from _constraints(branch, definitions)


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# -- from the source ----------------------------------------------------------------------------


def from_source(
    project: Project, key: Key, reference: str, *, problem: str | None = None
) -> SchemaView:
    """The fields as the class's source declares them, read without importing anything."""
    try:
        cls = pyast.find_class(project, reference)
        kind = sch.schema_kind(project, cls)
        fields = sch.schema_fields(project, cls, kind) if kind is not None else None
    except pyast.Unresolved as error:
        return SchemaView(
            key=key, reference=reference, source="source", problem=problem or error.message
        )
    if fields is None:
        why = f"{reference} is not a Pydantic model, dataclass or TypedDict (see SCH001)"
        return SchemaView(key=key, reference=reference, source="source", problem=problem or why)
    node = cls.node
    return SchemaView(
        key=key,
        reference=reference,
        fields=tuple(_source_field(f) for f in fields.values()),
        description=ast.get_docstring(node) if isinstance(node, ast.ClassDef) else None,
        source="source",
        problem=problem,
    )


def _source_field(field: sch.SchemaField) -> FieldView:
    statement = _statement(field)
    if statement is None or not isinstance(statement, ast.AnnAssign):
        return FieldView(name=field.name, type="(no annotation)", required=True)
    call = statement.value
    keywords: dict[str, ast.expr] = {}
    default: str | None = None
    if isinstance(call, ast.Call) and (pyast.dotted_name(call.func) or [""])[-1] == "Field":
        keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
        if call.args and not _is_ellipsis(call.args[0]):
            default = ast.unparse(call.args[0])
        elif "default" in keywords:
            default = ast.unparse(keywords["default"])
    elif call is not None:
        default = ast.unparse(call)
    description = keywords.get("description")
    examples = keywords.get("examples")
    return FieldView(
        name=field.name,
        type=ast.unparse(statement.annotation),
        required=default is None and "default_factory" not in keywords,
        constraints=tuple(
            text.format(ast.unparse(keywords[word]))
            for word, text in FIELD_KEYWORDS.items()
            if word in keywords
        ),
        default=default,
        description=_literal(description) if description is not None else None,
        examples=tuple(ast.unparse(e) for e in examples.elts)
        if isinstance(examples, ast.List | ast.Tuple)
        else (),
    )


def _statement(field: sch.SchemaField) -> ast.stmt | None:
    node = field.owner.node
    if not isinstance(node, ast.ClassDef):
        return None
    return next((s for s in node.body if s.lineno == field.line), None)


def _is_ellipsis(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def _literal(node: ast.expr) -> str:
    return (
        node.value
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        else ast.unparse(node)
    )
