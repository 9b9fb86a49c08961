"""The audit pass: does the stored event log still match its Merkle tree and signed checkpoints?

Three sources are compared, and only the checkpoints are trusted (they are signed):

1. **Checkpoints.** Every stored note must verify against the trusted verifier keys (old keys
   included, for rotation). One that does not → ``bad-checkpoint``.
2. **Stored tree vs checkpoints.** The stored leaf hashes are folded left to right and the root
   at each checkpoint's size must equal the signed root. This makes the stored leaves (the
   per-position leaf hashes) trustworthy up to the last matching checkpoint, so they can be
   used to *locate* a change. A root that differs means the leaves table itself was rewritten
   (``tree-altered``: somewhere after the previous good checkpoint); a checkpoint larger
   than the stored tree means the tree was cut short (``removed``).
3. **Events vs stored leaves**, merged in position order. Positions are the event store's
   notification ids: increasing, usually gap-free, but PostgreSQL sequences can skip ids when
   a transaction rolls back, so the tree records each leaf's position rather than assuming
   ``position = index + 1``. At the first leaf where the log disagrees:

   * the log has no event at the leaf's position (the next event is later, or the log ends)
     → ``removed`` at that position;
   * the log has an event at a position the tree never recorded, before the leaf's position
     → ``inserted`` at the event's position;
   * the event at the leaf's position hashes differently. Two look-aheads (``lookahead``
     leaves and events) tell why: (a) the event found there belongs at a later leaf (its
     content re-encoded with that leaf's position gives that leaf's hash); (b) the event that
     belongs here turns up later in the log (a later event re-encoded with this position
     gives this leaf's hash). Both → ``reordered`` (rows swapped); only (a) → ``removed``
     (a row deleted and the later ids renumbered down); only (b) → ``inserted`` (a row put in
     and the later ids renumbered up); neither → ``altered``.

Events after the tree's last leaf are not yet covered (the projector has not reached them);
they are counted, not judged: an event appended at the end cannot be told from a new one
until a checkpoint covers it. Everything up to the last matching checkpoint is proved by
signatures; the report's ``signed_through`` says where that ends.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from typing import Any
from uuid import UUID

from domain import merkle
from infrastructure.audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    VerifierKey,
    verify_checkpoint,
)


@dataclass(frozen=True)
class EventRow:
    """One stored event as the recorder persisted it."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes

    def bundle_event(self) -> dict[str, Any]:
        """This event as the ``event`` object of a proof bundle (see ``proof_verifier``)."""
        return {
            "position": self.position,
            "originator_id": str(self.originator_id),
            "originator_version": self.originator_version,
            "topic": self.topic,
            "state": base64.b64encode(self.state).decode(),
        }

    def leaf_hash(self, position: int | None = None) -> bytes:
        """The Merkle leaf hash of this event (at another position, to test for a move)."""
        return merkle.hash_leaf(
            merkle.event_leaf(
                self.position if position is None else position,
                self.originator_id,
                self.originator_version,
                self.topic,
                self.state,
            )
        )


class Finding(StrEnum):
    """What the audit found first."""

    INTACT = "intact"
    ALTERED = "altered"
    REMOVED = "removed"
    INSERTED = "inserted"
    REORDERED = "reordered"
    TREE_ALTERED = "tree-altered"
    BAD_CHECKPOINT = "bad-checkpoint"


@dataclass(frozen=True)
class AuditReport:
    """The audit's answer: intact up to ``intact_through``, or the first divergence.

    ``first_bad_position`` is None when the change can only be bounded, not located
    (``tree-altered``: after ``intact_through``, at or before ``bad_checkpoint_size`` leaves).
    """

    finding: Finding
    intact_through: int | None  # last position whose event matches the tree (None: none do)
    signed_through: int | None  # last position also covered by a verified, matching checkpoint
    first_bad_position: int | None
    detail: str
    tree_size: int
    checkpoints_verified: int
    uncovered_events: int = 0

    @property
    def intact(self) -> bool:
        return self.finding is Finding.INTACT


def iter_stored_events(
    connection: Any,
    table: str,
    *,
    schema: str | None = None,
    after: int = 0,
    batch: int = 1000,
) -> Iterator[EventRow]:
    """Read an eventsourcing recorder's table in position order (sqlite3 or psycopg 3).

    SQLite's table is ``stored_events`` and its position is the ``rowid``; PostgreSQL's is
    ``<application name>_events`` in the configured schema (``ledger_events``) with a
    ``notification_id`` column. Starts after position ``after``; works in batches so the log
    need not fit in memory.
    """
    import sqlite3

    sqlite = isinstance(connection, sqlite3.Connection)
    mark, column = ("?", "rowid") if sqlite else ("%s", "notification_id")
    name = f'"{schema}"."{table}"' if schema else f'"{table}"'
    statement = (
        f"SELECT {column}, originator_id, originator_version, topic, state "
        f"FROM {name} WHERE {column} > {mark} ORDER BY {column} LIMIT {mark}"
    )
    while True:
        cursor = connection.cursor()
        cursor.execute(statement, (after, batch))
        rows = cursor.fetchall()
        for position, originator_id, version, topic, state in rows:
            yield EventRow(
                int(position), UUID(str(originator_id)), int(version), str(topic), bytes(state)
            )
        if len(rows) < batch:
            return
        after = int(rows[-1][0])


def verify_log(
    events: Iterable[EventRow],
    leaves: Iterable[tuple[int, int, bytes]],
    notes: Iterable[str],
    verifiers: Sequence[VerifierKey],
    *,
    origin: str | None = None,
    lookahead: int = 1000,
) -> AuditReport:
    """Audit the log. ``leaves`` are the stored ``(index, position, leaf hash)`` in index
    order (``MerkleStore.iter_leaves()``); ``notes`` the stored signed checkpoints.

    The leaves are held in memory (about 100 bytes each) because they are read twice: once
    against the checkpoints, once against the events.
    """
    leaf_list = leaves if isinstance(leaves, Sequence) else list(leaves)
    checkpoints: list[Checkpoint] = []
    for note in notes:
        try:
            checkpoints.append(verify_checkpoint(note, verifiers, origin).checkpoint)
        except CheckpointError as exc:
            return AuditReport(
                Finding.BAD_CHECKPOINT,
                None,
                None,
                None,
                f"a stored checkpoint does not verify: {exc}",
                len(leaf_list),
                0,
            )
    checkpoints.sort(key=lambda c: c.size)

    # 2. Stored tree against the signed checkpoints.
    good_size, tree_problem = _check_tree(leaf_list, checkpoints)

    # 3. Events against stored leaves.
    events_iter = iter(events)
    pending = next(events_iter, None)
    last_good: int | None = None
    for i, (_, position, leaf_hash) in enumerate(leaf_list):
        finding, bad = _compare(pending, events_iter, position, leaf_hash, leaf_list, i, lookahead)
        if finding is not None:
            signed = _position_at(leaf_list, min(good_size, i))
            if tree_problem is not None and good_size <= i:
                return _tree_report(
                    tree_problem,
                    leaf_list,
                    good_size,
                    len(checkpoints),
                    f"; also, {finding} at position {bad}",
                )
            return AuditReport(
                finding,
                last_good,
                signed,
                bad,
                f"{finding} at position {bad}",
                len(leaf_list),
                len(checkpoints),
            )
        last_good = position
        pending = next(events_iter, None)
    if tree_problem is not None:
        return _tree_report(tree_problem, leaf_list, good_size, len(checkpoints), "")
    uncovered = 0 if pending is None else 1 + sum(1 for _ in events_iter)
    signed = _position_at(leaf_list, good_size)
    return AuditReport(
        Finding.INTACT,
        last_good,
        signed,
        None,
        f"intact up to position {last_good}" if last_good is not None else "the tree is empty",
        len(leaf_list),
        len(checkpoints),
        uncovered,
    )


def _position_at(leaves: Sequence[tuple[int, int, bytes]], size: int) -> int | None:
    """Position of the last leaf of a tree of ``size`` leaves."""
    return leaves[size - 1][1] if size else None


def _check_tree(
    leaves: Sequence[tuple[int, int, bytes]], checkpoints: Sequence[Checkpoint]
) -> tuple[int, tuple[Finding, str] | None]:
    """Largest checkpoint size the stored leaves match, and what is wrong past it, if any."""
    compact = merkle.CompactRange()
    good = 0
    pending = list(checkpoints)
    while pending and pending[0].size == 0:
        if pending.pop(0).root_hash != merkle.EMPTY_ROOT:
            return 0, (Finding.TREE_ALTERED, "a checkpoint of the empty tree has a wrong root")
    for _, _, leaf_hash in leaves:
        compact.append(leaf_hash)
        while pending and pending[0].size == compact.size:
            if pending.pop(0).root_hash != compact.root():
                return good, (
                    Finding.TREE_ALTERED,
                    f"the stored tree's root at size "
                    f"{compact.size} differs from its signed checkpoint",
                )
            good = compact.size
    if pending:
        return good, (
            Finding.REMOVED,
            f"a checkpoint covers {pending[-1].size} leaves but the "
            f"stored tree has only {compact.size}",
        )
    return good, None


def _tree_report(
    problem: tuple[Finding, str],
    leaves: Sequence[tuple[int, int, bytes]],
    good_size: int,
    checkpoints: int,
    extra: str,
) -> AuditReport:
    finding, text = problem
    through = _position_at(leaves, good_size)
    return AuditReport(
        finding,
        through,
        through,
        None,
        f"{text}; intact up to position {through}{extra}",
        len(leaves),
        checkpoints,
    )


def _compare(
    event: EventRow | None,
    later_events: Iterator[EventRow],
    position: int,
    leaf_hash: bytes,
    leaves: Sequence[tuple[int, int, bytes]],
    index: int,
    lookahead: int,
) -> tuple[Finding | None, int | None]:
    if event is None or event.position > position:
        return Finding.REMOVED, position
    if event.position < position:
        return Finding.INSERTED, event.position
    if event.leaf_hash() == leaf_hash:
        return None, None
    # Only reached once, at the first divergence: the look-aheads cost O(lookahead) hashes.
    moved_here = any(
        event.leaf_hash(later_position) == later_hash
        for _, later_position, later_hash in islice(leaves, index + 1, index + 1 + lookahead)
    )
    pushed_later = any(
        later.leaf_hash(position) == leaf_hash for later in islice(later_events, lookahead)
    )
    if moved_here and pushed_later:
        return Finding.REORDERED, position
    if moved_here:
        return Finding.REMOVED, position
    if pushed_later:
        return Finding.INSERTED, position
    return Finding.ALTERED, position


def audit_store(
    store: Any,
    events: Iterable[EventRow],
    verifiers: Sequence[VerifierKey],
    *,
    origin: str | None = None,
) -> AuditReport:
    """``verify_log`` over a ``MerkleStore``'s leaves and checkpoints."""
    return verify_log(
        events,
        list(store.iter_leaves()),
        [c.note for c in store.checkpoints()],
        verifiers,
        origin=origin,
    )


def extend_tree(store: Any, events: Iterable[EventRow]) -> int:
    """Append to a ``MerkleStore`` the events after its last leaf; returns the new size.

    For the projector (or a CLI catch-up): ``extend_tree(store, iter_stored_events(conn,
    table, after=store.last_position() or 0))``. Events at or before the last leaf are skipped.
    """
    last = store.last_position() or 0
    return int(store.append((e.position, e.leaf_hash()) for e in events if e.position > last))
