"""Liveness and store position, for load balancers and for a quick look by a human."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.dependencies import LedgerDep, SettingsDep
from api.errors import LEDGER_ERROR_RESPONSES, STORE_ERRORS, store_unavailable

router = APIRouter(tags=["health"])

UNREACHABLE = "The event store cannot be reached"


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    backend: Literal["sqlite", "postgres"]
    position: int = Field(description="Id of the newest event in the log (0 when empty).")


@router.get(
    "/health",
    response_model=Health,
    summary="Service health and log position",
    responses={503: LEDGER_ERROR_RESPONSES[503]},
)
def health(ledger: LedgerDep, settings: SettingsDep) -> Health:
    """Reads from the store before answering, so "ok" means the store answers too; when it
    does not within the database timeout, 503 ``store_unavailable`` says so."""
    # A plain def: FastAPI runs it in a worker thread, so the blocking read is fine.
    try:
        position = ledger.recorder.max_notification_id() or 0
    except STORE_ERRORS as error:
        raise store_unavailable(error, f"{UNREACHABLE} ({settings.backend})") from None
    return Health(backend=settings.backend, position=position)
