"""`create_app(contract)`: the FastAPI application that serves the contract's model.

The request path is kept lean because serving is where overhead multiplies: the predict routes
read the raw body and validate it with pydantic in one pass (no json.loads, no FastAPI body
machinery), answer bytes that pydantic serialised, and observe every request in one pure ASGI
middleware (request id, auth, in-flight, latency, metrics, the log line) instead of a stack of
BaseHTTPMiddleware layers. `predict` runs in a thread pool, off the event loop, under a timeout,
through `Runner`: the one place where requests become predict calls.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import random
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import orjson
from fastapi import FastAPI, Request, Response
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import FilteringBoundLogger

from pavedroad.contract import LoadedContract, find_contract, load_contract
from pavedroad.serving import openapi
from pavedroad.serving.logging import configure_stdlib, service_logger
from pavedroad.serving.metrics import CONTENT_TYPE, Metrics
from pavedroad.serving.model import (
    Description,
    ModelFailed,
    ServedModel,
    describe,
    load_and_warm_up,
    plain_rows,
)
from pavedroad.serving.settings import Settings
from pavedroad.serving.sink import InputSink

JSON = "application/json"
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})  # open without a token; logged at debug
REQUEST_ID = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")  # a caller's id, kept out of log injection
UNMATCHED = "unmatched"  # the route label of unknown paths: metrics stay bounded


class BodyTooLarge(Exception):
    pass


class PredictTimeout(Exception):
    pass


class Runner:
    """Runs predict in the thread pool under the timeout. Every request's rows come through
    `predict` here, so micro-batching (many requests' rows in one call) slots in at one place."""

    def __init__(
        self, model: ServedModel, pool: ThreadPoolExecutor, timeout_s: float, metrics: Metrics
    ) -> None:
        self.model = model
        self.pool = pool
        self.timeout_s = timeout_s
        self.metrics = metrics

    async def predict(self, rows: list[Any]) -> list[Any]:
        call = asyncio.get_running_loop().run_in_executor(self.pool, self.model.predict_rows, rows)
        self.metrics.batch_rows.observe(len(rows))
        try:
            return await asyncio.wait_for(call, self.timeout_s)
        except asyncio.TimeoutError:
            # the thread goes on until predict returns; a queued call is cancelled
            raise PredictTimeout from None


class Service:
    """The app's state and handlers: the model (once loaded), settings, metrics, logger."""

    def __init__(self, description: Description, settings: Settings) -> None:
        self.description = description
        self.settings = settings
        self.metrics = Metrics.create()
        self.log = service_logger(settings.log_level)
        self.status: Literal["loading", "ready", "failed"] = "loading"
        self.model: ServedModel | None = None
        self.runner: Runner | None = None
        self.pool: ThreadPoolExecutor | None = None
        self.sink: InputSink | None = None
        self.openapi_cache: dict[str, Any] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """The model loads in the background so /healthz answers at once and /readyz says 503
        until the warm-up prediction is done; uvicorn drains in-flight requests before the
        pool is shut down."""
        self.pool = ThreadPoolExecutor(
            self.settings.predict_threads, thread_name_prefix="paved-predict"
        )
        loading = asyncio.create_task(self._load(self.pool))
        try:
            yield
        finally:
            loading.cancel()
            self.pool.shutdown(wait=False, cancel_futures=True)
            if self.sink is not None:
                self.sink.close()  # the rows still pending: nothing sampled is lost

    async def _load(self, pool: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        try:
            model, seconds, rows = await loop.run_in_executor(
                pool, load_and_warm_up, self.description, self.settings.max_batch
            )
            folder = self.settings.sink_dir
            if folder is not None:
                self.sink = InputSink(folder, self.settings.sink_rows, model.input_schema, self.log)
        except Exception as error:
            self.status = "failed"
            self.log.error("model load failed", predict=self.description.predict, exc_info=error)
            return
        self.model = model
        self.runner = Runner(model, pool, self.settings.timeout_s, self.metrics)
        self.metrics.load_seconds.set(seconds)
        self.metrics.ready.set(1)
        self.status = "ready"
        self.log.info(
            "model ready",
            predict=self.description.predict,
            pid=os.getpid(),  # one line per worker process
            load_seconds=round(seconds, 3),
            warm_up_rows=rows,
            artifact_sha256=model.artifact_sha256,
        )

    # -- probes and metadata --------------------------------------------------------------------

    async def healthz(self) -> Response:
        """Alive: the process answers. Says nothing about the model (that is /readyz)."""
        return _json(200, {"status": "ok"})

    async def readyz(self) -> Response:
        """Ready: the model is loaded and a warm-up prediction passed. 503 while loading, and
        after a failed load (the log line "model load failed" says why)."""
        return _json(200 if self.status == "ready" else 503, {"status": self.status})

    async def metrics_text(self) -> Response:
        """Prometheus text exposition of this process's metrics."""
        return Response(self.metrics.exposition(), media_type=CONTENT_TYPE)

    async def info(self) -> Response:
        """The served model: name, version, artifact sha256, contract hash, owners."""
        body = self.description.info()
        body["artifact_sha256"] = self.model.artifact_sha256 if self.model else None
        body["status"] = self.status
        return _json(200, body)

    # -- predictions ----------------------------------------------------------------------------

    async def predict(self, request: Request) -> Response:
        """One input-schema object in, one output-schema object out."""
        return await self._serve(request, batch=False)

    async def predict_batch(self, request: Request) -> Response:
        """A list of inputs (at most PAVED_MAX_BATCH), one output per input, in order."""
        return await self._serve(request, batch=True)

    async def _serve(self, request: Request, *, batch: bool) -> Response:
        state = request.scope["state"]
        request_id: str = state["request_id"]
        model, runner = self.model, self.runner
        if model is None or runner is None:
            return _problem(503, f"the model is {self.status}, not ready", request_id)
        try:
            body = await _read_body(request, self.settings.max_body_bytes)
        except BodyTooLarge:
            return _problem(
                413,
                f"the request body exceeds {self.settings.max_body_bytes} bytes "
                "(PAVED_MAX_BODY_BYTES)",
                request_id,
            )
        try:
            rows = model.parse_many(body) if batch else model.parse_one(body)
        except ValidationError as error:
            self.metrics.validation_failures.labels(state["route"]).inc()
            return _invalid(error, request_id)
        state["batch_size"] = len(rows)
        if self.settings.log_payloads and random.random() < self.settings.log_payloads:
            state["payload"] = plain_rows(rows) if batch else plain_rows(rows)[0]
        if self.sink is not None and random.random() < self.settings.sink_rate:
            self.sink.add(plain_rows(rows, mode="python"), request_id)
        if not rows:
            return Response(b"[]", media_type=JSON)
        try:
            outputs = await runner.predict(rows)
        except PredictTimeout:
            self.metrics.model_errors.labels("timeout").inc()
            return _problem(
                504,
                f"the prediction took longer than {self.settings.timeout_s:g} s (PAVED_TIMEOUT_S)",
                request_id,
            )
        except ModelFailed as error:
            self.metrics.model_errors.labels(error.kind).inc()
            self.log.error(
                "model error", request_id=request_id, kind=error.kind, exc_info=error.__cause__
            )
            return _problem(
                500,
                "the model failed on this request; its log line has the request id",
                request_id,
            )
        self.metrics.predictions.inc(len(rows))
        content = model.dump_many(outputs) if batch else model.dump_one(outputs[0])
        return Response(content, media_type=JSON)

    def openapi(self, app: FastAPI) -> dict[str, Any]:
        """Cached once the model (and so its schemas) is loaded."""
        if self.openapi_cache is not None:
            return self.openapi_cache
        document = openapi.document(app, self.model, self.settings.max_batch)
        if self.model is not None:
            self.openapi_cache = document
        return document


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused past `limit` bytes: by Content-Length before reading anything, and by
    counting as it streams, for chunked bodies that announce no length."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _invalid(error: ValidationError, request_id: str) -> Response:
    """422 in FastAPI's shape (`detail`: loc, msg, type), without echoing the input back."""
    return _json(
        422,
        {"detail": [_field_error(item) for item in error.errors()], "request_id": request_id},
    )


def _field_error(item: ErrorDetails) -> dict[str, Any]:
    message = item["msg"]
    if item["type"] == "too_long" and not item["loc"]:
        context = item.get("ctx") or {}
        message = (
            f"the batch has {context.get('actual_length')} rows; at most "
            f"{context.get('max_length')} are accepted (PAVED_MAX_BATCH)"
        )
    return {"loc": ["body", *item["loc"]], "msg": message, "type": item["type"]}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


def _problem(status: int, detail: str, request_id: str) -> Response:
    headers = {"retry-after": "1"} if status == 503 else None
    return _json(status, {"detail": detail, "request_id": request_id}, headers)


class Observe:
    """Pure ASGI middleware around every request: request id (X-Request-ID honoured when sane,
    else generated; always returned), bearer-token auth, in-flight gauge, latency, metrics by
    route and status, and one JSON log line. An unexpected error becomes a 500 with the request
    id, logged with its traceback; the server stays up."""

    def __init__(self, app: ASGIApp, service: Service, routes: frozenset[str]) -> None:
        self.app = app
        self.service = service
        self.routes = routes
        token = service.settings.auth_token
        self.token = token.get_secret_value().encode() if token is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        service, metrics = self.service, self.service.metrics
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id")
        request_id = given.decode() if given and REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        route = scope["path"] if scope["path"] in self.routes else UNMATCHED
        state = scope.setdefault("state", {})
        state["request_id"], state["route"] = request_id, route
        status = 500
        started_response = False
        id_header = (b"x-request-id", request_id.encode())

        async def respond(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        metrics.in_flight.inc()
        try:
            if self.token is not None and route not in PROBES and not self._authorised(headers):
                await _send(
                    respond,
                    401,
                    "a valid `Authorization: Bearer <token>` is required",
                    request_id,
                    (b"www-authenticate", b"Bearer"),
                )
            else:
                await self.app(scope, receive, respond)
        except Exception as error:
            service.log.error("unhandled error", request_id=request_id, route=route, exc_info=error)
            if not started_response:
                await _send(
                    respond, 500, "internal error; its log line has the request id", request_id
                )
        finally:
            metrics.in_flight.dec()
            elapsed = time.perf_counter() - started
            metrics.requests.labels(route, str(status)).inc()
            metrics.latency.labels(route).observe(elapsed)
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
            _level(service.log, route, status)("request", **fields)

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


async def _send(
    send: Callable[[Message], Any],
    status: int,
    detail: str,
    request_id: str,
    *extra: tuple[bytes, bytes],
) -> None:
    body = orjson.dumps({"detail": detail, "request_id": request_id})
    headers = [(b"content-type", JSON.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*headers, *extra]})
    await send({"type": "http.response.body", "body": body})


def create_app(contract: Path | str | LoadedContract, settings: Settings | None = None) -> FastAPI:
    """The service of the contract at `contract` (a path, or a contract already loaded).

    Nothing of the project is imported here: the model loads when the app starts (its
    lifespan), once per process. Settings default to the PAVED_* environment variables.
    """
    settings = settings if settings is not None else Settings()
    loaded = contract if isinstance(contract, LoadedContract) else load_contract(Path(contract))
    description = describe(loaded)
    service = Service(description, settings)
    app = FastAPI(
        title=description.name,
        version=description.version or "unversioned",
        description=f"`{description.predict}`, served by pavedroad from its handoff contract.",
        lifespan=service.lifespan,
        redoc_url=None,
    )
    get = {"methods": ["GET"], "response_class": Response}
    app.add_api_route("/predict", service.predict, methods=["POST"], response_class=Response)
    app.add_api_route(
        "/predict/batch", service.predict_batch, methods=["POST"], response_class=Response
    )
    app.add_api_route("/healthz", service.healthz, **get)  # type: ignore[arg-type]
    app.add_api_route("/readyz", service.readyz, **get)  # type: ignore[arg-type]
    app.add_api_route("/metrics", service.metrics_text, **get)  # type: ignore[arg-type]
    app.add_api_route("/info", service.info, **get)  # type: ignore[arg-type]
    app.openapi = lambda: service.openapi(app)  # type: ignore[method-assign]
    routes = frozenset(getattr(route, "path", "") for route in app.routes)
    app.add_middleware(Observe, service=service, routes=routes)
    return app


def app_from_environment() -> FastAPI:
    """The factory uvicorn calls in each worker process: the contract from PAVED_CONTRACT (set
    by `paved serve`), else the one governing the current folder."""
    settings = Settings()
    configure_stdlib(settings.log_level)
    contract = settings.contract if settings.contract is not None else find_contract(Path.cwd())
    return create_app(contract, settings)
