"""Who held what: the token holders of an app's scope, a user's authorizations, as of any moment.

Each lookup answers GET (query parameters) and POST (the same fields as a JSON body).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import Explainer
from api.dependencies import RuntimeDep
from api.errors import LEDGER_ERROR_RESPONSES
from api.positions import MinPositionDep, MinPositionHeaderDep, ReadTimeoutDep, latest
from api.schemas.decisions import (
    AuthorizationOut,
    TokenHolderOut,
    TokenHoldersOut,
    TokenHoldersQuery,
    UserAuthorizationsOut,
    UserAuthorizationsQuery,
)
from infrastructure.runtime import Runtime

router = APIRouter(prefix="/v1/lookups", tags=["lookups"], responses=LEDGER_ERROR_RESPONSES)


def _token_holders(
    runtime: Runtime, q: TokenHoldersQuery, header_min: int | None, timeout: float
) -> TokenHoldersOut:
    # Fix the moment first, so the answer can name the position it was read at.
    position = runtime.read_model.resolve(q.as_of, latest(q.min_position, header_min), timeout)
    holders = runtime.read_model.token_holders(q.client_id, q.scope, as_of=position)
    return TokenHoldersOut(
        client_id=q.client_id,
        scope=q.scope,
        position=position,
        holders=[TokenHolderOut(**h) for h in holders],
    )


def _user_authorizations(
    runtime: Runtime, q: UserAuthorizationsQuery, header_min: int | None, timeout: float
) -> UserAuthorizationsOut:
    position = runtime.read_model.resolve(q.as_of, latest(q.min_position, header_min), timeout)
    found = runtime.read_model.user_authorizations(q.username, as_of=position)
    return UserAuthorizationsOut(
        username=q.username,
        position=position,
        authorizations=[AuthorizationOut(client_id=c, scopes=s) for c, s in found.items()],
    )


@router.get(
    "/token-holders",
    response_model=TokenHoldersOut,
    summary="The users and tokens of an app allowed a scope (token ids, never tokens)",
)
def token_holders(
    caller: Explainer,
    query: Annotated[TokenHoldersQuery, Query()],
    runtime: RuntimeDep,
    min_position: MinPositionHeaderDep,
    timeout: ReadTimeoutDep,
) -> TokenHoldersOut:
    return _token_holders(runtime, query, min_position, timeout)


@router.post(
    "/token-holders",
    response_model=TokenHoldersOut,
    summary="The users and tokens of an app allowed a scope (token ids, never tokens)",
)
def token_holders_post(
    caller: Explainer,
    body: TokenHoldersQuery,
    runtime: RuntimeDep,
    min_position: MinPositionDep,
    timeout: ReadTimeoutDep,
) -> TokenHoldersOut:
    return _token_holders(runtime, body, min_position, timeout)


@router.get(
    "/user-authorizations",
    response_model=UserAuthorizationsOut,
    summary="The apps a user had authorized, with their scopes",
)
def user_authorizations(
    caller: Explainer,
    query: Annotated[UserAuthorizationsQuery, Query()],
    runtime: RuntimeDep,
    min_position: MinPositionHeaderDep,
    timeout: ReadTimeoutDep,
) -> UserAuthorizationsOut:
    return _user_authorizations(runtime, query, min_position, timeout)


@router.post(
    "/user-authorizations",
    response_model=UserAuthorizationsOut,
    summary="The apps a user had authorized, with their scopes",
)
def user_authorizations_post(
    caller: Explainer,
    body: UserAuthorizationsQuery,
    runtime: RuntimeDep,
    min_position: MinPositionDep,
    timeout: ReadTimeoutDep,
) -> UserAuthorizationsOut:
    return _user_authorizations(runtime, body, min_position, timeout)
