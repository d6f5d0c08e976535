"""What `predict` returned, as equal-length columns; its check against the output schema (MOD004)
and the exact comparison of two calls (MOD005).

Models return many shapes: a list of pydantic objects or dicts, a DataFrame, an Arrow table, a
dict of arrays, or one bare array. Normalising them once into `{field: array}` lets everything
after (metrics, validation, determinism) handle one shape.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from pydantic import BaseModel, ValidationError

from pavedroad.evaluation.batches import adapter
from pavedroad.evaluation.protocol import FieldProblem

Vector = npt.NDArray[Any]
Columns = dict[str, Vector]
DEFAULT_NAME = "prediction"  # the single column's name when no output schema names it


class OutputError(Exception):
    """`predict` returned something that is not one output per row."""


def normalise(result: Any, rows: int, schema: type[BaseModel] | None) -> Columns:
    """One array per output field, each `rows` long, or an OutputError saying what came back."""
    columns = _columns(result, schema)
    for name, values in columns.items():
        if values.ndim != 1 or len(values) != rows:
            shape = "x".join(str(n) for n in values.shape)
            raise OutputError(
                f"predict returned {_kind(result)} whose {name!r} has shape ({shape}) for a "
                f"batch of {rows} rows: expected one output per row"
            )
    return columns


def _columns(result: Any, schema: type[BaseModel] | None) -> Columns:
    pandas = sys.modules.get("pandas")  # a model returning a DataFrame has imported pandas
    if pandas is not None and isinstance(result, pandas.DataFrame):
        return {str(name): result[name].to_numpy() for name in result.columns}
    if isinstance(result, (pa.Table, pa.RecordBatch)):
        return {
            name: result.column(name).to_numpy(zero_copy_only=False) for name in result.column_names
        }
    if isinstance(result, Mapping):
        return {str(name): _array(values, result) for name, values in result.items()}
    if pandas is not None and isinstance(result, pandas.Series):
        return {_single_name(schema): result.to_numpy()}
    if isinstance(result, np.ndarray):
        return {_single_name(schema): result[:, 0] if _one_column(result) else result}
    if isinstance(result, pa.ChunkedArray | pa.Array):
        return {_single_name(schema): result.to_numpy(zero_copy_only=False)}
    if isinstance(result, Sequence) and not isinstance(result, (str, bytes)):
        return _from_sequence(result, schema)
    raise OutputError(
        f"predict returned {_kind(result)}: expected a list of objects or dicts, a DataFrame, "
        "an Arrow table, a dict of arrays or an array with one output per row"
    )


def _from_sequence(result: Sequence[Any], schema: type[BaseModel] | None) -> Columns:
    if not result:
        return {name: np.array([]) for name in _field_names(schema)}
    first = result[0]
    if isinstance(first, BaseModel):
        names = list(type(first).model_fields)
        return {name: _objects([getattr(item, name, None) for item in result]) for name in names}
    if isinstance(first, Mapping):
        names = list(dict.fromkeys(key for item in result for key in item))
        return {name: _objects([item.get(name) for item in result]) for name in names}
    values = np.asarray(result)
    return {_single_name(schema): values[:, 0] if _one_column(values) else values}


def _objects(values: list[Any]) -> Vector:
    """Plain scalars become a typed array (so metrics get numbers); anything else stays objects."""
    if all(isinstance(v, (bool, int, float, str)) for v in values):
        return np.asarray(values)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _array(values: Any, result: Mapping[Any, Any]) -> Vector:
    if isinstance(values, (pa.ChunkedArray, pa.Array)):
        converted: Vector = values.to_numpy(zero_copy_only=False)
        return converted
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise OutputError(
            f"predict returned {_kind(result)} holding {type(values).__name__} {values!r:.40}: "
            "expected a dict of arrays with one value per row"
        )
    return np.asarray(values)


def _one_column(values: Vector) -> bool:
    return values.ndim == 2 and values.shape[1] == 1


def _field_names(schema: type[BaseModel] | None) -> list[str]:
    return list(schema.model_fields) if schema is not None else [DEFAULT_NAME]


def _single_name(schema: type[BaseModel] | None) -> str:
    names = _field_names(schema)
    return names[0] if len(names) == 1 else DEFAULT_NAME


def _kind(result: Any) -> str:
    kind = f"{type(result).__module__}.{type(result).__qualname__}".removeprefix("builtins.")
    shape = getattr(result, "shape", None)
    if isinstance(shape, tuple):
        return f"a {kind} of shape {shape}"
    if hasattr(result, "__len__"):
        return f"a {kind} of length {len(result)}"
    return f"a {kind}"


def records(columns: Columns, rows: int) -> list[dict[str, Any]]:
    """The first `rows` outputs as dicts of plain Python values (numpy scalars are not ints)."""
    lists = {name: values[:rows].tolist() for name, values in columns.items()}
    count = min(rows, *(len(v) for v in lists.values())) if lists else 0
    return [{name: values[i] for name, values in lists.items()} for i in range(count)]


def validate(columns: Columns, schema: type[BaseModel], rows: int) -> list[FieldProblem]:
    """MOD004: the sample's outputs against the output schema, one problem per field."""
    sample = records(columns, rows)
    try:
        adapter(schema).validate_python(sample)
    except ValidationError as error:
        counts: dict[str, set[int]] = {}
        first: dict[str, str] = {}
        for item in error.errors():
            loc = item["loc"]
            where = ".".join(str(part) for part in loc[1:])
            counts.setdefault(where, set()).add(int(loc[0]) if loc else 0)
            first.setdefault(where, f"{item['msg']}, got {_short(item.get('input'))}")
        return [
            FieldProblem(field=where, message=first[where], count=len(found))
            for where, found in counts.items()
        ]
    return []


def compare(first: Columns, second: Columns) -> tuple[int, str | None]:
    """Rows whose outputs differ between two calls on the same input (NaN equals NaN), and the
    first difference as an example."""
    if list(first) != list(second):
        rows = max(_length(first), _length(second))
        return rows, f"the first call returned fields {list(first)}, the second {list(second)}"
    a, b = records(first, _length(first)), records(second, _length(second))
    if len(a) != len(b):
        return max(len(a), len(b)), f"the first call returned {len(a)} rows, the second {len(b)}"
    differing, example = 0, None
    for row, (one, two) in enumerate(zip(a, b, strict=True)):
        changed = [name for name in one if not _same(one[name], two[name])]
        if changed:
            differing += 1
            if example is None:
                name = changed[0]
                example = f"row {row}: {name} {_short(one[name])} then {_short(two[name])}"
    return differing, example


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return len(x) == len(y) and all(_same(i, j) for i, j in zip(x, y, strict=True))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return _same(np.asarray(x).tolist(), np.asarray(y).tolist())
    try:
        return bool(x == y)
    except Exception:  # an object whose == is not a truth value
        return x is y


def _length(columns: Columns) -> int:
    return max((len(values) for values in columns.values()), default=0)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
