"""The evaluation subprocess: `python -m pavedroad.evaluation.worker REQUEST OUTCOME`.

It imports the project's model, streams the golden dataset through `predict` in batches, times
single-row calls, reads its own peak memory and computes the metrics, then writes the Outcome.
It never raises out: whatever fails (the project's import, its model, its data, or this module)
becomes a Failure of the stage it happened in, located at the project's own file and line, and
the process exits 0 once the Outcome is written. Its stdout carries progress lines only.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, NoReturn, TextIO

import numpy as np
import pyarrow as pa
from pydantic import BaseModel

from pavedroad.evaluation import metrics as metric_functions
from pavedroad.evaluation.batches import (
    Dataset,
    DatasetError,
    RowsInvalid,
    check_columns,
    csv_types,
    open_dataset,
    to_format,
)
from pavedroad.evaluation.curves import summarise
from pavedroad.evaluation.outputs import Columns, OutputError, Vector, compare, normalise, validate
from pavedroad.evaluation.protocol import (
    PROGRESS,
    Curves,
    Determinism,
    Failure,
    Latency,
    Outcome,
    Request,
    Stage,
)

MESSAGE_CHARS = 2000  # a failure's message, enough for any exception a person reads
TOOL = Path(__file__).resolve().parents[1]  # pavedroad itself: never "the project's" frame
Emit = Callable[[int, int | None], None]


class _Stop(Exception):
    """A stage failed and recorded why; the stages after it cannot run."""


@dataclass
class _Model:
    predict: Callable[[Any], Any]
    input_schema: type[BaseModel] | None
    output_schema: type[BaseModel] | None


INTEGERS = (np.int8, np.int16, np.int32, np.int64)  # what a target of integers may be kept in


@dataclass
class RowVector:
    """One per-row vector, filled batch by batch.

    When the row count is known (Parquet), the vector is allocated once and each batch is copied
    into its place: memory is the vector itself, without the pieces and the concatenation that
    would double it at the end. Otherwise the pieces are kept, as copies (a piece may be a view
    that holds the model's whole output alive), and joined once. A `narrow` column (the target)
    keeps integers in the smallest signed type that holds the values seen: an int64 column of 0
    and 1 costs one byte a row instead of eight, and the values are the same.
    """

    total: int | None
    narrow: bool = False
    dtype: np.dtype[Any] | None = None  # the batches' own, as np.concatenate would join them
    vector: Vector | None = None
    size: int = 0
    pieces: list[Vector] = field(default_factory=list)

    def add(self, values: Vector) -> None:
        own = values.dtype
        self.dtype = own if self.dtype is None else np.result_type(self.dtype, own)
        kept = self.vector.dtype if self.vector is not None else None
        wanted = self._dtype(values, kept)
        if self.total is None:
            self.pieces.append(values.astype(wanted, copy=values.base is not None))
            return
        end = self.size + len(values)
        if self.vector is None:
            self.vector = np.empty(max(self.total, end), dtype=wanted)
        elif wanted != self.vector.dtype or end > len(self.vector):
            # a later batch needs a wider type, or the file held more rows than it announced
            grown = np.empty(max(end, len(self.vector)), dtype=wanted)
            grown[: self.size] = self.vector[: self.size]
            self.vector = grown
        self.vector[self.size : end] = values
        self.size = end

    def _dtype(self, values: Vector, kept: np.dtype[Any] | None) -> np.dtype[Any]:
        """What the kept vector must be to hold these values too, as np.concatenate decides,
        narrowed for a target of integers."""
        wanted = values.dtype if kept is None else np.result_type(kept, values.dtype)
        if not (self.narrow and wanted.kind in "iu" and len(values)):
            return wanted
        low, high = int(values.min()), int(values.max())
        for integer in INTEGERS:
            info, candidate = np.iinfo(integer), np.dtype(integer)
            if info.min <= low <= high <= info.max and (kept is None or np.can_cast(kept, integer)):
                return candidate if candidate.itemsize < wanted.itemsize else wanted
        return wanted

    def joined(self) -> Vector | None:
        """The whole vector; the pieces are released as it is built."""
        if self.total is not None:
            return None if self.vector is None else self.vector[: self.size]
        if not self.pieces:
            return None
        joined: Vector = np.concatenate(self.pieces)
        self.pieces.clear()
        return joined


@dataclass
class _Vectors:
    """Per row, only what the metrics need: memory grows with these, never with the file."""

    y_true: RowVector
    outputs: dict[str, RowVector]  # the output fields the metrics read: prediction, score or both
    codes: dict[str, list[Vector]] = field(default_factory=dict)
    labels: dict[str, dict[str, int]] = field(default_factory=dict)  # slice value -> code

    def add_codes(self, column: str, values: pa.ChunkedArray) -> None:
        """int32 codes of the slice column's values; the value -> code table is per column."""
        encoded = values.combine_chunks().dictionary_encode(null_encoding="encode")
        known = self.labels.setdefault(column, {})
        mapping = np.array(
            [known.setdefault(_label(v), len(known)) for v in encoded.dictionary.to_pylist()],
            dtype=np.int32,
        )
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        self.codes.setdefault(column, []).append(mapping[indices] if len(mapping) else indices)


def _label(value: Any) -> str:
    return "null" if value is None else str(value)


def _joined(chunks: list[Vector]) -> Vector | None:
    """One vector from the batches' pieces; the pieces are released as it is built."""
    if not chunks:
        return None
    joined: Vector = np.concatenate(chunks)
    chunks.clear()
    return joined


class _Evaluation:
    def __init__(self, request: Request, outcome: Outcome, emit: Emit) -> None:
        self.request = request
        self.outcome = outcome
        self.emit = emit
        self.root = Path(request.root).resolve()
        self.stage: Stage = "import"
        self.prediction: str | None = None  # the output fields the metrics read
        self.score: str | None = None
        self.unavailable: dict[str, str] = {}

    def run(self) -> None:
        try:
            self._run()
        except _Stop:
            pass
        except (Exception, SystemExit) as error:  # a defect here still ends in an Outcome
            self.outcome.failures.append(self._failure(self.stage, error))

    def _run(self) -> None:
        started = time.perf_counter()
        model = self._import()
        import_seconds = time.perf_counter() - started
        if self.request.dataset is None:
            sample = self._examples(model)
            if sample is None:
                self.outcome.load_seconds = import_seconds
                return
            first = time.perf_counter()
            outputs = self._load_call(model, sample)
            self.outcome.load_seconds = import_seconds + time.perf_counter() - first
            self._check_outputs(model, outputs)
            self._determinism(model, sample)
            self._latency(model, sample)
            self._memory()
            return
        dataset, tables, sample = self._dataset(model)
        first = time.perf_counter()
        outputs = self._load_call(model, sample)
        self.outcome.load_seconds = import_seconds + time.perf_counter() - first
        self._check_outputs(model, outputs)
        self._determinism(model, sample)
        vectors = self._predict_all(model, dataset, tables)
        self._latency(model, sample)
        self._memory()
        self._metrics(vectors)

    # -- import ---------------------------------------------------------------------------------

    def _import(self) -> _Model:
        self.stage = "import"
        sys.path[:0] = [p for p in self.request.source_roots if p not in sys.path]
        if self.request.mlflow is not None:
            return _Model(
                predict=self._load_mlflow(Path(self.request.mlflow)),
                input_schema=self._schema(self.request.input_schema),
                output_schema=self._schema(self.request.output_schema),
            )
        predict = self._resolve(self.request.predict)
        if not callable(predict):
            self._stop(
                "import",
                "TypeError",
                f"{self.request.predict} is a {type(predict).__name__}, not a callable",
            )
        return _Model(
            predict=predict,
            input_schema=self._schema(self.request.input_schema),
            output_schema=self._schema(self.request.output_schema),
        )

    def _load_mlflow(self, directory: Path) -> Callable[[Any], Any]:
        """The pyfunc model's predict (DataFrame in). Its classes unpickle from the project's
        sources, so this runs after they are on sys.path."""
        self.stage = "load"
        shown = _shown(directory, self.root)
        if not (directory / "MLmodel").is_file():
            what = "has no MLmodel file" if directory.is_dir() else "does not exist"
            self._stop(
                "load",
                "FileNotFoundError",
                f"the MLflow model directory {shown} {what}: save the model there with "
                "mlflow.pyfunc.save_model, or correct [model].mlflow",
            )
        try:
            with warnings.catch_warnings():  # mlflow's own import-time notices, not the model's
                warnings.simplefilter("ignore")
                import mlflow.pyfunc
        except ImportError as error:
            self._stop(
                "load",
                type(error).__name__,
                f"{shown} is an MLflow model, and loading it needs mlflow ({error}): "
                'pip install "pavedroad[mlflow]"',
            )
        try:
            model = mlflow.pyfunc.load_model(str(directory))
        except (Exception, SystemExit) as error:
            self.outcome.failures.append(
                self._failure("load", error, f"cannot load the MLflow model {shown}: ")
            )
            raise _Stop from None
        predict: Callable[[Any], Any] = model.predict
        return predict

    def _resolve(self, reference: str) -> Any:
        module_name, _, attribute = reference.partition(":")
        try:
            found: Any = importlib.import_module(module_name)
            for part in attribute.split("."):
                found = getattr(found, part)
        except (Exception, SystemExit) as error:
            self.outcome.failures.append(
                self._failure("import", error, f"cannot import {reference}: ")
            )
            raise _Stop from None
        return found

    def _schema(self, reference: str | None) -> type[BaseModel] | None:
        if reference is None:
            return None
        found = self._resolve(reference)
        if not (isinstance(found, type) and issubclass(found, BaseModel)):
            self._stop(
                "import",
                "TypeError",
                f"{reference} is {found!r:.80}, not a pydantic BaseModel subclass: schemas are "
                "pydantic models",
            )
        schema: type[BaseModel] = found
        return schema

    # -- dataset --------------------------------------------------------------------------------

    def _dataset(self, model: _Model) -> tuple[Dataset, Iterator[pa.Table], pa.Table]:
        """The dataset, its batches, and its first `sample_rows` rows; MOD003's report."""
        self.stage = "dataset"
        request = self.request
        assert request.dataset is not None
        try:
            dataset = open_dataset(Path(request.dataset))
            fields = self._features(dataset, model)
            sample = dataset.sample(fields, request.sample_rows) if fields else pa.table({})
        except DatasetError as error:
            self._stop("dataset", error.kind, str(error))
        problems = check_columns(
            dataset.columns, sample, model.input_schema, request.target, request.slices
        )
        self.outcome.columns = problems
        missing = [
            p.column for p in problems if p.problem == "missing" and p.column not in request.slices
        ]
        if missing:
            self._stop(
                "dataset",
                "MissingColumns",
                f"the golden dataset lacks the input column(s) {', '.join(missing)}",
            )
        if request.target is not None and request.target not in dataset.columns:
            self._stop(
                "dataset",
                "MissingColumns",
                f"the golden dataset has no target column {request.target!r} "
                f"(its columns: {', '.join(dataset.columns)})",
            )
        mistyped = {p.column for p in problems if p.problem == "type"}
        # a column whose sampled values do not fit its type is read as pyarrow infers it, so the
        # evaluation goes on as far as the model can take those values
        types = {k: v for k, v in csv_types(model.input_schema).items() if k not in mistyped}
        types.update({c: pa.string() for c in request.slices if c not in types})
        tables = dataset.batches(self._read_columns(dataset, fields), request.batch_size, types)
        head: list[pa.Table] = []
        try:
            while sum(t.num_rows for t in head) < request.sample_rows:
                table = next(tables, None)
                if table is None:
                    break
                head.append(table)
        except DatasetError as error:
            self._stop("dataset", error.kind, str(error))
        if not head:
            self._stop("dataset", "EmptyDataset", f"{dataset.path.name} has no rows")
        first = pa.concat_tables(head).slice(0, request.sample_rows).select(fields)
        return dataset, chain(head, tables), first

    def _features(self, dataset: Dataset, model: _Model) -> list[str]:
        """The columns handed to predict: the input schema's fields in its order, or without a
        schema every column but the target."""
        if model.input_schema is None:
            return [c for c in dataset.columns if c != self.request.target]
        return [name for name in model.input_schema.model_fields if name in dataset.columns]

    def _read_columns(self, dataset: Dataset, fields: list[str]) -> list[str]:
        wanted = [*fields, self.request.target, *self.request.slices]
        return [c for c in dict.fromkeys(wanted) if c is not None and c in dataset.columns]

    # -- predict --------------------------------------------------------------------------------

    def _load_call(self, model: _Model, sample: pa.Table) -> Columns:
        """The first call, on the sample: an exception here means the model does not load."""
        self.stage = "load"
        batch = self._convert(model, sample, 0)
        try:
            result = model.predict(batch)
        except (Exception, SystemExit) as error:
            self.outcome.failures.append(self._failure("load", error, "the first call failed: "))
            raise _Stop from None
        return self._normalise(model, result, sample.num_rows, 0)

    def _convert(self, model: _Model, table: pa.Table, start: int) -> Any:
        try:
            return to_format(table, self.request.batch_format, model.input_schema)
        except RowsInvalid as error:
            self._stop("dataset", "RowsInvalid", f"{_rows(start, table.num_rows)}: {error}")

    def _normalise(self, model: _Model, result: Any, rows: int, start: int) -> Columns:
        try:
            return normalise(result, rows, model.output_schema)
        except OutputError as error:
            self._stop("outputs", "OutputError", f"{_rows(start, rows)}: {error}")

    def _check_outputs(self, model: _Model, outputs: Columns) -> None:
        """MOD004 on the sample, and which output fields the metrics read."""
        self.stage = "outputs"
        if model.output_schema is not None:
            self.outcome.outputs = validate(outputs, model.output_schema, self.request.sample_rows)
        names = list(outputs)
        have = f"the outputs have {', '.join(names) or 'no fields'}"
        self.prediction = self.request.prediction or (names[0] if len(names) == 1 else None)
        if self.request.prediction and self.request.prediction not in outputs:
            self.prediction = None
            self.unavailable["prediction"] = (
                f"[performance].prediction names {self.request.prediction!r}, which {have}"
            )
        elif self.prediction is None:
            self.unavailable["prediction"] = (
                f"{have}: set [performance].prediction to the one compared with the target"
            )
        self.score = self.request.score if self.request.score in outputs else None
        if self.request.score and self.score is None:
            self.unavailable["score"] = (
                f"[performance].score names {self.request.score!r}, which {have}"
            )

    def _determinism(self, model: _Model, sample: pa.Table) -> None:
        """MOD005: the same rows twice; the comparison is exact."""
        self.stage = "predict"
        rows = sample.slice(0, self.request.determinism_rows)
        runs = []
        for _ in range(2):
            batch = self._convert(model, rows, 0)
            runs.append(
                self._normalise(model, self._call(model, batch, 0, rows.num_rows), rows.num_rows, 0)
            )
        differing, example = compare(runs[0], runs[1])
        self.outcome.determinism = Determinism(rows.num_rows, differing, example)

    def _call(self, model: _Model, batch: Any, start: int, rows: int) -> Any:
        try:
            return model.predict(batch)
        except (Exception, SystemExit) as error:
            failure = self._failure("predict", error, f"{_rows(start, rows)}: ")
            self.outcome.failures.append(failure)
            raise _Stop from None

    def _predict_all(self, model: _Model, dataset: Dataset, tables: Iterator[pa.Table]) -> _Vectors:
        """Every row once, batch by batch; only the metrics' vectors are kept."""
        self.stage = "predict"
        total = dataset.total_rows
        kept = {name: RowVector(total) for name in self._kept_outputs()}
        vectors = _Vectors(RowVector(total, narrow=True), kept)
        seconds, done = 0.0, 0
        # without metrics, no row is kept: the pass still gives throughput and failures
        target, slices = (
            self.request.target if self.request.metrics else None,
            [s for s in self.request.slices if s in dataset.columns and self.request.metrics],
        )
        fields = self._features(dataset, model)
        while True:
            try:
                table = next(tables, None)
            except DatasetError as error:
                self._stop("dataset", error.kind, f"{_rows(done, 0, reading=True)}: {error}")
            if table is None:
                break
            started = time.perf_counter()
            result = self._call(
                model, self._convert(model, table.select(fields), done), done, table.num_rows
            )
            seconds += time.perf_counter() - started
            outputs = self._normalise(model, result, table.num_rows, done)
            self._keep(vectors, table, outputs, target, slices, done)
            done += table.num_rows
            self.outcome.rows = done
            self.emit(done, dataset.total_rows)
        self.outcome.throughput_rows_s = done / seconds if seconds > 0 else None
        return vectors

    def _keep(
        self,
        vectors: _Vectors,
        table: pa.Table,
        outputs: Columns,
        target: str | None,
        slices: list[str],
        start: int,
    ) -> None:
        for name, kept in vectors.outputs.items():
            if name not in outputs:
                self._stop(
                    "outputs",
                    "OutputError",
                    f"{_rows(start, table.num_rows)}: the outputs have no field {name!r} "
                    f"(they have {', '.join(outputs)})",
                )
            kept.add(outputs[name])
        if target is not None:
            vectors.y_true.add(table.column(target).to_numpy())
        for column in slices:
            vectors.add_codes(column, table.column(column))

    def _kept_outputs(self) -> list[str]:
        """The output fields some metric reads; one vector when prediction and score are the
        same field (a model answering only a probability)."""
        uses = {
            m.uses if m.function is not None else metric_functions.METRICS[m.name].input
            for m in self.request.metrics
        }
        names = [self.prediction if "prediction" in uses else None]
        names.append(self.score if "score" in uses else None)
        return [name for name in dict.fromkeys(names) if name is not None]

    # -- latency and memory ---------------------------------------------------------------------

    def _latency(self, model: _Model, sample: pa.Table) -> None:
        """Single-row calls, prepared beforehand so that only the call itself is timed."""
        self.stage = "predict"
        request = self.request
        singles = [
            self._convert(model, sample.slice(i, 1), i)
            for i in range(min(sample.num_rows, request.latency_calls))
        ]
        if not singles or request.latency_calls < 1:
            return
        timings = np.empty(request.latency_calls, dtype=np.int64)
        for call in range(request.latency_warmup + request.latency_calls):
            batch = singles[call % len(singles)]
            started = time.perf_counter_ns()
            try:
                model.predict(batch)
            except (Exception, SystemExit) as error:
                failure = self._failure("predict", error, "a single-row call for latency: ")
                self.outcome.failures.append(failure)
                raise _Stop from None
            elapsed = time.perf_counter_ns() - started
            if call >= request.latency_warmup:
                timings[call - request.latency_warmup] = elapsed
        p50, p95, p99 = (float(v) / 1e6 for v in np.percentile(timings, [50, 95, 99]))
        samples = [round(float(v) / 1e6, 6) for v in timings]
        self.outcome.latency = Latency(request.latency_calls, p50, p95, p99, samples)

    def _examples(self, model: _Model) -> pa.Table | None:
        """Without a dataset, the input schema's examples are the sample, when it has some."""
        self.stage = "load"
        rows = _schema_examples(model.input_schema) if model.input_schema else []
        if not rows:
            return None
        try:
            return pa.Table.from_pylist(rows)
        except (pa.ArrowException, ValueError, TypeError) as error:
            self._stop("load", type(error).__name__, f"the input schema's examples: {error}")

    def _memory(self) -> None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # kibibytes on Linux, bytes on macOS
        self.outcome.peak_memory_mb = peak / (1 << 20) if sys.platform == "darwin" else peak / 1024

    # -- metrics --------------------------------------------------------------------------------

    def _metrics(self, vectors: _Vectors) -> None:
        self.stage = "metrics"
        request = self.request
        if not request.metrics:
            return
        custom = {
            m.name: metric_functions.load_custom(m.function)
            for m in request.metrics
            if m.function is not None
        }
        y_true = vectors.y_true.joined()
        narrowed = y_true is not None and y_true.dtype != vectors.y_true.dtype
        plan = metric_functions.Plan(
            request.metrics,
            custom,
            self.unavailable,
            str(vectors.y_true.dtype) if narrowed else None,
        )
        joined = {name: column.joined() for name, column in vectors.outputs.items()}
        prediction = joined.get(self.prediction) if self.prediction else None
        score = joined.get(self.score) if self.score else None
        self.outcome.metrics = plan.compute(y_true, prediction, score)
        self.outcome.curves = _curves(y_true, prediction, score)
        for column, labels in vectors.labels.items():
            codes = _joined(vectors.codes[column])
            assert codes is not None
            self.outcome.slices.extend(
                metric_functions.slice_outcomes(
                    plan,
                    column,
                    codes,
                    list(labels),
                    (y_true, prediction, score),
                    request.slice_min_rows,
                )
            )

    # -- failures -------------------------------------------------------------------------------

    def _stop(self, stage: Stage, kind: str, message: str) -> NoReturn:
        self.outcome.failures.append(Failure(stage, kind, message[:MESSAGE_CHARS]))
        raise _Stop

    def _failure(self, stage: Stage, error: BaseException, prefix: str = "") -> Failure:
        path, line = self._locate(error)
        text = str(error) or repr(error)
        return Failure(stage, type(error).__name__, (prefix + text)[:MESSAGE_CHARS], path, line)

    def _locate(self, error: BaseException) -> tuple[str | None, int | None]:
        """The innermost frame in the project's own files (not its virtualenv, not pavedroad)."""
        frames = [(f.filename, f.lineno) for f in traceback.extract_tb(error.__traceback__)]
        if isinstance(error, SyntaxError) and error.filename:
            frames.append((error.filename, error.lineno))
        for filename, line in reversed(frames):
            relative = self._in_project(filename)
            if relative is not None:
                return relative, line
        return None, None

    def _in_project(self, filename: str) -> str | None:
        if not Path(filename).is_absolute():  # "<frozen importlib._bootstrap>", "<string>"
            return None
        try:
            path = Path(filename).resolve()
            relative = path.relative_to(self.root)
        except (OSError, ValueError):
            return None
        outside = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), TOOL}
        if any(path.is_relative_to(folder) for folder in outside) or "site-packages" in path.parts:
            return None
        return relative.as_posix()


def _curves(
    y_true: Vector | None, prediction: Vector | None, score: Vector | None
) -> Curves | None:
    """The report's plot summaries. They are pictures, not evidence: whatever goes wrong making
    them must not turn into a failure of the evaluation that the checks would report."""
    try:
        return summarise(y_true, prediction, score)
    except Exception:
        return None


def _schema_examples(schema: type[BaseModel]) -> list[dict[str, Any]]:
    """Rows from `json_schema_extra={"examples": [...]}`, else from the fields' `examples`."""
    extra = schema.model_config.get("json_schema_extra")
    listed = extra.get("examples") if isinstance(extra, dict) else None
    if isinstance(listed, list):
        rows = [dict(row) for row in listed if isinstance(row, dict)]
        if rows:
            return rows
    examples = {name: info.examples for name, info in schema.model_fields.items() if info.examples}
    required = [name for name, info in schema.model_fields.items() if info.is_required()]
    if not examples or any(name not in examples for name in required):
        return []
    count = max(len(values) for values in examples.values())
    return [
        {name: values[i % len(values)] for name, values in examples.items()} for i in range(count)
    ]


def _shown(path: Path, root: Path) -> str:
    """`path` as the contract writes it: relative to the project when inside it."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _rows(start: int, count: int, *, reading: bool = False) -> str:
    if reading:
        return f"reading after row {start}"
    return f"rows {start}-{start + count - 1}" if count != 1 else f"row {start}"


@contextlib.contextmanager
def _progress_channel() -> Iterator[TextIO]:
    """A stream on the real stdout for progress lines; meanwhile file descriptor 1 points at
    stderr, so not even a C library or a child process of the model can write between them."""
    sys.stdout.flush()
    saved = os.dup(1)
    channel = os.fdopen(os.dup(saved), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield channel
    finally:
        channel.close()
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def main(argv: Sequence[str] | None = None) -> int:
    """Evaluate as REQUEST asks, write OUTCOME; 0 once the Outcome is written."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print(
            "usage: python -m pavedroad.evaluation.worker REQUEST.json OUTCOME.json",
            file=sys.stderr,
        )
        return 2
    request_path, outcome_path = Path(args[0]), Path(args[1])
    outcome = Outcome()
    with _progress_channel() as channel:

        def emit(rows: int, total: int | None) -> None:
            channel.write(json.dumps({"event": PROGRESS, "rows": rows, "total": total}) + "\n")

        try:
            request = Request.read(request_path)
        except (OSError, ValueError, TypeError, KeyError) as error:
            outcome.failures.append(
                Failure(
                    "import",
                    type(error).__name__,
                    f"cannot read the request {request_path}: {error}",
                )
            )
        else:
            _Evaluation(request, outcome, emit).run()
    try:
        outcome.write(outcome_path)
    except (OSError, TypeError, ValueError) as error:
        print(f"cannot write the outcome {outcome_path}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
