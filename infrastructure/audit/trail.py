"""The audit trail of a running ledger: its Merkle tree kept level with the log, signed
checkpoints on a schedule, proofs and the audit pass.

The tree lives beside the read models (same SQLite file, same PostgreSQL schema) on a dedicated
connection, but it is evidence, not a read model: a rebuild leaves it alone, nothing ever
rewrites it, and when it is behind the log it is extended from where it is. The projector
extends it after each batch it projects (on PostgreSQL only the leader projects), with the
batch it already read, so keeping it costs no second read of the log.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.errors import AuditProofNotFoundError, CheckpointSigningDisabledError, InvalidInputError
from infrastructure.audit.checkpoints import SignerKey, VerifierKey
from infrastructure.audit.merkle_store import MerkleStore, MerkleStoreError, StoredCheckpoint
from infrastructure.audit.proof_verifier import consistency_bundle, inclusion_bundle
from infrastructure.audit.verify import AuditReport, EventRow, audit_store, iter_stored_events
from infrastructure.read_model.database import Database, PostgresDatabase, SQLiteDatabase

log = logging.getLogger(__name__)

DEFAULT_ORIGIN = "token-ledger"
CATCH_UP_BATCH = 5000  # events read per query when the tree is behind the log


@dataclass(frozen=True)
class AuditConfig:
    """Who signs checkpoints, which keys verify them, and how often the leader signs one."""

    origin: str = DEFAULT_ORIGIN
    signer: SignerKey | None = None
    verifiers: tuple[VerifierKey, ...] = ()  # besides the signer's own (e.g. retired keys)
    interval: float = 0  # seconds between automatic checkpoints; 0 = none

    def trusted(self) -> list[VerifierKey]:
        """Every key a checkpoint may verify with: the signer's, then the extra ones."""
        keys = ([self.signer.verifier()] if self.signer else []) + list(self.verifiers)
        return list(dict.fromkeys(keys))


def report_body(report: AuditReport) -> dict[str, Any]:
    """An audit report as JSON (the CLI prints it, the REST API answers it)."""
    return {
        "intact": report.intact,
        "finding": report.finding.value,
        "intact_through": report.intact_through,
        "signed_through": report.signed_through,
        "first_bad_position": report.first_bad_position,
        "detail": report.detail,
        "tree_size": report.tree_size,
        "checkpoints_verified": report.checkpoints_verified,
        "uncovered_events": report.uncovered_events,
    }


def checkpoint_body(checkpoint: StoredCheckpoint) -> dict[str, Any]:
    import base64

    return {
        "size": checkpoint.size,
        "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
        "signed_at": checkpoint.signed_at,
        "note": checkpoint.note,
    }


def _row(notification: Any) -> EventRow:
    return EventRow(
        int(notification.id),
        UUID(str(notification.originator_id)),
        int(notification.originator_version),
        str(notification.topic),
        bytes(notification.state),
    )


# Another writer (a second process) appended or signed first: the tree is as it should be.
_RACE_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, MerkleStoreError)
try:
    import psycopg

    _RACE_ERRORS += (psycopg.IntegrityError,)
except ImportError:  # pragma: no cover - psycopg is a dependency
    pass


class AuditTrail:
    """The tree and checkpoints of one ledger's log, over one connection of its own."""

    def __init__(
        self,
        db: Database,
        recorder: Any,
        config: AuditConfig | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.recorder = recorder
        self.config = config or AuditConfig()
        self.clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._conn: Any = None
        self._store: MerkleStore | None = None

    # --- connections ---

    def _open(self) -> tuple[Any, MerkleStore]:
        if isinstance(self.db, SQLiteDatabase):
            conn: Any = sqlite3.connect(self.db.path, check_same_thread=False, timeout=30)
            # As the read models' connections: a commit does not wait for the disk. The tree is
            # extended again from the log after a power cut, and a lost checkpoint re-signed.
            conn.execute("PRAGMA synchronous=NORMAL")
            store = MerkleStore(conn)
        elif isinstance(self.db, PostgresDatabase):
            conn = self.db.connect()
            store = MerkleStore(conn, schema=self.db.schema)
        else:  # pragma: no cover - the two databases above are the only ones
            raise TypeError(f"no audit trail on {type(self.db).__name__}")
        for attempt in (1, 2):  # two processes creating the tables at once: one loses, retries
            try:
                store.create_tables()
                break
            except _RACE_ERRORS:
                conn.rollback()
                if attempt == 2:
                    raise
        return conn, store

    @contextmanager
    def _using(self) -> Iterator[MerkleStore]:
        """The trail's store, one caller at a time; any read transaction is ended after."""
        with self._lock:
            if self._store is None:
                self._conn, self._store = self._open()
            try:
                yield self._store
            finally:
                try:
                    self._conn.rollback()
                except Exception:  # a broken connection: open a new one next time
                    self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with suppress(Exception):  # closing a broken connection
                    self._conn.close()
            self._conn = self._store = None

    # --- keeping the tree level with the log ---

    def extend(self, notifications: Sequence[Any] = (), start: int | None = None) -> int:
        """Append to the tree the events after its last leaf; answers the tree's size.

        ``notifications`` are a batch just read from the log from position ``start`` on (the
        projector's): when the tree already reaches ``start - 1`` they are all it needs, else
        the log is read from the tree's end first. With no batch, reads the log to its end.
        """
        with self._using() as store:
            for attempt in (1, 2):
                try:
                    return self._extend(store, notifications, start)
                except _RACE_ERRORS:  # another process extended it first: look again
                    self._conn.rollback()
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _extend(self, store: MerkleStore, notifications: Sequence[Any], start: int | None) -> int:
        last = store.last_position() or 0
        size = store.size()
        if start is None or start > last + 1:
            stop = None if start is None else start - 1
            while True:
                page = self.recorder.select_notifications(
                    start=last + 1, limit=CATCH_UP_BATCH, stop=stop
                )
                if not page:
                    break
                size = store.append((n.id, _row(n).leaf_hash()) for n in page)
                last = page[-1].id
        fresh = [n for n in notifications if n.id > last]
        if fresh:
            size = store.append((n.id, _row(n).leaf_hash()) for n in fresh)
        return size

    def follow(self, notifications: Sequence[Any], start: int) -> None:
        """``extend`` for the projector: a fault of the trail is logged, never stops the read
        models (the next batch extends the tree from where it is)."""
        try:
            self.extend(notifications, start)
        except Exception:
            log.exception("could not extend the audit tree; will retry with the next batch")

    # --- checkpoints ---

    def checkpoint(self) -> StoredCheckpoint:
        """Extend the tree to the log's end and sign a checkpoint of it now."""
        signer = self.config.signer
        if signer is None:
            raise CheckpointSigningDisabledError(
                "No checkpoint signer key is configured: set LEDGER_CHECKPOINT_SIGNER_KEY "
                "(`ledger audit keygen` makes one)"
            )
        self.extend()
        now = self.clock().replace(microsecond=0)
        with self._using() as store:
            try:
                return store.sign_and_store(self.config.origin, [signer], now)
            except _RACE_ERRORS:  # one of this size was signed this very second
                self._conn.rollback()
                latest = store.latest_checkpoint()
                if latest is None:
                    raise
                return latest

    def checkpoint_if_due(self) -> StoredCheckpoint | None:
        """For the leader, now and then: sign when the tree grew and ``interval`` has passed
        since the last checkpoint (at once when there is none)."""
        if self.config.signer is None or self.config.interval <= 0:
            return None
        with self._using() as store:
            size = store.size()
            latest = store.latest_checkpoint()
        if size == 0 or (latest is not None and latest.size >= size):
            return None
        if latest is not None:
            signed_at = datetime.strptime(latest.signed_at, "%Y-%m-%dT%H:%M:%SZ")
            elapsed = self.clock() - signed_at.replace(tzinfo=UTC)
            if elapsed.total_seconds() < self.config.interval:
                return None
        return self.checkpoint()

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self._using() as store:
            return store.checkpoints()

    # --- proofs ---

    def inclusion_proof(self, position: int, checkpoint_size: int | None = None) -> dict[str, Any]:
        """A bundle (``proof_verifier``'s format) proving the event at ``position`` is in a
        signed checkpoint: the latest one by default, or the one of ``checkpoint_size``."""
        with self._using() as store:
            index = store.index_of(position)
            if index is None:
                raise AuditProofNotFoundError(
                    f"Log position {position} is not in the audit tree (no such event, or the "
                    "tree has not reached it yet)"
                )
            if checkpoint_size is None:
                checkpoint = store.latest_checkpoint()
                if checkpoint is None or checkpoint.size <= index:
                    raise AuditProofNotFoundError(
                        f"No signed checkpoint covers log position {position} yet; sign one "
                        "(`ledger audit checkpoint`) or wait for the next"
                    )
            else:
                checkpoint = self._checkpoint_of_size(store, checkpoint_size)
                if checkpoint.size <= index:
                    raise InvalidInputError(
                        f"The checkpoint of tree size {checkpoint_size} does not cover log "
                        f"position {position} (leaf {index})"
                    )
            return self._inclusion(store, position, index, checkpoint)

    def inclusion_proofs(self, positions: Iterable[int]) -> dict[int, dict[str, Any] | None]:
        """For ``explain``: a bundle per position in the latest checkpoint, None for positions
        it does not cover yet. One query per proof, one for the checkpoint."""
        with self._using() as store:
            checkpoint = store.latest_checkpoint()
            found: dict[int, dict[str, Any] | None] = {}
            for position in dict.fromkeys(positions):
                index = store.index_of(position)
                found[position] = (
                    self._inclusion(store, position, index, checkpoint)
                    if checkpoint is not None and index is not None and index < checkpoint.size
                    else None
                )
            return found

    def _inclusion(
        self, store: MerkleStore, position: int, index: int, checkpoint: StoredCheckpoint
    ) -> dict[str, Any]:
        _, leaf_hash = store.leaf(index)
        proof = store.inclusion_proof(index, checkpoint.size)
        page = self.recorder.select_notifications(start=position, limit=1, stop=position)
        event = _row(page[0]).bundle_event() if page and page[0].id == position else None
        bundle = inclusion_bundle(checkpoint.note, index, proof, leaf_hash=leaf_hash, event=event)
        bundle["position"] = position
        return bundle

    def consistency_proof(self, old_size: int, new_size: int) -> dict[str, Any]:
        """A bundle proving the stored checkpoint of ``old_size`` is a prefix of ``new_size``'s."""
        if old_size > new_size:
            raise InvalidInputError(
                f"old_size ({old_size}) must not be larger than new_size ({new_size})"
            )
        with self._using() as store:
            old = self._checkpoint_of_size(store, old_size)
            new = self._checkpoint_of_size(store, new_size)
            proof = store.consistency_proof(old_size, new_size)
            return consistency_bundle(old.note, new.note, proof)

    @staticmethod
    def _checkpoint_of_size(store: MerkleStore, size: int) -> StoredCheckpoint:
        matching = [c for c in store.checkpoints() if c.size == size]
        if not matching:
            raise AuditProofNotFoundError(f"No signed checkpoint of tree size {size} is stored")
        return matching[-1]

    # --- the audit pass ---

    def verify(self) -> AuditReport:
        """Recompute the tree from the stored events and check every checkpoint (on a
        connection of its own, so the projector goes on meanwhile)."""
        conn, store = self._open()
        try:
            schema = self.db.schema if isinstance(self.db, PostgresDatabase) else None
            table = self.recorder.events_table_name
            events = iter_stored_events(conn, table, schema=schema)
            return audit_store(store, events, self.config.trusted(), origin=self.config.origin)
        finally:
            conn.close()
