"""The golden dataset, read in record batches with pyarrow, and each batch in `predict`'s format.

A golden dataset may have tens of millions of rows: it is never loaded whole. Batches of
`batch_size` rows are read, handed to `predict`, and dropped; only the columns the evaluation
needs are read at all, so extra columns cost neither memory nor time.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from pydantic import BaseModel, TypeAdapter, ValidationError

from pavedroad.evaluation.protocol import ColumnProblem

BatchFormat = Literal["records", "pandas", "arrow", "numpy"]
CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_BLOCK_BYTES = 8 << 20  # pyarrow's 1 MiB default makes many tiny batches to stitch together

# Annotations whose column type a CSV reader must not guess from the first block: a column of
# whole numbers that turns decimal a million rows in would otherwise stop the read there.
ARROW_TYPES: dict[Any, pa.DataType] = {
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    str: pa.string(),
}


class DatasetError(Exception):
    """The golden dataset cannot be read; the message is pyarrow's (or says which file)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class RowsInvalid(Exception):
    """Rows of a batch do not validate against the input schema, so they cannot be predicted."""


@dataclass(frozen=True)
class Dataset:
    path: Path
    kind: Literal["csv", "parquet"]
    columns: tuple[str, ...]
    total_rows: int | None  # from Parquet's metadata; a CSV file is not counted in advance

    def sample(self, columns: Sequence[str], rows: int) -> pa.Table:
        """The first `rows` rows for the column check. A CSV file's values stay text here, so a
        value that does not fit its field is reported by pydantic, with the column, instead of
        stopping pyarrow's typed read."""
        text = dict.fromkeys(columns, pa.string())
        head: list[pa.Table] = []
        for table in self.batches(columns, rows, text):
            head.append(table)
            break
        return head[0] if head else pa.table({name: pa.array([], pa.string()) for name in columns})

    def batches(
        self, columns: Sequence[str], size: int, types: dict[str, pa.DataType] | None = None
    ) -> Iterator[pa.Table]:
        """Tables of `size` rows (the last one shorter) holding `columns` only."""
        return _guarded(rebatch(self._record_batches(list(columns), size, types or {}), size))

    def _record_batches(
        self, columns: list[str], size: int, types: dict[str, pa.DataType]
    ) -> Iterator[pa.RecordBatch]:
        if self.kind == "parquet":
            # pre_buffer (ParquetFile's default since pyarrow 25, apache/arrow#49923) reads the
            # column chunks of every row group ahead: memory grows with the file (670 MB for
            # 20M rows, the file's size), and on a local disk it is slower
            parquet = pq.ParquetFile(self.path, pre_buffer=False)
            try:
                yield from parquet.iter_batches(batch_size=size, columns=columns)
            finally:
                parquet.close()
            return
        reader = pa_csv.open_csv(
            self.path,
            read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: kind for name, kind in types.items() if name in columns},
                include_columns=columns,
                strings_can_be_null=True,
            ),
        )
        with reader:
            yield from reader


def open_dataset(path: Path) -> Dataset:
    """The dataset's columns and size, from its header or metadata, without reading its rows."""
    name = path.name.lower()
    if not name.endswith(CSV_SUFFIXES + PARQUET_SUFFIXES):
        raise DatasetError(
            f"{path.name} is neither CSV ({', '.join(CSV_SUFFIXES)}) nor Parquet "
            f"({', '.join(PARQUET_SUFFIXES)})",
            "UnsupportedFormat",
        )
    if not path.is_file():
        raise DatasetError(f"the golden dataset {path} does not exist", "FileNotFoundError")
    try:
        if name.endswith(PARQUET_SUFFIXES):
            parquet = pq.ParquetFile(path)
            try:
                names = tuple(parquet.schema_arrow.names)
                return Dataset(path, "parquet", names, parquet.metadata.num_rows)
            finally:
                parquet.close()
        with pa_csv.open_csv(path) as reader:
            return Dataset(path, "csv", tuple(reader.schema.names), None)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise DatasetError(f"{path.name}: {error}", type(error).__name__) from None


def rebatch(batches: Iterable[pa.RecordBatch], size: int) -> Iterator[pa.Table]:
    """Tables of exactly `size` rows, whatever sizes the reader yields (CSV blocks are bytes,
    Parquet batches stop at row-group ends); slicing a table copies nothing."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size)
            rest = table.slice(size)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)


def _guarded(tables: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """A read error in the middle of the file (a corrupt page, a value pyarrow cannot convert)
    is a dataset error, like one at the start."""
    try:
        yield from tables
    except (pa.ArrowException, OSError, ValueError) as error:
        raise DatasetError(str(error), type(error).__name__) from None


def csv_types(schema: type[BaseModel] | None) -> dict[str, pa.DataType]:
    """Arrow types for the fields annotated int, float, bool or str (optional or not)."""
    if schema is None:
        return {}
    found: dict[str, pa.DataType] = {}
    for name, info in schema.model_fields.items():
        members = [m for m in _members(info.annotation) if m is not type(None)]
        if len(members) == 1 and members[0] in ARROW_TYPES:
            found[name] = ARROW_TYPES[members[0]]
    return found


def _members(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def check_columns(
    columns: Sequence[str],
    sample: pa.Table,
    schema: type[BaseModel] | None,
    target: str | None,
    slices: Sequence[str],
) -> list[ColumnProblem]:
    """MOD003: the file's columns against the input schema, and the sample's values."""
    problems: list[ColumnProblem] = []
    fields = schema.model_fields if schema is not None else {}
    name = schema.__name__ if schema is not None else "the input schema"
    for field, info in fields.items():
        if info.is_required() and field not in columns:
            problems.append(
                ColumnProblem(
                    field, "missing", f"{name} requires {field}; the file has no such column"
                )
            )
    for column in slices:
        if column not in columns:
            problems.append(
                ColumnProblem(
                    column, "missing", "[performance].slices names it; the file has no such column"
                )
            )
    if schema is not None:
        known = {*fields, *slices, *([target] if target else [])}
        problems.extend(
            ColumnProblem(column, "extra", f"neither a field of {name}, the target nor a slice")
            for column in columns
            if column not in known
        )
        problems.extend(_type_problems(sample, schema))
    return problems


def _type_problems(sample: pa.Table, schema: type[BaseModel]) -> list[ColumnProblem]:
    """Sampled values that pydantic cannot coerce to their field, one problem per column."""
    try:
        adapter(schema).validate_python(sample.to_pylist())
    except ValidationError as error:
        present = set(sample.column_names)
        rows: dict[str, set[int]] = {}
        first: dict[str, str] = {}
        for item in error.errors():
            loc = item["loc"]
            column = str(loc[1]) if len(loc) > 1 else ""
            if item["type"] == "missing" and column not in present:
                continue  # reported as a missing column
            rows.setdefault(column, set()).add(int(loc[0]))
            first.setdefault(column, f"{item['msg']}, got {_short(item.get('input'))}")
        return [
            ColumnProblem(
                column,
                "type",
                f"{len(found)} of {sample.num_rows} sampled rows: {first[column]}",
            )
            for column, found in rows.items()
        ]
    return []


@functools.cache
def adapter(schema: type[BaseModel]) -> TypeAdapter[list[Any]]:
    """Built once per schema: building one compiles a validator."""
    return TypeAdapter(list[schema])  # type: ignore[valid-type]


def to_format(table: pa.Table, batch_format: BatchFormat, schema: type[BaseModel] | None) -> Any:
    """The batch as `predict` takes it, as Ray Data's map_batches names the formats."""
    if batch_format == "records":
        rows = table.to_pylist()
        if schema is None:
            return rows
        try:
            return adapter(schema).validate_python(rows)
        except ValidationError as error:
            failed = sorted({int(item["loc"][0]) for item in error.errors() if item["loc"]})
            item = error.errors()[0]
            where = ".".join(str(part) for part in item["loc"][1:])
            raise RowsInvalid(
                f"{len(failed)} rows do not validate against {schema.__name__}, so they cannot "
                f"be predicted; first: {where}: {item['msg']}, got {_short(item.get('input'))}"
            ) from None
    if batch_format == "pandas":
        return table.to_pandas()
    if batch_format == "arrow":
        return table
    return {name: table.column(name).to_numpy() for name in table.column_names}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
