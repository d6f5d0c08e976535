"""Run inside the room by its interpreter: import the package, call each entry point with --help.

Standard library only: the room holds the project's dependencies, not pavedroad's. Run as a
script (`python probe_script.py REQUEST RESULT`), so that the folder on `sys.path` is this file's
and not the project's: what imports is the installed wheel, never the copied sources. One process
for every entry point, because each of them imports the same package (and its heavy
dependencies) that a process per entry point would import again.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

OUTPUT_CHARS = 2000


class _TooLong(Exception):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _TooLong


def _error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".strip()


def _where(error: BaseException, code: list[str]) -> str | None:
    """The innermost frame in the project's own code, as `file:line`."""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith(tuple(code)):
            found = f"{frame.filename}:{frame.lineno}"
    return found


def import_module(name: str, code: list[str]) -> dict[str, Any]:
    try:
        module = importlib.import_module(name)
    except BaseException as error:
        return {"module": name, "error": _error(error), "where": _where(error, code), "file": None}
    return {"module": name, "error": None, "where": None, "file": getattr(module, "__file__", None)}


def _target(spec: str) -> Callable[[], Any]:
    module_name, _, attribute = spec.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in attribute.split(".") if attribute else []:
        found = getattr(found, part)
    if not callable(found):
        raise TypeError(f"{spec} is a {type(found).__name__}, not a callable")
    return found  # type: ignore[no-any-return]


def call_entry_point(name: str, spec: str, timeout: int, code: list[str]) -> dict[str, Any]:
    """`spec()` with `sys.argv = [name, "--help"]`: its exit code, output and error."""
    output = io.StringIO()
    status: int | None = 0
    error = where = None
    sys.argv = [name, "--help"]
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(timeout)
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            result = _target(spec)()
            status = result if isinstance(result, int) and not isinstance(result, bool) else 0
    except SystemExit as stop:
        status = _exit_status(stop.code, output)
    except _TooLong:
        status, error = None, f"did not return within {timeout} s"
    except BaseException as failure:
        status, error, where = 1, _error(failure), _where(failure, code)
    finally:
        signal.alarm(0)
    return {
        "name": name,
        "target": spec,
        "status": status,
        "error": error,
        "where": where,
        "output": output.getvalue()[-OUTPUT_CHARS:],
    }


def _exit_status(code: object, output: io.StringIO) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    output.write(f"{code}\n")  # sys.exit("message"): Python prints it and exits 1
    return 1


def main() -> int:
    request_path, result_path = Path(sys.argv[1]), Path(sys.argv[2])  # entry points reset argv
    request = json.loads(request_path.read_text(encoding="utf-8"))
    code = list(request["code"])
    result = {
        "imports": [import_module(name, code) for name in request["modules"]],
        "entry_points": [
            call_entry_point(entry["name"], entry["target"], int(request["timeout"]), code)
            for entry in request["entry_points"]
        ],
    }
    result_path.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
