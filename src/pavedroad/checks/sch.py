"""SCH: the model's input and output are declared as typed schemas, found statically."""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterator
from dataclasses import dataclass

from pavedroad import pyast
from pavedroad.project import Project
from pavedroad.registry import Evidence, Family, Gap, SkipCheck

family = Family(
    "SCH",
    "Schemas",
    "The model's inputs and outputs are typed schemas: Pydantic models, dataclasses or TypedDicts.",
)

PYDANTIC_BASES = frozenset({"pydantic.BaseModel", "pydantic.main.BaseModel"})
TYPED_DICT_BASES = frozenset({"typing.TypedDict", "typing_extensions.TypedDict"})
DATACLASS_DECORATORS = frozenset({"dataclasses.dataclass", "pydantic.dataclasses.dataclass"})
SCHEMA_KEYS = ("input_schema", "output_schema")
# Class-body names Pydantic treats as configuration or behaviour, never as fields.
NOT_FIELDS = frozenset({"model_config", "Config"})
DESCRIPTORS = frozenset({"property", "classmethod", "staticmethod", "cached_property"})


class Kind(enum.Enum):
    PYDANTIC = "a Pydantic model"
    DATACLASS = "a dataclass"
    TYPED_DICT = "a TypedDict"


@dataclass(frozen=True)
class Schema:
    key: str  # "input_schema" or "output_schema"
    reference: str

    @property
    def subject(self) -> str:
        return f"{self.key}: {self.reference}"


@dataclass(frozen=True)
class SchemaField:
    name: str
    annotated: bool
    owner: pyast.Definition  # the class whose body declares it
    line: int


def declared_schemas(project: Project) -> list[Schema]:
    model = project.contract.model
    schemas = [
        Schema(key, reference)
        for key in SCHEMA_KEYS
        if model is not None and (reference := getattr(model, key)) is not None
    ]
    if not schemas:
        raise SkipCheck("the contract names no [model].input_schema or output_schema")
    return schemas


def schema_kind(
    project: Project, cls: pyast.Definition, seen: frozenset[str] = frozenset()
) -> Kind | None:
    """Pydantic model, dataclass, TypedDict, or None; through project base classes too."""
    if cls.reference in seen:
        return None  # a base cycle is a runtime error; it certainly is no schema
    seen = seen | {cls.reference}
    for decorator in pyast.class_decorators(project, cls):
        if isinstance(decorator, pyast.External) and decorator.qualname in DATACLASS_DECORATORS:
            return Kind.DATACLASS
    for base in pyast.class_bases(project, cls):
        kind = _kind_of_base(project, base, seen)
        if kind is not None:
            return kind
    return None


def _kind_of_base(
    project: Project, base: pyast.Binding | None, seen: frozenset[str]
) -> Kind | None:
    if isinstance(base, pyast.External):
        if base.qualname in PYDANTIC_BASES:
            return Kind.PYDANTIC
        if base.qualname in TYPED_DICT_BASES:
            return Kind.TYPED_DICT
    if isinstance(base, pyast.Definition) and isinstance(base.node, ast.ClassDef):
        return schema_kind(project, base, seen)
    return None


def _unresolved_gap(project: Project, schema: Schema, error: pyast.Unresolved) -> Gap:
    """Points at the file and line when the cause is there, else at the contract's reference."""
    if error.path is not None and error.line is not None:
        location = project.location(error.path, error.line)
    else:
        location = project.contract_location("model", schema.key)
    if isinstance(error, pyast.BrokenModule):
        fix = "Fix the syntax error; the schema's module must parse."
    elif isinstance(error, pyast.ModuleMissing):
        fix = f"Create the module, or correct `[model].{schema.key}` to `module:Class`."
    else:
        fix = f"Define the class in the project, or correct `[model].{schema.key}`."
    return Gap(
        subject=schema.subject, message=f"{schema.key}: {error.message}", location=location, fix=fix
    )


# -- SCH001 -----------------------------------------------------------------------------------


@family.check("SCH001", "The input and output schemas are typed schema classes", section="model")
def schemas_resolve(project: Project) -> Iterator[Gap | Evidence]:
    """Checks, without importing anything, that `[model].input_schema` and `output_schema` name a
    class of the project that is a Pydantic model (directly or through project base classes), a
    dataclass, or a TypedDict.

    Why: The schema is the contract of the model's interface: engineering validates requests
    against it, generates the serving layer from it and rejects rows that do not fit. A schema
    that is a plain class, a dict, or a name that no longer exists leaves the interface to guess
    work and moves the first type error to production.

    Example: `input_schema = "churn.schemas:Customer"` where `Customer` is a plain class with
    an `__init__`, or was renamed to `CustomerFeatures`.

    Fix: Declare the schema as `class Customer(BaseModel):` (pydantic), a `@dataclass`, or a
    `TypedDict`, and point the contract at it as `module:Class`.
    """
    for schema in declared_schemas(project):
        try:
            cls = pyast.find_class(project, schema.reference)
            kind = schema_kind(project, cls)
        except pyast.Unresolved as error:
            yield _unresolved_gap(project, schema, error)
            continue
        if kind is None:
            yield Gap(
                subject=schema.subject,
                message=f"{schema.key}: {schema.reference} is a plain class "
                f"({_bases_text(cls)}), not a Pydantic model, dataclass or TypedDict",
                location=project.location(cls.path, cls.line),
                fix=f"Derive {cls.qualname} from pydantic.BaseModel (or decorate it with "
                "@dataclass, or derive it from TypedDict) and annotate each field.",
            )
        else:
            yield Evidence(
                subject=schema.subject,
                message=f"{schema.key}: {_named(schema, cls)} is {kind.value}",
                location=project.location(cls.path, cls.line),
            )


def _named(schema: Schema, cls: pyast.Definition) -> str:
    """The contract's reference, and the class it names when that is a re-export or alias."""
    if cls.reference == schema.reference:
        return schema.reference
    return f"{schema.reference} ({cls.reference})"


def _bases_text(cls: pyast.Definition) -> str:
    node = cls.node
    if not isinstance(node, ast.ClassDef) or not node.bases:
        return "no base class"
    return "bases: " + ", ".join(ast.unparse(base) for base in node.bases)


# -- SCH002 -----------------------------------------------------------------------------------


@family.check("SCH002", "Every schema field has a type", section="model", requires=("SCH001",))
def schema_fields_typed(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that each schema declares at least one field and that every field has a type
    annotation, including fields inherited from the project's base classes.

    Why: The field types are the schema: they are what validation enforces and what the serving
    layer documents. Pydantic refuses a model with an unannotated field at import time, and a
    dataclass or TypedDict silently leaves it out, so the input the model gets is not the input
    the data scientist described. A schema with no fields validates anything.

    Example: `segment = "consumer"` in `class Customer(BaseModel):`, meant as a field with a
    default; or an empty `class Score(BaseModel): pass`.

    Fix: Annotate each field with its type (`segment: str = "consumer"`), or mark a constant as
    `ClassVar[...]`; give an empty schema the fields it carries.
    """
    for schema in declared_schemas(project):
        try:
            cls = pyast.find_class(project, schema.reference)
            kind = schema_kind(project, cls)
            fields = schema_fields(project, cls, kind) if kind else None
        except pyast.Unresolved as error:
            yield _unresolved_gap(project, schema, error)
            continue
        if kind is None or fields is None:
            continue  # SCH001 reports it
        if not fields:
            yield Gap(
                subject=schema.subject,
                message=f"{schema.key}: {schema.reference} ({kind.value}) declares no fields",
                location=project.location(cls.path, cls.line),
                fix=f"Declare each field of {cls.qualname} with its type, e.g. `tenure_months: int`.",
            )
        unannotated = [field for field in fields.values() if not field.annotated]
        for field in unannotated:
            yield _unannotated_gap(project, schema, cls, field, kind)
        if fields and not unannotated:
            yield Evidence(
                subject=schema.subject,
                message=f"{schema.key}: {_named(schema, cls)} {_fields_text(cls, fields)}",
                location=project.location(cls.path, cls.line),
            )


def _fields_text(cls: pyast.Definition, fields: dict[str, SchemaField]) -> str:
    """`has 8 fields (2 inherited), all annotated`."""
    count = len(fields)
    inherited = sum(1 for field in fields.values() if field.owner != cls)
    extra = f" ({inherited} inherited)" if inherited else ""
    return f"has {count} field{'s' if count != 1 else ''}{extra}, all annotated"


def _unannotated_gap(
    project: Project, schema: Schema, cls: pyast.Definition, field: SchemaField, kind: Kind
) -> Gap:
    inherited = "" if field.owner == cls else f" (inherited from {field.owner.reference})"
    consequence = {
        Kind.PYDANTIC: "Pydantic refuses to build the model",
        Kind.DATACLASS: "the dataclass leaves it out of its fields",
        Kind.TYPED_DICT: "the TypedDict leaves it out of its keys",
    }[kind]
    return Gap(
        subject=f"{schema.subject}.{field.name}",
        message=f"{schema.key}: field `{field.name}` of {schema.reference}{inherited} has no type "
        f"annotation, so {consequence}",
        location=project.location(field.owner.path, field.line),
        fix=f"Annotate it (`{field.name}: <type> = ...`), or declare it `ClassVar[<type>]` if it "
        "is a constant and not a field.",
    )


def schema_fields(
    project: Project, cls: pyast.Definition, kind: Kind, seen: frozenset[str] = frozenset()
) -> dict[str, SchemaField]:
    """The fields of schema `cls` by name: those of its project bases of the same kind first,
    then its own, which override them as they do at run time."""
    if cls.reference in seen:
        return {}
    seen = seen | {cls.reference}
    fields: dict[str, SchemaField] = {}
    for base in reversed(pyast.class_bases(project, cls)):
        if (
            isinstance(base, pyast.Definition)
            and isinstance(base.node, ast.ClassDef)
            and schema_kind(project, base) is kind
        ):
            fields.update(schema_fields(project, base, kind, seen))
    for field in _own_fields(cls, kind):
        fields[field.name] = field
    return fields


def _own_fields(cls: pyast.Definition, kind: Kind) -> Iterator[SchemaField]:
    node = cls.node
    if not isinstance(node, ast.ClassDef):
        return
    annotated: set[str] = set()
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name = statement.target.id
            annotated.add(name)
            if not _is_pseudo_field(statement.annotation) and not _is_private(name, kind):
                yield SchemaField(name, True, cls, statement.lineno)
        elif isinstance(statement, ast.Assign) and not _is_descriptor(statement.value):
            for target in statement.targets:
                if isinstance(target, ast.Name) and not _unannotated_ok(target.id, annotated):
                    yield SchemaField(target.id, False, cls, statement.lineno)


def _is_pseudo_field(annotation: ast.expr) -> bool:
    """`ClassVar[...]` and `InitVar[...]` are annotated but are not fields."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        text = annotation.value.split("[", 1)[0].strip()
        return text.rsplit(".", 1)[-1] in {"ClassVar", "InitVar"}
    names = pyast.dotted_name(annotation)
    return names is not None and names[-1] in {"ClassVar", "InitVar"}


def _is_private(name: str, kind: Kind) -> bool:
    """Pydantic makes `_name` a private attribute and `model_config` its configuration."""
    return kind is Kind.PYDANTIC and (name.startswith("_") or name in NOT_FIELDS)


def _unannotated_ok(name: str, annotated: set[str]) -> bool:
    """Assignments that are not meant as fields: private, dunder, configuration, or a default
    given to a name annotated earlier in the same body."""
    return name.startswith("_") or name in NOT_FIELDS or name in annotated


def _is_descriptor(value: ast.expr) -> bool:
    """A lambda or `property(...)`-like value is behaviour, which Pydantic does not collect."""
    if isinstance(value, ast.Lambda):
        return True
    names = pyast.dotted_name(value.func) if isinstance(value, ast.Call) else None
    return names is not None and names[-1] in DESCRIPTORS
