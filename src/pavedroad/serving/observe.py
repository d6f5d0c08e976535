"""`Observe`: the pure ASGI middleware that every request passes through, once.

Request id (X-Request-ID honoured when sane, else generated; always returned), bearer-token
auth, the in-flight gauge, latency, requests by route and status, and one JSON log line: in one
layer, not a stack of BaseHTTPMiddleware layers that each copy the request. An unexpected error
becomes a 500 with the request id, logged with its traceback; the server stays up.
"""

from __future__ import annotations

import hmac
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import FilteringBoundLogger

from pavedroad.serving.asgi import answer, problem
from pavedroad.serving.metrics import Metrics

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})  # open without a token; logged at debug
REQUEST_ID = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")  # a caller's id, kept out of log injection
UNMATCHED = "unmatched"  # the route label of unknown paths: metrics stay bounded
GONE = 499  # the status logged when the client left before an answer (nginx's convention)


class Observe:
    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: frozenset[str],
        metrics: Metrics,
        log: FilteringBoundLogger,
        token: bytes | None,
    ) -> None:
        self.app = app
        self.routes = routes
        self.metrics = metrics
        self.log = log
        self.token = token
        # the counters' children, looked up once per route and status, not once per request
        self.children: dict[tuple[str, int], Any] = {}
        self.latency = {route: metrics.latency.labels(route) for route in (*routes, UNMATCHED)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id")
        request_id = given.decode() if given and REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        route = scope["path"] if scope["path"] in self.routes else UNMATCHED
        state = scope.setdefault("state", {})
        state["request_id"], state["route"] = request_id, route
        status = GONE
        started_response = False
        id_header = (b"x-request-id", request_id.encode())

        async def respond(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        in_flight = self.metrics.in_flight
        in_flight.inc()
        try:
            if self.token is not None and route not in PROBES and not self._authorised(headers):
                body = problem("a valid `Authorization: Bearer <token>` is required", request_id)
                await answer(respond, 401, body, (b"www-authenticate", b"Bearer"))
            else:
                await self.app(scope, receive, respond)
        except Exception as error:
            self.log.error("unhandled error", request_id=request_id, route=route, exc_info=error)
            if not started_response:
                body = problem("internal error; its log line has the request id", request_id)
                await answer(respond, 500, body)
        finally:
            in_flight.dec()
            elapsed = time.perf_counter() - started
            self._count(route, status).inc()
            self.latency[route].observe(elapsed)
            fields: dict[str, Any] = {
                "request_id": request_id,
                "method": scope["method"],
                "route": route,
                "status": status,
                "latency_ms": round(elapsed * 1000, 3),
            }
            for key in ("batch_size", "payload"):
                if key in state:
                    fields[key] = state[key]
            _level(self.log, route, status)("request", **fields)

    def _count(self, route: str, status: int) -> Any:
        child = self.children.get((route, status))
        if child is None:
            child = self.children[route, status] = self.metrics.requests.labels(route, str(status))
        return child

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        assert self.token is not None
        scheme, _, credentials = headers.get(b"authorization", b"").partition(b" ")
        # compare_digest: the time taken does not tell how much of a guessed token was right
        return scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), self.token)


def _level(log: FilteringBoundLogger, route: str, status: int) -> Callable[..., Any]:
    """Probes and scrapes at debug (an orchestrator polls them every few seconds); a 503 while
    the model loads is a warning; other 5xx are errors."""
    if route in PROBES:
        return log.debug
    if status == 503:
        return log.warning
    return log.error if status >= 500 else log.info
