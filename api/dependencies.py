"""FastAPI dependencies that hand routes the objects opened at start-up.

Routes declare `ledger: LedgerDep` rather than reaching into `app.state`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from domain.ledger import Ledger
from infrastructure.runtime import Runtime
from infrastructure.settings import Settings


def get_ledger(request: Request) -> Ledger:
    """The process's one Ledger, opened by the app's lifespan."""
    ledger: Ledger = request.app.state.ledger
    return ledger


def get_runtime(request: Request) -> Runtime:
    """The process's ledger with its read models and projector."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
