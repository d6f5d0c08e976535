"""A bounded load test: 20,000 single-row /predict requests at concurrency 64, from a load
generator in a process of its own, to the example project under `paved serve` on loopback.
Every request must be answered 200 with its own row's answer (two customers alternate, with
opposite labels), the server must count exactly the requests made, and its resident memory
must not grow by more than RSS_GROWTH_MB between a warm-up and the end of the load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES
from test_serving import CUSTOMER, EXAMPLE, LOYAL, metrics, sample, serve

LOADGEN = FIXTURES / "serving" / "loadgen.py"
REQUESTS = 20_000
WARM_UP = 2_000  # allocator pools, caches and connection buffers reach their size first
CONCURRENCY = 64
# Measured: 0-2 MB. A leak of 200 bytes per request would be 4 MB: well below any real leak of
# a request's objects (a body, a parsed row, an answer are each 100s of bytes at least).
RSS_GROWTH_MB = 8


def load(url: str, requests: int, cases: Path) -> dict[str, object]:
    done = subprocess.run(
        [
            sys.executable,
            str(LOADGEN),
            f"{url}/predict",
            str(requests),
            str(CONCURRENCY),
            str(cases),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout)
    return found


def rss_mb(pid: int) -> float:
    """The process's resident set, from /proc/PID/status (VmRSS, in kB)."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_20000_requests_at_concurrency_64_without_errors_or_memory_growth(tmp_path: Path) -> None:
    cases = tmp_path / "cases.json"
    cases.write_text(
        json.dumps(
            [
                {"body": CUSTOMER, "expect": {"label": True}},
                {"body": LOYAL, "expect": {"label": False}},
            ]
        ),
        encoding="utf-8",
    )
    with serve(EXAMPLE) as server, server.client() as client:
        warm = load(server.url, WARM_UP, cases)
        before_mb = rss_mb(server.process.pid)
        before = metrics(client)
        found = load(server.url, REQUESTS, cases)
        after = metrics(client)
        after_mb = rss_mb(server.process.pid)
    assert warm["statuses"] == {"200": WARM_UP} and warm["errors"] == [], warm
    assert found["statuses"] == {"200": REQUESTS}, found
    assert found["errors"] == [] and found["wrong"] == 0, found
    counted = sample(after, "paved_requests_total", route="/predict", status="200") - sample(
        before, "paved_requests_total", route="/predict", status="200"
    )
    assert counted == REQUESTS
    calls = sample(after, "paved_predict_batch_rows_count") - sample(
        before, "paved_predict_batch_rows_count"
    )
    assert calls < REQUESTS  # rows were batched: fewer predict calls than requests
    growth = after_mb - before_mb
    print(f"RSS {before_mb:.1f} -> {after_mb:.1f} MB; {found['seconds']} s; {calls:.0f} calls")
    assert growth < RSS_GROWTH_MB, f"RSS grew {growth:.1f} MB ({before_mb:.1f} -> {after_mb:.1f})"
