"""Signed requests: the legacy "Enforce signed requests" setting of a client.

When a client enforces them, every API call carries ``sig``: HMAC-SHA256, keyed with the client
secret, of the endpoint path (without ``/v1``) and ``|key=value`` for each parameter sorted by key
(``domain.signatures``). A call without ``sig`` or with a wrong one is refused with HTTP 403
``OAuthForbiddenException`` and the platform's exact message; a client that does not enforce
signed requests is not checked at all (its ``sig``, if any, is ignored, as the platform did).

Two ways in:

- ``verify_request_signature(ledger, client_id, endpoint, params)``: for a caller that already
  has the call's parts (the gate decision endpoint gets them in its JSON body).
- ``SignedRequestDep``: a dependency for a route that receives a legacy API call itself, reading
  the query and, for a urlencoded body, the form. The client is the ``client_id`` parameter, or
  the app the ``access_token`` was issued to. Use it on a router with ``LegacyApiErrorRoute`` so
  refusals get the API's ``{"meta": ...}`` body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request

from api.dependencies import LedgerDep
from api.forms import FORM_TYPE, parse_form
from api.oauth.legacy_errors import BadFormError, OAuthPageError
from application.ledger import Ledger
from domain.errors import AppNotFoundError, MissingClientIdError
from domain.signatures import verify_signature


class ParameterError(OAuthPageError):
    """Raised when a legacy API call names no client, or an unknown one."""

    legacy_type = "OAuthParameterException"
    legacy_code = 400


def verify_request_signature(
    ledger: Ledger, client_id: str, endpoint: str, params: Mapping[str, str]
) -> None:
    """Refuses an unsigned or wrongly signed call of a client that enforces signed requests.

    ``endpoint`` is the path called (``/v1`` or not); ``params`` every request parameter, ``sig``
    included. Raises ``MissingSignatureError`` or ``InvalidSignatureError`` (HTTP 403)."""
    app = ledger.app(client_id)
    if not app.signed_requests_enforced:
        return
    verify_signature(endpoint, params, ledger.client_signing_secret(app.client_id))


def client_of_call(ledger: Ledger, params: Mapping[str, str]) -> str:
    """The client a legacy API call is made by: ``client_id``, or its access token's app."""
    client_id = params.get("client_id")
    if client_id:
        try:
            return ledger.app(client_id).client_id
        except (AppNotFoundError, MissingClientIdError):
            raise ParameterError(
                "The client_id provided is invalid and does not match a valid application."
            ) from None
    access_token = params.get("access_token")
    if not access_token:
        raise ParameterError("Missing client_id or access_token URL parameter.")
    return ledger.token(access_token).app_id.hex  # TokenNotFoundError: the token is invalid


async def call_parameters(request: Request) -> dict[str, str]:
    """Every parameter of the call: the query, and a urlencoded body's fields."""
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in params:
            raise BadFormError(f"The parameter {name} is included more than once")
        params[name] = value
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method in ("POST", "PUT", "DELETE") and content_type == FORM_TYPE:
        for name, value in parse_form(await request.body()).items():
            if name in params:
                raise BadFormError(f"The parameter {name} is included more than once")
            params[name] = value
    return params


def endpoint_of(request: Request) -> str:
    """The path called, as the client signed it (without any mount prefix of this service)."""
    path: str = request.scope["path"]
    root = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


CallParametersDep = Annotated[dict[str, str], Depends(call_parameters)]


def signed_request(request: Request, params: CallParametersDep, ledger: LedgerDep) -> str:
    """Dependency: verifies the call's signature when its client enforces signed requests;
    answers the client_id. (Not async: the ledger's reads block, so FastAPI runs it in a
    worker thread.)"""
    client_id = client_of_call(ledger, params)
    verify_request_signature(ledger, client_id, endpoint_of(request), params)
    return client_id


SignedRequestDep = Annotated[str, Depends(signed_request)]
