"""Plain ASGI messages for the hot path: a request body read, and a JSON answer sent.

The predict routes and the observing middleware speak ASGI directly, without Starlette's
Request and Response objects: a body arrives in one message and an answer leaves in two, and the
per-request objects around them cost more than the messages themselves.
"""

from __future__ import annotations

import orjson
from starlette.types import Receive, Scope, Send

JSON = b"application/json"


class BodyTooLarge(Exception):
    pass


class Disconnected(Exception):
    """The client went away before sending its whole body: nobody is left to answer."""


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The body, refused past `limit` bytes: by Content-Length before reading anything, and by
    counting as it streams, for chunked bodies that announce no length."""
    declared = header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        if not message.get("more_body", False):
            if not chunks:
                return chunk  # the common case: the whole body in one message
            chunks.append(chunk)
            return b"".join(chunks)
        chunks.append(chunk)


async def answer(send: Send, status: int, body: bytes, *extra: tuple[bytes, bytes]) -> None:
    """A JSON answer: `body` is JSON already."""
    headers = [(b"content-type", JSON), (b"content-length", b"%d" % len(body)), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def problem(detail: str, request_id: str) -> bytes:
    """Every error's body: what went wrong, and the request id that finds its log line."""
    return orjson.dumps({"detail": detail, "request_id": request_id})
