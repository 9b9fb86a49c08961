"""The platform user, for herself: her profile, her sandbox invitations and apps, the apps she
has authorized, and her tokens. She authenticates with her password (``api.user_auth``), and
every write is recorded as her, in the role user; the ledger decides what is hers to do."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.dependencies import LedgerDep, RuntimeDep
from api.positions import MinPositionHeaderDep, ReadTimeoutDep, acknowledged, no_store, written
from api.schemas.common import WrittenOut
from api.schemas.decisions import AuthorizationOut, UserAuthorizationsOut
from api.schemas.me import (
    MeOut,
    MyAuthorizationsQuery,
    ReasonQuery,
    RevokeMyTokenIn,
    SandboxAppOut,
)
from api.user_auth import USER_ERROR_RESPONSES, CurrentUser

router = APIRouter(prefix="/v1/me", tags=["me"], responses=USER_ERROR_RESPONSES)


@router.get("", response_model=MeOut, summary="The signed-in user and her sandbox apps")
def profile(me: CurrentUser, ledger: LedgerDep, response: Response) -> MeOut:
    no_store(response)
    user = ledger.user(me.username)
    return MeOut(
        user_id=user.id.hex,
        username=user.username,
        full_name=user.full_name,
        profile_picture=user.profile_picture,
        sandbox_apps=[
            SandboxAppOut(client_id=app_id.hex, name=ledger.app(app_id.hex).name)
            for app_id in user.sandbox_apps
        ],
    )


@router.post(
    "/sandbox-invitations/{client_id}/accept",
    response_model=WrittenOut,
    summary="Accept an app's invitation to be one of its sandbox users",
)
def accept_invitation(
    me: CurrentUser, client_id: str, ledger: LedgerDep, response: Response
) -> WrittenOut:
    result = ledger.accept_sandbox_invitation(client_id, me.username, me.actor)
    return WrittenOut(position=written(response, result.position))


@router.delete(
    "/sandbox-apps/{client_id}",
    response_model=WrittenOut,
    summary="Leave an app's sandbox users, or decline its invitation",
)
def leave_sandbox_app(
    me: CurrentUser,
    client_id: str,
    query: Annotated[ReasonQuery, Query()],
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> WrittenOut:
    result = ledger.remove_sandbox_user(client_id, me.username, me.actor, query.reason)
    return WrittenOut(position=acknowledged(runtime, response, result.position))


@router.get(
    "/authorizations",
    response_model=UserAuthorizationsOut,
    summary="The apps the user has authorized, with their scopes (now, or as of any moment)",
)
def authorizations(
    me: CurrentUser,
    query: Annotated[MyAuthorizationsQuery, Query()],
    runtime: RuntimeDep,
    header_min: MinPositionHeaderDep,
    timeout: ReadTimeoutDep,
    response: Response,
) -> UserAuthorizationsOut:
    no_store(response)
    wanted = [v for v in (query.min_position, header_min) if v is not None]
    # Fix the moment first, so the answer can name the position it was read at.
    position = runtime.read_model.resolve(query.as_of, max(wanted) if wanted else None, timeout)
    found = runtime.read_model.user_authorizations(me.username, as_of=position)
    return UserAuthorizationsOut(
        username=me.username,
        position=position,
        authorizations=[AuthorizationOut(client_id=c, scopes=s) for c, s in found.items()],
    )


@router.delete(
    "/authorizations/{client_id}",
    response_model=WrittenOut,
    summary="Deauthorize an app: every scope withdrawn, its tokens stop working",
)
def deauthorize(
    me: CurrentUser,
    client_id: str,
    query: Annotated[ReasonQuery, Query()],
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> WrittenOut:
    result = ledger.deauthorize(client_id, me.username, me.actor, query.reason)
    return WrittenOut(position=acknowledged(runtime, response, result.position))


@router.post(
    "/tokens/revoke",
    response_model=WrittenOut,
    summary="Revoke one of the user's access tokens (the token in the body)",
)
def revoke_token(
    me: CurrentUser,
    body: RevokeMyTokenIn,
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> WrittenOut:
    result = ledger.revoke_token(me.actor, access_token=body.access_token, reason=body.reason)
    return WrittenOut(position=acknowledged(runtime, response, result.position))
