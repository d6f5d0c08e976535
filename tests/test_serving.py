"""`paved serve` as it runs in production: the real server in a subprocess on a free loopback
port, spoken to over HTTP; its log lines parsed as JSON and its metrics with prometheus-client's
own parser. The example project is served as shipped; fixture projects fail on purpose."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import FIXTURES, write_tree
from prometheus_client.parser import text_string_to_metric_families

EXAMPLE = Path(__file__).parent.parent / "examples" / "churn-service"
FAULTY = FIXTURES / "serving" / "faulty"
FRAMES = FIXTURES / "serving" / "frames"
CUSTOMER = {
    "tenure_months": 3,
    "monthly_charges": 89.5,
    "contract": "month-to-month",
    "support_calls": 4,
    "payment_method": "electronic-check",
    "internet_service": "fiber",
    "senior": False,
}
LOYAL = {**CUSTOMER, "tenure_months": 70, "contract": "two-year", "support_calls": 0}
TOKEN = "s3cret-token"
WAIT_S = 60.0  # the most any wait here takes before the test fails; never a sleep
Record = dict[str, Any]


class Server:
    """A `paved serve` subprocess; its stdout read line by line into JSON records."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.records: list[Record] = []
        self.other: list[str] = []  # output lines that are not JSON: there should be none
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        running = self.wait_for(lambda r: str(r.get("event", "")).startswith("Uvicorn running"))
        found = re.search(r"http://127\.0\.0\.1:(\d+)", running["event"])
        assert found, running
        self.url = f"http://127.0.0.1:{found.group(1)}"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.changed:
                try:
                    self.records.append(json.loads(line))
                except json.JSONDecodeError:
                    self.other.append(line)
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[Record], bool]) -> Record:
        """The first record matching `predicate`, waiting for it to be written."""
        with self.changed:
            found = self.changed.wait_for(
                lambda: (
                    next((r for r in self.records if predicate(r)), None)
                    or self.process.poll() is not None
                ),
                timeout=WAIT_S,
            )
            match = next((r for r in self.records if predicate(r)), None)
        assert match is not None, (found, self.records[-20:], self.other[-20:])
        return match

    def request_line(self, request_id: str) -> Record:
        return self.wait_for(
            lambda r: r.get("event") == "request" and r["request_id"] == request_id
        )

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=WAIT_S)


@contextmanager
def serve(root: Path, *options: str, ready: bool = True, **env: str) -> Iterator[Server]:
    """`paved serve ROOT --port 0` (uvicorn picks a free port and logs it), stopped with SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pavedroad", "serve", str(root), "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # a traceback on stderr would be a line that is not JSON
        text=True,
        env={**os.environ, "PAVED_HOST": "127.0.0.1", **env},
    )
    server = None
    try:
        server = Server(process)
        if ready:
            server.wait_for(lambda r: r.get("event") == "model ready")
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if server is not None:
            server.reader.join(WAIT_S)  # it ends at the end of the output
        assert process.stdout is not None
        process.stdout.close()


def metrics(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, keyed by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def sample(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


# -- the example project, as shipped ------------------------------------------------------------


@pytest.fixture(scope="module")
def churn() -> Iterator[Server]:
    with serve(EXAMPLE, PAVED_MAX_BATCH="4", PAVED_MAX_BODY_BYTES="4096") as server:
        yield server


@pytest.mark.slow
def test_predict_answers_one_output_schema_object(churn: Server) -> None:
    with churn.client() as client:
        response = client.post("/predict", json=CUSTOMER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    score = response.json()
    assert set(score) == {"probability", "label"}
    assert 0.0 <= score["probability"] <= 1.0
    assert score["label"] is (score["probability"] >= 0.5)  # CHURN_THRESHOLD's default


@pytest.mark.slow
def test_a_batch_answers_one_output_per_input_in_order(churn: Server) -> None:
    with churn.client() as client:
        singles = [client.post("/predict", json=row).json() for row in (CUSTOMER, LOYAL)]
        batch = client.post("/predict/batch", json=[CUSTOMER, LOYAL, CUSTOMER])
        empty = client.post("/predict/batch", json=[])
    assert batch.status_code == 200, batch.text
    # scikit-learn's sums over 3 rows and over 1 may differ in the last bit of a float
    expected = [singles[0], singles[1], singles[0]]
    assert [s["label"] for s in batch.json()] == [s["label"] for s in expected]
    assert [s["probability"] for s in batch.json()] == pytest.approx(
        [s["probability"] for s in expected], rel=1e-12
    )
    assert singles[0] != singles[1]
    assert empty.status_code == 200 and empty.json() == []


@pytest.mark.slow
def test_a_batch_over_max_batch_is_refused_with_the_setting_named(churn: Server) -> None:
    with churn.client() as client:
        response = client.post("/predict/batch", json=[CUSTOMER] * 5)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert error["msg"] == "the batch has 5 rows; at most 4 are accepted (PAVED_MAX_BATCH)"


@pytest.mark.slow
def test_schema_violations_are_422_with_the_field_errors(churn: Server) -> None:
    with churn.client() as client:
        wrong = client.post("/predict", json={**CUSTOMER, "tenure_months": -1, "extra": 1})
        missing = client.post("/predict/batch", json=[CUSTOMER, {**CUSTOMER, "senior": None}])
    assert wrong.status_code == 422
    errors = {tuple(e["loc"]): e for e in wrong.json()["detail"]}
    assert errors[("body", "tenure_months")]["type"] == "greater_than_equal"
    assert errors[("body", "tenure_months")]["msg"] == "Input should be greater than or equal to 0"
    assert errors[("body", "extra")]["type"] == "extra_forbidden"
    assert wrong.json()["request_id"] == wrong.headers["x-request-id"]
    assert "input" not in errors[("body", "tenure_months")]  # inputs are not echoed back
    assert missing.status_code == 422
    assert [e["loc"] for e in missing.json()["detail"]] == [["body", 1, "senior"]]


@pytest.mark.slow
def test_json_types_are_checked_as_the_document_says(churn: Server) -> None:
    """`false` is not an integer nor "89.5" a number (pydantic's lax mode would take both);
    3.0 is an integer, as in JSON Schema."""
    with churn.client() as client:
        coerced = client.post(
            "/predict", json={**CUSTOMER, "support_calls": False, "monthly_charges": "89.5"}
        )
        integral = client.post("/predict", json={**CUSTOMER, "tenure_months": 3.0})
        same = client.post("/predict", json=CUSTOMER)
        mixed = client.post("/predict", json={**CUSTOMER, "tenure_months": 3.0, "senior": 0})
        fraction = client.post("/predict/batch", json=[{**CUSTOMER, "tenure_months": 3.5}])
    assert coerced.status_code == 422
    assert {(e["loc"][1], e["type"]) for e in coerced.json()["detail"]} == {
        ("support_calls", "int_type"),
        ("monthly_charges", "float_type"),
    }
    assert (integral.status_code, integral.json()) == (200, same.json())
    assert [e["loc"] for e in mixed.json()["detail"]] == [["body", "senior"]]  # not 3.0
    assert [e["loc"] for e in fraction.json()["detail"]] == [["body", 0, "tenure_months"]]


@pytest.mark.slow
@pytest.mark.parametrize("body", [b"{not json", b"", b'{"tenure_months": 3,}'])
def test_invalid_json_is_422(churn: Server, body: bytes) -> None:
    with churn.client() as client:
        response = client.post("/predict", content=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"] and error["type"] == "json_invalid"


@pytest.mark.slow
def test_a_body_over_the_limit_is_413_by_length_and_when_chunked(churn: Server) -> None:
    big = json.dumps([CUSTOMER] * 40).encode()  # over PAVED_MAX_BODY_BYTES=4096
    assert len(big) > 4096

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    with churn.client() as client:
        declared = client.post("/predict/batch", content=big)
        chunked = client.post("/predict/batch", content=chunks())
        fits = client.post("/predict/batch", content=json.dumps([CUSTOMER] * 4).encode())
    for response in (declared, chunked):
        assert response.status_code == 413, response.text
        assert "PAVED_MAX_BODY_BYTES" in response.json()["detail"]
    assert "content-length" not in chunked.request.headers
    assert fits.status_code == 200


@pytest.mark.slow
def test_another_method_on_a_predict_route_is_405(churn: Server) -> None:
    with churn.client() as client:
        answers = [client.get("/predict"), client.put("/predict/batch", json=[])]
    for response in answers:
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert response.json()["request_id"] == response.headers["x-request-id"]


@pytest.mark.slow
def test_health_readiness_and_info(churn: Server) -> None:
    with churn.client() as client:
        health, ready, info = client.get("/healthz"), client.get("/readyz"), client.get("/info")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    found = info.json()
    artifact = (EXAMPLE / "models" / "churn.joblib").read_bytes()
    contract = (EXAMPLE / "handoff.toml").read_bytes()
    assert found["name"] == "churn" and found["version"] == "1.0.0"
    assert found["artifact"] == "models/churn.joblib"
    assert found["artifact_sha256"] == hashlib.sha256(artifact).hexdigest()
    assert found["contract_sha256"] == hashlib.sha256(contract + b"\0").hexdigest()
    assert found["owners"]["on_call"] == ["@acme/churn-oncall"]
    assert found["predict"] == "churn.model:predict" and found["status"] == "ready"


@pytest.mark.slow
def test_the_openapi_document_has_the_schemas_and_their_examples(churn: Server) -> None:
    with churn.client() as client:
        document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas["Customer"]["examples"] == [CUSTOMER]
    assert schemas["Customer"]["properties"]["tenure_months"]["minimum"] == 0
    assert set(schemas["ChurnScore"]["properties"]) == {"probability", "label"}
    single = document["paths"]["/predict"]["post"]
    body = single["requestBody"]["content"]["application/json"]
    assert body == {"schema": {"$ref": "#/components/schemas/Customer"}, "example": CUSTOMER}
    answer = single["responses"]["200"]["content"]["application/json"]
    assert answer["schema"] == {"$ref": "#/components/schemas/ChurnScore"}
    assert {"413", "422", "500", "503", "504"} <= set(single["responses"])
    batch = document["paths"]["/predict/batch"]["post"]["requestBody"]["content"]
    assert batch["application/json"]["schema"]["maxItems"] == 4
    assert document["info"] == {
        "title": "churn",
        "version": "1.0.0",
        "description": "`churn.model:predict`, served by pavedroad from its handoff contract.",
    }


@pytest.mark.slow
def test_request_ids_are_honoured_or_generated_and_logged(churn: Server) -> None:
    with churn.client() as client:
        given = client.post("/predict", json=CUSTOMER, headers={"x-request-id": "req-42.a"})
        generated = client.post("/predict", json=CUSTOMER)
        hostile = client.post(
            "/predict", json=CUSTOMER, headers={"x-request-id": "a\tb" + "c" * 200}
        )
    assert given.headers["x-request-id"] == "req-42.a"
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])
    line = churn.request_line("req-42.a")
    assert line["route"] == "/predict" and line["method"] == "POST"
    assert line["status"] == 200 and line["batch_size"] == 1 and line["level"] == "info"
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] > 0
    assert "payload" not in line  # PAVED_LOG_PAYLOADS is 0 by default
    assert "electronic-check" not in json.dumps(line)
    assert churn.request_line(generated.headers["x-request-id"])["status"] == 200


@pytest.mark.slow
def test_every_output_line_is_json(churn: Server) -> None:
    with churn.client() as client:
        client.get("/nowhere")
    churn.wait_for(lambda r: r.get("route") == "unmatched" and r.get("status") == 404)
    assert churn.other == []
    assert all("event" in r and "level" in r and "timestamp" in r for r in churn.records)


@pytest.mark.slow
def test_metrics_count_the_requests_made(churn: Server) -> None:
    with churn.client() as client:
        before = metrics(client)
        for _ in range(3):
            assert client.post("/predict", json=CUSTOMER).status_code == 200
        assert client.post("/predict", json={"tenure_months": "many"}).status_code == 422
        assert client.post("/predict/batch", json=[CUSTOMER, LOYAL]).status_code == 200
        assert client.get("/nowhere").status_code == 404
        after = metrics(client)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("paved_requests_total", route="/predict", status="200") == 3
    assert delta("paved_requests_total", route="/predict", status="422") == 1
    assert delta("paved_requests_total", route="/predict/batch", status="200") == 1
    assert delta("paved_requests_total", route="unmatched", status="404") == 1
    assert delta("paved_request_duration_seconds_count", route="/predict") == 4
    assert delta("paved_predictions_total") == 5
    assert delta("paved_predict_batch_rows_count") == 4
    assert delta("paved_validation_failures_total", route="/predict") == 1
    assert sample(after, "paved_requests_in_flight") == 1  # the scrape itself
    assert sample(after, "paved_model_load_seconds") > 0
    assert sample(after, "paved_model_ready") == 1


# -- failures, on purpose ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """The faulty fixture behind a token, a 1 s timeout and every payload logged."""
    gate = tmp_path_factory.mktemp("gate") / "open"
    with serve(
        FAULTY,
        PAVED_AUTH_TOKEN=TOKEN,
        PAVED_TIMEOUT_S="1",
        PAVED_LOG_PAYLOADS="1",
        FAULTY_GATE=str(gate),
    ) as server:
        try:
            yield server, gate
        finally:
            gate.touch()  # a waiting prediction ends, so the server stops at once


@pytest.mark.slow
def test_without_the_token_only_probes_answer(faulty: tuple[Server, Path]) -> None:
    server, _ = faulty
    with server.client() as anonymous, server.client("wrong") as wrong:
        for path in ("/healthz", "/readyz", "/metrics"):
            assert anonymous.get(path).status_code == 200, path
        refused = [anonymous.post("/predict", json={"x": 1}), wrong.post("/predict", json={"x": 1})]
        refused += [anonymous.get("/info"), anonymous.get("/openapi.json"), anonymous.get("/docs")]
        lowercase = anonymous.post(
            "/predict", json={"x": 1}, headers={"authorization": f"bearer {TOKEN}"}
        )
    for response in refused:
        assert response.status_code == 401, response.request.url
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["request_id"] == response.headers["x-request-id"]
    assert lowercase.status_code == 200  # the scheme is case-insensitive (RFC 9110)
    with server.client(TOKEN) as client:
        assert client.post("/predict", json={"x": 1}).json() == {"y": 2.0}
        assert client.get("/info").json()["version"] == "0.3.1"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "kind"), [("raise", "exception"), ("exit", "exception"), ("bad_output", "output")]
)
def test_a_model_error_is_500_with_the_request_id_and_the_service_stays_up(
    faulty: tuple[Server, Path], mode: str, kind: str
) -> None:
    server, _ = faulty
    with server.client(TOKEN) as client:
        before = sample(metrics(client), "paved_model_errors_total", kind=kind)
        failed = client.post("/predict/batch", json=[{"x": 1}, {"x": 2, "mode": mode}])
        after = client.post("/predict", json={"x": 4})
        counted = sample(metrics(client), "paved_model_errors_total", kind=kind)
    assert failed.status_code == 500
    request_id = failed.headers["x-request-id"]
    assert failed.json() == {
        "detail": "the model failed on this request; its log line has the request id",
        "request_id": request_id,
    }
    assert (after.status_code, after.json()) == (200, {"y": 8.0})
    assert counted == before + 1
    error = server.wait_for(
        lambda r: r.get("event") == "model error" and r["request_id"] == request_id
    )
    assert error["level"] == "error" and error["kind"] == kind
    assert "Traceback" in error["exception"]
    if mode == "raise":
        assert "SECRET-DETAIL" in error["exception"] and "SECRET" not in failed.text
    line = server.request_line(request_id)
    assert line["status"] == 500 and line["level"] == "error"


@pytest.mark.slow
def test_a_prediction_over_the_timeout_is_504(faulty: tuple[Server, Path]) -> None:
    server, _ = faulty
    with server.client(TOKEN) as client:
        response = client.post("/predict", json={"x": 1, "mode": "wait"})
        found = metrics(client)
    assert response.status_code == 504
    assert "PAVED_TIMEOUT_S" in response.json()["detail"]
    assert sample(found, "paved_model_errors_total", kind="timeout") >= 1
    assert server.request_line(response.headers["x-request-id"])["status"] == 504


@pytest.mark.slow
def test_sampled_payloads_are_logged_when_switched_on(faulty: tuple[Server, Path]) -> None:
    server, _ = faulty
    with server.client(TOKEN) as client:
        response = client.post("/predict/batch", json=[{"x": 1}, {"x": 2.5}])
    line = server.request_line(response.headers["x-request-id"])
    assert line["payload"] == [{"x": 1.0, "mode": "ok"}, {"x": 2.5, "mode": "ok"}]
    assert line["batch_size"] == 2


@pytest.mark.slow
def test_readyz_is_503_until_the_model_is_loaded_and_warmed_up(tmp_path: Path) -> None:
    gate = tmp_path / "loaded"
    with (
        serve(FAULTY, ready=False, FAULTY_IMPORT_GATE=str(gate)) as server,
        server.client() as client,
    ):
        assert client.get("/healthz").status_code == 200
        loading = client.get("/readyz")
        early = client.post("/predict", json={"x": 1})
        gate.touch()
        server.wait_for(lambda r: r.get("event") == "model ready")
        ready = client.get("/readyz")
        answered = client.post("/predict", json={"x": 1})
    assert (loading.status_code, loading.json()) == (503, {"status": "loading"})
    assert early.status_code == 503 and early.headers["retry-after"] == "1"
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert answered.json() == {"y": 2.0}


@pytest.mark.slow
def test_a_model_that_does_not_load_is_never_ready(tmp_path: Path) -> None:
    with serve(FAULTY, ready=False, FAULTY_IMPORT_FAIL="1") as server:
        failed = server.wait_for(lambda r: r.get("event") == "model load failed")
        with server.client() as client:
            assert client.get("/healthz").status_code == 200
            ready = client.get("/readyz")
    assert "FAULTY_IMPORT_FAIL=1" in failed["exception"]
    assert (ready.status_code, ready.json()) == (503, {"status": "failed"})


@pytest.mark.slow
def test_sigterm_drains_the_request_in_flight(tmp_path: Path) -> None:
    gate = tmp_path / "open"
    with serve(FAULTY, FAULTY_GATE=str(gate)) as server, ThreadPoolExecutor(1) as pool:
        with server.client() as client:
            pending = pool.submit(client.post, "/predict", json={"x": 21, "mode": "wait"})
            server.wait_for(lambda r: r.get("event") == "fixture waiting")
            server.process.send_signal(signal.SIGTERM)
            server.wait_for(lambda r: r.get("event") == "Shutting down")
            gate.touch()
            response = pending.result(timeout=WAIT_S)
        # uvicorn re-raises the signal once drained: the exit status says "ended by SIGTERM"
        assert server.process.wait(timeout=WAIT_S) == -signal.SIGTERM
        server.wait_for(lambda r: str(r.get("event", "")).startswith("Finished server process"))
    assert (response.status_code, response.json()) == (200, {"y": 42.0})


@pytest.mark.slow
def test_a_pandas_model_is_served_through_the_evaluation_conversions() -> None:
    with serve(FRAMES) as server, server.client() as client:
        batch = client.post("/predict/batch", json=[{"a": 1.5, "b": 2}, {"a": 9, "b": 3}])
        single = client.post("/predict", json={"a": 0.5, "b": 1})
    assert batch.json() == [{"total": 3.5, "big": False}, {"total": 12.0, "big": True}]
    assert single.json() == {"total": 1.5, "big": False}


@pytest.mark.slow
def test_the_input_sink_writes_sampled_rows_to_rotated_parquet_files(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    sink = tmp_path / "inputs"
    with serve(FAULTY, PAVED_SINK_DIR=str(sink), PAVED_SINK_ROWS="2") as server:
        with server.client() as client:
            ids = [client.post("/predict/batch", json=[{"x": 1}, {"x": 2}, {"x": 3}])]
            ids += [client.post("/predict", json={"x": x}) for x in (4, 5)]
        assert all(response.status_code == 200 for response in ids)
    # stopped: the last, partial file is written at shutdown
    files = sorted(sink.iterdir())
    assert [f.suffix for f in files] == [".parquet"] * 3
    tables = [pq.read_table(f) for f in files]
    assert [t.num_rows for t in tables] == [2, 2, 1]
    rows = [row for table in tables for row in table.to_pylist()]
    assert [row["x"] for row in rows] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert {row["mode"] for row in rows} == {"ok"}
    expected = [ids[0].headers["x-request-id"]] * 3 + [r.headers["x-request-id"] for r in ids[1:]]
    assert [row["request_id"] for row in rows] == expected


@pytest.mark.slow
def test_each_worker_process_loads_the_model_once() -> None:
    with serve(FAULTY, "--workers", "2", ready=False) as server:
        server.wait_for(lambda r: len(_ready_pids(server)) == 2)
        with server.client() as client:
            answers = [client.post("/predict", json={"x": n}).json() for n in range(4)]
        pids = _ready_pids(server)
    assert len(pids) == 2 and len(set(pids)) == 2
    assert answers == [{"y": 2.0 * n} for n in range(4)]


def _ready_pids(server: Server) -> list[int]:
    return [r["pid"] for r in server.records if r.get("event") == "model ready"]


# -- the command, before any server ----------------------------------------------------------------


def paved_serve(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    code = f"{prelude}\nfrom pavedroad.cli import main\nmain({['serve', *args]!r})"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=WAIT_S
    )


def test_a_contract_without_predict_is_a_usage_error(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"handoff.toml": '[contract]\nname = "p"\n'})
    done = paved_serve(str(root))
    assert done.returncode == 2, done.stderr
    assert "names no [model].predict" in done.stderr


def test_an_artifact_that_is_not_the_validated_one_is_refused(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "handoff.toml": '[model]\npredict = "m:predict"\nartifact = "model.bin"\n'
            f'sha256 = "{"0" * 64}"\n',
            "model.bin": "other weights",
        },
    )
    done = paved_serve(str(root))
    assert done.returncode == 2, done.stderr
    assert "refusing to serve another model than the validated one" in done.stderr


def test_an_invalid_setting_is_a_usage_error_naming_the_variable() -> None:
    done = paved_serve(str(FAULTY), prelude="import os; os.environ['PAVED_TIMEOUT_S'] = '-1'")
    assert done.returncode == 2, done.stderr
    assert "PAVED_TIMEOUT_S: Input should be greater than 0" in done.stderr


def test_a_missing_serve_extra_names_the_install_command(tmp_path: Path) -> None:
    # None in sys.modules makes `import uvicorn` fail as if it were not installed
    done = paved_serve(str(FAULTY), prelude="import sys; sys.modules['uvicorn'] = None")
    assert done.returncode == 2, done.stderr
    assert 'pip install "pavedroad[serve]"' in done.stderr
    assert "uvicorn" in done.stderr
