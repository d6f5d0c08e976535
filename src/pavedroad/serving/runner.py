"""Where requests become predict calls: in the thread pool, under a timeout, micro-batched.

The rows of concurrent single-row requests gather into one predict call: a batch goes to a
predict thread when it holds `max_batch` rows, or when its first row has waited `max_wait_s`
(0 switches micro-batching off: one call per request). While every predict thread is busy, rows
keep gathering, so a loaded server makes larger batches instead of a longer queue; a lone
request is never held back: when it is the only one in progress, its batch goes at once.

Micro-batching is meant to be invisible to callers: when a batch of several requests fails,
its rows are predicted again one by one, so that only the requests whose own row fails get a
500, and the others their answer. Each request waits at most `timeout_s` from its arrival,
whether its row is still gathering or being predicted: its 504 does not wait for the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from structlog.typing import FilteringBoundLogger

from pavedroad.serving.metrics import Metrics
from pavedroad.serving.model import ModelFailed, ServedModel

Outcome = Any  # an output, or the ModelFailed of its row


class PredictTimeout(Exception):
    pass


class Runner:
    """Runs predict in the thread pool, at most `threads` calls at once; `predict` for a
    request's whole batch, `predict_one` for a single row that may share a call."""

    def __init__(
        self,
        model: ServedModel,
        pool: ThreadPoolExecutor,
        *,
        threads: int,
        timeout_s: float,
        max_batch: int,
        max_wait_s: float,
        metrics: Metrics,
        log: FilteringBoundLogger,
    ) -> None:
        self.model = model
        self.pool = pool
        self.threads = threads
        self.timeout_s = timeout_s
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.metrics = metrics
        self.log = log
        self.busy = 0  # predict calls running (or queued in the pool)
        self.waiting = 0  # single-row requests in predict_one
        self.pending: list[tuple[Any, asyncio.Future[Outcome]]] = []
        self.due = False  # the pending batch may go: full, or its first row waited max_wait_s
        self.timer: asyncio.TimerHandle | None = None
        metrics.queued_rows.set_function(lambda: len(self.pending))

    async def predict(self, rows: list[Any]) -> list[Any]:
        """One output per row, in one predict call of their own (a /predict/batch request)."""
        call = self._call(self._predict, rows)
        try:
            return await asyncio.wait_for(call, self.timeout_s)
        except asyncio.TimeoutError:
            raise PredictTimeout from None  # the thread goes on until predict returns

    async def predict_one(self, row: Any) -> Any:
        """The output of one row, predicted in a batch with other requests' rows when
        micro-batching is on. Raises ModelFailed for this row, PredictTimeout."""
        if self.max_wait_s == 0:
            return (await self.predict([row]))[0]
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self.waiting += 1
        self.pending.append((row, future))
        try:
            if len(self.pending) >= self.max_batch or len(self.pending) >= self.waiting:
                self.due = True  # full, or nobody else in progress could join it
            elif self.timer is None and not self.due:
                self.timer = loop.call_later(self.max_wait_s, self._time_up)
            self._dispatch()
            try:
                outcome = await asyncio.wait_for(future, self.timeout_s)
            except asyncio.TimeoutError:
                # cancelled: dropped from the batch when it has not gone yet
                raise PredictTimeout from None
        finally:
            self.waiting -= 1
        if isinstance(outcome, ModelFailed):
            raise outcome
        return outcome

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()

    # -- micro-batching -------------------------------------------------------------------------

    def _time_up(self) -> None:
        self.timer = None
        self.due = True
        self._dispatch()

    def _dispatch(self) -> None:
        """Send the due batches while a predict thread is free."""
        while self.due and self.busy < self.threads:
            taken, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch :]
            if not self.pending:
                self.due = False
                if self.timer is not None:
                    self.timer.cancel()
                    self.timer = None
            live = [(row, future) for row, future in taken if not future.done()]
            if not live:
                continue
            call = self._call(self._predict, [row for row, _ in live])
            call.add_done_callback(functools.partial(self._answer, live=live))

    def _answer(
        self, done: asyncio.Future[list[Any]], live: list[tuple[Any, asyncio.Future[Outcome]]]
    ) -> None:
        outcomes: list[Outcome]
        if done.cancelled():  # the pool was shut down
            outcomes = [ModelFailed("exception", "the call was cancelled")] * len(live)
        elif (error := done.exception()) is None:
            outcomes = done.result()
        else:
            waiting = [(row, future) for row, future in live if not future.done()]
            if len(waiting) > 1:
                self.log.warning("batch failed, predicting its rows one by one", rows=len(waiting))
                retry = self._call(self._each, [row for row, _ in waiting])
                retry.add_done_callback(functools.partial(self._answer, live=waiting))
                return
            outcomes = [_as_failed(error)] * len(live)
        for (_, future), outcome in zip(live, outcomes, strict=True):
            if not future.done():  # not timed out meanwhile
                future.set_result(outcome)

    def _call(
        self, function: Callable[[list[Any]], list[Any]], rows: list[Any]
    ) -> asyncio.Future[list[Any]]:
        """`function(rows)` in the pool, counted busy until its thread returns (not when a
        request stops waiting for it: a timed-out call still holds its thread)."""
        loop = asyncio.get_running_loop()
        self.busy += 1
        job = self.pool.submit(function, rows)
        job.add_done_callback(lambda _: _call_soon(loop, self._freed))
        return asyncio.wrap_future(job, loop=loop)

    def _freed(self) -> None:
        self.busy -= 1
        self._dispatch()

    # -- in a predict thread ----------------------------------------------------------------------

    def _predict(self, rows: list[Any]) -> list[Any]:
        self.metrics.batch_rows.observe(len(rows))
        return self.model.predict_rows(rows)

    def _each(self, rows: list[Any]) -> list[Outcome]:
        """Each row in a call of its own: its output, or its own ModelFailed."""
        outcomes: list[Outcome] = []
        for row in rows:
            try:
                outcomes.append(self._predict([row])[0])
            except Exception as error:
                outcomes.append(_as_failed(error))
        return outcomes


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    """`callback` on the event loop, from a predict thread; not once the loop is closed."""
    with contextlib.suppress(RuntimeError):  # the loop is closed: the server has stopped
        loop.call_soon_threadsafe(callback)


def _as_failed(error: BaseException) -> ModelFailed:
    """A model's failure as it is; anything else raised on the way (a batch conversion) as the
    failure of an exception, its traceback kept for the log."""
    if isinstance(error, ModelFailed):
        return error
    failed = ModelFailed("exception", f"{type(error).__name__}: {error}")
    failed.__cause__ = error
    return failed
