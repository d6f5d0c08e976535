"""`paved serve` against a hand-written FastAPI app, single-row requests at concurrency 8 and 64.

Targets (issue 7): at least 1.5x the requests/s of the hand-written FastAPI app at concurrency 8,
and at least 2x at concurrency 64, with one worker, logging and metrics on.

The model is the example project's (examples/churn-service: a scikit-learn pipeline behind
`churn.model:predict`). Each contender is a real server process on 127.0.0.1, on a port of its
own, started once and loaded by the same client, wrk (Debian's), with a Lua script POSTing the
same customer as a single-row JSON body on keep-alive connections:

- `paved serve examples/churn-service`: the console script of this venv, defaults (one worker,
  micro-batching on, one JSON log line per request written to a file, Prometheus metrics);
- the hand-written FastAPI app a user would otherwise write: pydantic models from the project,
  a sync endpoint calling the same `predict`, written to a temporary file and run with
  `python -m uvicorn` (one worker, no access log);
- `mlflow models serve` and BentoML, only when installed in separate environments:
  PAVED_BENCH_MLFLOW_BIN and PAVED_BENCH_BENTOML_BIN name those environments' bin folders
  (each with scikit-learn, joblib and pydantic too); else one line says they were skipped.

Before the load, every contender must answer the same churn probability for the customer as
`paved serve` does. Then, for each run, concurrency and contender in turn (interleaved, so a
busy moment of the shared machine does not fall on one contender only): `wrk -t1 -cC -dDs`;
the run with the median requests/s is reported, with its p50 and p99. Any socket error or
non-2xx answer makes the measurement untrusted. Exit status: 0 when both targets are met, 1 when
one is missed (after a cProfile of paved serve's event loop under load), 2 when a contender
fails or the measurement cannot be trusted.
"""

from __future__ import annotations

import json
import os
import pstats
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "churn-service"
SOURCES = EXAMPLE / "src"
BIN = Path(sys.executable).parent
CONCURRENCY = (8, 64)
TARGETS = {8: 1.5, 64: 2.0}  # paved serve's requests/s over the hand-written FastAPI app's
RUNS = 3
SECONDS = 8  # per run
WARM_UP_SECONDS = 3
START_TIMEOUT_S = 120.0
AGREEMENT = 1e-9  # the same model: probabilities agree but for the last bits of a float
PROFILE_SECONDS = 6
PROFILE_LINES = 20
WRK = shutil.which("wrk") or "/usr/bin/wrk"
# each contender's own server options: loopback, one worker; the port fills {port}
UVICORN = ("--host", "127.0.0.1", "--workers", "1", "--no-access-log", "--log-level", "warning")
MLFLOW = ("--env-manager", "local", "-h", "127.0.0.1", "-p", "{port}", "-w", "1")
BENTOML = ("--host", "127.0.0.1", "--port", "{port}")
PAVED = "paved serve"
FASTAPI = "hand-written FastAPI"
CUSTOMER = {
    "tenure_months": 3,
    "monthly_charges": 89.5,
    "contract": "month-to-month",
    "support_calls": 4,
    "payment_method": "electronic-check",
    "internet_service": "fiber",
    "senior": False,
}

HANDWRITTEN = '''\
"""What a user writes without paved: FastAPI, the project's pydantic models, a sync endpoint."""

import sys

sys.path.insert(0, {sources!r})

from churn.model import predict
from churn.schemas import ChurnScore, Customer
from fastapi import FastAPI

app = FastAPI()


@app.post("/predict", response_model=ChurnScore)
def predict_one(customer: Customer) -> ChurnScore:
    return predict([customer])[0]
'''

BENTO_SERVICE = '''\
"""The same model as a BentoML service: one worker, the customer's fields as the body."""

import sys

sys.path.insert(0, {sources!r})

import bentoml
from churn.model import predict
from churn.schemas import ChurnScore, Customer


@bentoml.service(workers=1)
class Churn:
    @bentoml.api(route="/predict", input_spec=Customer)
    def predict(self, **fields) -> ChurnScore:
        return predict([Customer(**fields)])[0]
'''

MLFLOW_SAVE = '''\
"""Save the same model as an MLflow pyfunc model: `predict` on the rows of a DataFrame."""

import json
import sys

import mlflow.pyfunc
import pandas as pd


class Churn(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        from churn.model import predict
        from churn.schemas import Customer

        rows = json.loads(model_input.to_json(orient="records"))
        scores = predict([Customer(**row) for row in rows])
        return pd.DataFrame([score.model_dump() for score in scores])


mlflow.pyfunc.save_model(sys.argv[1], python_model=Churn(), code_paths=[{package!r}])
'''

WRK_SCRIPT = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{body}]]
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT {{\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, \\"p99_us\\": %d, " ..
    "\\"socket_errors\\": %d, \\"non_2xx\\": %d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


class Untrusted(Exception):
    """A contender failed, or answered otherwise than expected: exit 2."""


@dataclass(frozen=True)
class Contender:
    name: str
    command: list[str]
    body: dict[str, Any] | list[Any]
    probability: Callable[[Any], float]  # the churn probability in an answer
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    path: str = "/predict"


@dataclass(frozen=True)
class Measured:
    requests_s: float
    p50_ms: float
    p99_ms: float
    requests: int


@dataclass
class Running:
    contender: Contender
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    script: Path
    runs: dict[int, list[Measured]] = field(default_factory=dict)

    def median(self, concurrency: int) -> Measured:
        runs = sorted(self.runs[concurrency], key=lambda run: run.requests_s)
        return runs[len(runs) // 2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def post(url: str, body: Any, timeout: float = 10.0) -> tuple[int, Any]:
    """The status and the answer (JSON, or the text of an error answer)."""
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")[:2000]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        data: bytes = response.read()
        return data


def start(contender: Contender, workdir: Path) -> Running:
    """The contender's server, once it answers the customer."""
    port = free_port()
    slug = contender.name.replace(" ", "-")
    log = workdir / f"{slug}.log"
    script = workdir / f"{slug}.lua"
    script.write_text(WRK_SCRIPT.format(body=json.dumps(contender.body)), encoding="utf-8")
    command = [part.replace("{port}", str(port)) for part in contender.command]
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command,
            cwd=contender.cwd or workdir,
            env={**os.environ, **contender.env},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    running = Running(contender, process, f"http://127.0.0.1:{port}{contender.path}", log, script)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Untrusted(f"{contender.name} exited {process.returncode}:\n{tail(log)}")
        try:
            status, answer = post(running.url, contender.body, timeout=2)
        except OSError:
            status = 0  # not listening yet
        if status == 200:
            return running
        if status not in (0, 503):  # 503: loading
            stop(running)
            raise Untrusted(f"{contender.name} answered {status}: {answer}\n{tail(log)}")
        time.sleep(0.2)
    stop(running)
    raise Untrusted(f"{contender.name} did not answer in {START_TIMEOUT_S:.0f} s:\n{tail(log)}")


def stop(running: Running) -> None:
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGTERM)
        try:
            running.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()


def tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def wrk(running: Running, concurrency: int, seconds: int) -> Measured:
    """One wrk run; socket errors or non-2xx answers make it untrusted."""
    done = subprocess.run(
        [
            WRK,
            "-t1",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(running.script),
            running.url,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    found = next(
        (json.loads(line[7:]) for line in done.stdout.splitlines() if line.startswith("RESULT ")),
        None,
    )
    if done.returncode != 0 or found is None:
        raise Untrusted(f"wrk failed on {running.contender.name}:\n{done.stdout}{done.stderr}")
    if found["socket_errors"] or found["non_2xx"]:
        raise Untrusted(
            f"{running.contender.name} at concurrency {concurrency}: "
            f"{found['socket_errors']} socket errors, {found['non_2xx']} non-2xx answers of "
            f"{found['requests']}:\n{tail(running.log)}"
        )
    return Measured(
        requests_s=found["requests"] / (found["duration_us"] / 1e6),
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
        requests=found["requests"],
    )


def contenders(workdir: Path) -> tuple[list[Contender], list[str]]:
    """paved serve, the hand-written FastAPI app, and the optional ones found; and a line for
    each optional one skipped, saying why."""
    app = workdir / "handwritten.py"
    app.write_text(HANDWRITTEN.format(sources=str(SOURCES)), encoding="utf-8")
    found = [
        Contender(
            PAVED,
            [str(BIN / "paved"), "serve", str(EXAMPLE), "--port", "{port}"],
            CUSTOMER,
            lambda answer: float(answer["probability"]),
            env={"PAVED_LOG_LEVEL": "info", "PAVED_WORKERS": "1"},
        ),
        Contender(
            FASTAPI,
            [sys.executable, "-m", "uvicorn", "handwritten:app", "--port", "{port}", *UVICORN],
            CUSTOMER,
            lambda answer: float(answer["probability"]),
        ),
    ]
    skipped = []
    mlflow_bin = os.environ.get("PAVED_BENCH_MLFLOW_BIN")
    if mlflow_bin and (Path(mlflow_bin) / "mlflow").is_file():
        model = workdir / "mlflow-model"
        save = workdir / "save_mlflow.py"
        save.write_text(MLFLOW_SAVE.format(package=str(SOURCES / "churn")), encoding="utf-8")
        saved = subprocess.run(
            [str(Path(mlflow_bin) / "python"), str(save), str(model)],
            capture_output=True,
            text=True,
            check=False,
        )
        if saved.returncode != 0:
            raise Untrusted(f"saving the MLflow model failed:\n{saved.stdout}{saved.stderr}")
        found.append(
            Contender(
                "mlflow models serve",
                [str(Path(mlflow_bin) / "mlflow"), "models", "serve", "-m", str(model), *MLFLOW],
                {"dataframe_records": [CUSTOMER]},
                lambda answer: float(answer["predictions"][0]["probability"]),
                env=_environment(mlflow_bin),
                path="/invocations",
            )
        )
    else:
        skipped.append(_skip_line("mlflow models serve", "PAVED_BENCH_MLFLOW_BIN", mlflow_bin))
    bento_bin = os.environ.get("PAVED_BENCH_BENTOML_BIN")
    if bento_bin and (Path(bento_bin) / "bentoml").is_file():
        (workdir / "bento_service.py").write_text(
            BENTO_SERVICE.format(sources=str(SOURCES)), encoding="utf-8"
        )
        found.append(
            Contender(
                "BentoML",
                [
                    str(Path(bento_bin) / "bentoml"),
                    "serve",
                    "bento_service:Churn",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "{port}",
                ],
                CUSTOMER,
                lambda answer: float(answer["probability"]),
                env=_environment(bento_bin),
            )
        )
    else:
        skipped.append(_skip_line("BentoML", "PAVED_BENCH_BENTOML_BIN", bento_bin))
    return found, skipped


def _environment(bin_folder: str) -> dict[str, str]:
    """The other environment's commands first; the model's artifact where the copy of the
    package that MLflow makes would not find it."""
    return {
        "PATH": f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}",
        "CHURN_MODEL_PATH": str(EXAMPLE / "models" / "churn.joblib"),
    }


def _skip_line(name: str, variable: str, value: str | None) -> str:
    why = (
        f"{variable}={value} holds no `{name.split()[0].lower()}`"
        if value
        else f"{variable} is not set"
    )
    return (
        f"{name}: skipped ({why}; it is measured only from a separate environment: "
        f"set {variable} to that environment's bin folder)"
    )


@contextmanager
def serving(found: list[Contender], workdir: Path) -> Iterator[list[Running]]:
    running: list[Running] = []
    try:
        for contender in found:
            print(f"starting {contender.name} ...", flush=True)
            running.append(start(contender, workdir))
        yield running
    finally:
        for server in running:
            stop(server)


def agree(running: list[Running]) -> float:
    """Every contender's probability for the customer, checked against paved serve's."""
    answers = {}
    for server in running:
        status, answer = post(server.url, server.contender.body)
        if status != 200:
            raise Untrusted(f"{server.contender.name} answered {status}")
        answers[server.contender.name] = server.contender.probability(answer)
    reference = answers[PAVED]
    for name, probability in answers.items():
        if abs(probability - reference) > AGREEMENT:
            raise Untrusted(f"{name} answers {probability}, {PAVED} {reference}: not one model")
    return reference


def predict_calls(server: Running) -> tuple[float, float]:
    """paved serve's predict calls and rows so far, from its /metrics."""
    text = get(server.url.replace("/predict", "/metrics")).decode()
    values = {
        line.split()[0]: float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("paved_predict_batch_rows_")
    }
    return values["paved_predict_batch_rows_count"], values["paved_predict_batch_rows_sum"]


def measure(running: list[Running]) -> dict[int, float]:
    """Warm-up, then RUNS rounds; returns paved serve's mean rows per predict call by
    concurrency."""
    for server in running:
        wrk(server, max(CONCURRENCY), WARM_UP_SECONDS)
    paved = running[0]
    calls: dict[int, float] = dict.fromkeys(CONCURRENCY, 0.0)
    rows: dict[int, float] = dict.fromkeys(CONCURRENCY, 0.0)
    for run in range(RUNS):
        for concurrency in CONCURRENCY:
            for server in running:
                before = predict_calls(paved) if server is paved else None
                measured = wrk(server, concurrency, SECONDS)
                server.runs.setdefault(concurrency, []).append(measured)
                if before is not None:
                    after = predict_calls(paved)
                    calls[concurrency] += after[0] - before[0]
                    rows[concurrency] += after[1] - before[1]
                print(
                    f"  run {run + 1}/{RUNS} c={concurrency:<3} {server.contender.name:22} "
                    f"{measured.requests_s:8,.0f} req/s",
                    flush=True,
                )
    return {c: rows[c] / calls[c] if calls[c] else 0.0 for c in CONCURRENCY}


def report(running: list[Running], batch_rows: dict[int, float], skipped: list[str]) -> bool:
    paved = running[0]
    print(
        f"\nchurn-service, single-row POST, wrk -t1, {SECONDS} s runs, the median of {RUNS} "
        f"(requests/s) reported, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    print(
        f"{'contender':22} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}   "
        f"{'÷ paved: req/s':>14} {'p50':>6} {'p99':>6}   runs (req/s)"
    )
    for concurrency in CONCURRENCY:
        reference = paved.median(concurrency)
        for server in running:
            found = server.median(concurrency)
            spread = ", ".join(f"{run.requests_s:,.0f}" for run in server.runs[concurrency])
            print(
                f"{server.contender.name:22} {concurrency:>4} {found.requests_s:8,.0f} "
                f"{found.p50_ms:8.2f} {found.p99_ms:8.2f}   "
                f"{found.requests_s / reference.requests_s:13.2f}x "
                f"{found.p50_ms / reference.p50_ms:5.2f}x {found.p99_ms / reference.p99_ms:5.2f}x"
                f"   {spread}"
            )
    for line in skipped:
        print(line)
    lines = sum(1 for _ in paved.log.open("rb"))
    print(
        "paved serve: rows per predict call (micro-batching) "
        + ", ".join(f"c={c}: {batch_rows[c]:.1f}" for c in CONCURRENCY)
        + f"; {lines:,} JSON log lines written"
    )
    met = True
    fastapi = next(server for server in running if server.contender.name == FASTAPI)
    for concurrency, target in TARGETS.items():
        ratio = paved.median(concurrency).requests_s / fastapi.median(concurrency).requests_s
        ok = ratio >= target
        met = met and ok
        print(
            f"target: paved serve at least {target}x the hand-written FastAPI app's requests/s "
            f"at concurrency {concurrency}: {ratio:.2f}x, {'met' if ok else 'MISSED'}"
        )
    return met


def profile(workdir: Path) -> str:
    """cProfile of paved serve's event loop (uvicorn in the profiled process) under wrk at
    concurrency 64; SIGUSR1 stops it gracefully, so the statistics get written."""
    stats = workdir / "serve.prof"
    harness = textwrap.dedent(
        f"""
        import cProfile, signal, uvicorn
        from pavedroad.serving.app import app_from_environment
        server = uvicorn.Server(uvicorn.Config(app_from_environment, factory=True,
            host="127.0.0.1", port={{port}}, log_config=None, access_log=False))
        signal.signal(signal.SIGUSR1, lambda *_: setattr(server, "should_exit", True))
        cProfile.run("server.run()", {str(stats)!r})
        """
    )
    profiled = Contender(
        "paved serve (profiled)",
        [sys.executable, "-c", harness],
        CUSTOMER,
        lambda answer: float(answer["probability"]),
        env={"PAVED_CONTRACT": str(EXAMPLE / "handoff.toml")},
    )
    running = start(profiled, workdir)
    try:
        wrk(running, max(CONCURRENCY), PROFILE_SECONDS)
        running.process.send_signal(signal.SIGUSR1)
        running.process.wait(timeout=START_TIMEOUT_S)
    finally:
        stop(running)
    listing = workdir / "profile.txt"
    with open(listing, "w", encoding="utf-8") as stream:
        pstats.Stats(str(stats), stream=stream).sort_stats("tottime").print_stats(PROFILE_LINES)
    return "\n".join(
        line for line in listing.read_text(encoding="utf-8").splitlines() if line.strip()
    )


def main() -> int:
    if not Path(WRK).is_file():
        sys.stderr.write("wrk is not installed (Debian: apt-get install wrk)\n")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="paved-serve-bench-"))
    try:
        found, skipped = contenders(workdir)
        with serving(found, workdir) as running:
            probability = agree(running)
            print(f"every contender answers the customer's churn probability {probability:.6f}")
            batch_rows = measure(running)
        met = report(running, batch_rows, skipped)
        if not met:
            print("\n== where paved serve's event loop spends its time (wrk at c=64):")
            print(profile(workdir))
    except Untrusted as error:
        sys.stderr.write(f"the measurement cannot be trusted: {error}\n")
        return 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
