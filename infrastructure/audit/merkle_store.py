"""The log's Merkle tree and its signed checkpoints, stored beside the read models.

Three tables, plain SQL for SQLite (sqlite3) and PostgreSQL (psycopg 3) alike:

* ``audit_merkle_leaves(idx, position, hash)``: one row per leaf, in log order: leaf index,
  the event's position (notification id) and its leaf hash. The verifier compares these with
  the events to say which position was altered, removed, inserted or reordered.
* ``audit_merkle_nodes(level, idx, hash)``: every complete subtree above the leaves (level >= 1);
  node ``(level, idx)`` covers leaves ``[idx << level, (idx + 1) << level)``. Written once, when
  the leaf completing it arrives, never updated.
* ``audit_checkpoints(size, signed_at, root_hash, note)``: the signed checkpoints.

Roots and proofs need the O(log n) nodes named by ``domain.merkle``; each is fetched in one
query. One writer is assumed (the projector); a concurrent second writer fails on the primary
key and its transaction is rolled back, leaving the tree as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import merkle
from infrastructure.audit.checkpoints import Checkpoint, SignerKey, format_time, sign_checkpoint

LEAVES = "audit_merkle_leaves"
NODES = "audit_merkle_nodes"
CHECKPOINTS = "audit_checkpoints"


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint as stored: its size, root, signing time and the signed note."""

    size: int
    root_hash: bytes
    signed_at: str
    note: str


class MerkleStoreError(ValueError):
    """Raised when leaves are appended out of order or a proof is asked beyond the tree."""

    code = "merkle_store_error"


class MerkleStore:
    """The tree over one connection (``sqlite3.Connection`` or ``psycopg.Connection``).

    The store commits its own writes (``append``, ``add_checkpoint``); reads run in whatever
    transaction the connection is in. ``schema`` qualifies the tables (PostgreSQL).
    """

    def __init__(self, connection: Any, *, schema: str | None = None) -> None:
        self._conn = connection
        self._sqlite = isinstance(connection, sqlite3.Connection)
        blob = "BLOB" if self._sqlite else "BYTEA"
        self._blob = blob
        prefix = f'"{schema}".' if schema else ""
        self._leaves = prefix + LEAVES
        self._nodes = prefix + NODES
        self._checkpoints = prefix + CHECKPOINTS

    # --- plumbing ---

    def _sql(self, statement: str) -> str:
        return statement.replace("%s", "?") if self._sqlite else statement

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        cursor = self._conn.cursor()
        cursor.execute(self._sql(statement), params)
        return cursor

    def _commit(self) -> None:
        self._conn.commit()

    def create_tables(self) -> None:
        """Create the tables if they do not exist (idempotent)."""
        blob = self._blob
        for statement in (
            f"CREATE TABLE IF NOT EXISTS {self._leaves} (idx BIGINT PRIMARY KEY, "
            f"position BIGINT NOT NULL UNIQUE, hash {blob} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self._nodes} (level INTEGER NOT NULL, "
            f"idx BIGINT NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (level, idx))",
            f"CREATE TABLE IF NOT EXISTS {self._checkpoints} (size BIGINT NOT NULL, "
            f"signed_at TEXT NOT NULL, root_hash {blob} NOT NULL, note TEXT NOT NULL, "
            "PRIMARY KEY (size, signed_at))",
        ):
            self._execute(statement)
        self._commit()

    # --- reads ---

    def size(self) -> int:
        """Number of leaves in the tree."""
        row = self._execute(f"SELECT max(idx) FROM {self._leaves}").fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def last_position(self) -> int | None:
        """Position of the last leaf, or None for an empty tree: where the projector resumes."""
        size = self.size()
        return self.leaf(size - 1)[0] if size else None

    def leaf(self, index: int) -> tuple[int, bytes]:
        """``(position, leaf hash)`` of leaf ``index``."""
        row = self._execute(
            f"SELECT position, hash FROM {self._leaves} WHERE idx = %s",
            (index,),
        ).fetchone()
        if row is None:
            raise MerkleStoreError(f"no leaf {index} in a tree of size {self.size()}")
        return int(row[0]), bytes(row[1])

    def index_of(self, position: int) -> int | None:
        """Leaf index of the event at ``position`` (None if the tree does not hold it)."""
        row = self._execute(
            f"SELECT idx FROM {self._leaves} WHERE position = %s",
            (position,),
        ).fetchone()
        return None if row is None else int(row[0])

    def iter_leaves(self, start: int = 0, batch: int = 1000) -> Iterator[tuple[int, int, bytes]]:
        """``(index, position, leaf hash)`` for every leaf from ``start``, in batches."""
        while True:
            rows = self._execute(
                f"SELECT idx, position, hash FROM {self._leaves} "
                "WHERE idx >= %s ORDER BY idx LIMIT %s",
                (start, batch),
            ).fetchall()
            for idx, position, leaf_hash in rows:
                yield int(idx), int(position), bytes(leaf_hash)
            if len(rows) < batch:
                return
            start = int(rows[-1][0]) + 1

    def _fetch(self, nodes: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
        wanted = sorted(set(nodes))
        found: dict[merkle.Node, bytes] = {}
        leaves = [idx for level, idx in wanted if level == 0]
        if leaves:
            marks = ", ".join(["%s"] * len(leaves))
            for idx, leaf_hash in self._execute(
                f"SELECT idx, hash FROM {self._leaves} WHERE idx IN ({marks})",
                leaves,
            ).fetchall():
                found[(0, int(idx))] = bytes(leaf_hash)
        inner = [node for node in wanted if node[0] > 0]
        if inner:
            where = " OR ".join(["(level = %s AND idx = %s)"] * len(inner))
            params = [value for node in inner for value in node]
            for level, idx, node_hash in self._execute(
                f"SELECT level, idx, hash FROM {self._nodes} WHERE {where}",
                params,
            ).fetchall():
                found[(int(level), int(idx))] = bytes(node_hash)
        missing = [node for node in wanted if node not in found]
        if missing:
            raise MerkleStoreError(f"the stored tree lacks nodes {missing}")
        return found

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size():
            raise MerkleStoreError(f"tree size {size} is outside 0..{self.size()}")

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the tree of ``size`` leaves (default: all of them)."""
        size = self.size() if size is None else size
        self._check_size(size)
        found = self._fetch(merkle.root_nodes(size))
        return merkle.root_from(size, lambda level, idx: found[(level, idx)])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) (RFC 9162 §2.1.3.1) in one query."""
        size = self.size() if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise MerkleStoreError(f"leaf index {index} is outside a tree of size {size}")
        elements = merkle.inclusion_proof_nodes(index, size)
        found = self._fetch(node for nodes in elements for node in nodes)
        return merkle.inclusion_proof_from(index, size, lambda level, idx: found[(level, idx)])

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1) in one query."""
        new_size = self.size() if new_size is None else new_size
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise MerkleStoreError(f"old size {old_size} is outside 0..{new_size}")
        elements = merkle.consistency_proof_nodes(old_size, new_size)
        found = self._fetch(node for nodes in elements for node in nodes)
        return merkle.consistency_proof_from(
            old_size, new_size, lambda level, idx: found[(level, idx)]
        )

    # --- writes ---

    def append(self, entries: Iterable[tuple[int, bytes]]) -> int:
        """Append ``(position, leaf hash)`` pairs in log order; returns the new size.

        Positions must increase beyond the last stored one. Only the right edge (the compact
        range, O(log n) nodes) is read; each leaf writes itself and the subtrees it completes.
        """
        size = self.size()
        last = self.last_position()
        frontier = self._fetch(merkle.root_nodes(size))
        compact = merkle.CompactRange(size, [frontier[n] for n in merkle.root_nodes(size)])
        leaf_rows: list[tuple[int, int, bytes]] = []
        node_rows: list[tuple[int, int, bytes]] = []
        for position, leaf_hash in entries:
            if last is not None and position <= last:
                raise MerkleStoreError(f"position {position} does not follow position {last}")
            if len(leaf_hash) != merkle.HASH_SIZE:
                raise MerkleStoreError("a leaf hash is 32 bytes")
            index = compact.size
            for (level, idx), node_hash in compact.append(leaf_hash):
                if level:
                    node_rows.append((level, idx, node_hash))
            leaf_rows.append((index, position, leaf_hash))
            last = position
        try:
            cursor = self._conn.cursor()
            if leaf_rows:
                cursor.executemany(
                    self._sql(
                        f"INSERT INTO {self._leaves} (idx, position, hash) VALUES (%s, %s, %s)"
                    ),
                    leaf_rows,
                )
            if node_rows:
                cursor.executemany(
                    self._sql(f"INSERT INTO {self._nodes} (level, idx, hash) VALUES (%s, %s, %s)"),
                    node_rows,
                )
            self._commit()
        except Exception:
            self._conn.rollback()
            raise
        return compact.size

    def add_checkpoint(self, size: int, root_hash: bytes, signed_at: datetime, note: str) -> None:
        """Store a signed checkpoint (the caller signed it; see ``sign_and_store``)."""
        try:
            self._execute(
                f"INSERT INTO {self._checkpoints} (size, signed_at, root_hash, note) "
                "VALUES (%s, %s, %s, %s)",
                (size, format_time(signed_at), root_hash, note),
            )
            self._commit()
        except Exception:
            self._conn.rollback()
            raise

    def sign_and_store(
        self, origin: str, signers: Sequence[SignerKey], signed_at: datetime
    ) -> StoredCheckpoint:
        """Sign a checkpoint of the whole current tree and store it."""
        size = self.size()
        root_hash = self.root(size)
        note = sign_checkpoint(Checkpoint(origin, size, root_hash, signed_at), signers)
        self.add_checkpoint(size, root_hash, signed_at, note)
        return StoredCheckpoint(size, root_hash, format_time(signed_at), note)

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, by size then time."""
        rows = self._execute(
            f"SELECT size, root_hash, signed_at, note FROM {self._checkpoints} "
            "ORDER BY size, signed_at"
        ).fetchall()
        return [StoredCheckpoint(int(s), bytes(r), str(t), str(n)) for s, r, t, n in rows]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint signed last (the largest, of those signed in the same second)."""
        row = self._execute(
            f"SELECT size, root_hash, signed_at, note FROM {self._checkpoints} "
            "ORDER BY signed_at DESC, size DESC LIMIT 1"
        ).fetchone()
        return (
            None
            if row is None
            else StoredCheckpoint(int(row[0]), bytes(row[1]), str(row[2]), str(row[3]))
        )
