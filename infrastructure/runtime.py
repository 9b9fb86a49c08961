"""One process's ledger: the write side, the read models, the projector keeping them level, the
sign-in throttle and the signed-out sessions (their tables beside the read models, shared by
every process).

Writes that take something away (revocations of tokens, grants, apps, approvals, scopes) are
acknowledged only once the read models have reached them: every process reads the same read
models, so from then on every process's checks deny.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from infrastructure.audit.trail import AuditConfig, AuditTrail
from infrastructure.ended_sessions import EndedSessions
from infrastructure.read_model.database import Database
from infrastructure.read_model.projector import Projector, ProjectorRunner
from infrastructure.read_model.queries import ReadModel
from infrastructure.sign_in_throttle import SignInThrottle

if TYPE_CHECKING:
    from application.ledger import Ledger
    from infrastructure.settings import Settings

ACKNOWLEDGE_TIMEOUT = 5.0


@dataclass
class Runtime:
    ledger: Ledger
    db: Database
    projector: Projector
    read_model: ReadModel
    sign_in_throttle: SignInThrottle
    ended_sessions: EndedSessions
    audit: AuditTrail
    runner: ProjectorRunner | None = None

    def acknowledge(self, position: int, timeout: float = ACKNOWLEDGE_TIMEOUT) -> int:
        """Waits until checks in every process see the write at ``position``."""
        if self.runner is None:
            self.projector.catch_up()
        return self.read_model.wait_for(position, timeout, bounded=False)

    def close(self) -> None:
        if self.runner is not None:
            self.runner.stop()
        self.audit.close()
        self.db.close()
        self.ledger.close()


def open_runtime_on(
    env: Mapping[str, str],
    *,
    secret_key: bytes,
    clock: Callable[[], datetime] | None = None,
    run_projector: bool = True,
    audit: AuditConfig | None = None,
) -> Runtime:
    """The ledger on the store an eventsourcing env describes, with its read models."""
    from application.ledger import Ledger

    ledger = Ledger(env, secret_key=secret_key, clock=clock)
    db = Database.from_env(env)
    trail = AuditTrail(db, ledger.recorder, audit, clock)
    projector = Projector(ledger.recorder, ledger.mapper, db, audit=trail)
    throttle = SignInThrottle(db, ledger.hasher)
    throttle.create_table()
    ended_sessions = EndedSessions(db, ledger.hasher)
    ended_sessions.create_table()
    runtime = Runtime(
        ledger,
        db,
        projector,
        ReadModel(db, ledger.hasher, ledger.position),
        throttle,
        ended_sessions,
        trail,
    )
    if run_projector:
        runtime.runner = ProjectorRunner(projector).start()
    return runtime


def open_runtime(
    settings: Settings, *, run_projector: bool = True, clock: Callable[[], datetime] | None = None
) -> Runtime:
    from infrastructure.persistence import ensure_postgres_schema, eventsourcing_env
    from infrastructure.settings import audit_config, secret_key_bytes

    if settings.database_url and settings.postgres_schema:
        ensure_postgres_schema(settings.database_url, settings.postgres_schema)
    return open_runtime_on(
        eventsourcing_env(settings),
        secret_key=secret_key_bytes(settings),
        clock=clock,
        run_projector=run_projector,
        audit=audit_config(settings),
    )
