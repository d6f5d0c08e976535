"""`create_app(contract)`: the FastAPI application that serves the contract's model.

The request path is kept lean because serving is where overhead multiplies. The two predict
routes are answered in plain ASGI (`PredictRoutes`), in front of FastAPI's router: the raw body
is validated by pydantic in one pass (no json.loads, no Request object, no dependency solving),
the answer is bytes that pydantic serialised, and single rows share predict calls (`Runner`).
The probes, /info and the docs are ordinary FastAPI routes. `Observe`, one pure ASGI layer
around both, makes every request observable.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import orjson
from fastapi import FastAPI, Response
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from starlette.types import ASGIApp, Receive, Scope, Send

from pavedroad.contract import LoadedContract, find_contract, load_contract
from pavedroad.serving import openapi
from pavedroad.serving.asgi import BodyTooLarge, Disconnected, answer, problem, read_body
from pavedroad.serving.logging import configure_stdlib, service_logger
from pavedroad.serving.metrics import CONTENT_TYPE, Metrics
from pavedroad.serving.model import (
    Description,
    ModelFailed,
    ServedModel,
    describe,
    field_errors,
    load_and_warm_up,
    plain_rows,
)
from pavedroad.serving.observe import Observe
from pavedroad.serving.runner import PredictTimeout, Runner
from pavedroad.serving.settings import Settings
from pavedroad.serving.sink import InputSink

PREDICT_ROUTES = {"/predict": False, "/predict/batch": True}  # path -> takes a list


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
        self.sink: InputSink | None = None
        self.openapi_cache: dict[str, Any] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """The model loads in the background so /healthz answers at once and /readyz says 503
        until the warm-up prediction is done; uvicorn drains in-flight requests before the
        pool is shut down."""
        pool = ThreadPoolExecutor(self.settings.predict_threads, thread_name_prefix="paved-predict")
        loading = asyncio.create_task(self._load(pool))
        try:
            yield
        finally:
            loading.cancel()
            if self.runner is not None:
                self.runner.close()
            pool.shutdown(wait=False, cancel_futures=True)
            if self.sink is not None:
                self.sink.close()  # the rows still pending: nothing sampled is lost

    async def _load(self, pool: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        settings = self.settings
        try:
            model, seconds, rows = await loop.run_in_executor(
                pool, load_and_warm_up, self.description, settings.max_batch
            )
            if settings.sink_dir is not None:
                self.sink = InputSink(
                    settings.sink_dir, settings.sink_rows, model.input_schema, self.log
                )
        except Exception as error:
            self.status = "failed"
            self.log.error("model load failed", predict=self.description.predict, exc_info=error)
            return
        # the modules and the model live as long as the process: out of the collector's sight,
        # a full collection scans what requests allocate (~1 ms), not all of them (~70 ms)
        gc.collect()
        gc.freeze()
        self.model = model
        self.runner = Runner(
            model,
            pool,
            threads=settings.predict_threads,
            timeout_s=settings.timeout_s,
            max_batch=settings.max_batch,
            max_wait_s=settings.max_wait_ms / 1000,
            metrics=self.metrics,
            log=self.log,
        )
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

    async def predict(self, scope: Scope, receive: Receive, send: Send, *, batch: bool) -> None:
        """POST /predict (one input-schema object in, one output-schema object out) and
        /predict/batch (a list of at most PAVED_MAX_BATCH inputs, one output per input)."""
        state = scope["state"]
        request_id: str = state["request_id"]
        model, runner = self.model, self.runner
        if model is None or runner is None:
            body = problem(f"the model is {self.status}, not ready", request_id)
            await answer(send, 503, body, (b"retry-after", b"1"))
            return
        limit = self.settings.max_body_bytes
        try:
            body = await read_body(scope, receive, limit)
        except BodyTooLarge:
            detail = f"the request body exceeds {limit} bytes (PAVED_MAX_BODY_BYTES)"
            await answer(send, 413, problem(detail, request_id))
            return
        except Disconnected:
            return
        try:
            rows = model.parse_many(body) if batch else model.parse_one(body)
        except ValidationError as error:
            self.metrics.validation_failures.labels(state["route"]).inc()
            await answer(send, 422, _invalid(error, request_id))
            return
        state["batch_size"] = len(rows)
        self._sample(state, rows, batch)
        try:
            if batch:
                outputs = await runner.predict(rows) if rows else []
            else:
                outputs = [await runner.predict_one(rows[0])]
        except PredictTimeout:
            self.metrics.model_errors.labels("timeout").inc()
            detail = (
                f"the prediction took longer than {self.settings.timeout_s:g} s (PAVED_TIMEOUT_S)"
            )
            await answer(send, 504, problem(detail, request_id))
            return
        except ModelFailed as error:
            self.metrics.model_errors.labels(error.kind).inc()
            self.log.error(
                "model error", request_id=request_id, kind=error.kind, exc_info=error.__cause__
            )
            detail = "the model failed on this request; its log line has the request id"
            await answer(send, 500, problem(detail, request_id))
            return
        self.metrics.predictions.inc(len(rows))
        await answer(send, 200, model.dump_many(outputs) if batch else model.dump_one(outputs[0]))

    def _sample(self, state: dict[str, Any], rows: list[Any], batch: bool) -> None:
        """The sampled payload into the log line, and sampled rows into the input sink."""
        settings = self.settings
        if settings.log_payloads and random.random() < settings.log_payloads:
            state["payload"] = plain_rows(rows) if batch else plain_rows(rows)[0]
        if self.sink is not None and random.random() < settings.sink_rate:
            self.sink.add(plain_rows(rows, mode="python"), state["request_id"])

    def openapi(self, app: FastAPI) -> dict[str, Any]:
        """Cached once the model (and so its schemas) is loaded."""
        if self.openapi_cache is not None:
            return self.openapi_cache
        document = openapi.document(app, self.model, self.settings.max_batch)
        if self.model is not None:
            self.openapi_cache = document
        return document


class PredictRoutes:
    """Pure ASGI: POST /predict and /predict/batch answered by the service, other paths passed
    on to FastAPI's router."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        batch = PREDICT_ROUTES.get(scope["path"]) if scope["type"] == "http" else None
        if batch is None:
            await self.app(scope, receive, send)
        elif scope["method"] != "POST":
            detail = problem("only POST is allowed here", scope["state"]["request_id"])
            await answer(send, 405, detail, (b"allow", b"POST"))
        else:
            await self.service.predict(scope, receive, send, batch=batch)


def _invalid(error: ValidationError, request_id: str) -> bytes:
    """422 in FastAPI's shape (`detail`: loc, msg, type), without echoing the input back."""
    return orjson.dumps(
        {"detail": [_field_error(item) for item in field_errors(error)], "request_id": request_id}
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


def _json(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


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
    app.add_api_route("/healthz", service.healthz, **get)  # type: ignore[arg-type]
    app.add_api_route("/readyz", service.readyz, **get)  # type: ignore[arg-type]
    app.add_api_route("/metrics", service.metrics_text, **get)  # type: ignore[arg-type]
    app.add_api_route("/info", service.info, **get)  # type: ignore[arg-type]
    app.openapi = lambda: service.openapi(app)  # type: ignore[method-assign]
    routes = frozenset([*(getattr(route, "path", "") for route in app.routes), *PREDICT_ROUTES])
    token = settings.auth_token
    app.add_middleware(PredictRoutes, service=service)
    app.add_middleware(  # added last: the outermost, around the predict routes too
        Observe,
        routes=routes,
        metrics=service.metrics,
        log=service.log,
        token=token.get_secret_value().encode() if token is not None else None,
    )
    return app


def app_from_environment() -> FastAPI:
    """The factory uvicorn calls in each worker process: the contract from PAVED_CONTRACT (set
    by `paved serve`), else the one governing the current folder."""
    settings = Settings()
    configure_stdlib(settings.log_level)
    contract = settings.contract if settings.contract is not None else find_contract(Path.cwd())
    return create_app(contract, settings)
