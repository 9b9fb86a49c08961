"""The one place that decides how a domain error looks over HTTP.

The domain raises errors that carry a stable machine `code` and know nothing of
HTTP; this table picks the status, and one handler writes every error body.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from domain.errors import ConcurrencyConflictError, LedgerError, NotPermittedError

logger = logging.getLogger(__name__)

# Looked up along the error's MRO, most specific class first.
STATUS_BY_ERROR: dict[type[LedgerError], int] = {
    NotPermittedError: 403,
    ConcurrencyConflictError: 409,
    LedgerError: 400,
}
# Every `…NotFoundError` is a 404 without having to be listed.
NOT_FOUND_SUFFIX = "NotFoundError"
NOT_FOUND_STATUS = 404

INTERNAL_ERROR_CODE = "internal_error"


def status_for(error: LedgerError) -> int:
    """HTTP status for a domain error: the nearest listed (or …NotFoundError) class wins."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
        if cls.__name__.endswith(NOT_FOUND_SUFFIX):
            return NOT_FOUND_STATUS
    return STATUS_BY_ERROR[LedgerError]


def error_body(code: str, message: str, request_id: str | None = None) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message}
    if request_id:
        error["request_id"] = request_id
    return {"error": error}


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def _ledger_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, LedgerError):  # registered for LedgerError only
        return await _unexpected_error(request, exc)
    code = getattr(exc, "code", type(exc).__name__)
    return JSONResponse(status_code=status_for(exc), content=error_body(code, str(exc)))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Log everything with the request id; tell the client nothing but that id."""
    request_id = request_id_of(request)
    logger.exception(
        "unhandled error request_id=%s %s %s", request_id, request.method, request.url.path
    )
    headers = {"X-Request-ID": request_id} if request_id else None
    return JSONResponse(
        status_code=500,
        content=error_body(INTERNAL_ERROR_CODE, "internal server error", request_id),
        headers=headers,
    )


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(Exception, _unexpected_error)
