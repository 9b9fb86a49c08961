"""Liveness and store position, for load balancers and for a quick look by a human."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.dependencies import LedgerDep, SettingsDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    backend: Literal["sqlite", "postgres"]
    position: int = Field(description="Id of the newest event in the log (0 when empty).")


@router.get("/health", response_model=Health, summary="Service health and log position")
def health(ledger: LedgerDep, settings: SettingsDep) -> Health:
    """Reads from the store before answering, so "ok" means the store answers too."""
    # A plain def: FastAPI runs it in a worker thread, so the blocking read is fine.
    position = ledger.recorder.max_notification_id() or 0
    return Health(backend=settings.backend, position=position)
