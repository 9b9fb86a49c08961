"""Platform users: registration, sign-in passwords, reads, and deauthorizing an app."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import Administrator, Reader
from api.dependencies import LedgerDep, RuntimeDep
from api.errors import LEDGER_ERROR_RESPONSES
from api.positions import CaughtUp, acknowledged, written
from api.schemas.common import ReasonIn, WrittenOut
from api.schemas.users import PasswordIn, UserOut, UserRegistered, UserRegistration
from infrastructure.passwords import hash_password

router = APIRouter(prefix="/v1/users", tags=["users"], responses=LEDGER_ERROR_RESPONSES)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRegistered,
    summary="Register a platform user",
)
def register_user(
    caller: Administrator, body: UserRegistration, ledger: LedgerDep, response: Response
) -> UserRegistered:
    result = ledger.register_user(body.username, body.full_name, body.profile_picture, caller.actor)
    return UserRegistered(
        position=written(response, result.position), user_id=result.id.hex, username=body.username
    )


@router.put(
    "/{username}/password",
    response_model=WrittenOut,
    summary="Set a user's sign-in password (stored as an argon2id hash)",
)
def set_password(
    caller: Administrator,
    username: str,
    body: PasswordIn,
    ledger: LedgerDep,
    response: Response,
) -> WrittenOut:
    password_hash = hash_password(body.password.get_secret_value())
    result = ledger.set_user_password(username, password_hash, caller.actor)
    return WrittenOut(position=written(response, result.position))


@router.get("/{username}", response_model=UserOut, summary="A platform user")
def get_user(caller: Reader, username: str, ledger: LedgerDep, _: CaughtUp) -> UserOut:
    user = ledger.user_seen_by(caller.key, username)
    return UserOut(
        user_id=user.id.hex,
        username=user.username,
        full_name=user.full_name,
        profile_picture=user.profile_picture,
        sandbox_apps=[app_id.hex for app_id in user.sandbox_apps],
        has_password=bool(user.password_hash),
    )


@router.post(
    "/{username}/authorizations/{client_id}/deauthorize",
    response_model=WrittenOut,
    summary="Withdraw every scope the user granted the app; its tokens stop working",
)
def deauthorize(
    caller: Administrator,
    username: str,
    client_id: str,
    body: ReasonIn,
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> WrittenOut:
    result = ledger.deauthorize(client_id, username, caller.actor, body.reason)
    return WrittenOut(position=acknowledged(runtime, response, result.position))
