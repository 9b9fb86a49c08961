"""Give every request an id, so a 500 answered to a client can be found in the logs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

HEADER = "X-Request-ID"
# A caller's id is kept only if it is short and plain, so it cannot forge log lines.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def register_request_id(app: FastAPI) -> None:
    @app.middleware("http")
    async def request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get(HEADER, "")
        request.state.request_id = incoming if _ACCEPTABLE.match(incoming) else uuid.uuid4().hex
        response = await call_next(request)
        response.headers[HEADER] = request.state.request_id
        return response
