"""Prometheus metrics of one app, in a registry of its own.

A registry per app, not the process-wide default: two apps in one process (tests, an embedding
service) each count their own requests. With several worker processes, each process exposes its
own counts: scrape each worker, or run one worker per container.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

# Seconds: from a cached single row (1 ms) to a large batch or a timeout (30 s).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
ROWS_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
CONTENT_TYPE = CONTENT_TYPE_LATEST


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    in_flight: Gauge
    predictions: Counter
    batch_rows: Histogram
    queued_rows: Gauge
    validation_failures: Counter
    model_errors: Counter
    load_seconds: Gauge
    ready: Gauge

    @classmethod
    def create(cls) -> Metrics:
        registry = CollectorRegistry(auto_describe=True)
        return cls(
            registry=registry,
            requests=Counter(
                "paved_requests",
                "HTTP requests answered, by route and status.",
                ["route", "status"],
                registry=registry,
            ),
            latency=Histogram(
                "paved_request_duration_seconds",
                "Time from a request's arrival to its response, by route.",
                ["route"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            in_flight=Gauge(
                "paved_requests_in_flight", "Requests being answered now.", registry=registry
            ),
            predictions=Counter(
                "paved_predictions",
                "Rows predicted (each row of a batch counts).",
                registry=registry,
            ),
            batch_rows=Histogram(
                "paved_predict_batch_rows",
                "Rows per call of the model's predict.",
                buckets=ROWS_BUCKETS,
                registry=registry,
            ),
            queued_rows=Gauge(
                "paved_predict_queued_rows",
                "Rows of /predict requests waiting for their micro-batch to go to predict.",
                registry=registry,
            ),
            validation_failures=Counter(
                "paved_validation_failures",
                "Requests refused with 422: invalid JSON or not the input schema, by route.",
                ["route"],
                registry=registry,
            ),
            model_errors=Counter(
                "paved_model_errors",
                "Predictions that failed: exception (predict raised), output (not the output "
                "schema), timeout.",
                ["kind"],
                registry=registry,
            ),
            load_seconds=Gauge(
                "paved_model_load_seconds",
                "Seconds to verify, import and warm up the model in this process.",
                registry=registry,
            ),
            ready=Gauge(
                "paved_model_ready", "1 once the model is loaded and warmed up.", registry=registry
            ),
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
