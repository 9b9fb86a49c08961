"""The one place that decides how an error looks over HTTP.

The domain raises errors that carry a stable machine ``code`` and know nothing of HTTP. The table
``STATUS_BY_ERROR`` picks the status (looked up along the error's class hierarchy, most specific
class first) and one handler writes every body: ``{"error": {"code": ..., "message": ...}}``.

Choices worth knowing:

- Bad input is 422 whether FastAPI's validation or the domain (``InvalidInputError``) finds it:
  the request was well formed HTTP but its content cannot be used. Only a body that is not JSON
  at all is 400 (``malformed_json``). Either way nothing was written.
- A refusal because of the current state (already revoked, already live, a policy already in
  force, a sandbox limit) is 409: the same request may succeed once the state changes.
- ``ProjectionTimeoutError`` is 503 with ``Retry-After``: the read models lag, retry the read.
- ``StoreUnavailableError`` is 503 with ``Retry-After``: the database cannot be reached in time
  (``LEDGER_DATABASE_TIMEOUT``). The libraries' connection errors (``STORE_ERRORS``: psycopg's,
  its pool's timeout, eventsourcing's wrappers of them) are answered as this error, never 500.
- ``SignInThrottledError`` is 429 (RFC 6585 §4) with ``Retry-After`` in seconds until the
  username's lock ends; only routes that check a password can answer it.
- An authorization code that does not match is 400 (the legacy platform's answer), although its
  class name ends in ``NotFoundError``; only subclasses of ``NotFoundError`` are 404.

Endpoints of RFC 6749-family protocols (revocation, introspection) ask for the RFC's body,
``{"error": "invalid_client", "error_description": ...}`` (RFC 6749 §5.2), with the dependency
``rfc6749_errors``; ``RFC6749_ERROR_BY_ERROR`` is their table. The legacy platform's bodies are
built by ``legacy_body`` from the errors' own ``legacy_type`` and ``legacy_code``.

``LEDGER_ERROR_RESPONSES`` and ``RFC6749_ERROR_RESPONSES`` document, from the same tables, every
error status and body in the OpenAPI document (routers declare them with ``responses=``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import psycopg
from eventsourcing import persistence
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas.errors import ErrorOut, Rfc6749ErrorOut
from domain.errors import (
    AlreadyExistsError,
    ApiKeyRoleError,
    ApiKeyStateError,
    AppDisabledError,
    AppNotFoundError,
    AppStateError,
    CheckpointSigningDisabledError,
    CodeNotFoundError,
    ConcurrencyConflictError,
    InvalidApiKeyError,
    InvalidClientSecretError,
    InvalidInputError,
    LedgerError,
    MalformedClientCredentialsError,
    MissingClientIdError,
    NotFoundError,
    NotPermittedError,
    PolicyUnchangedError,
    ProjectionTimeoutError,
    ReviewAlreadyOpenError,
    ReviewDecisionError,
    ReviewRefusedError,
    SandboxInvitationError,
    SandboxLimitError,
    ScopeApplicationsClosedError,
    ScopeRetiredError,
    SignInThrottledError,
    StoreUnavailableError,
    TokenStateError,
)

logger = logging.getLogger(__name__)

# Looked up along the error's MRO, most specific class first.
STATUS_BY_ERROR: dict[type[LedgerError], int] = {
    InvalidApiKeyError: 401,
    MalformedClientCredentialsError: 401,
    NotPermittedError: 403,  # ApiKeyRoleError included
    NotFoundError: 404,
    CodeNotFoundError: 400,
    InvalidInputError: 422,
    ReviewRefusedError: 422,
    AlreadyExistsError: 409,  # UsernameTakenError included
    ConcurrencyConflictError: 409,
    ReviewAlreadyOpenError: 409,
    AppStateError: 409,
    AppDisabledError: 409,
    TokenStateError: 409,
    ApiKeyStateError: 409,
    PolicyUnchangedError: 409,
    SandboxInvitationError: 409,
    SandboxLimitError: 409,
    ReviewDecisionError: 409,
    ScopeApplicationsClosedError: 409,
    ScopeRetiredError: 409,
    CheckpointSigningDisabledError: 409,
    SignInThrottledError: 429,
    ProjectionTimeoutError: 503,
    StoreUnavailableError: 503,  # WriteNotAcknowledgedError included
    LedgerError: 400,
}

# The libraries' errors of a database that cannot be reached in time (down, restarting, every
# connection busy): answered as ``StoreUnavailableError``. psycopg_pool's PoolTimeout and
# TooManyRequests are psycopg OperationalErrors; eventsourcing wraps psycopg's in its own.
STORE_ERRORS: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
)

# RFC 6749 §5.2 error codes (and RFC 6750 §3.1 for a bad bearer credential), with status.
RFC6749_ERROR_BY_ERROR: dict[type[LedgerError], tuple[int, str]] = {
    InvalidApiKeyError: (401, "invalid_token"),
    MissingClientIdError: (401, "invalid_client"),
    AppNotFoundError: (401, "invalid_client"),
    InvalidClientSecretError: (401, "invalid_client"),
    MalformedClientCredentialsError: (401, "invalid_client"),
    NotPermittedError: (400, "unauthorized_client"),
    InvalidInputError: (400, "invalid_request"),
    ProjectionTimeoutError: (503, "temporarily_unavailable"),
    StoreUnavailableError: (503, "temporarily_unavailable"),
    LedgerError: (400, "invalid_request"),
}
# An API key whose role may not call the endpoint (RFC 6750 §3.1).
RFC6749_ROLE_ERROR = (403, "insufficient_scope")

# What each error status means to a client, for the OpenAPI document.
_MEANING: dict[int, str] = {
    400: "The body is not JSON (`malformed_json`), or the ledger refused the request",
    401: "No API key, or an unknown or revoked one",
    403: "The key's role may not do this",
    404: "Something the request names does not exist (or is not the caller's to see)",
    409: "Refused because of the current state; the same request may succeed once it changes",
    422: "Invalid input: the message names each bad field",
    429: "Too many wrong passwords for this username lately: retry after Retry-After seconds",
    503: "The database cannot be reached, or the read models did not reach the log position, "
    "in time: retry (see Retry-After)",
}
_RFC6749_MEANING: dict[int, str] = {
    400: "invalid_request or unauthorized_client (RFC 6749 §5.2)",
    401: "invalid_client (RFC 6749 §5.2), or invalid_token for an API key (RFC 6750 §3.1)",
    403: "insufficient_scope: the API key's role may not do this (RFC 6750 §3.1)",
    503: "temporarily_unavailable: retry (see Retry-After)",
}
RETRY_AFTER_HEADER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "string"}}
}
_RETRY_STATUSES = (429, 503)
# Only routes that check a user's password can answer this; they declare it themselves.
THROTTLED_STATUS = STATUS_BY_ERROR[SignInThrottledError]


def _documented(status: int, model: type, description: str) -> dict[str, Any]:
    response: dict[str, Any] = {"model": model, "description": description}
    if status in _RETRY_STATUSES:
        response["headers"] = RETRY_AFTER_HEADER
    return response


# Every status the tables can answer, plus malformed JSON (400) and invalid input (422).
LEDGER_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: _documented(status, ErrorOut, _MEANING[status])
    for status in sorted({*STATUS_BY_ERROR.values(), 400, 422} - {THROTTLED_STATUS})
}
THROTTLED_RESPONSE: dict[int | str, dict[str, Any]] = {
    THROTTLED_STATUS: _documented(THROTTLED_STATUS, ErrorOut, _MEANING[THROTTLED_STATUS])
}
RFC6749_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: _documented(status, Rfc6749ErrorOut, _RFC6749_MEANING[status])
    for status in sorted(
        {status for status, _ in RFC6749_ERROR_BY_ERROR.values()} | {RFC6749_ROLE_ERROR[0]}
    )
}

INTERNAL_ERROR_CODE = "internal_error"
VALIDATION_ERROR_CODE = "invalid_request"
MALFORMED_JSON_CODE = "malformed_json"
RETRY_AFTER_SECONDS = "1"


class ErrorStyle(StrEnum):
    LEDGER = "ledger"  # {"error": {"code", "message"}}
    RFC6749 = "rfc6749"  # {"error": code, "error_description": message}


def _lookup(table: Mapping[type[LedgerError], Any], error: LedgerError) -> Any:
    for cls in type(error).__mro__:
        if cls in table:
            return table[cls]
    return table[LedgerError]


def status_for(error: LedgerError) -> int:
    """HTTP status for a domain error: the nearest listed class wins."""
    status: int = _lookup(STATUS_BY_ERROR, error)
    return status


def rfc6749_error_for(error: LedgerError) -> tuple[int, str]:
    if isinstance(error, ApiKeyRoleError):
        return RFC6749_ROLE_ERROR
    found: tuple[int, str] = _lookup(RFC6749_ERROR_BY_ERROR, error)
    return found


def error_body(
    code: str, message: str, request_id: str | None = None, **extra: object
) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message}
    if request_id:
        error["request_id"] = request_id
    error.update(extra)
    return {"error": error}


def legacy_body(error_type: str, code: int, message: str, *, meta: bool = True) -> dict[str, Any]:
    """The legacy platform's error body: ``{"meta": {...}}`` for API calls, the same three
    fields unwrapped for its OAuth endpoints."""
    fields = {"error_type": error_type, "code": code, "error_message": message}
    return {"meta": fields} if meta else fields


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _style(request: Request) -> ErrorStyle:
    return getattr(request.state, "error_style", ErrorStyle.LEDGER)


async def rfc6749_errors(request: Request) -> None:
    """Dependency: errors of this endpoint use the RFC 6749 §5.2 body."""
    request.state.error_style = ErrorStyle.RFC6749


def _rfc6749_response(status: int, code: str, description: str, request: Request) -> JSONResponse:
    headers: dict[str, str] = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        # RFC 6749 §5.2: say how to authenticate; Basic when the client tried it.
        scheme = "Basic" if code == "invalid_client" else "Bearer"
        headers["WWW-Authenticate"] = f'{scheme} realm="token-ledger"'
    if status == 503:
        headers["Retry-After"] = RETRY_AFTER_SECONDS
    return JSONResponse(
        status_code=status,
        content={"error": code, "error_description": description},
        headers=headers,
    )


async def _ledger_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, LedgerError):  # registered for LedgerError only
        return await _unexpected_error(request, exc)
    if _style(request) is ErrorStyle.RFC6749:
        status, code = rfc6749_error_for(exc)
        return _rfc6749_response(status, code, exc.message, request)
    status = status_for(exc)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="token-ledger"'
    if status in _RETRY_STATUSES:
        headers["Retry-After"] = str(getattr(exc, "retry_after", RETRY_AFTER_SECONDS))
    code = getattr(exc, "code", type(exc).__name__)
    return JSONResponse(
        status_code=status, content=error_body(code, exc.message), headers=headers or None
    )


def store_unavailable(error: Exception, message: str | None = None) -> StoreUnavailableError:
    """The domain's error for a library's connection error, logged without its traceback (an
    outage would otherwise fill the log with one per request)."""
    logger.warning("database unreachable: %s: %s", type(error).__name__, error)
    return StoreUnavailableError(message)


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    return await _ledger_error(request, store_unavailable(exc))


def _describe_validation(errors: Sequence[Any]) -> tuple[str, list[dict[str, Any]]]:
    """A message naming each bad field; the input itself is never echoed (it may be a
    password or a token)."""
    details = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        details.append(
            {
                "field": ".".join(loc) or "body",
                "message": error.get("msg", ""),
                "type": error.get("type", ""),
            }
        )
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details) or "Invalid request"
    return message, details


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it only
    errors = list(exc.errors())
    message, details = _describe_validation(errors)
    malformed = any(e.get("type") == "json_invalid" for e in errors)
    if _style(request) is ErrorStyle.RFC6749:
        return _rfc6749_response(400, "invalid_request", message, request)
    if malformed:
        return JSONResponse(
            status_code=400,
            content=error_body(MALFORMED_JSON_CODE, "The request body is not valid JSON"),
        )
    return JSONResponse(
        status_code=422, content=error_body(VALIDATION_ERROR_CODE, message, details=details)
    )


_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    401: "unauthorized",
    403: "forbidden",
    400: "bad_request",
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (no such route, wrong method) in the same body as ours."""
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for it only
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers) if exc.headers else None
    return JSONResponse(
        status_code=exc.status_code, content=error_body(code, str(exc.detail)), headers=headers
    )


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
    for store_error in STORE_ERRORS:
        app.add_exception_handler(store_error, _store_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
