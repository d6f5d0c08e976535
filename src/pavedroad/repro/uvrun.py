"""uv, as the clean room calls it: found as `paved lock` finds it, failures explained in uv's words.

uv runs with the author's own environment (its cache, its index configuration, its proxy): it is
the machine's tool, not the project's code. Only what the project runs is scrubbed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pavedroad import lock
from pavedroad.errors import PavedError
from pavedroad.repro.processes import Completed, Processes

INSTALL_HINT = 'pip install "pavedroad[repro]"'
TIMEOUT_S = 30 * 60  # a cold cache downloads every wheel; a stuck index must still end the run
TAIL = 20


class UvFailed(Exception):
    """A uv command failed; `explanation` is the part of its output that says why."""

    def __init__(self, explanation: str) -> None:
        self.explanation = explanation
        super().__init__(explanation)


def find_uv() -> str:
    """The binary of the `uv` package (the `repro` and `lock` extras), else `uv` on PATH."""
    try:
        return lock.find_uv()
    except PavedError:
        raise PavedError(f"paved repro needs uv, which is not installed: {INSTALL_HINT}") from None


def run_uv(
    processes: Processes, uv: str, args: Sequence[str], *, cwd: Path, timeout: float = TIMEOUT_S
) -> Completed:
    """`uv ARGS`, raising UvFailed with uv's explanation when it fails."""
    done = processes.run([uv, *args, "--color", "never"], cwd=cwd, timeout=timeout)
    if done.error is not None:
        raise UvFailed(done.error)
    if done.timed_out:
        raise UvFailed(f"`uv {' '.join(args[:2])}` did not finish within {timeout:g} s")
    if done.returncode != 0:
        raise UvFailed(explain(done.output))
    return done


def explain(output: str) -> str:
    """From uv's first `error:` line to the end (its own explanation), else the last lines."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith("error:")), None)
    relevant = lines[start:] if start is not None else lines[-TAIL:]
    if relevant and relevant[0].startswith("error:"):
        relevant[0] = relevant[0].removeprefix("error:").strip()
    return "\n".join(relevant[:60]) or "uv failed without saying why"
