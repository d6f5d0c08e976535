"""The tool's side of an evaluation: ask the worker subprocess, wait, read its answer.

The project's code runs in a subprocess so the tool's own process never imports it: a model that
leaks memory, prints, patches the interpreter or crashes takes only the worker down, and the peak
memory measured there is the model's, not the tool's.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pavedroad.contract import Performance
from pavedroad.errors import UsageError
from pavedroad.evaluation.metrics import METRICS
from pavedroad.evaluation.protocol import PROGRESS, MetricRequest, Outcome, Request
from pavedroad.fileio import sha256_of
from pavedroad.git import git_commit
from pavedroad.project import Project

# What the worker imports beyond pavedroad's own dependencies: the `evaluate` extra.
EXTRA_MODULES = {"numpy": "numpy", "pyarrow": "pyarrow", "sklearn": "scikit-learn"}
# and for a `[model] mlflow` pyfunc directory, the `mlflow` extra (pyfunc imports pandas)
MLFLOW_MODULES = {"mlflow": "mlflow-skinny", "pandas": "pandas"}

# The contract has no timeout key: a model stuck on a network call must still end the run.
DEFAULT_TIMEOUT_S = 1800.0
STDERR_TAIL = 2000  # characters of the worker's stderr shown when it dies

Progress = Callable[[int, int | None], None]  # rows done, total rows when known


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of the project's model, or why there is none.

    `blocked` says why the worker was not started (nothing to evaluate, or evaluating would
    judge the wrong model); `error` says why it started but gave no answer (crash, timeout).
    """

    outcome: Outcome | None
    request: Request | None = None
    blocked: str | None = None
    error: str | None = None
    dataset_sha256: str | None = None
    artifact_sha256: str | None = None
    contract_sha256: str | None = None
    commit: str | None = None


def evaluation(project: Project) -> Evaluation:
    """The evaluation shared by every MOD and PRF check of a run (a `project.fact`)."""
    return run_evaluation(project)


def run_evaluation(
    project: Project, progress: Progress | None = None, timeout: float = DEFAULT_TIMEOUT_S
) -> Evaluation:
    model = project.contract.model
    if model is None or model.label is None:  # neither predict nor mlflow
        return Evaluation(outcome=None, blocked="the contract names no [model].predict")
    artifact_sha256 = None
    if model.artifact is not None:
        path = project.root / model.artifact
        if not path.is_file():
            return Evaluation(
                outcome=None, blocked=f"the model artifact {model.artifact} is missing"
            )
        artifact_sha256 = sha256_of(path)
        if model.sha256 is not None and artifact_sha256 != model.sha256:
            return Evaluation(
                outcome=None,
                blocked=f"{model.artifact} is not the artifact the contract validated (MOD001): "
                "evaluating it would judge another model",
            )
    require_extra(mlflow=model.mlflow is not None)
    request = build_request(project)
    dataset = Path(request.dataset) if request.dataset else None
    with ThreadPoolExecutor(max_workers=1) as pool:
        # hashing a large golden dataset overlaps with the worker reading it
        dataset_hash = pool.submit(_hash_if_file, dataset)
        outcome, error = _ask_worker(project.root, request, progress, timeout)
        dataset_sha256 = dataset_hash.result()
    return Evaluation(
        outcome=outcome,
        request=request,
        error=error,
        dataset_sha256=dataset_sha256,
        artifact_sha256=artifact_sha256,
        contract_sha256=contract_sha256(project),
        commit=git_commit(project.root),
    )


def require_extra(*, mlflow: bool = False) -> None:
    """Fail with the install command, before any subprocess, when the extra is missing: in
    `paved check` this is an error row (the model was not judged), never a silent skip. The
    `mlflow` extra is demanded only of a contract whose model is an MLflow directory."""
    needed = {**EXTRA_MODULES, **(MLFLOW_MODULES if mlflow else {})}
    missing = [dist for module, dist in needed.items() if importlib.util.find_spec(module) is None]
    if missing:
        extras = "evaluate,mlflow" if mlflow else "evaluate"
        raise UsageError(
            f"evaluating the model needs {', '.join(missing)}, not installed here.\n"
            f"  hint: pip install 'pavedroad[{extras}]'"
        )


def build_request(project: Project) -> Request:
    """The worker's request from the contract. A metric neither built in nor given a function
    is left out: PRF001 reports it from the contract alone."""
    model = project.contract.model
    assert model is not None and model.label is not None
    performance = project.contract.performance or Performance.model_validate({})
    named = {**performance.slice_metrics, **performance.metrics}
    metrics = [
        MetricRequest(name, threshold.function, threshold.uses)
        if threshold.function is not None
        else MetricRequest(name)
        for name, threshold in named.items()
        if threshold.function is not None or name in METRICS
    ]
    return Request(
        root=str(project.root),
        source_roots=[str(p) for p in project.source_roots],
        predict=model.label,
        batch_format=model.batch_format,  # 'pandas' with mlflow: the contract sees to it
        input_schema=model.input_schema,
        output_schema=model.output_schema,
        dataset=str(project.root / performance.dataset) if performance.dataset else None,
        target=performance.target,
        prediction=performance.prediction,
        score=performance.score,
        metrics=metrics,
        slices=list(performance.slices),
        slice_min_rows=performance.slice_min_rows,
        batch_size=performance.batch_size,
        mlflow=str(project.root / model.mlflow) if model.mlflow is not None else None,
    )


def _ask_worker(
    root: Path, request: Request, progress: Progress | None, timeout: float
) -> tuple[Outcome | None, str | None]:
    """Run the worker; its stdout carries progress lines only, its stderr the project's prints."""
    with tempfile.TemporaryDirectory(prefix="paved-evaluate-") as scratch:
        request_path, outcome_path = Path(scratch, "request.json"), Path(scratch, "outcome.json")
        request.write(request_path)
        with Path(scratch, "stderr.txt").open("w+", encoding="utf-8", errors="replace") as stderr:
            status, timed_out = _wait(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "pavedroad.evaluation.worker",
                        str(request_path),
                        str(outcome_path),
                    ],
                    cwd=root,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    stdin=subprocess.DEVNULL,
                    text=True,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                ),
                progress,
                timeout,
            )
            if timed_out:
                return None, f"the evaluation did not finish within {timeout:g} s"
            if status != 0 or not outcome_path.is_file():
                stderr.seek(0)
                tail = stderr.read()[-STDERR_TAIL:].strip()
                return None, f"the evaluation worker exited with status {status}" + (
                    f":\n{tail}" if tail else ""
                )
        return Outcome.read(outcome_path), None


def _wait(
    worker: subprocess.Popen[str], progress: Progress | None, timeout: float
) -> tuple[int, bool]:
    """Relay the worker's progress until it exits; kill it at the deadline or on Ctrl-C."""
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        worker.kill()

    timer = threading.Timer(timeout, stop)
    with worker:  # closes the pipe whatever happens
        timer.start()
        try:
            assert worker.stdout is not None
            for line in worker.stdout:
                _report_progress(line, progress)
            status = worker.wait()
        finally:
            timer.cancel()
            if worker.poll() is None:  # interrupted: do not leave the model running
                worker.kill()
                worker.wait()
    return status, timed_out.is_set()


def _report_progress(line: str, progress: Progress | None) -> None:
    if progress is None:
        return
    try:
        event = json.loads(line)
    except ValueError:
        return  # not ours: the worker keeps stdout for progress, but be lenient
    if isinstance(event, dict) and event.get("event") == PROGRESS:
        progress(int(event.get("rows", 0)), event.get("total"))


def _hash_if_file(path: Path | None) -> str | None:
    return sha256_of(path) if path is not None and path.is_file() else None


def contract_sha256(project: Project) -> str:
    """The hash of the contract's whole `extends` chain: a changed base changes the terms."""
    digest = hashlib.sha256()
    for source in project.loaded.sources:
        digest.update(source.text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()
