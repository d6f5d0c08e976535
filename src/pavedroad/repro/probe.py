"""Import the package and call every entry point with --help, in the room (REP002, REP007).

The entry points are the contract's `[package].entry_points` and the wheel's console scripts; a
script that points at an entry point the contract names is called once, under the script's name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from pavedroad.repro import probe_script
from pavedroad.repro.outcome import EntryPointFacts, ImportFacts
from pavedroad.repro.places import Places
from pavedroad.repro.processes import Processes

ENTRY_POINT_TIMEOUT_S = 60


def entry_points(contract: Sequence[str], scripts: Mapping[str, str]) -> list[tuple[str, str]]:
    """(name, "module:function") to call: the wheel's scripts, then the contract's other ones."""
    found = [(name, target) for name, target in sorted(scripts.items())]
    covered = {target.replace(" ", "") for _, target in found}
    found.extend((spec, spec) for spec in contract if spec.replace(" ", "") not in covered)
    return found


def run(
    python: Path,
    *,
    modules: Sequence[str],
    calls: Sequence[tuple[str, str]],
    places: Places,
    code: Sequence[Path],
    env: Mapping[str, str],
    processes: Processes,
) -> tuple[list[ImportFacts], list[EntryPointFacts] | str]:
    """The imports' facts, and the entry points' (or why none could be called)."""
    work = places.room.work
    request, result = work / "probe-request.json", work / "probe-result.json"
    request.write_text(
        json.dumps(
            {
                "modules": list(modules),
                "entry_points": [{"name": n, "target": t} for n, t in calls],
                "timeout": ENTRY_POINT_TIMEOUT_S,
                "code": [str(p) for p in code],
            }
        ),
        encoding="utf-8",
    )
    # -I: neither the script's folder nor the working folder on sys.path, no user site
    argv = [str(python), "-I", probe_script.__file__, str(request), str(result)]
    timeout = 120 + ENTRY_POINT_TIMEOUT_S * len(calls)
    done = processes.run(argv, cwd=places.room.project, env=env, timeout=timeout)
    if not result.is_file():
        why = done.error or (
            f"did not finish within {timeout} s" if done.timed_out else done.tail()
        )
        failed = [ImportFacts(module=m, error=f"the import check failed: {why}") for m in modules]
        return failed, f"the entry points could not be called: {why}"
    data = json.loads(result.read_text(encoding="utf-8"))
    imports = [
        ImportFacts(
            module=item["module"],
            error=item["error"],
            where=places.where(item["where"]),
            file=places.relative(item["file"]) if item["file"] else None,
        )
        for item in data["imports"]
    ]
    called = [
        EntryPointFacts(
            name=item["name"],
            target=item["target"],
            status=item["status"],
            error=item["error"],
            where=places.where(item["where"]),
            output=item["output"],
        )
        for item in data["entry_points"]
    ]
    return imports, called
