"""Stand-alone verifier of the ledger's proofs: needs only the public verifier key and a bundle.

    python -m infrastructure.audit.proof_verifier --key VERIFIER_KEY [--key OLD_KEY] proof.json

Exit status 0 and ``OK: …`` when the proof holds, 1 and ``FAIL: …`` when it does not, 2 on
unusable input. It imports only the standard library, ``cryptography``, ``domain/merkle.py``
and ``infrastructure/audit/checkpoints.py`` (itself standard library and ``cryptography``), so
an auditor can copy those three files (with empty ``__init__.py`` files) and run it without
the rest of the ledger.

Bundle format (JSON, every hash and byte string in standard base64, RFC 4648 §4):

Inclusion of one event in a signed checkpoint::

    {
      "type": "inclusion",
      "checkpoint": "<signed note: origin, tree size, root hash, time, signature lines>",
      "leaf_index": 4,                      # 0-based index of the leaf in the tree
      "leaf_hash": "<base64 32 bytes>",     # or, instead, the event itself:
      "event": {"position": 5, "originator_id": "<uuid>", "originator_version": 1,
                "topic": "<topic>", "state": "<base64 stored state bytes>"},
      "proof": ["<base64 32 bytes>", ...]   # RFC 9162 §2.1.3.1 audit path, leaf side first
    }

When ``event`` is given, its leaf hash is recomputed (``domain.merkle.event_leaf``), so the
proof shows *that content* at *that position* is in the log; when both are given they must
agree.

Consistency of two signed checkpoints (the older is a prefix of the newer)::

    {
      "type": "consistency",
      "old_checkpoint": "<signed note>",
      "new_checkpoint": "<signed note>",
      "proof": ["<base64 32 bytes>", ...]   # RFC 9162 §2.1.4.1
    }
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from domain import merkle
from infrastructure.audit.checkpoints import (
    CheckpointError,
    VerifierKey,
    parse_verifier_key,
    verify_checkpoint,
)


class ProofError(ValueError):
    """Raised when a proof bundle is malformed or its proof does not hold."""

    code = "invalid_proof"


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ProofError(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ProofError(f"{what} is not valid base64") from None


def _hashes(value: Any) -> list[bytes]:
    if not isinstance(value, list):
        raise ProofError("proof must be a list of base64 hashes")
    hashes = [_b64(item, "a proof hash") for item in value]
    if any(len(item) != merkle.HASH_SIZE for item in hashes):
        raise ProofError("every proof hash is 32 bytes")
    return hashes


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofError(f"{what} must be a non-negative integer")
    return value


def event_leaf_hash(event: dict[str, Any]) -> bytes:
    """The leaf hash of an event given as the bundle's ``event`` object."""
    try:
        originator_id = UUID(str(event["originator_id"]))
        return merkle.hash_leaf(
            merkle.event_leaf(
                _int(event["position"], "event.position"),
                originator_id,
                _int(event["originator_version"], "event.originator_version"),
                str(event["topic"]),
                _b64(event["state"], "event.state"),
            )
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ProofError):
            raise
        raise ProofError(f"event is incomplete or malformed: {exc}") from None


def inclusion_bundle(
    note: str,
    leaf_index: int,
    proof: Sequence[bytes],
    *,
    leaf_hash: bytes | None = None,
    event: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build an inclusion bundle (``event`` as in the format, its state already base64)."""
    bundle: dict[str, Any] = {
        "type": "inclusion",
        "checkpoint": note,
        "leaf_index": leaf_index,
        "proof": [base64.b64encode(h).decode() for h in proof],
    }
    if leaf_hash is not None:
        bundle["leaf_hash"] = base64.b64encode(leaf_hash).decode()
    if event is not None:
        bundle["event"] = event
    return bundle


def consistency_bundle(old_note: str, new_note: str, proof: Sequence[bytes]) -> dict[str, Any]:
    """Build a consistency bundle between two signed checkpoints."""
    return {
        "type": "consistency",
        "old_checkpoint": old_note,
        "new_checkpoint": new_note,
        "proof": [base64.b64encode(h).decode() for h in proof],
    }


def verify_bundle(bundle: Any, verifiers: Sequence[VerifierKey], origin: str | None = None) -> str:
    """Check a bundle; returns a one-line description of what was proved, or raises."""
    if not isinstance(bundle, dict):
        raise ProofError("a proof bundle is a JSON object")
    try:
        if bundle.get("type") == "inclusion":
            return _verify_inclusion(bundle, verifiers, origin)
        if bundle.get("type") == "consistency":
            return _verify_consistency(bundle, verifiers, origin)
    except CheckpointError as exc:
        raise ProofError(f"checkpoint: {exc}") from None
    raise ProofError('bundle "type" must be "inclusion" or "consistency"')


def _verify_inclusion(
    bundle: dict[str, Any], verifiers: Sequence[VerifierKey], origin: str | None
) -> str:
    checkpoint = verify_checkpoint(str(bundle.get("checkpoint", "")), verifiers, origin).checkpoint
    index = _int(bundle.get("leaf_index"), "leaf_index")
    hashes = []
    if "leaf_hash" in bundle:
        hashes.append(_b64(bundle["leaf_hash"], "leaf_hash"))
    if "event" in bundle:
        if not isinstance(bundle["event"], dict):
            raise ProofError("event must be an object")
        hashes.append(event_leaf_hash(bundle["event"]))
    if not hashes:
        raise ProofError("an inclusion bundle needs leaf_hash or event")
    if len(set(hashes)) != 1:
        raise ProofError("the event does not hash to the given leaf_hash")
    proof = _hashes(bundle.get("proof"))
    if not merkle.verify_inclusion(hashes[0], index, checkpoint.size, proof, checkpoint.root_hash):
        raise ProofError(
            f"leaf {index} is not proved to be in {checkpoint.origin} at size {checkpoint.size}"
        )
    return f"leaf {index} is in {checkpoint.origin} at tree size {checkpoint.size}"


def _verify_consistency(
    bundle: dict[str, Any], verifiers: Sequence[VerifierKey], origin: str | None
) -> str:
    old = verify_checkpoint(str(bundle.get("old_checkpoint", "")), verifiers, origin).checkpoint
    new = verify_checkpoint(str(bundle.get("new_checkpoint", "")), verifiers, origin).checkpoint
    if old.origin != new.origin:
        raise ProofError(f"checkpoints are of different logs: {old.origin}, {new.origin}")
    proof = _hashes(bundle.get("proof"))
    if not merkle.verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof):
        raise ProofError(
            f"tree size {old.size} is not proved to be a prefix of tree size {new.size}"
        )
    return f"tree size {old.size} is a prefix of tree size {new.size} of {new.origin}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: verify one bundle file (``-`` for standard input)."""
    parser = argparse.ArgumentParser(
        prog="python -m infrastructure.audit.proof_verifier",
        description="Verify a ledger inclusion or consistency proof bundle.",
    )
    parser.add_argument(
        "--key",
        action="append",
        required=True,
        help="trusted verifier key <name>+<hex id>+<base64>; repeat for old keys",
    )
    parser.add_argument("--origin", help="the log origin the checkpoints must name")
    parser.add_argument("bundle", help="proof bundle JSON file, or - for standard input")
    args = parser.parse_args(argv)
    try:
        verifiers = [parse_verifier_key(key) for key in args.key]
        if args.bundle == "-":
            text = sys.stdin.read()
        else:
            with open(args.bundle, encoding="utf-8") as handle:
                text = handle.read()
        bundle = json.loads(text)
    except (CheckpointError, OSError, json.JSONDecodeError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    try:
        print(f"OK: {verify_bundle(bundle, verifiers, args.origin)}")
    except ProofError as exc:
        print(f"FAIL: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
