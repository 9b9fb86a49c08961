"""How the OAuth endpoints answer a refusal: the legacy platform's error body, in one table.

OAuth endpoint errors are ``{"error_type": ..., "code": 400, "error_message": ...}`` (the API's
errors wrap the same three fields in ``"meta"``), and ``code`` is the HTTP status. Errors whose
legacy identity is known carry it themselves (``legacy_type``, ``legacy_code``: the domain's
errors, and this package's page errors below); ``LEGACY_ERRORS`` decides the rest, looked up
along the error's class hierarchy, most specific class first.

The routes of this package use ``LegacyErrorRoute``, so a route or dependency raises and never
builds an error response itself. Every answer carries ``Cache-Control: no-store``: the token
endpoint must (RFC 6749 §5.1) and no error of an authorization flow is worth caching.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from api.errors import RETRY_AFTER_SECONDS, STORE_ERRORS, legacy_body, store_unavailable
from api.schemas.errors import LegacyErrorOut
from domain.errors import (
    ConcurrencyConflictError,
    InvalidInputError,
    LedgerError,
    NotFoundError,
    NotPermittedError,
    ProjectionTimeoutError,
    ScopeRetiredError,
    StoreUnavailableError,
)

logger = logging.getLogger(__name__)

OAUTH_EXCEPTION = "OAuthException"
FORBIDDEN_EXCEPTION = "OAuthForbiddenException"

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BASIC_CHALLENGE = 'Basic realm="token-ledger"'


class OAuthPageError(Exception):
    """Raised when a request to the OAuth pages is refused for a reason of the web layer
    (a forged form, a missing sign-in), not a rule of the ledger."""

    legacy_type = FORBIDDEN_EXCEPTION
    legacy_code = 403

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__ or "Forbidden")

    @property
    def message(self) -> str:
        return str(self.args[0])


class CsrfError(OAuthPageError):
    """Raised when a form arrives without the token of the session that was shown it."""

    def __init__(self) -> None:
        super().__init__(
            "This form has expired or was not sent from this site's page: go back, reload the "
            "page and try again"
        )


class NotSignedInError(OAuthPageError):
    """Raised when a form that needs a signed-in user arrives from nobody signed in."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "You are not signed in: reload the page and sign in")


class BadFormError(OAuthPageError):
    """Raised when a form body cannot be read as application/x-www-form-urlencoded."""

    legacy_type = OAUTH_EXCEPTION
    legacy_code = 400


# Errors that carry no legacy identity of their own: (HTTP status and body "code", error_type).
LEGACY_ERRORS: dict[type[Exception], tuple[int, str]] = {
    InvalidInputError: (400, OAUTH_EXCEPTION),
    ScopeRetiredError: (400, OAUTH_EXCEPTION),
    NotFoundError: (400, OAUTH_EXCEPTION),  # e.g. the signed-in (or SSO) user is not registered
    NotPermittedError: (403, FORBIDDEN_EXCEPTION),
    ConcurrencyConflictError: (409, OAUTH_EXCEPTION),
    ProjectionTimeoutError: (503, OAUTH_EXCEPTION),
    StoreUnavailableError: (503, OAUTH_EXCEPTION),
    LedgerError: (400, OAUTH_EXCEPTION),
}


_LEGACY_MEANING: dict[int, str] = {
    400: "OAuthException: the request or form cannot be used (the legacy body)",
    403: "OAuthForbiddenException: not permitted, a forged form or nobody signed in "
    "(the legacy body)",
    409: "OAuthException: a concurrent change; retry (the legacy body)",
    503: "OAuthException: the database cannot be reached, or the read models did not catch up, "
    "in time; retry (the legacy body)",
}
# Every status a refusal can have, for the OpenAPI document (routers declare it). The schema is
# given as JSON content, not as a ``model``: FastAPI would file a model under the route's own
# media type, which is text/html for the pages.
LEGACY_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": _LEGACY_MEANING[status],
        "content": {"application/json": {"schema": LegacyErrorOut.model_json_schema()}},
    }
    for status in sorted(
        {status for status, _ in LEGACY_ERRORS.values()}
        | {OAuthPageError.legacy_code, BadFormError.legacy_code}
    )
}

# The token endpoint's refusal of Basic client credentials it cannot read (RFC 6749 §5.2).
LEGACY_CLIENT_AUTH_RESPONSE: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "OAuthException: malformed HTTP Basic client credentials (the legacy "
        "body, with `WWW-Authenticate: Basic`)",
        "content": {"application/json": {"schema": LegacyErrorOut.model_json_schema()}},
    },
}


def legacy_status_and_type(error: LedgerError | OAuthPageError) -> tuple[int, str]:
    """The status (also the body's ``code``) and ``error_type`` of a refusal."""
    legacy_type = getattr(error, "legacy_type", None)
    legacy_code = getattr(error, "legacy_code", None)
    if legacy_type and legacy_code:
        return legacy_code, legacy_type
    for cls in type(error).__mro__:
        if cls in LEGACY_ERRORS:
            return LEGACY_ERRORS[cls]
    return LEGACY_ERRORS[LedgerError]


def legacy_error_body(error: LedgerError | OAuthPageError, *, meta: bool = False) -> dict[str, Any]:
    """The legacy body of a refusal, with the error's legacy type and status."""
    status, error_type = legacy_status_and_type(error)
    return legacy_body(error_type, status, error.message, meta=meta)


def legacy_error_response(
    error: LedgerError | OAuthPageError, *, meta: bool = False
) -> JSONResponse:
    status, _ = legacy_status_and_type(error)
    headers = NO_STORE
    if status == 503:
        headers = {**NO_STORE, "Retry-After": RETRY_AFTER_SECONDS}
    elif status == 401:  # only Basic client credentials are refused so (RFC 6749 §5.2)
        headers = {**NO_STORE, "WWW-Authenticate": BASIC_CHALLENGE}
    return JSONResponse(legacy_error_body(error, meta=meta), status_code=status, headers=headers)


class LegacyErrorRoute(APIRoute):
    """A route whose refusals are answered as the legacy OAuth endpoints answered them."""

    meta = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        meta = self.meta

        async def answer_legacy_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except (LedgerError, OAuthPageError) as error:
                # The error's class only: messages never carry secrets, but say nothing anyway.
                logger.info("oauth refusal %s on %s", type(error).__name__, request.url.path)
                return legacy_error_response(error, meta=meta)
            except STORE_ERRORS as error:
                return legacy_error_response(store_unavailable(error), meta=meta)

        return answer_legacy_errors


class LegacyApiErrorRoute(LegacyErrorRoute):
    """A legacy API route: the same fields, wrapped in ``{"meta": ...}``."""

    meta = True
