"""Work handed to forked workers the moment it is found, through a pipe.

The import index parses every file of a project. A cold run on a large tree is CPU-bound on
`ast.parse`, so the files go to worker processes, and they must start parsing while the tree is
still being walked and the command imports what it needs, not after: on two cores, every
millisecond in which one process works alone is half a millisecond lost.

So items are grouped into chunks as they are submitted, and each chunk is written to a pipe as
one fixed-size record of PIPE_BUF bytes. Every worker (and, at the end, this process) reads
records of that size: a pipe write of PIPE_BUF bytes is atomic, so is a read on Linux (the pipe
is locked for it), and a record lands in one page of the pipe, so each chunk goes to exactly one
reader, and an empty pipe whose writer is closed means the work is done. Workers send their
results back when the queue is empty; a worker that fails has its chunks done here.

Items and results are plain data (marshal). Workers are forked, so they start in a millisecond
with the submitting process's code; fork is used only on Linux and without threads.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import marshal
import os
import select
import signal
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

RECORD = select.PIPE_BUF  # bytes of one chunk on the pipe: atomic to write, and to read
_HEADER = struct.Struct("<I")  # the length of the marshalled chunk that follows it
QUEUE_BYTES = 1 << 20  # the pipe's capacity asked for: 256 chunks before a write would block
MAX_WORKERS = 8


def available_workers() -> int:
    """How many workers to fork: one per core, on Linux and in a process without threads
    (fork copies one thread only; any lock another one holds would stay locked); else none."""
    if sys.platform != "linux" or threading.active_count() > 1:
        return 0
    cores = len(os.sched_getaffinity(0))
    return min(cores, MAX_WORKERS) if cores > 1 else 0


class WorkQueue:
    """Items submitted with a weight (their cost: bytes to parse); `work(item)` done for each,
    in forked workers once the weight submitted reaches `start_weight`, else here. Chunks of
    about `chunk_weight` even out the workers. A context manager: leaving it stops the workers
    whose results nobody collected."""

    def __init__(
        self,
        work: Callable[[Any], Any],
        *,
        workers: int,
        start_weight: int,
        chunk_weight: int,
    ) -> None:
        self.work = work
        self.workers = workers
        self.start_weight = start_weight
        self.chunk_weight = chunk_weight
        self.items: list[Any] = []
        self.chunks: list[list[int]] = []  # chunk id -> indices of its items
        self._open: list[int] = []  # the chunk being filled
        self._open_weight = 0
        self._open_bytes = 0
        self._weight = 0
        self._held: list[int] = []  # chunks not on the queue: no workers (yet), it was full,
        # or too large for a record; this process does those left at the end
        self._queue: tuple[int, int] | None = None  # read and write ends, once workers run
        self._children: list[tuple[int, int]] = []  # pid, the pipe its results come through

    def __enter__(self) -> WorkQueue:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def submit(self, item: Any, weight: int) -> None:
        """Queue `item`; its chunk goes to the workers when it is full."""
        # an estimate: in a list, marshal writes a repeated short string as a 5-byte reference
        size = len(marshal.dumps(item)) + 16
        if self._open and self._open_bytes + size > RECORD - _HEADER.size - 32:
            self._close_chunk()  # (32: marshal's bytes for the chunk's tuple, list and id)
        self._open.append(len(self.items))
        self.items.append(item)
        self._open_weight += weight
        self._open_bytes += size
        self._weight += weight
        if self._open_weight >= self.chunk_weight:
            self._close_chunk()

    def flush(self) -> None:
        """No more items for now: the chunk being filled goes to the workers as it is."""
        if self._open:
            self._close_chunk()

    def results(self) -> list[Any]:
        """Every item's result, in the order submitted. This process takes the chunks left on
        the queue (and those never put on it) while the workers finish theirs."""
        self.flush()
        self._put_held()
        done: dict[int, list[Any]] = {}
        try:
            if self._queue is not None:
                os.close(self._queue[1])  # the workers see the end of the queue once it drains
                self._queue = (self._queue[0], -1)
            with collector_paused():
                for chunk in itertools.chain(self._held, self._claim()):  # one at a time
                    done[chunk] = [self.work(self.items[index]) for index in self.chunks[chunk]]
            for pid, pipe in self._children:
                done.update(_collect(pid, pipe))
            for chunk, indices in enumerate(self.chunks):
                if len(done.get(chunk, ())) != len(indices):  # a worker failed: done here
                    done[chunk] = [self.work(self.items[index]) for index in indices]
        finally:
            self.close()
        ordered: list[Any] = [None] * len(self.items)
        for chunk, indices in enumerate(self.chunks):
            for index, result in zip(indices, done[chunk], strict=True):
                ordered[index] = result
        return ordered

    def close(self) -> None:
        """Stop the workers still running and close the pipes; once is enough."""
        children, self._children = self._children, []
        for pid, pipe in children:
            _reap(pid, pipe)
        queue, self._queue = self._queue, None
        for end in queue or ():
            if end >= 0:
                os.close(end)

    # -- chunks ---------------------------------------------------------------------------

    def _close_chunk(self) -> None:
        self.chunks.append(self._open)
        self._held.append(len(self.chunks) - 1)
        self._open, self._open_weight, self._open_bytes = [], 0, 0
        if self._queue is None and self.workers and self._weight >= self.start_weight:
            self._start()
        self._put_held()

    def _put_held(self) -> None:
        """Write the held chunks to the queue, as many as fit without blocking; a chunk too
        large for a record (one item alone: a path of thousands of characters) stays here."""
        if self._queue is None or self._queue[1] < 0:
            return
        kept: list[int] = []
        while self._held:
            chunk = self._held[0]
            payload = marshal.dumps((chunk, [self.items[index] for index in self.chunks[chunk]]))
            if _HEADER.size + len(payload) > RECORD:
                indices = self.chunks[chunk]
                if len(indices) == 1:
                    kept.append(self._held.pop(0))
                    continue
                # the estimate of `submit` was short: the chunk's second half becomes another
                self.chunks[chunk] = indices[: len(indices) // 2]
                self.chunks.append(indices[len(indices) // 2 :])
                self._held.insert(1, len(self.chunks) - 1)
                continue
            record = _HEADER.pack(len(payload)) + payload
            try:
                os.write(self._queue[1], record.ljust(RECORD, b"\0"))
            except BlockingIOError:
                break  # the queue is full: the next chunk tries again, or this process does it
            self._held.pop(0)
        self._held[:0] = kept

    def _claim(self) -> Iterator[int]:
        """The chunks left on the queue, taken one record at a time. A queue that cannot be
        read (a split record: never seen on Linux) is left: what nobody did is done here."""
        if self._queue is None:
            return
        with contextlib.suppress(OSError, EOFError, ValueError, TypeError):
            while (chunk := _take(self._queue[0])) is not None:
                yield chunk[0]

    # -- workers --------------------------------------------------------------------------

    def _start(self) -> None:
        read, write = os.pipe()
        with contextlib.suppress(OSError, AttributeError):  # a smaller pipe holds fewer chunks
            import fcntl

            fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, QUEUE_BYTES)
        os.set_blocking(write, False)
        self._queue = (read, write)
        for _ in range(self.workers):
            child = self._fork()
            if child is not None:  # one that cannot start leaves its share to the others
                self._children.append(child)

    def _fork(self) -> tuple[int, int] | None:
        assert self._queue is not None
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return None
        if pid == 0:  # pragma: no cover - the child; its work is checked through the parent
            status = 1
            try:
                os.close(read)
                os.close(self._queue[1])  # else the queue would never end for this reader
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: the parent cleans up
                # no collections: the work's results hold no cycles, and a collection in a
                # forked child would touch, and so copy, every page of the parent's heap
                gc.disable()
                done: dict[int, list[Any]] = {}
                while (taken := _take(self._queue[0])) is not None:
                    chunk, items = taken
                    done[chunk] = [self.work(item) for item in items]
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(marshal.dumps(done))
                status = 0
            finally:
                os._exit(status)  # never the parent's atexit handlers or buffered output
        os.close(write)
        return pid, read


def _take(queue: int) -> tuple[int, list[Any]] | None:
    """The next chunk on the queue, or None once it is empty and closed."""
    record = os.read(queue, RECORD)
    if not record:
        return None
    if len(record) != RECORD:
        raise OSError("a work queue record was split")  # never on Linux: the worker fails
    (length,) = _HEADER.unpack_from(record)
    chunk, items = marshal.loads(record[_HEADER.size : _HEADER.size + length])
    return chunk, items


def _collect(pid: int, pipe: int) -> dict[int, list[Any]]:
    """A worker's results by chunk; nothing if it failed (its chunks are then done again)."""
    with os.fdopen(pipe, "rb", closefd=False) as handle:
        data = handle.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        return {}
    try:
        done = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return {}
    return done if isinstance(done, dict) else {}


def _reap(pid: int, pipe: int) -> None:
    """Close the pipe; a worker still running (this process was interrupted) is stopped."""
    os.close(pipe)
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG) == (0, 0):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off while parsing (an AST has no cycles, yet its millions of nodes
    would trigger collections that scan every object alive, about a tenth of the parse time),
    or for the whole of a short command; on again after, if it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
