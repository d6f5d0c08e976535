"""Every subprocess of a clean-room run, each in its own session, so none outlives the run.

A test suite or a model may start processes of its own (a server, a pool of workers). Each
command runs as the leader of a new session; when it ends, times out, or the run is interrupted,
its whole process group is killed, which takes those descendants with it. Work that starts its
processes otherwise (a notebook's kernel, launched by jupyter_client in a session of its own)
registers how to stop it (`stopping`), and is stopped with the rest.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Completed:
    """How a command ended. `returncode` is None when it did not start or timed out."""

    argv: tuple[str, ...]
    returncode: int | None
    output: str  # stdout and stderr, interleaved
    timed_out: bool = False
    error: str | None = None  # why it could not start

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, count: int = 12) -> str:
        lines = [line for line in self.output.splitlines() if line.strip()]
        return "\n".join(lines[-count:])


class Interrupted(Exception):
    """The run was stopped (Ctrl-C): commands still starting must not start."""


class Processes:
    """The live subprocesses of one run; `stop()` kills every one and refuses new ones."""

    def __init__(self) -> None:
        self._live: set[subprocess.Popen[bytes]] = set()
        self._stoppers: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._stopped = False

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float,
    ) -> Completed:
        """Run `argv` to its end (or `timeout` seconds), output captured."""
        with self._lock:
            if self._stopped:
                raise Interrupted
            # A file, not a pipe: a descendant that keeps the output open (a daemon a test
            # started) must not keep the run waiting once the command itself has ended.
            sink = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, once read
            try:
                process = subprocess.Popen(
                    list(argv),
                    cwd=cwd,
                    env=dict(env) if env is not None else None,
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as error:
                sink.close()
                return Completed(tuple(argv), None, "", error=_start_error(argv, error))
            self._live.add(process)
        timed_out = False
        with sink:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(process)  # on a timeout, an interrupt, or whatever it left running
                process.wait()
                with self._lock:
                    self._live.discard(process)
            sink.seek(0)
            text = sink.read().decode("utf-8", errors="replace")
        if self._stopped:
            raise Interrupted
        return Completed(
            tuple(argv), None if timed_out else process.returncode, text, timed_out=timed_out
        )

    @contextlib.contextmanager
    def stopping(self, stop: Callable[[], None]) -> Iterator[None]:
        """While inside, `stop()` also calls `stop` (from its own thread: it must be
        thread-safe and return promptly). Raises Interrupted when the run is already stopped."""
        with self._lock:
            if self._stopped:
                raise Interrupted
            self._stoppers.append(stop)
        try:
            yield
        finally:
            with self._lock:
                self._stoppers.remove(stop)

    def stop(self) -> None:
        """Kill every live command and its descendants, and stop the registered work; later
        `run` calls raise Interrupted."""
        with self._lock:
            self._stopped = True
            live = list(self._live)
            stoppers = list(self._stoppers)
        for process in live:
            _kill_group(process)
        for stop in stoppers:
            stop()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _start_error(argv: Sequence[str], error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return f"`{argv[0]}` is not installed (no such command)"
    return f"`{argv[0]}` could not start: {error.strerror or error}"
