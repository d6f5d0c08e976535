"""The history store: real SQLite files under tmp_path, and real processes writing at once."""

from __future__ import annotations

import math
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pavedroad.errors import UsageError
from pavedroad.history import (
    MIGRATIONS,
    SCHEMA_VERSION,
    EvaluationRecord,
    HistoryStore,
    SQLiteHistory,
    open_history,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def run(
    *,
    project: str = "churn",
    dataset: str | None = "d" * 64,
    at: datetime = T0,
    auc: float | None = 0.9,
) -> EvaluationRecord:
    return EvaluationRecord(
        project=project,
        commit="c" * 40,
        contract_sha256="a" * 64,
        dataset_sha256=dataset,
        artifact_sha256="f" * 64,
        metrics={"roc_auc": auc},
        budgets={"latency_p99_ms": 12.5},
        created=at,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    opened = open_history(None, tmp_path)
    yield opened
    opened.close()


# -- what is stored comes back ------------------------------------------------------------------


def test_every_field_round_trips(store: HistoryStore) -> None:
    cest = timezone(timedelta(hours=2))
    original = EvaluationRecord(
        project="churn",
        commit=None,
        contract_sha256="0123" * 16,
        dataset_sha256=None,
        artifact_sha256=None,
        metrics={
            "roc_auc": 0.912345678901234,
            "log_loss": math.nan,
            "mape": math.inf,
            "custom": None,
            "roc_auc/region=north": 0.5,
        },
        budgets={"latency_p99_ms": 3.25, "peak_memory_mb": None, "throughput_rows_s": 1e6},
        created=datetime(2024, 5, 1, 14, 30, 15, 123456, tzinfo=cest),
    )
    run_id = store.record(original, accept=True)

    (back,) = store.runs("churn")
    assert back.id == run_id
    assert back.accepted is True
    assert back.project == original.project
    assert back.commit is None
    assert back.contract_sha256 == original.contract_sha256
    assert back.dataset_sha256 is None
    assert back.artifact_sha256 is None
    assert back.created == original.created
    assert back.created.utcoffset() == timedelta(0)
    assert list(back.metrics) == list(original.metrics)
    assert back.metrics["roc_auc"] == 0.912345678901234
    assert math.isnan(back.metrics["log_loss"] or 0.0)
    assert back.metrics["mape"] == math.inf
    assert back.metrics["custom"] is None
    assert back.budgets == original.budgets
    assert store.accepted("churn", None) == back


def test_whole_numbers_come_back_as_floats(store: HistoryStore) -> None:
    store.record(run(auc=1))  # an int where a float is declared: still a float when read
    (back,) = store.runs("churn")
    assert type(back.metrics["roc_auc"]) is float


def test_created_must_be_aware(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.record(run(at=datetime(2024, 5, 1, 12, 0)))
    assert store.runs("churn") == []


# -- the accepted baseline ----------------------------------------------------------------------


def test_no_baseline_until_a_run_is_accepted(store: HistoryStore) -> None:
    store.record(run())
    assert store.accepted("churn", "d" * 64) is None


def test_a_newer_acceptance_supersedes_and_keeps_the_runs(store: HistoryStore) -> None:
    first = store.record(run(auc=0.80), accept=True)
    plain = store.record(run(auc=0.70, at=T0 + timedelta(hours=1)))
    assert _accepted_id(store, "d" * 64) == first  # recording without accept changes nothing

    second = store.record(run(auc=0.85, at=T0 + timedelta(hours=2)), accept=True)

    baseline = store.accepted("churn", "d" * 64)
    assert baseline is not None
    assert (baseline.id, baseline.metrics["roc_auc"]) == (second, 0.85)
    assert {r.id: r.accepted for r in store.runs("churn")} == {
        second: True,
        plain: False,
        first: False,
    }


def test_baselines_are_kept_per_project_and_dataset(store: HistoryStore) -> None:
    keys: list[tuple[str, str | None]] = [
        ("churn", "1" * 64),
        ("churn", "2" * 64),
        ("churn", None),
        ("fraud", "1" * 64),
    ]
    ids = {key: store.record(run(project=key[0], dataset=key[1]), accept=True) for key in keys}
    store.record(run(project="churn", dataset="1" * 64, auc=0.1), accept=True)

    assert _accepted_id(store, "2" * 64) == ids["churn", "2" * 64]
    assert _accepted_id(store, None) == ids["churn", None]
    fraud = store.accepted("fraud", "1" * 64)
    assert fraud is not None and fraud.id == ids["fraud", "1" * 64]
    churn = store.accepted("churn", "1" * 64)
    assert churn is not None and churn.metrics["roc_auc"] == 0.1
    assert store.accepted("nobody", "1" * 64) is None


def test_the_database_allows_one_baseline_per_key(tmp_path: Path) -> None:
    """Whoever writes to the file, even not through the store, cannot make two baselines."""
    store = open_history("h.db", tmp_path)
    store.record(run(dataset=None), accept=True)
    store.close()
    with sqlite3.connect(tmp_path / "h.db") as db, pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO runs (project, contract_sha256, metrics, budgets, created, accepted) "
            "VALUES ('churn', 'x', '{}', '{}', '2024-01-01', 1)"
        )


def _accepted_id(store: HistoryStore, dataset: str | None) -> int | None:
    found = store.accepted("churn", dataset)
    return None if found is None else found.id


# -- runs ---------------------------------------------------------------------------------------


def test_runs_are_newest_first_and_limited(store: HistoryStore) -> None:
    # recorded out of time order: the order read back is by creation time, ties by record order
    late = store.record(run(at=T0 + timedelta(days=2)))
    early = store.record(run(at=T0))
    tie_a = store.record(run(at=T0 + timedelta(days=1)))
    tie_b = store.record(run(at=T0 + timedelta(days=1)))
    store.record(run(project="fraud", at=T0 + timedelta(days=9)))

    assert [r.id for r in store.runs("churn")] == [late, tie_b, tie_a, early]
    assert [r.id for r in store.runs("churn", limit=2)] == [late, tie_b]
    assert store.runs("churn", limit=0) == []
    assert store.runs("nobody") == []


def test_time_order_holds_across_time_zones(store: HistoryStore) -> None:
    """12:30 in UTC+2 is earlier than 11:00 UTC: stored as UTC text, the text order is right."""
    plus_two = timezone(timedelta(hours=2))
    earlier = store.record(run(at=datetime(2024, 5, 1, 12, 30, tzinfo=plus_two)))
    later = store.record(run(at=datetime(2024, 5, 1, 11, 0, tzinfo=timezone.utc)))
    assert [r.id for r in store.runs("churn")] == [later, earlier]


# -- where the store is -------------------------------------------------------------------------


def _opened_at(location: str | None, root: Path) -> Path:
    store = open_history(location, root)
    try:
        store.record(run())
        assert isinstance(store, SQLiteHistory)
        return store.path
    finally:
        store.close()


def test_default_is_paved_history_db_in_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAVED_HISTORY", raising=False)
    assert _opened_at(None, tmp_path) == tmp_path / ".paved" / "history.db"
    assert (tmp_path / ".paved" / "history.db").is_file()


def test_env_var_then_explicit_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAVED_HISTORY", "ci/runs.db")
    assert _opened_at(None, tmp_path) == tmp_path / "ci" / "runs.db"
    assert _opened_at("mine.db", tmp_path) == tmp_path / "mine.db"  # an explicit one wins
    assert not (tmp_path / ".paved").exists()


def test_paths_and_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "project"
    elsewhere = tmp_path / "shared" / "history.db"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _opened_at("data/h.db", root) == root / "data" / "h.db"
    assert _opened_at(str(elsewhere), root) == elsewhere
    assert _opened_at("~/h.db", root) == tmp_path / "home" / "h.db"
    assert _opened_at("sqlite:///rel/h.db", root) == root / "rel" / "h.db"
    assert _opened_at(f"sqlite:///{elsewhere}", root) == elsewhere  # four slashes: absolute
    assert _opened_at("SQLITE:///upper.db", root) == root / "upper.db"
    for path in (root / "data" / "h.db", elsewhere, root / "rel" / "h.db", root / "upper.db"):
        assert path.is_file(), path


def test_an_unsupported_scheme_names_the_supported_ones_and_hides_the_url(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        open_history("postgresql://paved:s3cret@db.internal/history", tmp_path)
    message = str(caught.value)
    assert "postgresql://" in message
    assert "sqlite:///" in message and "file path" in message
    assert "s3cret" not in message
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_made_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(UsageError, match="cannot create the folder"):
        open_history("taken/sub/history.db", tmp_path)


def test_a_sqlite_url_without_a_file_is_refused(tmp_path: Path) -> None:
    for url in ("sqlite://", "sqlite:///", "sqlite://host/h.db"):
        with pytest.raises(UsageError, match="names no file"):
            open_history(url, tmp_path)


# -- what goes into git -------------------------------------------------------------------------


def test_creating_paved_ignores_the_wal_side_files_not_the_database(tmp_path: Path) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    subprocess.run([git, "init", "-q", str(tmp_path)], check=True)
    store = open_history(None, tmp_path)
    store.record(run())  # the connection stays open: the -wal and -shm files exist now
    paved = tmp_path / ".paved"
    assert (paved / ".gitignore").read_text(encoding="utf-8").splitlines() == [
        "*.db-wal",
        "*.db-shm",
    ]
    names = ["history.db", "history.db-wal", "history.db-shm"]
    assert all((paved / name).exists() for name in names)
    ignored = subprocess.run(
        [git, "-C", str(tmp_path), "check-ignore", *(f".paved/{name}" for name in names)],
        capture_output=True,
        text=True,
        check=False,
    )
    store.close()
    assert ignored.stdout.split() == [".paved/history.db-wal", ".paved/history.db-shm"]


def test_an_existing_folder_gets_no_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".paved").mkdir()
    _opened_at(None, tmp_path)
    assert not (tmp_path / ".paved" / ".gitignore").exists()


# -- read-only users ----------------------------------------------------------------------------


def test_create_false_on_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    store = open_history(None, tmp_path, create=False)
    assert store.accepted("churn", "d" * 64) is None
    assert store.runs("churn") == []
    with pytest.raises(UsageError, match="create=False"):
        store.record(run())
    store.close()
    assert list(tmp_path.iterdir()) == []


def test_create_false_reads_an_existing_history(tmp_path: Path) -> None:
    writer = open_history(None, tmp_path)
    accepted = writer.record(run(), accept=True)
    writer.close()
    reader = open_history(None, tmp_path, create=False)
    found = reader.accepted("churn", "d" * 64)
    reader.close()
    assert found is not None and found.id == accepted


def test_an_empty_file_reads_as_an_empty_history_and_is_initialised_by_a_writer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.db"
    path.write_bytes(b"")
    reader = open_history(str(path), tmp_path, create=False)
    assert reader.runs("churn") == []
    reader.close()
    writer = open_history(str(path), tmp_path)
    writer.record(run())
    writer.close()
    assert _pragma(path, "user_version") == SCHEMA_VERSION


# -- the file itself ----------------------------------------------------------------------------


def test_the_file_is_in_wal_mode_with_the_schema_version(tmp_path: Path) -> None:
    _opened_at("h.db", tmp_path)
    assert _pragma(tmp_path / "h.db", "journal_mode") == "wal"
    assert _pragma(tmp_path / "h.db", "user_version") == SCHEMA_VERSION == len(MIGRATIONS)


@pytest.mark.parametrize("create", [True, False])
def test_a_file_that_is_not_a_database_is_a_usage_error(tmp_path: Path, create: bool) -> None:
    garbage = b"PAR1 this is a parquet file, not a history \x00\xff" * 100
    path = tmp_path / "history.db"
    path.write_bytes(garbage)
    with pytest.raises(UsageError) as caught:
        open_history(str(path), tmp_path, create=create)
    assert caught.value.exit_code == 2
    assert str(path) in str(caught.value) and "hint:" in str(caught.value)
    assert path.read_bytes() == garbage  # never "repaired" over
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.db"]


@pytest.mark.parametrize("create", [True, False])
def test_a_newer_schema_is_a_usage_error(tmp_path: Path, create: bool) -> None:
    path = tmp_path / "h.db"
    _opened_at(str(path), tmp_path)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(
        UsageError, match=r"(?s)schema version 2, newer .*upgrade pavedroad"
    ) as caught:
        open_history(str(path), tmp_path, create=create)
    assert str(path) in str(caught.value)


def test_another_applications_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "mlflow.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE experiments (id INTEGER)")
    db.close()
    with pytest.raises(UsageError, match="another application"):
        open_history(str(path), tmp_path)
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master")]
    db.close()
    assert tables == ["experiments"]


def _pragma(path: Path, name: str) -> object:
    db = sqlite3.connect(path)
    try:
        return db.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        db.close()


# -- concurrent writers -------------------------------------------------------------------------

WRITERS = 4
RUNS_EACH = 25
DATASETS = ["1" * 64, "2" * 64, None]

# Each writer opens the (not yet existing) database only once the parent says "go" on stdin, so
# the first-use schema creation races too; it reads the baseline between writes, as PRF002 does.
WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    from pathlib import Path
    from pavedroad.history import EvaluationRecord, open_history

    path, writer = sys.argv[1], int(sys.argv[2])
    datasets = ["1" * 64, "2" * 64, None]
    sys.stdin.readline()
    store = open_history(path, Path.cwd())
    for i in range(25):
        dataset = datasets[i % 3]
        accept = i % 4 == 0
        store.record(
            EvaluationRecord(
                project="churn", commit=None, contract_sha256="a" * 64,
                dataset_sha256=dataset, artifact_sha256=None,
                metrics={"writer": writer, "i": i, "accept": float(accept)},
                budgets={}, created=datetime.now(timezone.utc),
            ),
            accept=accept,
        )
        if accept and store.accepted("churn", dataset) is None:
            sys.exit(f"writer {writer}: no baseline right after accepting run {i}")
    store.close()
    """
)


def test_concurrent_writers_neither_corrupt_nor_lose_runs(tmp_path: Path) -> None:
    path = tmp_path / ".paved" / "history.db"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(n)],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for n in range(WRITERS)
    ]
    for writer in writers:  # all started (interpreters up) before any of them opens the file
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    failures = [
        f"writer {n} exited {writer.returncode}: {stderr}"
        for n, writer in enumerate(writers)
        if (stderr := writer.communicate()[1]) or writer.returncode
    ]
    assert failures == []

    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        db.close()
    store = open_history(str(path), tmp_path, create=False)
    runs = store.runs("churn", limit=1000)
    assert len(runs) == WRITERS * RUNS_EACH
    assert len({r.id for r in runs}) == len(runs)
    for dataset in DATASETS:
        of_key = [r for r in runs if r.dataset_sha256 == dataset]
        assert sum(r.accepted for r in of_key) == 1
        # the baseline is the acceptance that committed last, whichever writer made it
        last_accepted = max(r.id or 0 for r in of_key if r.metrics["accept"])
        baseline = store.accepted("churn", dataset)
        assert baseline is not None and baseline.id == last_accepted
    store.close()
