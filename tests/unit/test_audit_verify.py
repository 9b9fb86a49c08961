"""The audit pass (infrastructure/audit/verify.py) over in-memory logs: each kind of change is
found at the right position. The same changes made with SQL on real stores are in
tests/integration/test_audit_tampering.py."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

from domain import merkle
from infrastructure.audit import checkpoints as cp
from infrastructure.audit.verify import EventRow, Finding, verify_log

ORIGIN = "ledger.test/log"
SIGNER_TEXT, VERIFIER_TEXT = cp.generate_key(ORIGIN, seed=b"\x07" * 32)
SIGNER = cp.parse_signer_key(SIGNER_TEXT)
VERIFIERS = [cp.parse_verifier_key(VERIFIER_TEXT)]
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def log(positions: list[int]) -> list[EventRow]:
    return [
        EventRow(
            p,
            uuid.uuid5(uuid.NAMESPACE_URL, f"agg/{p % 3}"),
            p,
            "domain.x:Y",
            f'{{"n": {p}}}'.encode(),
        )
        for p in positions
    ]


def tree(events: list[EventRow]) -> list[tuple[int, int, bytes]]:
    return [(i, e.position, e.leaf_hash()) for i, e in enumerate(events)]


def note(leaves: list[tuple[int, int, bytes]], size: int) -> str:
    root_hash = merkle.root_of_hashes([h for _, _, h in leaves[:size]])
    return cp.sign_checkpoint(cp.Checkpoint(ORIGIN, size, root_hash, WHEN), [SIGNER])


EVENTS = log(list(range(1, 11)))
LEAVES = tree(EVENTS)
NOTES = [note(LEAVES, 4), note(LEAVES, 10)]


def audit(
    events: list[EventRow], leaves: list[tuple[int, int, bytes]] = LEAVES, notes: list[str] = NOTES
) -> tuple[Finding, int | None]:
    report = verify_log(events, leaves, notes, VERIFIERS, origin=ORIGIN)
    return report.finding, report.first_bad_position


def test_untouched_log_is_intact_through_its_last_position() -> None:
    report = verify_log(EVENTS, LEAVES, NOTES, VERIFIERS, origin=ORIGIN)
    assert (report.finding, report.intact_through, report.signed_through) == (
        Finding.INTACT,
        10,
        10,
    )


def test_events_past_the_tree_are_counted_as_uncovered() -> None:
    report = verify_log(log(list(range(1, 13))), LEAVES, NOTES, VERIFIERS)
    assert (report.intact, report.uncovered_events) == (True, 2)


def test_changed_state_is_reported_as_altered_at_its_position() -> None:
    events = [*EVENTS]
    events[4] = dataclasses.replace(events[4], state=b'{"n": 999}')
    assert audit(events) == (Finding.ALTERED, 5)


def test_deleted_event_is_reported_as_removed() -> None:
    assert audit([e for e in EVENTS if e.position != 6]) == (Finding.REMOVED, 6)


def test_deleted_last_event_is_reported_as_removed() -> None:
    assert audit(EVENTS[:-1]) == (Finding.REMOVED, 10)


def test_event_put_into_a_gap_is_reported_as_inserted() -> None:
    events = log([1, 2, 3, 5, 6])  # 4 was never written (a skipped sequence value)
    leaves = tree(events)
    forged = log([1, 2, 3, 4, 5, 6])
    assert audit(forged, leaves, [note(leaves, 5)]) == (Finding.INSERTED, 4)


def test_event_inserted_with_later_ids_renumbered_is_reported_as_inserted() -> None:
    shifted = [dataclasses.replace(e, position=e.position + 1) for e in EVENTS[2:]]
    forged = [*EVENTS[:2], EventRow(3, uuid.uuid4(), 1, "domain.x:Forged", b"{}"), *shifted]
    assert audit(forged) == (Finding.INSERTED, 3)


def test_event_deleted_with_later_ids_renumbered_is_reported_as_removed() -> None:
    shifted = [dataclasses.replace(e, position=e.position - 1) for e in EVENTS[3:]]
    assert audit([*EVENTS[:2], *shifted]) == (Finding.REMOVED, 3)


def test_swapped_events_are_reported_as_reordered_at_the_first() -> None:
    events = [*EVENTS]
    events[2], events[6] = (
        dataclasses.replace(events[6], position=3),
        dataclasses.replace(events[2], position=7),
    )
    assert audit(events) == (Finding.REORDERED, 3)


def test_rewritten_events_and_tree_are_caught_by_the_checkpoint() -> None:
    events = [*EVENTS]
    events[6] = dataclasses.replace(events[6], state=b'{"n": -1}')
    report = verify_log(events, tree(events), NOTES, VERIFIERS)
    assert (report.finding, report.intact_through) == (Finding.TREE_ALTERED, 4)


def test_truncated_log_and_tree_are_caught_by_the_checkpoint() -> None:
    report = verify_log(EVENTS[:8], LEAVES[:8], NOTES, VERIFIERS)
    assert (report.finding, report.intact_through) == (Finding.REMOVED, 4)


def test_edited_checkpoint_is_reported() -> None:
    forged = NOTES[1].replace("\n10\n", "\n11\n")
    assert audit(EVENTS, LEAVES, [NOTES[0], forged])[0] is Finding.BAD_CHECKPOINT


def test_checkpoint_from_an_untrusted_key_is_reported() -> None:
    other = cp.parse_signer_key(cp.generate_key(ORIGIN)[0])
    root_hash = merkle.root_of_hashes([h for _, _, h in LEAVES])
    stranger = cp.sign_checkpoint(cp.Checkpoint(ORIGIN, 10, root_hash, WHEN), [other])
    assert audit(EVENTS, LEAVES, [stranger])[0] is Finding.BAD_CHECKPOINT
