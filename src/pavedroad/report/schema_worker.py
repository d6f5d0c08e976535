"""The schema subprocess: `python -m pavedroad.report.schema_worker REQUEST ANSWER`.

It imports the contract's schema classes with the project's sources first on the path, as the
evaluation worker does, and writes their JSON Schemas. The tool's own process never imports
project code. Whatever a class does on import (prints, fails) stays here: a failure becomes the
error text of that schema, and the process exits 0 once the answer is written.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

# How each side is read: inputs as a request is validated, outputs as an answer is serialised.
MODES: dict[str, JsonSchemaMode] = {"input_schema": "validation", "output_schema": "serialization"}


def json_schema(reference: str, key: str) -> dict[str, Any]:
    """The JSON Schema of the class `module:Name`: a pydantic model, a dataclass or a TypedDict."""
    module_name, _, attribute = reference.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    mode = MODES.get(key, "validation")
    if isinstance(found, type) and issubclass(found, BaseModel):
        schema: dict[str, Any] = found.model_json_schema(mode=mode)
        return schema
    adapted: dict[str, Any] = TypeAdapter(found).json_schema(mode=mode)
    return adapted


def answer(request: dict[str, Any]) -> dict[str, Any]:
    sys.path[:0] = [p for p in request["source_roots"] if p not in sys.path]
    found: dict[str, Any] = {}
    for key, reference in request["schemas"].items():
        try:
            with contextlib.redirect_stdout(sys.stderr):  # a module that prints at import
                found[key] = {"schema": json_schema(reference, key)}
        except (Exception, SystemExit) as error:
            found[key] = {"error": f"cannot import {reference}: {type(error).__name__}: {error}"}
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m pavedroad.report.schema_worker REQUEST ANSWER", file=sys.stderr)
        return 2
    request = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    Path(args[1]).write_text(json.dumps(answer(request), default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
