"""Run inside the room by its interpreter as a notebook's kernel (the kernel spec's argv):
`python kernel_script.py OVERLAY... -- -f CONNECTION_FILE`.

Standard library only until ipykernel loads. The overlay folders (ipykernel and what it
requires, which the project rarely declares) are appended to `sys.path`, after the room's own
packages, so the project's versions come first. A cell must not get from them what the project
does not declare, though: `python-dateutil` or `packaging` would then import in the room only
because the kernel brought them. So an import written in a cell whose module comes from an
overlay raises ModuleNotFoundError, as it would in an environment of the declared packages plus
a kernel; IPython and ipykernel themselves stay importable (every Jupyter kernel has them).
"""

from __future__ import annotations

import builtins
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

KERNEL_MODULES = frozenset({"IPython", "ipykernel"})


def main() -> None:
    del sys.path[0]  # this file's folder: IPython adds the notebook's own ('') as Jupyter does
    split = sys.argv.index("--")
    folders = sys.argv[1:split]
    sys.argv = [sys.argv[0], *sys.argv[split + 1 :]]
    sys.path.extend(folders)
    overlays = tuple(folder.rstrip(os.sep) + os.sep for folder in folders)
    builtins.__import__ = guarded(builtins.__import__, overlays)
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def guarded(original: Callable[..., ModuleType], overlays: tuple[str, ...]) -> Callable[..., Any]:
    """`__import__`, refusing to a cell (code run as `__main__`) a module from `overlays`."""

    def import_(
        name: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: Sequence[str] = (),
        level: int = 0,
    ) -> ModuleType:
        module = original(name, globals, locals, fromlist, level)
        if level == 0 and globals is not None and globals.get("__name__") == "__main__":
            top = name.partition(".")[0]
            if top not in KERNEL_MODULES and _origin(sys.modules.get(top)).startswith(overlays):
                raise ModuleNotFoundError(f"No module named '{top}'", name=top)
        return module

    return import_


def _origin(module: ModuleType | None) -> str:
    """Where a module was loaded from: its file, or a namespace package's first folder."""
    if module is None:
        return ""
    found = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", [])), "")
    return str(found)


if __name__ == "__main__":
    main()
