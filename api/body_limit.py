"""Request bodies are bounded at the edge, before anything reads them (authentication included).

A plain ASGI middleware, outside every route: a body whose ``Content-Length`` exceeds the cap of
its route class is answered 413 at once, unread; a body sent without a length (chunked) is
counted as it streams, and refused with 413 as soon as it passes the cap, so the application
never holds more than the cap of any one body, whatever its content type. (A declared length
within the cap is left to the server, which does not deliver more than it declares.)

The caps, by route class, first match wins (``BODY_LIMITS``):

- the RFC 7009 / RFC 7662 token endpoints and the legacy OAuth forms (token, sign-in, consent):
  16 KiB, more than any form of theirs needs (a token, a client's credentials, a state);
- the gateways' decisions: 16 KiB for check and explain (a token and a scope), 64 KiB for the
  gate, which carries a legacy call's parameters;
- the rest of the management API (``/v1``): 64 KiB of JSON;
- anything else (health, docs, unknown paths): 16 KiB.

The 413 is in the protocol of the route: the RFC 6749 §5.2 body on ``/oauth/revoke`` and
``/oauth/introspect``, the legacy OAuth body elsewhere under ``/oauth``, the ledger's error body
everywhere else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body, legacy_body

logger = logging.getLogger(__name__)

KIB = 1024
TOO_LARGE_STATUS = 413
TOO_LARGE_CODE = "request_too_large"


class BodyStyle(StrEnum):
    LEDGER = "ledger"  # {"error": {"code", "message"}}
    RFC6749 = "rfc6749"  # {"error": "invalid_request", "error_description"}
    LEGACY_OAUTH = "legacy_oauth"  # {"error_type", "code", "error_message"}


@dataclass(frozen=True)
class BodyLimit:
    """The largest body a class of routes (paths starting with ``prefix``) accepts."""

    prefix: str
    max_bytes: int
    style: BodyStyle


# First match wins: the more specific prefixes come first.
BODY_LIMITS: tuple[BodyLimit, ...] = (
    BodyLimit("/oauth/revoke", 16 * KIB, BodyStyle.RFC6749),
    BodyLimit("/oauth/introspect", 16 * KIB, BodyStyle.RFC6749),
    BodyLimit("/oauth/", 16 * KIB, BodyStyle.LEGACY_OAUTH),
    BodyLimit("/v1/decisions/gate", 64 * KIB, BodyStyle.LEDGER),
    BodyLimit("/v1/decisions/", 16 * KIB, BodyStyle.LEDGER),
    BodyLimit("/v1/", 64 * KIB, BodyStyle.LEDGER),
)
DEFAULT_BODY_LIMIT = BodyLimit("/", 16 * KIB, BodyStyle.LEDGER)

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def body_limit_for(path: str) -> BodyLimit:
    """The cap of the route class a path belongs to."""
    for limit in BODY_LIMITS:
        if path.startswith(limit.prefix):
            return limit
    return DEFAULT_BODY_LIMIT


def too_large_response(limit: BodyLimit) -> JSONResponse:
    """A 413 in the route's own error body (RFC 9110 §15.5.14); the connection is closed, as
    the rest of the body is never read."""
    message = f"The request body is larger than {limit.max_bytes} bytes, the limit here"
    headers = {"Connection": "close"}
    if limit.style is BodyStyle.RFC6749:
        content: dict[str, object] = {"error": "invalid_request", "error_description": message}
        headers.update(_NO_STORE)
    elif limit.style is BodyStyle.LEGACY_OAUTH:
        content = legacy_body("OAuthException", TOO_LARGE_STATUS, message, meta=False)
        headers.update(_NO_STORE)
    else:
        content = error_body(TOO_LARGE_CODE, message)
    return JSONResponse(content, status_code=TOO_LARGE_STATUS, headers=headers)


def _declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length``, or None when it has none (or an unreadable one, which
    the server refuses before us)."""
    for key, value in scope["headers"]:
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """Refuses a body over its route class's cap with 413, reading at most the cap of it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit_for(scope["path"])
        declared = _declared_length(scope)
        if declared is not None:
            if declared > limit.max_bytes:
                logger.info(
                    "request body refused unread: %d bytes declared on %s", declared, scope["path"]
                )
                await too_large_response(limit)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        await self._counting(limit, scope, receive, send)

    async def _counting(self, limit: BodyLimit, scope: Scope, receive: Receive, send: Send) -> None:
        """A body without a declared length: count it as the app reads it. Past the cap, answer
        413 (unless the app has already begun its answer), tell the app the client has gone, and
        drop whatever the app answers after that."""
        received = 0
        started = False
        refused = False
        answered = False

        async def counting_receive() -> Message:
            nonlocal received, refused, started, answered
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] != "http.request":
                return message
            received += len(message.get("body", b""))
            if received <= limit.max_bytes:
                return message
            refused = True
            logger.info(
                "streamed request body refused past %d bytes on %s", limit.max_bytes, scope["path"]
            )
            if not started:
                started = answered = True
                await too_large_response(limit)(scope, receive, send)
            return {"type": "http.disconnect"}

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the 413 is the answer; the app's own, after it, is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not answered:
                raise
            # The app saw the client "disconnect" mid-body; its failure to read is expected.


def register_body_limit(app: FastAPI) -> None:
    app.add_middleware(BodyLimitMiddleware)
