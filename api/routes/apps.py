"""Apps: registration, details, client secret, security settings, mode and status, approvals."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from api.auth import Administrator, AppManager, Reader
from api.dependencies import LedgerDep, RuntimeDep
from api.errors import LEDGER_ERROR_RESPONSES
from api.positions import CaughtUp, acknowledged, no_store, written
from api.schemas.apps import (
    AppDetailsChange,
    AppOut,
    AppRegistered,
    AppRegistration,
    ApprovalWithdrawal,
    SandboxUserOut,
    SecretRotatedOut,
    SecuritySettingsChange,
)
from api.schemas.common import ReasonIn, WrittenOut
from application.ledger import Ledger
from domain.apps import App
from domain.errors import UserNotFoundError

router = APIRouter(prefix="/v1/apps", tags=["apps"], responses=LEDGER_ERROR_RESPONSES)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AppRegistered,
    summary="Register an app; its client secret is shown only in this answer",
)
def register_app(
    caller: AppManager, body: AppRegistration, ledger: LedgerDep, response: Response
) -> AppRegistered:
    result = ledger.register_app(
        owner=body.owner or caller.principal,
        name=body.name,
        description=body.description,
        website=body.website,
        redirect_uris=body.redirect_uris,
        actor=caller.actor,
        company_name=body.company_name,
        contact_email=body.contact_email,
        privacy_policy_url=body.privacy_policy_url,
    )
    no_store(response)
    return AppRegistered(
        position=written(response, result.position),
        client_id=result.client_id,
        client_secret=result.client_secret,
    )


@router.get("/{client_id}", response_model=AppOut, summary="An app's details and state")
def get_app(caller: Reader, client_id: str, ledger: LedgerDep, _: CaughtUp) -> AppOut:
    app = ledger.app_seen_by(caller.key, client_id)
    return app_out(app, ledger)


def app_out(app: App, ledger: Ledger) -> AppOut:
    """The app as the API shows it: never its secret's digest or nonce."""
    catalogue = ledger.catalogue()
    return AppOut(
        client_id=app.client_id,
        owner=app.owner_username,
        name=app.name,
        description=app.description,
        website=app.website,
        company_name=app.company_name,
        contact_email=app.contact_email,
        privacy_policy_url=app.privacy_policy_url,
        redirect_uris=list(app.redirect_uris),
        mode=app.mode.value,
        effective_mode=app.effective_mode(catalogue.unreviewed_live_allowed).value,
        disabled=app.disabled,
        implicit_disabled=app.implicit_disabled,
        signed_requests_enforced=app.signed_requests_enforced,
        approved_scopes=list(app.approved_scopes),
        open_review_id=app.open_review_id.hex if app.open_review_id else None,
        sandbox_users=[
            SandboxUserOut(
                user_id=user_id.hex, username=_username(ledger, user_id), status=state.value
            )
            for user_id, state in app.sandbox_users.items()
        ],
    )


def _username(ledger: Ledger, user_id: UUID) -> str | None:
    try:
        return ledger.user_by_id(user_id).username
    except UserNotFoundError:
        return None


@router.patch("/{client_id}", response_model=WrittenOut, summary="Change an app's details")
def update_details(
    caller: AppManager,
    client_id: str,
    body: AppDetailsChange,
    ledger: LedgerDep,
    response: Response,
) -> WrittenOut:
    changes = body.model_dump(exclude_none=True)
    result = ledger.update_app_details(client_id, caller.actor, **changes)
    return WrittenOut(position=written(response, result.position))


@router.post(
    "/{client_id}/client-secret",
    response_model=SecretRotatedOut,
    summary="Rotate the client secret; the old one stops working at once",
)
def rotate_secret(
    caller: AppManager, client_id: str, ledger: LedgerDep, response: Response
) -> SecretRotatedOut:
    result = ledger.rotate_client_secret(client_id, caller.actor)
    no_store(response)
    return SecretRotatedOut(
        position=written(response, result.position), client_secret=result.client_secret
    )


@router.patch(
    "/{client_id}/security",
    response_model=WrittenOut,
    summary="Disable implicit OAuth / enforce signed requests",
)
def change_security(
    caller: AppManager,
    client_id: str,
    body: SecuritySettingsChange,
    ledger: LedgerDep,
    response: Response,
) -> WrittenOut:
    result = ledger.change_app_security(
        client_id,
        caller.actor,
        disable_implicit=body.disable_implicit,
        enforce_signed_requests=body.enforce_signed_requests,
    )
    return WrittenOut(position=written(response, result.position))


@router.post("/{client_id}/go-live", response_model=WrittenOut, summary="Switch to live mode")
def go_live(
    caller: AppManager, client_id: str, ledger: LedgerDep, response: Response
) -> WrittenOut:
    result = ledger.go_live(client_id, caller.actor)
    return WrittenOut(position=written(response, result.position))


@router.post(
    "/{client_id}/return-to-sandbox",
    response_model=WrittenOut,
    summary="Switch back to sandbox mode",
)
def return_to_sandbox(
    caller: AppManager,
    client_id: str,
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> WrittenOut:
    result = ledger.return_to_sandbox(client_id, caller.actor)
    return WrittenOut(position=acknowledged(runtime, response, result.position))


@router.post(
    "/{client_id}/disable",
    response_model=WrittenOut,
    summary="Disable the app; its tokens stop working",
)
def disable(
    caller: Administrator,
    client_id: str,
    body: ReasonIn,
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> WrittenOut:
    result = ledger.disable_app(client_id, caller.actor, body.reason)
    return WrittenOut(position=acknowledged(runtime, response, result.position))


@router.post("/{client_id}/enable", response_model=WrittenOut, summary="Enable a disabled app")
def enable(
    caller: Administrator,
    client_id: str,
    body: ReasonIn,
    ledger: LedgerDep,
    response: Response,
) -> WrittenOut:
    result = ledger.enable_app(client_id, caller.actor, body.reason)
    return WrittenOut(position=written(response, result.position))


@router.post(
    "/{client_id}/approvals/withdraw",
    response_model=WrittenOut,
    summary="Withdraw one approved permission, or the whole approval",
)
def withdraw_approval(
    caller: Administrator,
    client_id: str,
    body: ApprovalWithdrawal,
    ledger: LedgerDep,
    runtime: RuntimeDep,
    response: Response,
) -> WrittenOut:
    result = ledger.withdraw_approval(client_id, body.scope, caller.actor, body.reason)
    return WrittenOut(position=acknowledged(runtime, response, result.position))
