"""The projector: follows the event log and applies it to the read models, batch by batch.

With SQLite it runs in a thread of the one service process. With PostgreSQL every service
process runs one, but only the holder of a session advisory lock projects; the others stand by
and take over within about a second when the holder's connection goes (a crash drops it).
Whoever projects resumes from the tracking position, so there is no gap and no duplicate.

A projector keeps the position it last wrote instead of reading it before every look at the log.
While idle it compares that position with the tracking row now and then: a rebuild (or a rebuild
that died half way) empties the read models under a running leader, and the leader must project
them again without waiting for a write to reveal the reset.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from psycopg import sql

from infrastructure.read_model.database import Database, PostgresDatabase
from infrastructure.read_model.projection import Batch
from infrastructure.read_model.schema import create_tables, reset_tables
from infrastructure.read_model.writer import ProjectionConflictError, read_position, write_batch

if TYPE_CHECKING:
    from infrastructure.audit.trail import AuditTrail

log = logging.getLogger(__name__)

DEFAULT_BATCH = 500
REBUILD_BATCH = 5000  # a rebuild has the whole log to read: fewer, larger transactions
RESET_CHECK_INTERVAL = 0.1  # seconds between an idle projector's looks for a reset
CHECKPOINT_CHECK_INTERVAL = 1.0  # seconds between the leader's looks for a checkpoint due


class Projector:
    """Applies the log after the tracking position to the read models."""

    def __init__(
        self,
        recorder: Any,
        mapper: Any,
        db: Database,
        batch_size: int = DEFAULT_BATCH,
        audit: AuditTrail | None = None,
    ) -> None:
        self.recorder = recorder
        self.audit = audit  # the log's Merkle tree, extended after each batch (not reset)
        self.mapper = mapper
        self.db = db
        self.batch_size = batch_size
        self._known: int | None = None  # the tracking position this projector last wrote
        create_tables(db)

    def position(self) -> int:
        with self.db.transaction() as cur:
            return read_position(self.db, cur)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Projects every stored event not yet applied; answers how many were."""
        position = self._known if self._known is not None else self.position()
        applied = 0
        while True:
            notifications = self.recorder.select_notifications(
                start=position + 1, limit=self.batch_size
            )
            if not notifications:
                return applied
            batch = Batch()
            for notification in notifications:
                batch.add(self.mapper.to_domain_event(notification), notification.id, notification)
            try:
                write_batch(self.db, batch, position)
            except BaseException:
                self._known = None
                raise
            if self.audit is not None:
                self.audit.follow(notifications, start=position + 1)
            position = self._known = batch.last_position
            applied += len(notifications)
            if progress is not None:
                progress(len(notifications))

    def notice_reset(self) -> bool:
        """Forgets the position this projector last wrote when the tracking row no longer
        holds it (the read models were reset by a rebuild); answers whether it did."""
        if self._known is None or self.position() == self._known:
            return False
        log.info("the read models were reset; projecting them again")
        self._known = None
        return True


def leadership_key(db: Database) -> int:
    """One advisory-lock key per read-model schema, so stores in one server don't contend."""
    schema = db.schema if isinstance(db, PostgresDatabase) else ""
    return zlib.crc32(f"token-ledger projector {schema}".encode())


class ProjectorRunner:
    """Runs a projector in a background thread until stopped (leader-elected on PostgreSQL)."""

    def __init__(
        self,
        projector: Projector,
        *,
        poll_interval: float = 0.002,
        standby_interval: float = 0.5,
        notify_timeout: float = 0.1,
        reset_check_interval: float = RESET_CHECK_INTERVAL,
    ) -> None:
        self.projector = projector
        self.reset_check_interval = reset_check_interval
        self.poll_interval = poll_interval  # SQLite: how often to look for new events
        self.notify_timeout = notify_timeout  # PostgreSQL: the longest wait between looks
        self.standby_interval = standby_interval
        self.stopping = threading.Event()
        self.is_leader = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="projector", daemon=True)

    def start(self) -> ProjectorRunner:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        db = self.projector.db
        while not self.stopping.is_set():
            try:
                if isinstance(db, PostgresDatabase):
                    self._lead_postgres(db)
                else:
                    self.is_leader.set()
                    self._project_until_stopped(
                        lambda: True, lambda: self.stopping.wait(self.poll_interval)
                    )
            except ProjectionConflictError:
                log.warning("another projector advanced the read models; standing by")
            except Exception as exc:  # keep projecting after a passing database fault
                self.error = exc
                log.exception("projector failed; retrying")
            finally:
                self.is_leader.clear()
            self.stopping.wait(self.standby_interval)

    def _lead_postgres(self, db: PostgresDatabase) -> None:
        with db.connect(autocommit=True) as conn:
            key = leadership_key(db)
            while not self.stopping.is_set():
                if conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
                    break
                self.stopping.wait(self.standby_interval)
            else:
                return
            self.is_leader.set()
            log.info("projector is the leader")
            channel = getattr(self.projector.recorder, "channel_name", None)
            if channel:  # the event store NOTIFYs this channel on every insert
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))

            def still_leader() -> bool:
                conn.execute("SELECT 1")  # raises if the lock's connection was lost
                return True

            def wait_for_events() -> None:
                if channel:
                    for _ in conn.notifies(timeout=self.notify_timeout, stop_after=1):
                        pass
                else:
                    self.stopping.wait(self.poll_interval)

            try:
                self._project_until_stopped(still_leader, wait_for_events)
            finally:
                self.is_leader.clear()  # before the lock goes, so two never both claim to lead
                if not conn.closed:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def _project_until_stopped(
        self, still_leader: Callable[[], bool], wait_for_events: Callable[[], object]
    ) -> None:
        idle = 0
        next_reset_check = time.monotonic() + self.reset_check_interval
        next_checkpoint_check = time.monotonic()
        audit = self.projector.audit
        while not self.stopping.is_set():
            if audit is not None and time.monotonic() >= next_checkpoint_check:
                next_checkpoint_check = time.monotonic() + CHECKPOINT_CHECK_INTERVAL
                try:
                    audit.checkpoint_if_due()
                except Exception:  # the read models go on; the next look tries again
                    log.exception("could not sign the audit checkpoint due")
            if self.projector.catch_up():
                idle = 0
                continue
            idle += 1
            if idle % 10 == 0 and not still_leader():
                return
            if time.monotonic() >= next_reset_check:
                next_reset_check = time.monotonic() + self.reset_check_interval
                if self.projector.notice_reset():
                    continue
            wait_for_events()


def rebuild(
    projector: Projector,
    progress: Callable[[int], None] | None = None,
    timeout: float | None = None,
) -> int:
    """Empties the read models and projects the whole log again; answers the events applied.

    Safe while services run: reads of "now" wait until the rebuilt models reach the furthest
    position ever projected. On PostgreSQL, if a service process holds the projector lock, that
    leader re-projects (it notices the reset within ``RESET_CHECK_INTERVAL``, idle or not) and
    this call follows its progress, taking the lock and projecting itself should the leader
    go; otherwise this call projects, holding the lock.
    """
    db = projector.db
    reset_tables(db)
    projector._known = None
    if not isinstance(db, PostgresDatabase):
        return _project_all(projector, progress)
    target = projector.recorder.max_notification_id() or 0
    deadline = None if timeout is None else time.monotonic() + timeout
    seen = 0
    with db.connect(autocommit=True) as conn:
        key = leadership_key(db)
        while True:
            if conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
                try:
                    start = projector.position()  # what a leader that went had projected
                    if progress is not None and start > seen:
                        progress(start - seen)
                    return start + _project_all(projector, progress)
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            reached = projector.position()  # the leading service's progress
            if progress is not None and reached > seen:
                progress(reached - seen)
            seen = max(seen, reached)
            if reached >= target:
                return reached
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"the leading projector reached {reached} of {target}")
            time.sleep(0.05)


def _project_all(projector: Projector, progress: Callable[[int], None] | None) -> int:
    applied = 0
    usual, projector.batch_size = projector.batch_size, max(projector.batch_size, REBUILD_BATCH)
    try:
        while True:
            try:
                return applied + projector.catch_up(progress)
            except ProjectionConflictError:  # a service's projector got there first: go on
                applied = projector.position()
    finally:
        projector.batch_size = usual
