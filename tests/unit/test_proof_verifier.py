"""The stand-alone proof verifier (infrastructure/audit/proof_verifier.py)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import sysconfig
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from domain import merkle
from infrastructure.audit import checkpoints as cp
from infrastructure.audit import proof_verifier as pv

ORIGIN = "ledger.test/log"
OLD_SIGNER, OLD_VERIFIER = cp.generate_key(ORIGIN)
SIGNER, VERIFIER = cp.generate_key(ORIGIN)
WHEN = datetime(2026, 1, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def event(position: int) -> dict[str, Any]:
    return {
        "position": position,
        "originator_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"agg/{position}")),
        "originator_version": 1,
        "topic": "domain.users:User.Registered",
        "state": base64.b64encode(f'{{"username": "u{position}"}}'.encode()).decode(),
    }


EVENTS = [event(p) for p in range(1, 8)]
HASHES = [pv.event_leaf_hash(e) for e in EVENTS]


def note(size: int, signer: str = SIGNER) -> str:
    return cp.sign_checkpoint(
        cp.Checkpoint(ORIGIN, size, merkle.root_of_hashes(HASHES[:size]), WHEN),
        [cp.parse_signer_key(signer)],
    )


def run(bundle: dict[str, Any], tmp_path: Path, *keys: str) -> int:
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(bundle))
    args = [arg for key in (keys or (VERIFIER,)) for arg in ("--key", key)]
    return pv.main([*args, str(path)])


def inclusion(index: int, size: int = 7, **overrides: Any) -> dict[str, Any]:
    bundle = pv.inclusion_bundle(
        note(size), index, merkle.inclusion_proof(index, HASHES[:size]), event=EVENTS[index]
    )
    bundle.update(overrides)
    return bundle


def test_inclusion_of_an_event_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(inclusion(4), tmp_path) == 0
    assert capsys.readouterr().out == "OK: leaf 4 is in ledger.test/log at tree size 7\n"


def test_inclusion_by_leaf_hash_alone_verifies(tmp_path: Path) -> None:
    bundle = pv.inclusion_bundle(note(7), 2, merkle.inclusion_proof(2, HASHES), leaf_hash=HASHES[2])
    assert run(bundle, tmp_path) == 0


def test_inclusion_of_an_altered_event_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = {**EVENTS[4], "state": base64.b64encode(b'{"username": "mallory"}').decode()}
    assert run(inclusion(4, event=forged), tmp_path) == 1
    assert capsys.readouterr().out.startswith("FAIL: leaf 4 is not proved")


def test_inclusion_of_an_event_at_another_position_fails(tmp_path: Path) -> None:
    assert run(inclusion(4, event={**EVENTS[4], "position": 6}), tmp_path) == 1


def test_event_disagreeing_with_its_leaf_hash_fails(tmp_path: Path) -> None:
    bundle = inclusion(4, leaf_hash=base64.b64encode(HASHES[3]).decode())
    assert run(bundle, tmp_path) == 1


def test_inclusion_under_an_untrusted_key_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(inclusion(1), tmp_path, OLD_VERIFIER) == 1
    assert "no signature from a trusted key" in capsys.readouterr().out


def test_checkpoint_signed_by_a_rotated_out_key_verifies_with_both_keys(tmp_path: Path) -> None:
    bundle = pv.inclusion_bundle(
        note(7, OLD_SIGNER), 0, merkle.inclusion_proof(0, HASHES), event=EVENTS[0]
    )
    assert run(bundle, tmp_path, VERIFIER, OLD_VERIFIER) == 0


def test_consistency_between_checkpoints_verifies(tmp_path: Path) -> None:
    bundle = pv.consistency_bundle(note(3), note(7), merkle.consistency_proof(3, HASHES))
    assert run(bundle, tmp_path) == 0


def test_consistency_with_a_tampered_proof_fails(tmp_path: Path) -> None:
    proof = merkle.consistency_proof(3, HASHES)
    proof[0] = bytes(32)
    assert run(pv.consistency_bundle(note(3), note(7), proof), tmp_path) == 1


def test_consistency_with_a_forked_old_checkpoint_fails(tmp_path: Path) -> None:
    forked = cp.sign_checkpoint(
        cp.Checkpoint(ORIGIN, 3, merkle.root_of_hashes([HASHES[0], HASHES[2], HASHES[1]]), WHEN),
        [cp.parse_signer_key(SIGNER)],
    )
    bundle = pv.consistency_bundle(forked, note(7), merkle.consistency_proof(3, HASHES))
    assert run(bundle, tmp_path) == 1


def test_malformed_bundle_is_reported_as_unusable(tmp_path: Path) -> None:
    path = tmp_path / "proof.json"
    path.write_text("{not json")
    assert pv.main(["--key", VERIFIER, str(path)]) == 2


def test_bundle_without_leaf_fails_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = pv.inclusion_bundle(note(7), 0, merkle.inclusion_proof(0, HASHES))
    assert run(bundle, tmp_path) == 1
    assert "needs leaf_hash or event" in capsys.readouterr().out


def test_verifier_runs_from_its_three_files_alone(tmp_path: Path) -> None:
    """Copied out of the project, with no site packages but cryptography's, it still works."""
    for package in ("domain", "infrastructure", "infrastructure/audit"):
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").write_text("")
    for name in (
        "domain/merkle.py",
        "infrastructure/audit/checkpoints.py",
        "infrastructure/audit/proof_verifier.py",
    ):
        shutil.copy(ROOT / name, tmp_path / name)
    crypto_home = tmp_path / "site"
    crypto_home.mkdir()
    purelib = Path(sysconfig.get_paths()["purelib"])
    for name in ("cryptography", "cffi", "_cffi_backend"):
        for found in purelib.glob(f"{name}*"):
            if found.is_dir():
                shutil.copytree(found, crypto_home / found.name)
            else:
                shutil.copy(found, crypto_home / found.name)
    (tmp_path / "proof.json").write_text(json.dumps(inclusion(6)))
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-S",
            "-m",
            "infrastructure.audit.proof_verifier",
            "--key",
            VERIFIER,
            "proof.json",
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": f"{tmp_path}:{crypto_home}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (
        0,
        "OK: leaf 6 is in ledger.test/log at tree size 7\n",
    ), result.stderr
