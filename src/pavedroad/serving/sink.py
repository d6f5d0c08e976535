"""The input sink: sampled request rows written to Parquet files, for drift analysis later.

Rows gather in memory and are written `rows_per_file` at a time by one background thread, so a
request never waits for a disk and files keep their order. Each file is written under a
temporary name and renamed, so a job reading the folder never sees half a file; what is pending
at shutdown is written then. Needs pyarrow (the `evaluate` extra).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from structlog.typing import FilteringBoundLogger

from pavedroad.errors import UsageError


class InputSink:
    def __init__(
        self,
        folder: Path,
        rows_per_file: int,
        schema: type[BaseModel] | None,
        log: FilteringBoundLogger,
    ) -> None:
        try:
            import pyarrow as pa
        except ImportError:
            raise UsageError(
                'PAVED_SINK_DIR needs pyarrow.\n  hint: pip install "pavedroad[evaluate]"'
            ) from None
        from pavedroad.evaluation.batches import csv_types

        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.log = log
        self.rows_per_file = rows_per_file
        types = csv_types(schema)
        fields = list(schema.model_fields) if schema is not None else []
        # a fixed schema when every field has a plain type: files that agree, even on nulls
        self.schema = (
            pa.schema(
                [(name, types[name]) for name in fields]
                + [("request_id", pa.string()), ("received_at", pa.timestamp("us", tz="UTC"))]
            )
            if fields and all(name in types for name in fields)
            else None
        )
        self.pending: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.written = 0
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="paved-sink")

    def add(self, rows: list[dict[str, Any]], request_id: str) -> None:
        received = dt.datetime.now(dt.timezone.utc)
        with self.lock:
            self.pending.extend(
                {**row, "request_id": request_id, "received_at": received} for row in rows
            )
            while len(self.pending) >= self.rows_per_file:
                chunk = self.pending[: self.rows_per_file]
                del self.pending[: self.rows_per_file]
                self.writer.submit(self._write, chunk)

    def close(self) -> None:
        with self.lock:
            chunk, self.pending = self.pending, []
        if chunk:
            self.writer.submit(self._write, chunk)
        self.writer.shutdown(wait=True)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        """One file; a failure (disk full, a value Arrow cannot hold) loses these rows only,
        and says so in the log: serving goes on."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.written += 1
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        name = f"inputs-{stamp}-{os.getpid()}-{self.written:06d}.parquet"
        temporary = self.folder / f".{name}.tmp"
        try:
            pq.write_table(pa.Table.from_pylist(rows, schema=self.schema), temporary)
            temporary.replace(self.folder / name)
        except Exception as error:
            temporary.unlink(missing_ok=True)
            self.log.error("input sink write failed", rows=len(rows), exc_info=error)
