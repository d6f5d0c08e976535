"""Structured logs: one JSON object per line on stdout, for the service and for uvicorn alike.

A log pipeline (Loki, CloudWatch, Datadog) parses each line without a grammar. The request
logger renders with orjson into bytes and writes them with one call, so a request's line costs
microseconds and lines from different threads never interleave.
"""

from __future__ import annotations

import logging
import sys
from typing import BinaryIO

import orjson
import structlog
from structlog.typing import FilteringBoundLogger

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def service_logger(level: str, stream: BinaryIO | None = None) -> FilteringBoundLogger:
    """The app's own logger; not structlog's global configuration, so each app has its own."""
    logger: FilteringBoundLogger = structlog.wrap_logger(
        structlog.BytesLogger(stream if stream is not None else sys.stdout.buffer),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        cache_logger_on_first_use=True,
    )
    return logger


class _BytesHandler(logging.Handler):
    """Writes each formatted record with one call on the binary stream the service logs to."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__()
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record).encode("utf-8") + b"\n")
            self.stream.flush()
        except Exception:
            self.handleError(record)


def configure_stdlib(level: str, stream: BinaryIO | None = None) -> None:
    """uvicorn's lines (started, shutting down, its errors) as the same JSON as the service's.
    Process-wide, so only `paved serve` and its worker processes call it, never create_app."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = _BytesHandler(stream if stream is not None else sys.stdout.buffer)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(LEVELS[level])
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []  # propagate to the root's JSON handler
        logging.getLogger(name).propagate = True
    # the service writes its own line per request, with the request id and the route
    logging.getLogger("uvicorn.access").disabled = True
