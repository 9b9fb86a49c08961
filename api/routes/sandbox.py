"""Sandbox users: invitations by the app's owner, acceptance by the user, removal."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import AppManager
from api.dependencies import LedgerDep, RuntimeDep
from api.errors import LEDGER_ERROR_RESPONSES
from api.positions import acknowledged, written
from api.schemas.apps import SandboxInvitation
from api.schemas.common import ReasonIn, WrittenOut

router = APIRouter(
    prefix="/v1/apps/{client_id}/sandbox-users",
    tags=["sandbox users"],
    responses=LEDGER_ERROR_RESPONSES,
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WrittenOut,
    summary="Invite a user as a sandbox user",
)
def invite(
    caller: AppManager,
    client_id: str,
    body: SandboxInvitation,
    ledger: LedgerDep,
    response: Response,
) -> WrittenOut:
    result = ledger.invite_sandbox_user(client_id, body.username, caller.actor)
    return WrittenOut(position=written(response, result.position))


@router.post(
    "/{username}/accept",
    response_model=WrittenOut,
    summary="Accept an invitation: by the user (a developer key named after them), or "
    "by an admin on the user's behalf (the admin is recorded)",
)
def accept(
    caller: AppManager, client_id: str, username: str, ledger: LedgerDep, response: Response
) -> WrittenOut:
    result = ledger.accept_sandbox_invitation(client_id, username, caller.actor)
    return WrittenOut(position=written(response, result.position))


@router.post(
    "/{username}/remove",
    response_model=WrittenOut,
    summary="Remove a sandbox user or withdraw an invitation",
)
def remove(
    caller: AppManager,
    client_id: str,
    username: str,
    body: ReasonIn,
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> WrittenOut:
    result = ledger.remove_sandbox_user(client_id, username, caller.actor, body.reason)
    return WrittenOut(position=acknowledged(runtime, response, result.position))
