"""Give every request an id, so a 500 answered to a client can be found in the logs.

A plain ASGI middleware (not ``@app.middleware("http")``, whose request/response wrapping cost
more per request than a permission check itself): it puts the id in the request's state, where
handlers and the 500 handler read it, and adds it to the response's start message.
"""

from __future__ import annotations

import re
import uuid

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode("latin-1")
# A caller's id is kept only if it is short and plain, so it cannot forge log lines.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _incoming(scope: Scope) -> str:
    """The caller's id (the first ``X-Request-ID`` header), or ""."""
    for key, value in scope["headers"]:
        if key.lower() == _HEADER_KEY:
            return str(value.decode("latin-1"))
    return ""


class RequestIdMiddleware:
    """Keeps a plain caller-given ``X-Request-ID``, else makes one; answers it in the header of
    every response that passes through here. (A 500 is answered outside, by the error handler,
    which reads the id from the request's state and sets the header itself.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _incoming(scope)
        request_id = incoming if _ACCEPTABLE.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        header = (_HEADER_KEY, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", ()) if k.lower() != _HEADER_KEY
                ]
                headers.append(header)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


def register_request_id(app: FastAPI) -> None:
    app.add_middleware(RequestIdMiddleware)
