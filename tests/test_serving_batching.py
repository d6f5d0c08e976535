"""Micro-batching in the real server: concurrent /predict rows share a predict call, each caller
gets its own answer, a failing row fails only its own request, and timeouts stay per request.

The faulty fixture with one predict thread: a `wait` row holds that thread until the test opens
the gate, so the rows sent meanwhile gather into one batch, deterministically. What was batched
is read from /metrics: `paved_predict_batch_rows` counts predict calls and their rows, and
`paved_predict_queued_rows` the rows waiting for their batch to go."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_serving import FAULTY, WAIT_S, Server, metrics, sample, serve

CALLS = "paved_predict_batch_rows_count"
ROWS = "paved_predict_batch_rows_sum"
QUEUED = "paved_predict_queued_rows"


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """One predict thread, a 3 s timeout, micro-batching with its default wait."""
    gate = tmp_path_factory.mktemp("gate") / "open"
    with serve(
        FAULTY, PAVED_PREDICT_THREADS="1", PAVED_TIMEOUT_S="3", FAULTY_GATE=str(gate)
    ) as server:
        try:
            yield server, gate
        finally:
            gate.touch()


@contextmanager
def thread_held(server: Server, gate: Path, x: float) -> Iterator[Future[httpx.Response]]:
    """The only predict thread busy with a `wait` row (x) until the block ends; then the gate
    opens, the row is released, and the gate is closed again for the next test."""
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(post, server, {"x": x, "mode": "wait"})
        server.wait_for(lambda r: r.get("event") == "fixture waiting" and r["x"] == [x])
        try:
            yield held
        finally:
            gate.touch()
            server.wait_for(lambda r: r.get("event") == "fixture released" and r["x"] == [x])
            gate.unlink()
            held.result(timeout=WAIT_S)


def post(server: Server, body: dict[str, Any]) -> httpx.Response:
    """One request on a connection of its own (a client per thread)."""
    with server.client() as client:
        return client.post("/predict", json=body)


def until(server: Server, name: str, value: float) -> None:
    """Poll /metrics until the sample `name` reaches `value`."""
    deadline = time.monotonic() + WAIT_S
    with server.client() as client:
        while (found := sample(metrics(client), name)) != value:
            assert time.monotonic() < deadline, f"{name} stayed {found}, expected {value}"
            time.sleep(0.005)


def scrape(server: Server) -> dict[Any, float]:
    with server.client() as client:
        return metrics(client)


def calls_and_rows(server: Server, before: dict[Any, float]) -> tuple[float, float]:
    """Predict calls and rows predicted since `before`."""
    after = scrape(server)
    return (
        sample(after, CALLS) - sample(before, CALLS),
        sample(after, ROWS) - sample(before, ROWS),
    )


@pytest.mark.slow
def test_concurrent_rows_share_one_predict_call_and_each_caller_gets_its_own(
    gated: tuple[Server, Path],
) -> None:
    server, gate = gated
    xs = [float(n) for n in range(1, 11)]
    before = scrape(server)
    with ThreadPoolExecutor(len(xs)) as pool:
        with thread_held(server, gate, 0.25) as held:
            answers = [pool.submit(post, server, {"x": x}) for x in xs]
            until(server, QUEUED, len(xs))  # every row waits for the thread: one batch
        results = [answer.result(timeout=WAIT_S) for answer in answers]
    assert held.result().json() == {"y": 0.5}
    assert [(r.status_code, r.json()) for r in results] == [(200, {"y": 2 * x}) for x in xs]
    # two calls: the held row alone, then the ten rows together
    assert calls_and_rows(server, before) == (2, 11)
    for response in results:  # each request's own line, with its own row count
        line = server.request_line(response.headers["x-request-id"])
        assert line["status"] == 200 and line["batch_size"] == 1


@pytest.mark.slow
def test_a_failing_row_fails_only_its_own_request_in_a_batch(gated: tuple[Server, Path]) -> None:
    server, gate = gated
    bodies: list[dict[str, Any]] = [{"x": 1}, {"x": 2, "mode": "raise"}, {"x": 3}]
    before = scrape(server)
    with ThreadPoolExecutor(len(bodies)) as pool:
        with thread_held(server, gate, 0.5):
            answers = [pool.submit(post, server, body) for body in bodies]
            until(server, QUEUED, len(bodies))
        ok_one, failed, ok_three = (answer.result(timeout=WAIT_S) for answer in answers)
    assert (ok_one.status_code, ok_one.json()) == (200, {"y": 2.0})
    assert (ok_three.status_code, ok_three.json()) == (200, {"y": 6.0})
    assert failed.status_code == 500
    request_id = failed.headers["x-request-id"]
    assert failed.json()["request_id"] == request_id and "SECRET" not in failed.text
    # the held row, the batch of three that failed, then each of its rows alone
    assert calls_and_rows(server, before) == (5, 7)
    errors = "paved_model_errors_total"
    after = scrape(server)
    assert sample(after, errors, kind="exception") - sample(before, errors, kind="exception") == 1
    retried = server.wait_for(
        lambda r: r.get("event") == "batch failed, predicting its rows one by one"
    )
    assert retried["rows"] == 3 and retried["level"] == "warning"
    error = server.wait_for(
        lambda r: r.get("event") == "model error" and r["request_id"] == request_id
    )
    assert "SECRET-DETAIL" in error["exception"]
    others = {r.headers["x-request-id"] for r in (ok_one, ok_three)}
    assert not [
        r for r in server.records if r.get("event") == "model error" and r["request_id"] in others
    ]


@pytest.mark.slow
def test_a_row_still_gathering_times_out_on_its_own_and_is_never_predicted(
    gated: tuple[Server, Path],
) -> None:
    server, gate = gated
    before = scrape(server)
    with thread_held(server, gate, 0.75) as held:
        queued = post(server, {"x": 7})  # waits for the held thread until its own 3 s pass
        assert held.result(timeout=WAIT_S).status_code == 504
    after_gate = post(server, {"x": 4})
    assert queued.status_code == 504 and "PAVED_TIMEOUT_S" in queued.json()["detail"]
    assert (after_gate.status_code, after_gate.json()) == (200, {"y": 8.0})
    # the held row, then x=4 alone: the timed-out x=7 was dropped from the batch
    assert calls_and_rows(server, before) == (2, 2)


@pytest.mark.slow
def test_max_wait_ms_0_switches_micro_batching_off(tmp_path: Path) -> None:
    gate = tmp_path / "open"
    with serve(
        FAULTY, PAVED_PREDICT_THREADS="1", PAVED_MAX_WAIT_MS="0", FAULTY_GATE=str(gate)
    ) as server:
        xs = [1.0, 2.0, 3.0, 4.0]
        before = scrape(server)
        with ThreadPoolExecutor(len(xs)) as pool:
            with thread_held(server, gate, 0.25):
                answers = [pool.submit(post, server, {"x": x}) for x in xs]
                # the held request, the four, and the scrape itself: all in flight
                until(server, "paved_requests_in_flight", len(xs) + 2)
            results = [answer.result(timeout=WAIT_S) for answer in answers]
        assert [r.json() for r in results] == [{"y": 2 * x} for x in xs]
        assert calls_and_rows(server, before) == (5, 5)  # one call per request


@pytest.mark.slow
def test_a_lone_request_does_not_wait_for_a_batch_to_fill() -> None:
    """Waiting up to PAVED_MAX_WAIT_MS (1 s) would exceed PAVED_TIMEOUT_S (0.5 s): a 504. The
    only request in progress goes at once: nobody else could join its batch."""
    with serve(FAULTY, PAVED_MAX_WAIT_MS="1000", PAVED_TIMEOUT_S="0.5") as server:
        answers = [post(server, {"x": x}) for x in (1, 2, 3)]
    assert [(r.status_code, r.json()) for r in answers] == [
        (200, {"y": 2.0 * x}) for x in (1, 2, 3)
    ]
