"""Random secrets and their keyed hashes (HMAC-SHA-256 under a server key)."""

from __future__ import annotations

import base64
import hmac
import re
from hashlib import sha256

import pytest

from application.credentials import new_secret
from domain.credentials import SecretHasher

KEY = b"k" * 32


def test_new_secret_has_at_least_256_bits() -> None:
    secret = new_secret()
    raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    assert len(raw) * 8 >= 256


def test_new_secret_is_url_safe_and_at_least_43_characters() -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", new_secret())


def test_new_secrets_differ() -> None:
    assert len({new_secret() for _ in range(100)}) == 100


def test_digest_is_hmac_sha256_of_the_secret_under_the_key() -> None:
    expected = hmac.new(KEY, b"s3cret", sha256).hexdigest()
    assert SecretHasher(KEY).digest("s3cret") == expected


def test_digest_is_stable_for_one_key() -> None:
    assert SecretHasher(KEY).digest("s3cret") == SecretHasher(KEY).digest("s3cret")


def test_digest_is_keyed() -> None:
    assert SecretHasher(b"a" * 32).digest("s3cret") != SecretHasher(b"b" * 32).digest("s3cret")


def test_digest_does_not_contain_the_secret() -> None:
    secret = new_secret()
    assert secret not in SecretHasher(KEY).digest(secret)


def test_different_secrets_have_different_digests() -> None:
    hasher = SecretHasher(KEY)
    assert hasher.digest("one") != hasher.digest("two")


def test_secret_matches_its_digest() -> None:
    hasher = SecretHasher(KEY)
    assert hasher.matches("s3cret", hasher.digest("s3cret"))


def test_other_secret_does_not_match_a_digest() -> None:
    hasher = SecretHasher(KEY)
    assert not hasher.matches("guess", hasher.digest("s3cret"))


def test_secret_does_not_match_a_digest_made_under_another_key() -> None:
    digest = SecretHasher(b"a" * 32).digest("s3cret")
    assert not SecretHasher(b"b" * 32).matches("s3cret", digest)


def test_matching_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module credentials uses
    hasher = SecretHasher(KEY)
    digest = hasher.digest("s3cret")
    assert hasher.matches("s3cret", digest)
    assert calls == [(digest, digest)]


def test_key_shorter_than_16_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        SecretHasher(b"k" * 15)


def test_key_of_16_bytes_is_accepted() -> None:
    assert len(SecretHasher(b"k" * 16).digest("s3cret")) == 64


def test_derived_client_secret_is_stable_for_one_nonce_and_key() -> None:
    assert SecretHasher(KEY).derive("nonce") == SecretHasher(KEY).derive("nonce")


def test_derived_client_secret_is_keyed() -> None:
    assert SecretHasher(b"a" * 32).derive("nonce") != SecretHasher(b"b" * 32).derive("nonce")


def test_derived_client_secrets_differ_by_nonce() -> None:
    hasher = SecretHasher(KEY)
    assert hasher.derive("nonce-1") != hasher.derive("nonce-2")


def test_derived_client_secret_has_256_bits_url_safe() -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", SecretHasher(KEY).derive("nonce"))


def test_derived_client_secret_does_not_reveal_its_nonce() -> None:
    nonce = new_secret()
    assert nonce not in SecretHasher(KEY).derive(nonce)


# --- signatures (authorization codes) ------------------------------------------------------------


def test_signature_verifies_for_its_message() -> None:
    hasher = SecretHasher(KEY)
    assert hasher.verify("payload", hasher.sign("payload"))


def test_signature_of_another_message_does_not_verify() -> None:
    hasher = SecretHasher(KEY)
    assert not hasher.verify("payload2", hasher.sign("payload"))


def test_signature_made_under_another_key_does_not_verify() -> None:
    signature = SecretHasher(b"a" * 32).sign("payload")
    assert not SecretHasher(b"b" * 32).verify("payload", signature)


def test_signature_is_256_bits_url_safe() -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", SecretHasher(KEY).sign("payload"))


def test_signature_is_not_under_the_digest_key() -> None:
    """A signature could otherwise be read off a stored digest of the same text."""
    hasher = SecretHasher(KEY)
    raw = hmac.new(KEY, b"payload", sha256).digest()
    assert hasher.sign("payload") != base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("signature", ["", "x", "é" * 43, "A" * 43])
def test_malformed_or_wrong_signature_does_not_verify(signature: str) -> None:
    assert not SecretHasher(KEY).verify("payload", signature)


def test_verifying_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    hasher = SecretHasher(KEY)
    signature = hasher.sign("payload")
    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert hasher.verify("payload", signature)
    assert calls == [(signature.encode(), signature.encode())]
