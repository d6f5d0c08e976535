"""`paved serve`: the contract's model behind HTTP, validated, observable and fast.

`create_app(contract)` builds the FastAPI application (`app`); `settings` reads the PAVED_*
environment, `model` describes, loads and runs the model, `runner` turns requests into predict
calls (micro-batched, in threads, under a timeout), `asgi` reads bodies and sends answers on the
hot path, `openapi` documents the schemas, `observe`, `logging` and `metrics` make every request
observable, `sink` keeps sampled inputs for drift.
Needs the `serve` extra: pip install "pavedroad[serve]".
"""

from __future__ import annotations

from pavedroad.serving.app import create_app

__all__ = ["create_app"]
