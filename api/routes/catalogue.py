"""The scope catalogue and the platform's scope policy over time."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import Administrator, Reader
from api.dependencies import LedgerDep, RuntimeDep
from api.errors import LEDGER_ERROR_RESPONSES
from api.positions import CaughtUp, acknowledged, written
from api.schemas.catalogue import CatalogueOut, ScopeIntroduction, ScopeOut
from api.schemas.common import ReasonIn, WrittenOut

router = APIRouter(prefix="/v1/catalogue", tags=["scope policy"], responses=LEDGER_ERROR_RESPONSES)


@router.get("", response_model=CatalogueOut, summary="Every scope and its policy")
def get_catalogue(caller: Reader, ledger: LedgerDep, _: CaughtUp) -> CatalogueOut:
    catalogue = ledger.catalogue()
    return CatalogueOut(
        scopes=[
            ScopeOut(
                name=name,
                description=p.description,
                applications_open=p.applications_open,
                retired=p.retired,
            )
            for name, p in catalogue.scopes.items()
        ],
        unreviewed_live_allowed=catalogue.unreviewed_live_allowed,
    )


@router.post(
    "/scopes",
    status_code=status.HTTP_201_CREATED,
    response_model=WrittenOut,
    summary="Introduce a scope",
)
def introduce(
    caller: Administrator, body: ScopeIntroduction, ledger: LedgerDep, response: Response
) -> WrittenOut:
    result = ledger.introduce_scope(
        body.name,
        body.description,
        applications_open=body.applications_open,
        actor=caller.actor,
        reason=body.reason,
    )
    return WrittenOut(position=written(response, result.position))


@router.post(
    "/scopes/{scope}/close-applications",
    response_model=WrittenOut,
    summary="Stop accepting reviews for a scope (approved apps keep it)",
)
def close_applications(
    caller: Administrator, scope: str, body: ReasonIn, ledger: LedgerDep, response: Response
) -> WrittenOut:
    result = ledger.close_scope_applications(scope, caller.actor, body.reason)
    return WrittenOut(position=written(response, result.position))


@router.post(
    "/scopes/{scope}/reopen-applications",
    response_model=WrittenOut,
    summary="Accept reviews for a scope again",
)
def reopen_applications(
    caller: Administrator, scope: str, body: ReasonIn, ledger: LedgerDep, response: Response
) -> WrittenOut:
    result = ledger.reopen_scope_applications(scope, caller.actor, body.reason)
    return WrittenOut(position=written(response, result.position))


@router.post(
    "/scopes/{scope}/retire",
    response_model=WrittenOut,
    summary="Switch a scope off for every app and token, for good",
)
def retire(
    caller: Administrator,
    scope: str,
    body: ReasonIn,
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> WrittenOut:
    result = ledger.retire_scope(scope, caller.actor, body.reason)
    return WrittenOut(position=acknowledged(runtime, response, result.position))


@router.post(
    "/allow-unreviewed-live",
    response_model=WrittenOut,
    summary="Let apps go live without an approved review",
)
def allow_unreviewed_live(
    caller: Administrator, body: ReasonIn, ledger: LedgerDep, response: Response
) -> WrittenOut:
    result = ledger.allow_unreviewed_live(caller.actor, body.reason)
    return WrittenOut(position=written(response, result.position))


@router.post(
    "/move-unreviewed-apps-to-sandbox",
    response_model=WrittenOut,
    summary="Put every app without an approved review back in sandbox mode",
)
def move_unreviewed_apps_to_sandbox(
    caller: Administrator,
    body: ReasonIn,
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> WrittenOut:
    result = ledger.move_unreviewed_apps_to_sandbox(caller.actor, body.reason)
    return WrittenOut(position=acknowledged(runtime, response, result.position))
