"""`paved serve`: the contract's model as an HTTP service, under uvicorn.

The checks that need no server run first, in this process, so a wrong setup fails with a clear
message and exit code 2 instead of a worker's traceback: the `serve` extra installed, a contract
naming `[model].predict`, valid PAVED_* settings, and the artifact the contract validated.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import click

from pavedroad.commands.options import contract_option
from pavedroad.contract import find_contract, load_contract
from pavedroad.errors import UsageError

# The import names of the `serve` extra's distributions.
EXTRA_MODULES = {
    "fastapi": "fastapi",
    "uvicorn": "uvicorn",
    "structlog": "structlog",
    "prometheus_client": "prometheus-client",
    "pydantic_settings": "pydantic-settings",
    "orjson": "orjson",
}
FACTORY = "pavedroad.serving.app:app_from_environment"


@click.command("serve")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--host", help="Bind address.  [env: PAVED_HOST; default: 127.0.0.1]")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help="Port; 0 picks a free one.  [env: PAVED_PORT; default: 8000]",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Worker processes, each loading the model once.  [env: PAVED_WORKERS; default: 1]",
)
@contract_option
def serve(
    path: Path,
    host: str | None,
    port: int | None,
    workers: int | None,
    contract_path: Path | None,
) -> int:
    """Serve the contract's model over HTTP: /predict, /predict/batch, /healthz, /readyz,
    /metrics, /info and /docs. Settings come from PAVED_* environment variables (see the
    README); the options override them."""
    require_extra()
    from pydantic import ValidationError

    from pavedroad.serving.logging import configure_stdlib
    from pavedroad.serving.model import describe, verify_artifact
    from pavedroad.serving.settings import Settings

    contract_path = (contract_path or find_contract(path)).resolve()
    verify_artifact(describe(load_contract(contract_path)))
    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "workers": workers,
        "contract": contract_path,
    }
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        problems = "; ".join(
            f"PAVED_{'_'.join(str(p) for p in item['loc']).upper()}: {item['msg']}"
            for item in error.errors()
        )
        raise UsageError(f"invalid setting: {problems}") from None
    # worker processes read the contract and every setting from the environment
    os.environ["PAVED_CONTRACT"] = str(contract_path)
    configure_stdlib(settings.log_level)
    import uvicorn

    uvicorn.run(
        FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=None,
        log_level=settings.log_level,
        access_log=False,  # the service logs one JSON line per request itself
        server_header=False,
    )
    return 0


def require_extra() -> None:
    """A clear error naming the install command when a package of the extra is missing."""
    missing = []
    for module, distribution in EXTRA_MODULES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(distribution)
    if missing:
        raise UsageError(
            f"`paved serve` needs {', '.join(missing)}, not installed here.\n"
            '  hint: pip install "pavedroad[serve]"'
        )
