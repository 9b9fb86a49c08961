"""The stored Merkle tree (infrastructure/audit/merkle_store.py) on SQLite and PostgreSQL
answers the same roots and proofs as domain/merkle.py's reference functions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain import merkle
from infrastructure.audit import checkpoints as cp
from infrastructure.audit.merkle_store import MerkleStore, MerkleStoreError

N = 37
BATCHES = [1, 2, 5, 8, 1, 13, 7]  # sums to 37: crosses powers of two mid-batch


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MerkleStore]:
    if request.param == "sqlite":
        conn = sqlite3.connect(tmp_path / "audit.sqlite")
        schema = None
    else:
        import psycopg

        conn = psycopg.connect(request.getfixturevalue("postgres_url"))
        schema = request.getfixturevalue("postgres_schema")
    try:
        s = MerkleStore(conn, schema=schema)
        s.create_tables()
        yield s
    finally:
        conn.close()


def hashes(n: int) -> list[bytes]:
    return [merkle.hash_leaf(f"event {i}".encode()) for i in range(n)]


def fill(store: MerkleStore) -> list[bytes]:
    leaf_hashes = hashes(N)
    start = 0
    for batch in BATCHES:
        # positions with gaps, as PostgreSQL sequences may leave them
        store.append((10 + 3 * i, leaf_hashes[i]) for i in range(start, start + batch))
        start += batch
    return leaf_hashes


def test_empty_store_has_the_empty_root(store: MerkleStore) -> None:
    assert (store.size(), store.root()) == (0, merkle.EMPTY_ROOT)


def test_roots_after_batched_appends_match_reference(store: MerkleStore) -> None:
    leaf_hashes = fill(store)
    assert store.size() == N
    assert [store.root(n) for n in range(N + 1)] == [
        merkle.root_of_hashes(leaf_hashes[:n]) for n in range(N + 1)
    ]


def test_inclusion_proofs_match_reference_for_every_leaf_and_size(store: MerkleStore) -> None:
    leaf_hashes = fill(store)
    for n in (1, 2, 3, 8, 13, 16, 17, N):
        for i in range(n):
            assert store.inclusion_proof(i, n) == merkle.inclusion_proof(i, leaf_hashes[:n])


def test_consistency_proofs_match_reference(store: MerkleStore) -> None:
    leaf_hashes = fill(store)
    for n in (1, 7, 16, 21, N):
        for m in range(n + 1):
            assert store.consistency_proof(m, n) == merkle.consistency_proof(m, leaf_hashes[:n])


def test_leaves_keep_their_positions(store: MerkleStore) -> None:
    fill(store)
    assert (store.index_of(13), store.leaf(1)[0], store.last_position()) == (1, 13, 10 + 3 * 36)


def test_append_refuses_a_position_that_does_not_follow(store: MerkleStore) -> None:
    fill(store)
    with pytest.raises(MerkleStoreError, match="does not follow"):
        store.append([(5, merkle.hash_leaf(b"late"))])
    assert store.size() == N


def test_proof_beyond_the_tree_is_refused(store: MerkleStore) -> None:
    fill(store)
    with pytest.raises(MerkleStoreError, match="outside"):
        store.inclusion_proof(0, N + 1)


def test_signed_checkpoint_is_stored_and_verifies(store: MerkleStore) -> None:
    leaf_hashes = fill(store)
    signer, verifier = cp.generate_key("ledger.test/log")
    when = datetime(2026, 1, 1, tzinfo=UTC)
    store.sign_and_store("ledger.test/log", [cp.parse_signer_key(signer)], when)
    (stored,) = store.checkpoints()
    verified = cp.verify_checkpoint(stored.note, [cp.parse_verifier_key(verifier)])
    assert verified.checkpoint == cp.Checkpoint(
        "ledger.test/log", N, merkle.root_of_hashes(leaf_hashes), when
    )
