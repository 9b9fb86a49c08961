"""Signed-note checkpoints (infrastructure/audit/checkpoints.py).

Published vectors: golang.org/x/mod sumdb/note/note_test.go (PeterNeumann and EnochRoot keys
and signatures) and c2sp.org/signed-note's example (example.com/foo).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from infrastructure.audit import checkpoints as cp

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
    "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOT"
    "GwnWLox33WWd1RvMc+QQ=\n"
)
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6T"
    "fXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

ROOT = bytes(range(32))
WHEN = datetime(2026, 1, 1, 12, 30, 5, tzinfo=UTC)


def test_signing_reproduces_go_note_signature() -> None:
    signer = cp.parse_signer_key(PETER_SKEY)
    assert cp.sign_note(PETER_TEXT, [signer]) == PETER_TEXT + "\n" + PETER_SIG


def test_signer_key_derives_published_verifier_key() -> None:
    assert str(cp.parse_signer_key(PETER_SKEY).verifier()) == PETER_VKEY


def test_published_c2sp_example_note_verifies() -> None:
    text, signed_by = cp.open_note(C2SP_NOTE, [cp.parse_verifier_key(C2SP_VKEY)])
    assert (text, signed_by) == ("This is an example message.\n", ("example.com/foo",))


def test_note_with_two_signatures_verifies_against_either_key() -> None:
    note = PETER_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert cp.open_note(note, [cp.parse_verifier_key(ENOCH_VKEY)])[1] == ("EnochRoot",)
    assert cp.open_note(note, [cp.parse_verifier_key(PETER_VKEY)])[1] == ("PeterNeumann",)


def test_verifier_key_with_wrong_key_id_is_refused() -> None:
    with pytest.raises(cp.CheckpointError, match="key id does not match"):
        cp.parse_verifier_key(PETER_VKEY.replace("c74f20a3", "c74f20a4"))


def test_altered_note_text_is_rejected() -> None:
    note = PETER_TEXT.replace("answer", "Answer") + "\n" + PETER_SIG
    with pytest.raises(cp.CheckpointError, match="invalid signature for key PeterNeumann"):
        cp.open_note(note, [cp.parse_verifier_key(PETER_VKEY)])


def test_note_signed_only_by_unknown_key_is_rejected() -> None:
    with pytest.raises(cp.CheckpointError, match="no signature from a trusted key"):
        cp.open_note(PETER_TEXT + "\n" + PETER_SIG, [cp.parse_verifier_key(ENOCH_VKEY)])


def test_generated_key_signs_a_checkpoint_that_verifies() -> None:
    signer_text, verifier_text = cp.generate_key("ledger.example/log")
    note = cp.sign_checkpoint(
        cp.Checkpoint("ledger.example/log", 42, ROOT, WHEN), [cp.parse_signer_key(signer_text)]
    )
    verified = cp.verify_checkpoint(note, [cp.parse_verifier_key(verifier_text)])
    assert verified.checkpoint == cp.Checkpoint("ledger.example/log", 42, ROOT, WHEN)


def test_checkpoint_body_is_origin_size_root_then_time() -> None:
    body = cp.Checkpoint("ledger.example/log", 42, ROOT, WHEN).body()
    assert body == (
        f"ledger.example/log\n42\n{base64.b64encode(ROOT).decode()}\ntime 2026-01-01T12:30:05Z\n"
    )


def test_checkpoint_signed_by_old_key_verifies_after_rotation() -> None:
    old_signer, old_verifier = cp.generate_key("ledger.example/log")
    _, new_verifier = cp.generate_key("ledger.example/log")
    note = cp.sign_checkpoint(
        cp.Checkpoint("ledger.example/log", 1, ROOT, WHEN), [cp.parse_signer_key(old_signer)]
    )
    trusted = [cp.parse_verifier_key(new_verifier), cp.parse_verifier_key(old_verifier)]
    assert cp.verify_checkpoint(note, trusted).checkpoint.size == 1


def test_checkpoint_signed_by_retired_key_fails_when_its_key_is_not_supplied() -> None:
    old_signer, _ = cp.generate_key("ledger.example/log")
    _, new_verifier = cp.generate_key("ledger.example/log")
    note = cp.sign_checkpoint(
        cp.Checkpoint("ledger.example/log", 1, ROOT), [cp.parse_signer_key(old_signer)]
    )
    with pytest.raises(cp.CheckpointError, match="no signature from a trusted key"):
        cp.verify_checkpoint(note, [cp.parse_verifier_key(new_verifier)])


def test_checkpoint_with_altered_size_is_rejected() -> None:
    signer, verifier = cp.generate_key("ledger.example/log")
    note = cp.sign_checkpoint(
        cp.Checkpoint("ledger.example/log", 42, ROOT), [cp.parse_signer_key(signer)]
    )
    with pytest.raises(cp.CheckpointError, match="invalid signature"):
        cp.verify_checkpoint(note.replace("\n42\n", "\n43\n"), [cp.parse_verifier_key(verifier)])


def test_checkpoint_for_another_origin_is_rejected() -> None:
    signer, verifier = cp.generate_key("other.example/log")
    note = cp.sign_checkpoint(
        cp.Checkpoint("other.example/log", 1, ROOT), [cp.parse_signer_key(signer)]
    )
    with pytest.raises(cp.CheckpointError, match=r"not 'ledger\.example/log'"):
        cp.verify_checkpoint(note, [cp.parse_verifier_key(verifier)], origin="ledger.example/log")


def test_signer_key_repr_hides_the_seed() -> None:
    signer = cp.parse_signer_key(PETER_SKEY)
    assert "AYEKFALV" not in repr(signer)
    assert signer.seed.hex() not in repr(signer)


@pytest.mark.parametrize(
    "text",
    [
        "PeterNeumann+c74f20a3",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+not-base64!",
    ],
)
def test_malformed_verifier_key_is_refused(text: str) -> None:
    with pytest.raises(cp.CheckpointError):
        cp.parse_verifier_key(text)
