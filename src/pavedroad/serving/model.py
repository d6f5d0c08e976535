"""The contract's model in a serving process: described from the contract, loaded once, warmed up.

The description (name, version, owners, hashes) comes from the contract and the project's files
alone, without importing project code, so /info and /healthz answer while the model loads. The
load verifies the artifact's sha256 before anything imports it: a server must never answer with
a model other than the one the contract validated. An MLflow pyfunc directory (`[model] mlflow`)
loads with mlflow.pyfunc.load_model instead of an import, as in the evaluation worker.

Requests become batches in `predict_rows`, in `predict`'s `[model].batch_format`; whatever
`predict` returns is turned back into one output per row. The conversions for formats other
than `records`, and the normalisation of outputs that are not output-schema objects, are the
evaluation's own (`pavedroad.evaluation.batches.to_format`, `...outputs.normalise`), imported only
when a model needs them: a records model in, objects out, never pays for pyarrow.
"""

from __future__ import annotations

import importlib
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from pavedroad.contract import ROLES, BatchFormat, LoadedContract
from pavedroad.errors import PavedError, UsageError
from pavedroad.fileio import sha256_of
from pavedroad.project import Project


class ModelLoadError(PavedError):
    """The model cannot be served: its artifact is not the validated one, or it does not load."""


class ModelFailed(Exception):
    """`predict` raised, or returned something that is not one valid output per row."""

    def __init__(self, kind: Literal["exception", "output"], message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Description:
    """What the contract and the project's files say about the model; no project code runs."""

    name: str
    version: str | None
    predict: str  # the reference, or "mlflow:DIR" for an MLflow pyfunc model
    batch_format: BatchFormat
    input_schema: str | None
    output_schema: str | None
    artifact: Path | None
    artifact_name: str | None  # as the contract writes it, relative to the project
    sha256: str | None  # the artifact's sha256 the contract validated
    contract_sha256: str
    owners: dict[str, list[str]]
    source_roots: tuple[Path, ...]
    mlflow: Path | None = None  # an MLflow pyfunc directory, loaded instead of importing predict

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "predict": self.predict,
            "batch_format": self.batch_format,
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
            "artifact": self.artifact_name,
            "contract_sha256": self.contract_sha256,
            "owners": self.owners,
        }


def describe(loaded: LoadedContract) -> Description:
    """The served model's description, or a UsageError when the contract names no predict."""
    from pavedroad.evaluation.run import contract_sha256  # light: no numpy, no pyarrow

    project = Project(loaded.path.parent, loaded)
    contract = loaded.contract
    model = contract.model
    if model is None or model.label is None:
        raise UsageError(
            f"{loaded.path} names no [model].predict: there is nothing to serve.\n"
            '  hint: add `predict = "package.module:function"` (or `mlflow = "DIR"`, an MLflow '
            "pyfunc directory) to [model], with input_schema and output_schema (pydantic "
            "models) so requests are validated."
        )
    owners = contract.owners
    return Description(
        name=_name(project),
        version=_version(project),
        predict=model.label,
        batch_format=model.batch_format,
        input_schema=model.input_schema,
        output_schema=model.output_schema,
        artifact=project.root / model.artifact if model.artifact else None,
        artifact_name=model.artifact,
        sha256=model.sha256,
        contract_sha256=contract_sha256(project),
        owners={role: owners.named(role) for role in ROLES if owners.named(role)} if owners else {},
        source_roots=project.source_roots,
        mlflow=project.root / model.mlflow if model.mlflow is not None else None,
    )


def _name(project: Project) -> str:
    contract = project.contract
    if contract.contract is not None and contract.contract.name:
        return contract.contract.name
    if contract.package is not None:
        return contract.package.name
    return project.root.name


def _version(project: Project) -> str | None:
    """[project].version of the project's pyproject; None when absent or dynamic."""
    table = (project.pyproject or {}).get("project")
    version = table.get("version") if isinstance(table, dict) else None
    return version if isinstance(version, str) else None


def verify_artifact(description: Description) -> str | None:
    """The artifact's sha256, after checking it is the one the contract validated."""
    artifact = description.artifact
    if artifact is None:
        return None
    if not artifact.is_file():
        raise ModelLoadError(f"the model artifact {artifact} does not exist")
    found = sha256_of(artifact)
    if description.sha256 is not None and found != description.sha256:
        raise ModelLoadError(
            f"{artifact.name} has sha256 {found}, the contract validated {description.sha256}: "
            "refusing to serve another model than the validated one (MOD001).\n"
            "  hint: ship the validated artifact, or validate this one and update [model].sha256"
        )
    return found


@dataclass(frozen=True)
class ServedModel:
    """The imported model with its compiled validators and serialisers."""

    predict: Callable[[Any], Any]
    batch_format: BatchFormat
    input_schema: type[BaseModel] | None
    output_schema: type[BaseModel] | None
    artifact_sha256: str | None
    one_in: TypeAdapter[Any]
    many_in: TypeAdapter[list[Any]]
    one_out: TypeAdapter[Any] | None
    many_out: TypeAdapter[list[Any]] | None

    def parse_one(self, body: bytes) -> list[Any]:
        """One input from JSON bytes (pydantic parses and validates in one pass), as a batch."""
        return [_validate_json(self.one_in, body)]

    def parse_many(self, body: bytes) -> list[Any]:
        return _validate_json(self.many_in, body)  # type: ignore[no-any-return]

    def predict_rows(self, rows: list[Any]) -> list[Any]:
        """One output per row, each an output-schema object (a dict without an output schema).
        Runs in a worker thread: conversion and normalisation are CPU work too."""
        batch = self._batch(rows)
        try:
            result = self.predict(batch)
        except (Exception, SystemExit) as error:  # SystemExit from a model must not stop the server
            raise ModelFailed("exception", f"{type(error).__name__}: {error}") from error
        return self._outputs(result, len(rows))

    def dump_one(self, output: Any) -> bytes:
        if self.one_out is None:
            return orjson.dumps(output, option=orjson.OPT_SERIALIZE_NUMPY)
        return self.one_out.dump_json(output)

    def dump_many(self, outputs: list[Any]) -> bytes:
        if self.many_out is None:
            return orjson.dumps(outputs, option=orjson.OPT_SERIALIZE_NUMPY)
        return self.many_out.dump_json(outputs)

    def _batch(self, rows: list[Any]) -> Any:
        if self.batch_format == "records":
            return rows  # what to_format gives for records: the validated objects, in order
        import pyarrow as pa

        from pavedroad.evaluation.batches import to_format

        plain = [row.model_dump() if isinstance(row, BaseModel) else row for row in rows]
        return to_format(pa.Table.from_pylist(plain), self.batch_format, None)

    def _outputs(self, result: Any, rows: int) -> list[Any]:
        schema = self.output_schema
        if (
            schema is not None
            and isinstance(result, list)
            and len(result) == rows
            and all(isinstance(item, schema) for item in result)
        ):
            return result  # the common case: validated when the model built them
        from pavedroad.evaluation.outputs import OutputError, normalise, records

        try:
            plain = records(normalise(result, rows, schema), rows)
            if len(plain) != rows:
                raise OutputError(f"predict returned {len(plain)} outputs for {rows} rows")
            return plain if self.many_out is None else self.many_out.validate_python(plain)
        except (OutputError, ValidationError) as error:
            raise ModelFailed("output", f"{type(error).__name__}: {error}") from error


def _validate_json(adapter: TypeAdapter[Any], body: bytes) -> Any:
    """Strict, as the OpenAPI document's JSON Schema says: `false` is not an integer nor "1.5"
    a number (an ISO string is still a datetime: JSON has no other way to say it). But 26.0 is
    an integer in JSON Schema, and what a pandas column of integers with gaps sends: when such
    values are the only errors, the lax validation makes them 26."""
    try:
        return adapter.validate_json(body, strict=True)
    except ValidationError as error:
        if field_errors(error):
            raise
    return adapter.validate_json(body)


def field_errors(error: ValidationError) -> list[ErrorDetails]:
    """The errors of a strict validation, less the integral floats given for integers (which
    are accepted on their own), so a 422 lists only what the caller must fix."""
    return [item for item in error.errors() if not _integral_float(item)]


def _integral_float(item: ErrorDetails) -> bool:
    value = item.get("input")
    return item["type"] == "int_type" and isinstance(value, float) and value.is_integer()


def load(description: Description, max_batch: int) -> ServedModel:
    """Verify the artifact, import predict and the schemas with the project's sources first on
    sys.path (as the evaluation worker does), and compile the validators."""
    artifact_sha256 = verify_artifact(description)
    sys.path[:0] = [str(p) for p in description.source_roots if str(p) not in sys.path]
    if description.mlflow is not None:
        predict = _load_mlflow(description.mlflow)
    else:
        predict = _resolve(description.predict)
    if not callable(predict):
        raise ModelLoadError(f"{description.predict} is a {type(predict).__name__}, not callable")
    input_schema = _schema(description.input_schema)
    output_schema = _schema(description.output_schema)
    one: Any = input_schema if input_schema is not None else dict[str, Any]
    return ServedModel(
        predict=predict,
        batch_format=description.batch_format,
        input_schema=input_schema,
        output_schema=output_schema,
        artifact_sha256=artifact_sha256,
        one_in=TypeAdapter(one),
        many_in=TypeAdapter(Annotated[list[one], Field(max_length=max_batch)]),
        one_out=TypeAdapter(output_schema) if output_schema is not None else None,
        many_out=(
            TypeAdapter(list[output_schema])  # type: ignore[valid-type]
            if output_schema is not None
            else None
        ),
    )


def _resolve(reference: str) -> Any:
    module_name, _, attribute = reference.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (Exception, SystemExit) as error:
        raise ModelLoadError(
            f"cannot import {reference}: {type(error).__name__}: {error}"
        ) from error
    return found


def _load_mlflow(directory: Path) -> Any:
    """The MLflow pyfunc model's predict, loaded as the evaluation worker loads it."""
    if not (directory / "MLmodel").is_file():
        what = "has no MLmodel file" if directory.is_dir() else "does not exist"
        raise ModelLoadError(f"the MLflow model directory {directory} {what}")
    try:
        with warnings.catch_warnings():  # mlflow's own import-time notices, not the model's
            warnings.simplefilter("ignore")
            import mlflow.pyfunc
    except ImportError as error:
        raise ModelLoadError(
            f"{directory} is an MLflow model, and loading it needs mlflow ({error}).\n"
            '  hint: pip install "pavedroad[mlflow]"'
        ) from error
    try:
        return mlflow.pyfunc.load_model(str(directory)).predict
    except (Exception, SystemExit) as error:
        raise ModelLoadError(
            f"cannot load the MLflow model {directory}: {type(error).__name__}: {error}"
        ) from error


def _schema(reference: str | None) -> type[BaseModel] | None:
    if reference is None:
        return None
    found = _resolve(reference)
    if not (isinstance(found, type) and issubclass(found, BaseModel)):
        raise ModelLoadError(f"{reference} is {found!r:.80}, not a pydantic BaseModel subclass")
    schema: type[BaseModel] = found
    return schema


def example_rows(schema: type[BaseModel] | None) -> list[dict[str, Any]]:
    """The input schema's examples (`json_schema_extra={"examples": [...]}`), for the warm-up."""
    if schema is None:
        return []
    listed = schema.model_json_schema().get("examples")
    return [row for row in listed if isinstance(row, dict)] if isinstance(listed, list) else []


def warm_up(model: ServedModel) -> int:
    """One prediction on the input schema's examples, through the request path: the first call
    pays for lazy loads (the artifact, caches) before traffic does. Returns the rows predicted."""
    rows = example_rows(model.input_schema)
    if not rows:
        return 0
    try:
        parsed = model.many_in.validate_python(rows[:1])
    except ValidationError as error:
        raise ModelLoadError(f"the input schema's example does not validate: {error}") from error
    try:
        model.predict_rows(parsed)
    except ModelFailed as error:
        raise ModelLoadError(f"the warm-up prediction failed: {error}") from error
    return len(parsed)


def load_and_warm_up(description: Description, max_batch: int) -> tuple[ServedModel, float, int]:
    """The model ready to serve, the seconds it took, and the warm-up's rows (0: no example)."""
    started = time.perf_counter()
    model = load(description, max_batch)
    rows = warm_up(model)
    return model, time.perf_counter() - started, rows


def plain_rows(rows: Sequence[Any], mode: Literal["json", "python"] = "json") -> list[Any]:
    """Rows as plain values: JSON-ready for sampled payload logs, Python's for the sink."""
    return [row.model_dump(mode=mode) if isinstance(row, BaseModel) else row for row in rows]
