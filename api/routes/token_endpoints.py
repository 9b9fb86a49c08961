"""Token revocation (RFC 7009) and introspection (RFC 7662).

Both take ``application/x-www-form-urlencoded`` bodies (``api.forms``: no multipart library is
needed), authenticate clients by ``client_id``/``client_secret`` in the body or HTTP Basic
(RFC 6749 §2.3.1, one method per request), and answer errors in the RFC 6749 §5.2 body.
Introspection also accepts an API key of a gateway or admin.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.auth import Caller, ClientBasicDep, allow_if_presented, client_credentials
from api.dependencies import LedgerDep, RuntimeDep
from api.errors import RFC6749_ERROR_RESPONSES, rfc6749_errors
from api.forms import Param, StrictFormDep, documented_form
from api.positions import acknowledged, no_store
from api.schemas.token_endpoints import IntrospectionOut, RevocationOut
from application.ledger import Ledger
from domain.actors import Actor
from domain.api_keys import Capability
from domain.apps import App
from domain.errors import (
    InvalidInputError,
    NotPermittedError,
    TokenNotFoundError,
    TokenStateError,
)
from infrastructure.runtime import Runtime

router = APIRouter(
    prefix="/oauth",
    tags=["token endpoints"],
    dependencies=[Depends(rfc6749_errors)],
    responses=RFC6749_ERROR_RESPONSES,
)

REVOCATION_REASON = "revoked by the client (RFC 7009)"
NOT_THIS_CLIENTS_TOKEN = (
    "The token was not issued to this client: a client may revoke only "
    "its own tokens (RFC 7009 §2.1)"
)


_CLIENT_FIELDS = (
    Param("client_id", "The client's id (or use HTTP Basic)"),
    Param("client_secret", "The client's secret (or use HTTP Basic)"),
)


def _required_token(form: dict[str, str]) -> str:
    token = form.get("token")
    if not token:
        raise InvalidInputError("The token parameter is required")
    return token


@router.post(
    "/revoke",
    response_model=RevocationOut,
    response_model_exclude_none=True,
    summary="Revoke an access token (RFC 7009)",
    openapi_extra=documented_form(
        Param("token", "The access token to revoke", required=True),
        Param("token_type_hint", "Ignored: only access tokens exist"),
        *_CLIENT_FIELDS,
    ),
)
def revoke(
    form: StrictFormDep,
    basic: ClientBasicDep,
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> RevocationOut:
    """Answers 200 for an unknown or already revoked token (RFC 7009 §2.2); a token of another
    client is refused. A revocation is acknowledged by the read models before the answer."""
    no_store(response)
    app = ledger.verify_client(*client_credentials(form, basic))
    token = _required_token(form)
    try:
        result = ledger.revoke_token(
            Actor.client(app.client_id), access_token=token, reason=REVOCATION_REASON
        )
    except (TokenNotFoundError, TokenStateError):
        return RevocationOut()  # §2.2: "invalid tokens do not cause an error response"
    except NotPermittedError:
        # The ledger's message speaks of users and owners; the caller here is a client (§2.1).
        raise NotPermittedError(NOT_THIS_CLIENTS_TOKEN) from None
    return RevocationOut(position=acknowledged(runtime, response, result.position))


@router.post(
    "/introspect",
    response_model=IntrospectionOut,
    response_model_exclude_none=True,
    summary="Introspect an access token (RFC 7662)",
    openapi_extra=documented_form(
        Param("token", "The access token to introspect", required=True),
        Param("token_type_hint", "Ignored: only access tokens exist"),
        *_CLIENT_FIELDS,
    ),
)
def introspect(
    caller: Annotated[Caller | None, allow_if_presented(Capability.INTROSPECT)],
    form: StrictFormDep,
    basic: ClientBasicDep,
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> IntrospectionOut:
    """By a gateway's or admin's API key, or by a client for its own tokens (a token of
    another client is inactive to it, RFC 7662 §4)."""
    no_store(response)
    client = None if caller is not None else ledger.verify_client(*client_credentials(form, basic))
    return introspection(ledger, runtime, _required_token(form), client)


def introspection(
    ledger: Ledger, runtime: Runtime, access_token: str, client: App | None
) -> IntrospectionOut:
    """Active while any of the token's scopes would be allowed now; ``scope`` lists those.
    Decided on the read models once they have reached the latest write."""
    inactive = IntrospectionOut(active=False)
    try:
        token = ledger.token(access_token)
    except TokenNotFoundError:
        return inactive
    if client is not None and token.app_id != client.id:
        return inactive
    position = runtime.read_model.resolve(None, min_position=ledger.position())
    decisions = [
        runtime.read_model.check(access_token, scope, as_of=position) for scope in token.scopes
    ]
    allowed = [d for d in decisions if d.allowed]
    if not allowed:
        return inactive
    user = ledger.user_by_id(token.user_id)
    return IntrospectionOut(
        active=True,
        scope=" ".join(d.scope for d in allowed),
        client_id=token.app_id.hex,
        username=user.username,
        sub=user.id.hex,
        iat=int(token.created_on.timestamp()),
        token_type="bearer",
        mode=allowed[0].mode.value,
    )
