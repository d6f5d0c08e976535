"""Reading the modules a model artifact needs from its opcodes, on real artifacts made here."""

from __future__ import annotations

import datetime as dt
import io
import pickle
import random
import sys
import zipfile
from collections import OrderedDict
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import joblib
import numpy as np
import pytest
from joblib.numpy_pickle_compat import write_zfile
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from pavedroad.artifact_imports import NOT_A_PICKLE, TRUNCATED, modules_in_artifact

EXAMPLES = Path(__file__).parent.parent / "examples"
EXAMPLE_ARTIFACTS = [
    EXAMPLES / "churn-service" / "models" / "churn.joblib",
    EXAMPLES / "churn-notebook" / "model.pkl",
]
COMPRESSIONS: list[object] = [0, 3, ("zlib", 1), ("gzip", 3), ("bz2", 3), ("lzma", 3), ("xz", 3)]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    """StandardScaler + LogisticRegression fitted on a small generated dataset."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 3))
    target = (features[:, 0] + rng.normal(scale=0.5, size=60) > 0).astype(int)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(features, target)


def assert_needs_sklearn_and_numpy(modules: tuple[str, ...]) -> None:
    assert "sklearn.pipeline" in modules
    assert any(m.startswith("sklearn.preprocessing") for m in modules)
    assert any(m.startswith("sklearn.linear_model") for m in modules)
    assert any(m == "numpy" or m.startswith("numpy.") for m in modules)
    assert list(modules) == sorted(set(modules))


@pytest.mark.parametrize("compress", COMPRESSIONS, ids=str)
def test_a_joblib_dump_needs_sklearn_and_numpy(
    pipeline: Pipeline, tmp_path: Path, compress: object
) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump(pipeline, path, compress=compress)
    scan = modules_in_artifact(path)
    assert scan.error is None
    assert_needs_sklearn_and_numpy(scan.modules)
    assert "joblib.numpy_pickle" in scan.modules  # loading it needs joblib too


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_pickle_of_any_protocol_needs_sklearn_and_numpy(
    pipeline: Pipeline, tmp_path: Path, protocol: int
) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(pipeline, protocol=protocol))
    scan = modules_in_artifact(path)
    assert scan.error is None
    assert_needs_sklearn_and_numpy(scan.modules)
    # protocols 0-2 write Python 2 names (copy_reg, __builtin__); they are read as pickle does
    assert not {"copy_reg", "__builtin__"} & set(scan.modules)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_joblib_dump_of_any_protocol_is_read_to_its_end(
    pipeline: Pipeline, tmp_path: Path, protocol: int
) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump([pipeline, Fraction(1, 3)], path, protocol=protocol)
    scan = modules_in_artifact(path)
    assert scan.error is None
    assert_needs_sklearn_and_numpy(scan.modules)
    assert "fractions" in scan.modules


class KeywordOnly:
    """Pickled with NEWOBJ_EX (protocol 4+): its constructor takes keyword arguments."""

    def __init__(self, *, size: int) -> None:
        self.size = size

    def __getnewargs_ex__(self) -> tuple[tuple[object, ...], dict[str, object]]:
        return (), {"size": self.size}


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_kind_of_value_is_followed(tmp_path: Path, protocol: int) -> None:
    """Sets, frozensets, shared and self-referencing values, bytes, big integers, persistent
    ids: the scan reads to the end and still sees the last object's module."""
    shared = [1.5, "text", b"bytes", bytearray(b"mutable"), 2**100, None, True]
    looping: list[object] = ["loop"]
    looping.append(looping)
    value = [{1, 2}, frozenset({3}), (shared, shared), looping, KeywordOnly(size=3), Decimal(1)]
    buffer = io.BytesIO()
    _StoragePickler(buffer, protocol=protocol).dump([value, np.ones(2), Fraction(1, 3)])
    path = tmp_path / "values.pkl"
    path.write_bytes(buffer.getvalue())
    scan = modules_in_artifact(path)
    assert scan.error is None
    assert {"decimal", "fractions", KeywordOnly.__module__} <= set(scan.modules)


def test_out_of_band_buffers_are_followed(tmp_path: Path) -> None:
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(
        [pickle.PickleBuffer(b"raw"), Fraction(1, 2)], protocol=5, buffer_callback=buffers.append
    )
    assert buffers  # the bytes went out of band: NEXT_BUFFER in the stream
    path = tmp_path / "model.pkl"
    path.write_bytes(data)
    assert modules_in_artifact(path).modules == ("fractions",)


ARRAYS = {
    "fortran": np.asfortranarray(np.arange(5000.0).reshape(100, 50)),
    "ints": np.arange(7, dtype="i2"),
    "text": np.array(["abc", "de"]),
    "bytes": np.array([b"xyz"]),
    "dates": np.array(["2020-01-01", "2021-06-30"], dtype="M8[ns]"),
    "records": np.zeros(3, dtype=[("a", "f4"), ("b", "i8")]),
    "scalar": np.array(2.5),
    "empty": np.zeros((0, 4)),
    "matrix": np.asmatrix(np.eye(2)),
}


@pytest.mark.parametrize("compress", [0, 3, ("lzma", 3)], ids=str)
def test_the_scan_steps_over_array_bytes_exactly(tmp_path: Path, compress: object) -> None:
    """An object pickled after the arrays is found only if every array's bytes were skipped."""
    path = tmp_path / "arrays.joblib"
    joblib.dump([ARRAYS, Fraction(1, 3)], path, compress=compress)
    scan = modules_in_artifact(path)
    assert scan.error is None
    assert {"fractions", "numpy", "joblib.numpy_pickle"} <= set(scan.modules)


def test_object_arrays_are_read_as_the_nested_pickles_joblib_writes(tmp_path: Path) -> None:
    path = tmp_path / "objects.joblib"
    values = np.array([Fraction(1, 3), Decimal("0.1")], dtype=object)
    joblib.dump({"values": values, "after": dt.date(2020, 1, 1)}, path)
    scan = modules_in_artifact(path)
    assert scan.error is None
    assert {"fractions", "decimal", "datetime"} <= set(scan.modules)


def test_a_column_transformer_with_categories_in_object_arrays(tmp_path: Path) -> None:
    rows = np.array([["red", 1.0], ["blue", 2.0], ["red", 3.0], ["green", 0.5]], dtype=object)
    model = make_pipeline(
        ColumnTransformer([("colour", OneHotEncoder(), [0]), ("size", StandardScaler(), [1])]),
        LogisticRegression(),
    ).fit(rows, [0, 1, 0, 1])
    path = tmp_path / "model.joblib"
    joblib.dump(model, path, compress=3)
    scan = modules_in_artifact(path)
    assert scan.error is None
    assert any(m.startswith("sklearn.compose") for m in scan.modules)


def test_a_joblib_file_of_the_format_before_0_10(pipeline: Pipeline, tmp_path: Path) -> None:
    path = tmp_path / "old.pkl"
    with path.open("wb") as handle:
        write_zfile(handle, pickle.dumps(pipeline, protocol=2))
    scan = modules_in_artifact(path)
    assert scan.error is None
    assert_needs_sklearn_and_numpy(scan.modules)


class _StoragePickler(pickle.Pickler):
    """Writes arrays as persistent ids, the way torch.save refers to tensor storages."""

    def persistent_id(self, obj: object) -> object:
        return ("storage", id(obj)) if isinstance(obj, np.ndarray) else None


def test_a_zip_archive_with_a_pickle_inside_as_torch_saves(tmp_path: Path) -> None:
    state = OrderedDict(weight=np.ones(3), bias=np.zeros(1), schedule=Fraction(1, 10))
    buffer = io.BytesIO()
    _StoragePickler(buffer, protocol=2).dump(state)
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", buffer.getvalue())
        archive.writestr("archive/data/0", np.ones(3).tobytes())
        archive.writestr("archive/version", "3\n")
    scan = modules_in_artifact(path)
    assert scan.error is None
    assert {"collections", "fractions"} <= set(scan.modules)


def test_a_zip_archive_without_a_pickle(tmp_path: Path) -> None:
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
    scan = modules_in_artifact(path)
    assert scan.modules == ()
    assert scan.error is not None
    assert "no pickle" in scan.error


@pytest.mark.parametrize("artifact", EXAMPLE_ARTIFACTS, ids=lambda p: p.parent.name)
def test_the_example_artifacts_need_sklearn(artifact: Path) -> None:
    scan = modules_in_artifact(artifact)
    assert scan.error is None
    assert scan.path == artifact
    assert "sklearn.pipeline" in scan.modules
    assert any(m.startswith("numpy") for m in scan.modules)


# -- files that are not (whole) pickles: an error that says why, never an exception ---------------


def test_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(b"")
    assert modules_in_artifact(path).error == "the file is empty"


def test_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\n")
    scan = modules_in_artifact(path)
    assert scan.modules == ()
    assert scan.error is not None
    assert scan.error.startswith(NOT_A_PICKLE)


def test_a_binary_file_that_is_no_pickle(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(bytes(range(8, 256)) * 4)
    scan = modules_in_artifact(path)
    assert scan.modules == ()
    assert scan.error is not None
    assert scan.error.startswith(NOT_A_PICKLE)


def test_a_missing_file_and_a_directory(tmp_path: Path) -> None:
    assert "cannot read" in (modules_in_artifact(tmp_path / "absent.pkl").error or "")
    assert "cannot read" in (modules_in_artifact(tmp_path).error or "")


def test_an_lz4_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    path.write_bytes(b"\x04\x22\x4d\x18" + bytes(32))
    error = modules_in_artifact(path).error or ""
    assert "lz4" in error
    assert "compress=" in error


def test_a_damaged_compressed_file(tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    path.write_bytes(b"\x78\x9c" + bytes(range(256)))
    scan = modules_in_artifact(path)
    assert scan.modules == ()
    assert "cannot read the file" in (scan.error or "")


@pytest.mark.parametrize("compress", [0, 3, ("lzma", 3)], ids=str)
def test_every_truncation_is_reported_as_such(
    pipeline: Pipeline, tmp_path: Path, compress: object
) -> None:
    whole = tmp_path / "model.joblib"
    joblib.dump(pipeline, whole, compress=compress)
    data = whole.read_bytes()
    cut = tmp_path / "cut.joblib"
    errors = set()
    for end in range(1, len(data), max(1, len(data) // 400)):
        cut.write_bytes(data[:end])
        scan = modules_in_artifact(cut)
        assert scan.modules == ()
        assert scan.error is not None, end
        errors.add(scan.error)
    assert TRUNCATED in errors
    assert all(e == TRUNCATED or e.startswith(("cannot read", NOT_A_PICKLE)) for e in errors)


@pytest.mark.parametrize("artifact", EXAMPLE_ARTIFACTS, ids=lambda p: p.parent.name)
def test_damaged_bytes_never_raise(artifact: Path, tmp_path: Path) -> None:
    data = artifact.read_bytes()
    damaged = tmp_path / artifact.name
    chance = random.Random(20261122)
    outcomes = set()
    for _ in range(300):
        flipped = bytearray(data)
        for _ in range(chance.randint(1, 3)):
            flipped[chance.randrange(len(flipped))] = chance.randrange(256)
        damaged.write_bytes(bytes(flipped))
        scan = modules_in_artifact(damaged)
        assert (scan.error is None) or (scan.modules == ())
        outcomes.add(scan.error is None)
    assert outcomes == {True, False}


def test_nothing_is_imported_or_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pickle that would import a module with a side effect and call it: scanned, not run."""
    (tmp_path / "booby_trap.py").write_text(
        "from pathlib import Path\nPath(__file__).with_name('imported').touch()\n"
        "def boom():\n    Path(__file__).with_name('called').touch()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "trap.pkl"
    path.write_bytes(b"cbooby_trap\nboom\n(tR.")
    scan = modules_in_artifact(path)
    assert scan.error is None
    assert scan.modules == ("booby_trap",)
    assert "booby_trap" not in sys.modules
    assert not (tmp_path / "imported").exists()
    assert not (tmp_path / "called").exists()
