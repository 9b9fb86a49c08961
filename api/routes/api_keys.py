"""API keys: created and revoked by admins (the first admin key comes from `ledger keys`)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import Administrator
from api.dependencies import LedgerDep
from api.errors import LEDGER_ERROR_RESPONSES
from api.positions import no_store, written
from api.schemas.api_keys import ApiKeyCreatedOut, ApiKeyCreation, ApiKeyOut
from api.schemas.common import ReasonIn, WrittenOut

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"], responses=LEDGER_ERROR_RESPONSES)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreatedOut,
    summary="Create an API key; the key is shown only in this answer",
)
def create(
    caller: Administrator, body: ApiKeyCreation, ledger: LedgerDep, response: Response
) -> ApiKeyCreatedOut:
    result = ledger.create_api_key(
        name=body.name, role=body.role, principal=body.principal, actor=caller.actor
    )
    no_store(response)
    return ApiKeyCreatedOut(
        position=written(response, result.position),
        key_id=str(result.id),
        name=result.name,
        role=result.key_role,
        principal=result.principal,
        key=result.key,
    )


@router.get("", response_model=list[ApiKeyOut], summary="Every API key (never the keys)")
def list_keys(caller: Administrator, ledger: LedgerDep) -> list[ApiKeyOut]:
    return [
        ApiKeyOut(
            key_id=str(key.id),
            name=key.name,
            role=key.key_role,
            principal=key.principal,
            revoked=key.revoked,
            created_by=key.created_by,
        )
        for key in ledger.api_keys()
    ]


@router.post(
    "/{key_id}/revoke",
    response_model=WrittenOut,
    summary="Revoke an API key; it stops working on the next request",
)
def revoke(
    caller: Administrator, key_id: str, body: ReasonIn, ledger: LedgerDep, response: Response
) -> WrittenOut:
    result = ledger.revoke_api_key(key_id, caller.actor, body.reason)
    return WrittenOut(position=written(response, result.position))
