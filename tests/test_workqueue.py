"""The work queue: every item done exactly once, in forked workers or here, whatever fails.

The workers are real forked processes reading a real pipe; a work function that returns the pid
of the process that ran it tells which items the workers did.
"""

from __future__ import annotations

import os
import time

import pytest

from pavedroad.workqueue import RECORD, WorkQueue, available_workers

needs_workers = pytest.mark.skipif(
    available_workers() < 2, reason="forked workers need Linux, two cores and no threads"
)


def pid_and_double(item: int) -> tuple[int, int]:
    return os.getpid(), item * 2


def queue(**options: int) -> WorkQueue:
    settings = {"workers": 2, "start_weight": 0, "chunk_weight": 10, **options}
    return WorkQueue(pid_and_double, **settings)


@needs_workers
def test_every_item_is_done_once_in_order_and_workers_do_some() -> None:
    with queue() as work:
        for item in range(2000):
            work.submit(item, 1)
        work.flush()
        time.sleep(0.2)  # the workers at work before this process joins them
        results = work.results()
    assert [double for _, double in results] == [item * 2 for item in range(2000)]
    assert {pid for pid, _ in results} - {os.getpid()}, "no item was done by a worker"


def test_below_the_start_weight_everything_is_done_here() -> None:
    with queue(start_weight=1 << 40) as work:
        for item in range(100):
            work.submit(item, 1000)
        results = work.results()
    assert results == [(os.getpid(), item * 2) for item in range(100)]


def test_with_no_workers_everything_is_done_here() -> None:
    with queue(workers=0) as work:
        for item in range(100):
            work.submit(item, 1000)
        results = work.results()
    assert results == [(os.getpid(), item * 2) for item in range(100)]


@needs_workers
def test_a_worker_that_dies_has_its_chunks_done_again_here() -> None:
    parent = os.getpid()

    def dies_in_a_worker(item: int) -> tuple[int, int]:
        if item == 7 and os.getpid() != parent:
            os._exit(3)
        return pid_and_double(item)

    with WorkQueue(dies_in_a_worker, workers=2, start_weight=0, chunk_weight=1) as work:
        for item in range(50):
            work.submit(item, 1)
        work.flush()
        time.sleep(0.5)  # the workers take every chunk before this process joins
        results = work.results()
    assert [double for _, double in results] == [item * 2 for item in range(50)]
    assert results[7][0] == parent


@needs_workers
def test_chunks_fill_whole_records_and_an_item_too_large_for_one_is_done_here() -> None:
    """Items of about 100 bytes fill 4 KiB records (the size estimate is checked against the
    real record, and a chunk too large is split); one of 10 KiB cannot travel at all."""
    items = [
        (f"/project/src/package/module_{n:05}.py", "py", "package.module", "package", "")
        for n in range(3000)
    ]
    large = ("x" * (3 * RECORD), "py", None, None, "")
    items.insert(1500, large)
    parent = os.getpid()

    def pid_and_item(item: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
        return os.getpid(), item

    with WorkQueue(pid_and_item, workers=2, start_weight=0, chunk_weight=1 << 40) as work:
        for item in items:
            work.submit(item, 1)
        results = work.results()
        chunks = len(work.chunks)
    assert [item for _, item in results] == items
    assert results[1500][0] == parent
    assert chunks < len(items) / 20  # dozens of items to a record, not one


@needs_workers
def test_a_full_queue_leaves_its_overflow_to_this_process() -> None:
    """Far more chunks than the pipe holds, submitted faster than the workers take them: the
    submitting process does not wait for room, it holds the overflow and does it itself."""

    def slow(item: int) -> tuple[int, int]:
        time.sleep(0.002)
        return pid_and_double(item)

    with WorkQueue(slow, workers=2, start_weight=0, chunk_weight=1) as work:
        for item in range(600):  # one item a chunk: 600 records, the pipe holds 256
            work.submit(item, 1)
        assert work._held, "every chunk was written: the queue never filled"
        results = work.results()
    assert [double for _, double in results] == [item * 2 for item in range(600)]
    assert os.getpid() in {pid for pid, _ in results}


@needs_workers
def test_leaving_without_the_results_stops_the_workers() -> None:
    def forever(item: int) -> int:
        time.sleep(3600)
        return item

    work = WorkQueue(forever, workers=2, start_weight=0, chunk_weight=1)
    with work:
        for item in range(10):
            work.submit(item, 1)
        work.flush()
        pids = [pid for pid, _ in work._children]
        assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ChildProcessError):  # reaped: no longer this process's child
            os.waitpid(pid, os.WNOHANG)
