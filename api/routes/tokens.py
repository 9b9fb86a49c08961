"""Access tokens, by id: revocation (the platform, or the app's owner) and expiry."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.auth import Administrator, AppManager
from api.dependencies import LedgerDep, RuntimeDep
from api.errors import LEDGER_ERROR_RESPONSES
from api.positions import acknowledged
from api.schemas.common import ReasonIn, WrittenOut

router = APIRouter(prefix="/v1/tokens", tags=["tokens"], responses=LEDGER_ERROR_RESPONSES)


@router.post(
    "/{token_id}/revoke",
    response_model=WrittenOut,
    summary="Revoke a token (the platform, or the owner of the token's app)",
)
def revoke(
    caller: AppManager,
    token_id: str,
    body: ReasonIn,
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> WrittenOut:
    result = ledger.revoke_token(caller.actor, token_id=token_id, reason=body.reason)
    return WrittenOut(position=acknowledged(runtime, response, result.position))


@router.post("/{token_id}/expire", response_model=WrittenOut, summary="Expire a token")
def expire(
    caller: Administrator,
    token_id: str,
    body: ReasonIn,
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> WrittenOut:
    result = ledger.expire_token(token_id, caller.actor, body.reason)
    return WrittenOut(position=acknowledged(runtime, response, result.position))
