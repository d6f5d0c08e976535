"""The history of evaluations and the accepted baseline each new run is compared with (PRF002).

An interface (`HistoryStore`) so that a server database can be added later; today one embedded
SQLite file, by default `.paved/history.db` in the project, meant to be committed so that the
accepted baseline travels with the code. Parallel CI jobs on one runner write to the same file:
WAL mode, a long busy timeout and `BEGIN IMMEDIATE` keep them from corrupting it or failing.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from pavedroad.errors import UsageError

ENV = "PAVED_HISTORY"
DEFAULT = Path(".paved") / "history.db"
SCHEMA_VERSION = 1
# Marks the file as ours, so that a path pointing at another tool's SQLite database is refused
# instead of having a table added to it ("PAVD").
APPLICATION_ID = 0x50415644
BUSY_TIMEOUT_MS = 30_000
# WAL side files exist only while a connection is open; the database itself is committed.
GITIGNORE = ("*.db-wal", "*.db-shm")

# MIGRATIONS[n] takes a file from user_version n to n + 1, each statement run in the same
# transaction (executescript would commit first). Index 0 creates the schema.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            project TEXT NOT NULL,
            commit_sha TEXT,
            contract_sha256 TEXT NOT NULL,
            dataset_sha256 TEXT,
            artifact_sha256 TEXT,
            metrics TEXT NOT NULL,
            budgets TEXT NOT NULL,
            created TEXT NOT NULL,
            accepted INTEGER NOT NULL DEFAULT 0 CHECK (accepted IN (0, 1))
        )""",
        "CREATE INDEX runs_by_project ON runs (project, created)",
        # The database itself guarantees one baseline per (project, dataset), whoever writes.
        """CREATE UNIQUE INDEX one_accepted_baseline
            ON runs (project, ifnull(dataset_sha256, '')) WHERE accepted = 1""",
    ),
)


@dataclass(frozen=True)
class EvaluationRecord:
    """One evaluation as recorded: what was evaluated (hashes) and what it measured."""

    project: str  # contract name or package name or folder name
    commit: str | None  # git rev-parse HEAD, None outside git
    contract_sha256: str
    dataset_sha256: str | None
    artifact_sha256: str | None
    metrics: dict[str, float | None]  # "roc_auc", "roc_auc/region=north"
    budgets: dict[str, float | None]  # "latency_p99_ms", "peak_memory_mb", "throughput_rows_s"
    created: datetime  # UTC, aware
    accepted: bool = False  # read back: this run is the current baseline of its key
    id: int | None = None


class HistoryStore(Protocol):
    def record(self, run: EvaluationRecord, *, accept: bool = False) -> int:
        """Store `run` (its `id` and `accepted` are ignored) and return its id; with `accept`, it
        becomes the baseline of (project, dataset_sha256), superseding the previous one."""
        ...

    def accepted(self, project: str, dataset_sha256: str | None) -> EvaluationRecord | None: ...

    def runs(self, project: str, limit: int = 100) -> list[EvaluationRecord]:
        """Newest first."""
        ...

    def close(self) -> None: ...


def open_history(location: str | None, root: Path, *, create: bool = True) -> HistoryStore:
    """The store at `location` (None: $PAVED_HISTORY, else `<root>/.paved/history.db`): a path
    (relative to `root`) or a URL. With `create=False` a missing store is not created and reads
    as empty, so read-only users (`paved check`) leave no file behind."""
    location = location or os.environ.get(ENV) or str(DEFAULT)
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", location)
    if match is None:
        return SQLiteHistory(_resolve(location, root), create=create)
    scheme = match.group(1).lower()
    opener = BACKENDS.get(scheme)
    if opener is None:
        # Only the scheme is echoed: a server URL may carry a password.
        raise UsageError(
            f"history location {scheme}://... is not supported.\n  hint: use {SUPPORTED}"
        )
    return opener(location[match.end() :], root, create)


def _open_sqlite(rest: str, root: Path, create: bool) -> HistoryStore:
    """SQLAlchemy's spelling: sqlite:///relative.db (to the project), sqlite:////absolute.db."""
    if not rest.startswith("/") or rest == "/":
        raise UsageError(
            f"history location sqlite://{rest} names no file.\n  hint: use {SUPPORTED}"
        )
    return SQLiteHistory(_resolve(rest[1:], root), create=create)


BACKENDS: dict[str, Callable[[str, Path, bool], HistoryStore]] = {"sqlite": _open_sqlite}
SUPPORTED = (
    "a file path (relative to the project), sqlite:///relative/history.db or "
    "sqlite:////absolute/history.db"
)


def _resolve(path: str, root: Path) -> Path:
    return root / Path(path).expanduser()


class SQLiteHistory:
    """The history in one SQLite file. One connection per store, in autocommit mode so that
    every write is an explicit `BEGIN IMMEDIATE` transaction: the write lock is taken up front
    and waited for, never upgraded halfway (which in WAL mode fails without waiting)."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        if create:
            try:
                _make_folder(path.parent)
            except OSError as error:
                raise UsageError(
                    f"cannot create the folder of the history database {path}: {error}.\n"
                    f"  hint: point --history / {ENV} at a writable place"
                ) from None
        elif not path.exists():
            return
        with self._translated():
            self._connection = self._connect(create)

    def _connect(self, create: bool) -> sqlite3.Connection:
        target = str(self.path) if create else f"{self.path.resolve().as_uri()}?mode=rw"
        connection = sqlite3.connect(
            target, uri=not create, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
        try:
            connection.row_factory = sqlite3.Row
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if create:
                _initialise(connection, self.path)
            else:
                _check_version(connection, self.path)
        except BaseException:
            connection.close()
            raise
        return connection

    def record(self, run: EvaluationRecord, *, accept: bool = False) -> int:
        if run.created.utcoffset() is None:
            raise ValueError(f"EvaluationRecord.created must be timezone-aware: {run.created!r}")
        if self._connection is None:
            raise UsageError(f"no history at {self.path} to record into (opened with create=False)")
        row = (
            run.project,
            run.commit,
            run.contract_sha256,
            run.dataset_sha256,
            run.artifact_sha256,
            _dump(run.metrics),
            _dump(run.budgets),
            _timestamp(run.created),
            int(accept),
        )
        with self._translated(), _transaction(self._connection) as connection:
            if accept:
                connection.execute(
                    "UPDATE runs SET accepted = 0 "
                    "WHERE project = ? AND dataset_sha256 IS ? AND accepted = 1",
                    (run.project, run.dataset_sha256),
                )
            cursor = connection.execute(
                "INSERT INTO runs (project, commit_sha, contract_sha256, dataset_sha256, "
                "artifact_sha256, metrics, budgets, created, accepted) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def accepted(self, project: str, dataset_sha256: str | None) -> EvaluationRecord | None:
        found = self._select(
            "WHERE project = ? AND dataset_sha256 IS ? AND accepted = 1 ORDER BY id DESC LIMIT 1",
            (project, dataset_sha256),
        )
        return found[0] if found else None

    def runs(self, project: str, limit: int = 100) -> list[EvaluationRecord]:
        if limit < 0:
            raise ValueError(f"limit must not be negative: {limit}")
        return self._select(
            "WHERE project = ? ORDER BY created DESC, id DESC LIMIT ?", (project, limit)
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _select(self, where: str, parameters: tuple[object, ...]) -> list[EvaluationRecord]:
        if self._connection is None or not _has_schema(self._connection):
            return []
        with self._translated():
            rows = self._connection.execute(f"SELECT * FROM runs {where}", parameters).fetchall()
        return [_from_row(row) for row in rows]

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """SQLite's errors about the file (not a database, corrupt, cannot open, locked for
        longer than the timeout) are the user's to fix: say which file and how."""
        try:
            yield
        except sqlite3.OperationalError as error:
            raise UsageError(
                f"cannot use the history database {self.path}: {error}.\n"
                "  hint: check that the folder is writable and that no process holds the file "
                f"locked, or point --history / {ENV} at another file"
            ) from None
        except sqlite3.DatabaseError as error:
            if type(error) is not sqlite3.DatabaseError:  # integrity, programming: our bugs
                raise
            raise UsageError(
                f"{self.path} is not a usable pavedroad history database: {error}.\n"
                f"  hint: move the file away (a new history is started) or point --history / "
                f"{ENV} at the right file"
            ) from None


def _make_folder(folder: Path) -> None:
    """Create the database's folder; the process that creates it also keeps the WAL side files
    out of git, while the database itself (the shared baseline) stays committable."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir()
    except FileExistsError:
        return
    (folder / ".gitignore").write_text("\n".join(GITIGNORE) + "\n", encoding="utf-8")


def _initialise(connection: sqlite3.Connection, path: Path) -> None:
    """WAL (persistent in the file), then the schema brought up to date in one transaction, so
    that concurrent first users neither race nor see half a schema."""
    connection.execute("PRAGMA journal_mode = WAL")
    with _transaction(connection):
        version = _check_version(connection, path)
        for migration in MIGRATIONS[version:]:
            for statement in migration:
                connection.execute(statement)
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _check_version(connection: sqlite3.Connection, path: Path) -> int:
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    application: int = connection.execute("PRAGMA application_id").fetchone()[0]
    # Ours carry the application id from their first transaction on; an empty file is free.
    if application != APPLICATION_ID and (version != 0 or _tables(connection)):
        raise _foreign(path)
    if version > SCHEMA_VERSION:
        raise UsageError(
            f"the history database {path} has schema version {version}, newer than this "
            f"pavedroad knows ({SCHEMA_VERSION}): it was written by a newer pavedroad.\n"
            "  hint: upgrade pavedroad (`pip install -U pavedroad`), or point --history / "
            f"{ENV} at another file"
        )
    return version


def _foreign(path: Path) -> UsageError:
    return UsageError(
        f"{path} is a SQLite database of another application, not a pavedroad history.\n"
        f"  hint: point --history / {ENV} at a file of its own (default: {DEFAULT})"
    )


def _tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return [row[0] for row in rows]


def _has_schema(connection: sqlite3.Connection) -> bool:
    """False for a file a writer has not initialised yet (reads then see an empty history)."""
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    return version > 0


@contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _timestamp(moment: datetime) -> str:
    """Fixed-width UTC text, so that text order is time order."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _dump(values: Mapping[str, float | None]) -> str:
    # allow_nan (the default) writes NaN/Infinity, which json.loads reads back: a metric that
    # came out NaN is recorded as NaN, not lost or turned into null.
    return json.dumps(dict(values), allow_nan=True)


def _load(text: str) -> dict[str, float | None]:
    loaded: dict[str, float | int | None] = json.loads(text)
    return {key: None if value is None else float(value) for key, value in loaded.items()}


def _from_row(row: sqlite3.Row) -> EvaluationRecord:
    return EvaluationRecord(
        project=row["project"],
        commit=row["commit_sha"],
        contract_sha256=row["contract_sha256"],
        dataset_sha256=row["dataset_sha256"],
        artifact_sha256=row["artifact_sha256"],
        metrics=_load(row["metrics"]),
        budgets=_load(row["budgets"]),
        created=datetime.fromisoformat(row["created"]),
        accepted=bool(row["accepted"]),
        id=row["id"],
    )
