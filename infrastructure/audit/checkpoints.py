"""Signed checkpoints of the log's Merkle tree: C2SP signed notes with Ed25519 keys.

Formats (c2sp.org/signed-note, c2sp.org/tlog-checkpoint, golang.org/x/mod/sumdb/note):

* checkpoint body: ``<origin>\\n<tree size>\\n<base64 root hash>\\n`` then extension lines;
* signed note: body, a blank line, then one line per signature
  ``— <key name> <base64(4-byte big-endian key id || 64-byte Ed25519 signature)>``;
* key id: the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key);
* verifier key: ``<name>+<8 hex key id>+<base64(0x01 || public key)>``;
* signer key: ``PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte private seed)>``.

The checkpoint time is one extension line, ``time <RFC 3339 UTC, seconds, Z>``. tlog-checkpoint
discourages extension lines because outside monitors cannot audit them; here the log has one
signer (the operator) and the line is covered by that signature, so a verifier learns when the
operator vouched for the tree at that size without a second format. Cosigners that ignore
extensions (tlog-cosignature) would still sign the first three lines.

Key rotation: a note may carry several signatures and a verifier is given every key it trusts;
a checkpoint verifies if at least one trusted key's signature verifies and none fails. Old
verifier keys stay valid for the checkpoints they signed.

This module needs only the standard library and ``cryptography`` so the stand-alone verifier
(``infrastructure.audit.proof_verifier``) can ship with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
"""The signed-note signature type byte of Ed25519."""

SIGNATURE_DASH = "\u2014 "
TIME_EXTENSION = "time "
MAX_SIGNATURES = 100
_NAME = re.compile(r"^[^\s+]+$")
_SIZE = re.compile(r"^(0|[1-9][0-9]*)$")


class CheckpointError(ValueError):
    """Raised when a key, note or checkpoint is malformed or its signature does not verify."""

    code = "invalid_checkpoint"


@dataclass(frozen=True)
class VerifierKey:
    """A public Ed25519 note key: what an outside verifier needs to check checkpoints."""

    name: str
    key_id: int
    public_key: bytes  # 32 bytes, RFC 8032 encoding

    def __str__(self) -> str:
        raw = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{raw}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SignerKey:
    """A private Ed25519 note key (from the settings); never log or print it."""

    name: str
    key_id: int
    seed: bytes  # 32-byte private seed

    def __repr__(self) -> str:  # keep the seed out of tracebacks and logs
        return f"SignerKey(name={self.name!r}, key_id={self.key_id:08x})"

    def verifier(self) -> VerifierKey:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return VerifierKey(self.name, self.key_id, raw)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def encode(self) -> str:
        """The ``PRIVATE+KEY+…`` string, for the settings only."""
        raw = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{raw}"


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and root hash, and when it was signed."""

    origin: str
    size: int
    root_hash: bytes
    time: datetime | None = None

    def body(self) -> str:
        """The note text, ending in a newline (c2sp.org/tlog-checkpoint)."""
        _check_name(self.origin, "origin")
        if self.size < 0 or len(self.root_hash) != 32:
            raise CheckpointError("a checkpoint needs a size >= 0 and a 32-byte root hash")
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        if self.time is not None:
            lines.append(TIME_EXTENSION + format_time(self.time))
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """A checkpoint whose signature verified, with the names of the keys that signed it."""

    checkpoint: Checkpoint
    signed_by: tuple[str, ...]
    note: str


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC to the second, e.g. ``2026-01-01T00:00:00Z``."""
    if moment.tzinfo is None:
        raise CheckpointError("checkpoint time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_id(name: str, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || 0x01 || public key)[:4] as a big-endian uint32 (signed-note)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def generate_key(name: str, seed: bytes | None = None) -> tuple[str, str]:
    """A new key pair for operators: ``(signer key string, verifier key string)``.

    ``seed`` (32 bytes) is for reproducible tests; in use the key comes from the OS's CSPRNG.
    """
    _check_name(name, "key name")
    private = Ed25519PrivateKey.from_private_bytes(seed) if seed else Ed25519PrivateKey.generate()
    raw_seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    signer = SignerKey(name, key_id(name, public), raw_seed)
    return signer.encode(), str(signer.verifier())


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse ``<name>+<hex id>+<base64(0x01 || key)>``, checking the id matches the key."""
    parts = text.strip().split("+", 2)  # base64 may itself contain '+'
    if len(parts) != 3:
        raise CheckpointError("a verifier key is <name>+<hex key id>+<base64 key>")
    name, hex_id, raw = parts
    key = _decode_key(name, hex_id, raw, "verifier")
    if key_id(name, key[1]) != key[0]:
        raise CheckpointError(f"verifier key {name}: key id does not match the public key")
    return VerifierKey(name, key[0], key[1])


def parse_signer_key(text: str) -> SignerKey:
    """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>``; the id must match."""
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise CheckpointError("a signer key is PRIVATE+KEY+<name>+<hex key id>+<base64 key>")
    name, hex_id, raw = parts[2:]
    kid, seed = _decode_key(name, hex_id, raw, "signer")
    signer = SignerKey(name, kid, seed)
    if key_id(name, signer.verifier().public_key) != kid:
        raise CheckpointError(f"signer key {name}: key id does not match the key")
    return signer


def _decode_key(name: str, hex_id: str, raw: str, kind: str) -> tuple[int, bytes]:
    _check_name(name, "key name")
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise CheckpointError(f"{kind} key {name}: key id must be 8 lowercase hex digits")
    try:
        material = base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise CheckpointError(f"{kind} key {name}: key is not valid base64") from None
    if len(material) != 33 or material[0] != ED25519:
        raise CheckpointError(f"{kind} key {name}: not an Ed25519 (type 0x01) 32-byte key")
    return int(hex_id, 16), material[1:]


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name):
        raise CheckpointError(f"{what} must be non-empty, without spaces or '+': {name!r}")


def sign_note(text: str, signers: Sequence[SignerKey]) -> str:
    """A signed note: ``text`` (ending in a newline), a blank line, one line per signer."""
    if not text.endswith("\n") or not signers:
        raise CheckpointError("note text must end in a newline and have at least one signer")
    lines = []
    for signer in signers:
        blob = struct.pack(">I", signer.key_id) + signer.sign(text.encode())
        lines.append(f"{SIGNATURE_DASH}{signer.name} {base64.b64encode(blob).decode()}\n")
    return text + "\n" + "".join(lines)


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[SignerKey]) -> str:
    """The checkpoint as a signed note (several signers while a key is being rotated)."""
    return sign_note(checkpoint.body(), signers)


def open_note(note: str, verifiers: Iterable[VerifierKey]) -> tuple[str, tuple[str, ...]]:
    """Verify a signed note against trusted keys; returns ``(text, names of keys that signed)``.

    As signed-note requires: signatures of unknown keys (name and id not both known) are
    ignored; a known key's signature that fails rejects the note; at least one must verify.
    """
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise CheckpointError("a signed note must not contain control characters")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise CheckpointError("not a signed note: no blank line before the signatures")
    text, signature_block = note[: split + 1], note[split + 2 :]
    known = {(key.name, key.key_id): key for key in verifiers}
    signed_by: list[str] = []
    signature_lines = signature_block.splitlines()
    if not signature_lines or len(signature_lines) > MAX_SIGNATURES:
        raise CheckpointError("a signed note needs between 1 and 100 signature lines")
    for line in signature_lines:
        name, blob = _parse_signature_line(line)
        kid = int.from_bytes(blob[:4], "big")
        key = known.get((name, kid))
        if key is None:
            continue
        if not key.verify(text.encode(), blob[4:]):
            raise CheckpointError(f"invalid signature for key {name}+{kid:08x}")
        signed_by.append(name)
    if not signed_by:
        raise CheckpointError("no signature from a trusted key")
    return text, tuple(signed_by)


def _parse_signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(SIGNATURE_DASH):
        raise CheckpointError(f"malformed signature line: {line!r}")
    name, space, encoded = line[len(SIGNATURE_DASH) :].partition(" ")
    if not space or not _NAME.match(name):
        raise CheckpointError(f"malformed signature line: {line!r}")
    try:
        blob = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise CheckpointError(f"signature of {name} is not valid base64") from None
    if len(blob) < 5:
        raise CheckpointError(f"signature of {name} is too short")
    return name, blob


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint body (already verified by ``open_note``)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise CheckpointError("a checkpoint body is three or more non-empty lines")
    origin, size, root_b64, *extensions = lines[:-1]
    if not _SIZE.match(size):
        raise CheckpointError(f"checkpoint tree size is not a decimal number: {size!r}")
    try:
        root_hash = base64.b64decode(root_b64, validate=True)
    except binascii.Error:
        raise CheckpointError("checkpoint root hash is not valid base64") from None
    if len(root_hash) != 32:
        raise CheckpointError("checkpoint root hash is not 32 bytes")
    moment = None
    for line in extensions:
        if line.startswith(TIME_EXTENSION):
            try:
                moment = datetime.strptime(line[len(TIME_EXTENSION) :], "%Y-%m-%dT%H:%M:%SZ")
            except ValueError:
                raise CheckpointError(f"checkpoint time is not RFC 3339 UTC: {line!r}") from None
            moment = moment.replace(tzinfo=UTC)
    return Checkpoint(origin, int(size), root_hash, moment)


def verify_checkpoint(
    note: str, verifiers: Iterable[VerifierKey], origin: str | None = None
) -> VerifiedCheckpoint:
    """Check a signed checkpoint's signatures, then parse it (and check its origin if given)."""
    text, signed_by = open_note(note, verifiers)
    checkpoint = parse_checkpoint(text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
    return VerifiedCheckpoint(checkpoint, signed_by, note)
