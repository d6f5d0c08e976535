"""The OpenAPI document: FastAPI's, with the contract's input and output schemas and examples.

The predict routes are plain ASGI, in front of FastAPI's router (they read raw bytes and
validate them with pydantic in one pass), so FastAPI does not see them: their operations, the
schemas and their examples are added here, under `components/schemas`, as clients and
schemathesis expect them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from pavedroad.serving.model import ServedModel, example_rows

REF = "#/components/schemas/{model}"
JSON = "application/json"


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: 'body', then the field path.")
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """422: the body is not JSON, or not the input schema; one entry per field error."""

    detail: list[FieldError]
    request_id: str


class Problem(BaseModel):
    """Any other error: what went wrong, and the request id to find its log line."""

    detail: str
    request_id: str


def document(app: FastAPI, model: ServedModel | None, max_batch: int) -> dict[str, Any]:
    """The OpenAPI document; before the model is loaded, bodies are untyped JSON objects."""
    spec = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    pairs: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (ValidationProblem, "serialization"),
        (Problem, "serialization"),
    ]
    if model is not None and model.input_schema is not None:
        pairs.append((model.input_schema, "validation"))
    if model is not None and model.output_schema is not None:
        pairs.append((model.output_schema, "serialization"))
    refs, definitions = models_json_schema(pairs, ref_template=REF)
    schemas.update(definitions.get("$defs", {}))

    def ref(schema: type[BaseModel] | None, mode: JsonSchemaMode) -> dict[str, Any]:
        return refs[(schema, mode)] if schema is not None else {"type": "object"}

    one_in = ref(model.input_schema if model else None, "validation")
    one_out = ref(model.output_schema if model else None, "serialization")
    example_in = example_rows(model.input_schema if model else None)[:1]
    example_out = example_rows(model.output_schema if model else None)[:1]
    errors = {
        "413": _response(
            "The body exceeds PAVED_MAX_BODY_BYTES.", refs[(Problem, "serialization")]
        ),
        "422": _response(
            "Invalid JSON, or not the input schema.", refs[(ValidationProblem, "serialization")]
        ),
        "500": _response(
            "The model failed; see the log line of the request id.",
            refs[(Problem, "serialization")],
        ),
        "503": _response("The model is not loaded yet.", refs[(Problem, "serialization")]),
        "504": _response(
            "The prediction exceeded PAVED_TIMEOUT_S.", refs[(Problem, "serialization")]
        ),
    }
    paths = spec.setdefault("paths", {})
    paths["/predict"] = {
        "post": {
            "summary": "Predict",
            "description": "One input-schema object in, one output-schema object out. "
            "Concurrent requests may share a predict call (micro-batching); each gets its "
            "own answer.",
            "operationId": "predict",
            "requestBody": _body(one_in, example_in[0] if example_in else None),
            "responses": {
                "200": _response(
                    "One output for the input.", one_out, example_out[0] if example_out else None
                ),
                **errors,
            },
        }
    }
    many_in = {"type": "array", "items": one_in, "maxItems": max_batch}
    paths["/predict/batch"] = {
        "post": {
            "summary": "Predict Batch",
            "description": f"A list of at most {max_batch} inputs (PAVED_MAX_BATCH), one output "
            "per input, in order, from one predict call.",
            "operationId": "predict_batch",
            "requestBody": _body(many_in, example_in or None),
            "responses": {
                "200": _response(
                    "One output per input, in order.",
                    {"type": "array", "items": one_out},
                    example_out or None,
                ),
                **errors,
            },
        }
    }
    return spec


def _body(schema: dict[str, Any], example: Any) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"required": True, "content": {JSON: content}}


def _response(description: str, schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {JSON: content}}
