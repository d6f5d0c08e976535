"""The Dockerfile of what passed: the clean room's steps as a container recipe.

The same steps, in the same order: the interpreter the room used (the official image of that
exact version), uv at the version that built the room, the dependencies from the lock (or, with
no lock, the exact versions the room installed, as constraints), the project as a wheel built
from the sources (never editable), and a non-root user. Only the runtime part goes into the
image: the development groups the tests needed stay out, and so do the tests themselves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pavedroad import __version__
from pavedroad.repro.environment import Plan
from pavedroad.repro.interpreters import Interpreter

HEADER = "# Written by `paved repro --dockerfile`"
BASE_IMAGE = "python:{version}-slim-bookworm"
UV_IMAGE = "ghcr.io/astral-sh/uv:{version}"
USER_ID = 10001


def render(
    *,
    interpreter: Interpreter,
    uv_version: str,
    plan: Plan,
    frozen: Sequence[str],
    wheel_name: str,
    data: Sequence[str],
    env: Sequence[str],
    entry_point: str | None,
    created: str,
) -> str:
    """The Dockerfile text; `data` are project files the model reads at run time (the artifact),
    `env` the contract's variables, named for the deployment to set (an empty value would be a
    value)."""
    base = BASE_IMAGE.format(version=interpreter.version_text)
    uv = UV_IMAGE.format(version=uv_version)
    lines = [
        "# syntax=docker/dockerfile:1.7",
        f"{HEADER} (pavedroad {__version__}) on {created}:",
        f"# the steps of the clean room that passed, {interpreter.label}, dependencies from "
        f"{plan.shown}.",
        "# Build it from a clean checkout (git clone, or `git archive`): the clean room held",
        "# only the files git tracks.",
        "",
        f"FROM {base} AS build",
        f"COPY --from={uv} /uv /usr/local/bin/uv",
        "WORKDIR /src",
        "COPY . .",
        "RUN uv build --wheel --out-dir /dist .",
        *_lock_export(plan),
        "",
        f"FROM {base}",
        f"COPY --from={uv} /uv /usr/local/bin/uv",
        "ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONNOUSERSITE=1 \\",
        "    UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_NO_CACHE=1",
        "RUN uv venv /opt/venv",
        *_install(plan, frozen, wheel_name),
        f"RUN useradd --create-home --uid {USER_ID} app",
        "WORKDIR /app",
        *(f"COPY --from=build --chown=app:app /src/{path} /app/{path}" for path in data),
        *([f"# The deployment sets the contract's settings: {', '.join(env)}"] if env else []),
        "USER app",
    ]
    if entry_point:
        lines.append(f"CMD {json.dumps([entry_point, '--help'])}")
    return "\n".join(lines) + "\n"


def _lock_export(plan: Plan) -> list[str]:
    if plan.kind == "uv.lock":
        return [
            "RUN uv export --frozen --no-emit-project --no-dev --no-header "
            "--output-file /dist/requirements.txt"
        ]
    if plan.lock is not None:
        return [f"RUN cp {plan.lock} /dist/requirements.txt"]
    return []


def _install(plan: Plan, frozen: Sequence[str], wheel_name: str) -> list[str]:
    wheel = f"/dist/{wheel_name}"
    if plan.lock is not None:
        return [
            "COPY --from=build /dist /dist",
            "RUN uv pip sync /dist/requirements.txt && "
            f"uv pip install --no-deps {wheel} && rm -rf /dist",
        ]
    # No lock: the versions the room installed, as constraints of the wheel's own requirements.
    constraints = "\n".join(frozen)
    return [
        "COPY <<EOF /dist/constraints.txt",
        constraints,
        "EOF",
        "COPY --from=build /dist /dist",
        f"RUN uv pip install --constraint /dist/constraints.txt {wheel} && rm -rf /dist",
    ]
