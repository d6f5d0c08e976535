"""How fast is `paved deps` against deptry on a large real tree? Cold within 1.5x, warm 3x faster.

`paved deps` parses every file with Python's `ast`; deptry parses with a parallel Rust parser,
so a cold run cannot win and has to stay close. The import index is cached by file content, so
a second run (the usual one: in an editor, in a pre-commit hook) must be clearly faster than
deptry. The tree is Django's sdist from the package registry (pinned), with its tests/ and docs/
removed so that both tools read the same non-test files. Both tools run as real subprocesses:
one warm-up run, then the best of five.

- deptry runs from its own virtual environment (benchmarks/.cache/deptry-venv, created with this
  interpreter's venv module), never from the project's; it runs in the tree, where it finds
  Django's pyproject.toml. Django calls `import_module(".management", name)`, which deptry 0.25.1
  records as the module "" and then crashes on (`metadata("")`); `--known-first-party ""`
  declares that empty name local, so deptry completes its whole run instead of timing a crash.
- `paved deps` cold: a fresh, empty PAVED_CACHE_DIR for every run; warm: a PAVED_CACHE_DIR that
  the warm-up run filled, so the unchanged tree is answered from the result cache (the report
  kept with the mtime and size of every file, `result_cache.py`); warm, one file touched: the
  same cache, but one module's mtime moves before every run, so the result cache misses and
  the run is the whole analysis on the cached import index (the case after an edit).
- Both tools run with their bytecode written (PYTHONDONTWRITEBYTECODE dropped), as installed.
- `python -c "import pavedroad.cli"`: the start-up of any `paved` command (commands are imported
  only when they run); the imports of a miss (contract models, checks, reporters): the floor
  under the cold and the touched runs.

When a target is missed, `paved deps` is profiled (cProfile, cold and warm) and the top costs are
printed. Exit status: 0 when both targets are met, 1 when one is missed, 2 when a command fails.
"""

from __future__ import annotations

import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

DJANGO_VERSION = "5.2.19"
DEPTRY_VERSION = "0.25.1"
RUNS = 5
COLD_TARGET = 1.5  # cold paved / deptry at most this
WARM_TARGET = 3.0  # deptry / warm paved at least this
PROFILE_LINES = 16
# what the profile lists: our modules but the CLI wrappers, stdlib metadata and parsing, imports
OURS = r"pavedroad/(?!cli\.py|__main__|commands/)|metadata/__init__|ast\.py|deps\.py:1\("
# every import a `paved deps` that misses its result cache needs before its work
MISS_IMPORTS = "import pavedroad.commands.pipeline, pavedroad.checks.dep, pavedroad.reporters.json"
BIN = Path(sys.executable).parent
CACHE = Path(__file__).resolve().parent / ".cache"  # git-ignored: sdist and deptry's venv


def run(
    command: Sequence[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    accept: Sequence[int] = (0,),
) -> subprocess.CompletedProcess[str]:
    """Run a command; a status outside `accept` stops the benchmark with exit 2."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode not in accept:
        sys.stderr.write(
            f"`{' '.join(command)}` exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
        raise SystemExit(2)
    return done


def django_sdist() -> Path:
    """Django's pinned sdist, downloaded once through pip into the cache."""
    folder = CACHE / "sdist"
    found = sorted(folder.glob(f"[Dd]jango-{DJANGO_VERSION}.tar.gz"))
    if found:
        return found[0]
    print(f"downloading django=={DJANGO_VERSION} sdist into {folder} ...", flush=True)
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"django=={DJANGO_VERSION}",
            "-d",
            str(folder),
        ]
    )
    return sorted(folder.glob(f"[Dd]jango-{DJANGO_VERSION}.tar.gz"))[0]


def unpack(sdist: Path, into: Path) -> tuple[Path, int]:
    """Unpack, drop tests/ and docs/ (deptry would not skip docs/), count the .py files left."""
    with tarfile.open(sdist) as archive:
        if hasattr(tarfile, "data_filter"):  # refuse links and absolute paths where supported
            archive.extractall(into, filter="data")
        else:
            archive.extractall(into)  # 3.10/3.11 before their 2023 patch releases
    tree = next(into.iterdir())
    for folder in ("tests", "docs"):
        shutil.rmtree(tree / folder)
    return tree, sum(1 for _ in tree.rglob("*.py"))


def deptry_binary() -> Path:
    """deptry in its own venv under the cache, made with this interpreter's venv module."""
    venv = CACHE / "deptry-venv"
    binary = venv / "bin" / "deptry"
    stamp = venv / f".deptry-{DEPTRY_VERSION}"
    if binary.exists() and stamp.exists():
        return binary
    print(f"installing deptry=={DEPTRY_VERSION} into {venv} ...", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", str(venv)])
    run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            f"deptry=={DEPTRY_VERSION}",
        ]
    )
    stamp.touch()
    return binary


def best_of(
    command: Sequence[str],
    cwd: Path,
    env: Callable[[], dict[str, str]],
    accept: Sequence[int] = (0,),
) -> float:
    """Best wall time of RUNS runs after one warm-up; `env` is called before every run."""
    times = []
    for attempt in range(RUNS + 1):
        environment = env()
        start = time.perf_counter()
        run(command, cwd, environment, accept)
        elapsed = time.perf_counter() - start
        if attempt:
            times.append(elapsed)
    return min(times)


def base_env() -> dict[str, str]:
    """This environment without our cache settings, so the benchmark decides them, and with
    bytecode written as usual: pip compiles an installed package, and a PYTHONDONTWRITEBYTECODE
    left in the shell would time the compilation of every module edited since its .pyc."""
    dropped = ("PAVED_CACHE_DIR", "PAVED_NO_CACHE", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if k not in dropped}


def with_cache(folder: Path) -> dict[str, str]:
    return {**base_env(), "PAVED_CACHE_DIR": str(folder)}


def touch(tree: Path, cache: Path) -> dict[str, str]:
    """Move one module's mtime forward: the result cache misses, the index keeps the others."""
    module = tree / "django" / "__init__.py"
    stamp = module.stat().st_mtime_ns + 1_000_000_000
    os.utime(module, ns=(stamp, stamp))
    return with_cache(cache)


def deptry_scan(deptry: Path, tree: Path, files: int) -> str:
    """Run deptry once and prove it scanned the tree: 'Scanning N files' and its issue count."""
    done = run([str(deptry), ".", "--known-first-party", ""], tree, base_env(), (0, 1))
    output = done.stdout + done.stderr
    scanned = re.search(r"Scanning (\d+) files", output)
    found = re.search(r"Found (\d+) dependency issues", output)
    if not scanned or int(scanned.group(1)) != files or not found:
        sys.stderr.write(f"deptry did not scan the {files} files:\n{output}")
        raise SystemExit(2)
    return f"scanned {scanned.group(1)} files, {found.group(1)} issues (one per import site)"


def paved_summary(tree: Path, cache: Path) -> str:
    """What `paved deps` found, so the timed command is known to do the whole job."""
    done = run(
        [str(BIN / "paved"), "deps", str(tree), "--format", "json"], tree, with_cache(cache), (0, 1)
    )
    report = json.loads(done.stdout)
    failing: dict[str, list[str]] = {}
    for result in report["results"]:
        if result["status"] == "fail":
            failing.setdefault(result["id"], []).append(result.get("subject") or "?")
    return "; ".join(
        f"{check} {', '.join(sorted(names))}" for check, names in sorted(failing.items())
    )


def profile(tree: Path, cache: Path, workdir: Path, label: str) -> str:
    """cProfile of `paved deps` (a real subprocess): our costs by cumulative time (the click and
    runpy wrappers left out), then the top functions by own time."""
    out = workdir / f"{label}.prof"
    # the console script, as timed: `-m pavedroad` would put the tree on sys.path, another
    # environment for the per-environment cache of installed metadata, missed on every run
    command = [sys.executable, "-m", "cProfile", "-o", str(out), str(BIN / "paved"), "deps"]
    run([*command, str(tree), "--format", "json"], tree, with_cache(cache), (0, 1))
    listing = workdir / f"{label}.txt"
    with open(listing, "w", encoding="utf-8") as stream:
        stats = pstats.Stats(str(out), stream=stream).sort_stats("cumulative")
        stats.print_stats(OURS, PROFILE_LINES)
        stats.sort_stats("tottime").print_stats(PROFILE_LINES // 2)
    lines = listing.read_text(encoding="utf-8").splitlines()
    noise = ("List reduced", ".prof")  # pstats' headers: the restriction and the file's date
    return "\n".join(line for line in lines if line.strip() and not any(n in line for n in noise))


def main() -> int:
    CACHE.mkdir(exist_ok=True)
    deptry = deptry_binary()
    workdir = Path(tempfile.mkdtemp(prefix="paved-deps-bench-"))
    try:
        tree, files = unpack(django_sdist(), workdir / "src")
        scan = deptry_scan(deptry, tree, files)
        theirs = best_of([str(deptry), ".", "--known-first-party", ""], tree, base_env, (0, 1))
        paved = [str(BIN / "paved"), "deps", str(tree), "--format", "json"]
        fresh = iter(range(RUNS + 1))
        cold = best_of(paved, tree, lambda: with_cache(workdir / f"cold-{next(fresh)}"), (0, 1))
        warm_cache = workdir / "warm"
        warm = best_of(paved, tree, lambda: with_cache(warm_cache), (0, 1))
        touched = best_of(paved, tree, lambda: touch(tree, warm_cache), (0, 1))
        floor = best_of([sys.executable, "-c", "import pavedroad.cli"], tree, base_env)
        imports = best_of([sys.executable, "-c", MISS_IMPORTS], tree, base_env)
        found = paved_summary(tree, warm_cache)
        cold_ratio, warm_ratio = cold / theirs, theirs / warm
        cold_met, warm_met = cold_ratio <= COLD_TARGET, warm_ratio >= WARM_TARGET
        print(f"tree: Django {DJANGO_VERSION} sdist without tests/ and docs/: {files} .py files")
        print(f"deptry {DEPTRY_VERSION}: {scan}")
        print(f"paved deps found: {found}")
        print(f"deptry .               {theirs:6.3f} s")
        print(f"paved deps (cold)      {cold:6.3f} s  (cold / deptry = {cold_ratio:.2f}x)")
        print(f"paved deps (warm)      {warm:6.3f} s  (deptry / warm = {warm_ratio:.2f}x)")
        print(
            f"paved deps (warm, one file touched) {touched:6.3f} s  "
            f"(deptry / touched = {theirs / touched:.2f}x; the cached index, no cached result)"
        )
        print(f"import pavedroad.cli   {floor:6.3f} s  (start-up of any command)")
        print(
            f"imports of a miss      {imports:6.3f} s  "
            f"(contract models, checks, reporters; deptry / these = {theirs / imports:.2f}x)"
        )
        print(f"target: cold within {COLD_TARGET}x of deptry: {'met' if cold_met else 'MISSED'}")
        print(
            f"target: warm at least {WARM_TARGET}x faster than deptry: {'met' if warm_met else 'MISSED'}"
        )
        print(f"(best of {RUNS} after a warm-up, {os.cpu_count()} cores)")
        if not (cold_met and warm_met):
            print("\n== where `paved deps` spends its time, cold (empty cache):")
            print(profile(tree, workdir / "profile-cold", workdir, "cold"))
            print("== warm (filled cache):")
            print(profile(tree, warm_cache, workdir, "warm"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if cold_met and warm_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
