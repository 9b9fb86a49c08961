"""FastAPI dependencies that hand routes the objects opened at start-up.

Routes declare `ledger: LedgerDep` rather than reaching into `app.state`. They are `async` because
they do no I/O: FastAPI runs a plain `def` dependency in its thread pool, a hand-off that costs
more than reading an attribute. (The gateways' decision routes, the hot path, call `runtime_of`
instead: FastAPI resolving a dependency costs about as much again on every request.)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from application.ledger import Ledger
from infrastructure.ended_sessions import EndedSessions
from infrastructure.runtime import Runtime
from infrastructure.settings import Settings
from infrastructure.sign_in_throttle import SignInThrottle


async def get_ledger(request: Request) -> Ledger:
    """The process's one Ledger, opened by the app's lifespan."""
    ledger: Ledger = request.app.state.ledger
    return ledger


def runtime_of(request: Request) -> Runtime:
    """The process's ledger with its read models and projector."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


async def get_sign_in_throttle(request: Request) -> SignInThrottle:
    """Every process's count of failed password sign-ins, in the read-model database."""
    return runtime_of(request).sign_in_throttle


async def get_ended_sessions(request: Request) -> EndedSessions:
    """The OAuth-page sessions signed out before they expire, seen by every process."""
    return runtime_of(request).ended_sessions


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SignInThrottleDep = Annotated[SignInThrottle, Depends(get_sign_in_throttle)]
EndedSessionsDep = Annotated[EndedSessions, Depends(get_ended_sessions)]
