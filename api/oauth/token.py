"""The token endpoint: an authorization code for an access token (RFC 6749 §4.1.3, §5.1).

``POST /oauth/access_token`` with ``client_id``, ``client_secret``,
``grant_type=authorization_code``, ``redirect_uri`` and ``code`` in a urlencoded form (or the
client's credentials in HTTP Basic, RFC 6749 §2.3.1) answers the legacy body
``{"access_token": ..., "user": {"id", "username", "full_name", "profile_picture"}}``;
refusals are the legacy error body with the platform's exact messages (``legacy_errors.py``).
Every answer is ``Cache-Control: no-store`` (§5.1).

The legacy body has no ``token_type`` (RFC 6749 §5.1 asks for one): legacy clients send the token
as the ``access_token`` parameter, and standard clients (authlib) accept the body as it is.
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.auth import ClientBasicDep, client_credentials
from api.dependencies import LedgerDep, RuntimeDep
from api.forms import FormDep, Param, documented_form
from api.oauth.legacy_errors import (
    LEGACY_CLIENT_AUTH_RESPONSE,
    LEGACY_ERROR_RESPONSES,
    NO_STORE,
    LegacyErrorRoute,
)
from api.oauth.read_your_writes import wait_for_read_models
from api.schemas.oauth import AccessTokenOut
from domain.errors import CodeNotFoundError

router = APIRouter(
    route_class=LegacyErrorRoute,
    tags=["oauth"],
    responses={**LEGACY_ERROR_RESPONSES, **LEGACY_CLIENT_AUTH_RESPONSE},
)

PATH = "/oauth/access_token"


@router.post(
    PATH,
    summary="Exchange an authorization code for an access token (legacy body)",
    response_model=AccessTokenOut,
    openapi_extra=documented_form(
        Param("client_id", "The client's id (or use HTTP Basic)"),
        Param("client_secret", "The client's secret (or use HTTP Basic)"),
        Param(
            "grant_type", "Only authorization_code", required=True, values=("authorization_code",)
        ),
        Param("redirect_uri", "The redirect URI of the authorization request", required=True),
        Param("code", "The authorization code", required=True),
    ),
)
@router.post(PATH + "/", include_in_schema=False)
def access_token(
    form: FormDep, basic: ClientBasicDep, ledger: LedgerDep, runtime: RuntimeDep
) -> JSONResponse:
    client_id, client_secret = client_credentials(form, basic)
    try:
        result = ledger.exchange_code(
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=form.get("redirect_uri"),
            code=form.get("code"),
            grant_type=form.get("grant_type"),
        )
    except CodeNotFoundError:
        # A replayed code revoked the token its first exchange issued (RFC 6749 §4.1.2): the
        # refusal is answered once every process's checks deny that token.
        wait_for_read_models(runtime, ledger.position())
        raise
    wait_for_read_models(runtime, result.position)
    # The body keeps the legacy shape; the ledger's own facts travel in headers.
    headers = {
        **NO_STORE,
        "X-Ledger-Position": str(result.position),
        "X-Ledger-Token-Id": result.token_id.hex,
    }
    return JSONResponse(
        {"access_token": result.access_token, "user": asdict(result.user)}, headers=headers
    )
