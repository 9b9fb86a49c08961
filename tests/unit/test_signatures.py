"""Signed requests: HMAC-SHA256 of the path and sorted parameters, keyed with the client secret."""

from __future__ import annotations

import pytest

from domain.errors import InvalidSignatureError, MissingSignatureError
from domain.signatures import signature, verify_signature

# The reference's test vector.
SECRET = "6dc1787668c64c939929c17683d7cb74"
PARAMS = {"access_token": "fb2e77d.47a0479900504cb3ab4a1f626d174d2d"}
SIG = "cbf5a1f41db44412506cb6563a3218b50f45a710c7a8a65a3e9b18315bb338bf"


def test_signature_matches_the_reference_test_vector() -> None:
    assert signature("/users/self", PARAMS, SECRET) == SIG


def test_signature_ignores_the_v1_prefix() -> None:
    assert signature("/v1/users/self", PARAMS, SECRET) == SIG


def test_signature_excludes_the_sig_parameter() -> None:
    assert signature("/users/self", {**PARAMS, "sig": "anything"}, SECRET) == SIG


def test_signature_sorts_parameters_by_key() -> None:
    ordered = {"a": "1", "b": "2"}
    assert signature("/media/1/likes", ordered, SECRET) == signature(
        "/media/1/likes", {"b": "2", "a": "1"}, SECRET
    )


def test_signature_depends_on_the_secret() -> None:
    assert signature("/users/self", PARAMS, "another-secret") != SIG


def test_correctly_signed_request_is_verified() -> None:
    verify_signature("/users/self", {**PARAMS, "sig": SIG}, SECRET)


def test_signature_in_upper_case_hex_is_verified() -> None:
    verify_signature("/users/self", {**PARAMS, "sig": SIG.upper()}, SECRET)


@pytest.mark.parametrize("params", [PARAMS, {**PARAMS, "sig": ""}], ids=["absent", "empty"])
def test_request_without_a_signature_is_refused_with_the_legacy_message(
    params: dict[str, str],
) -> None:
    with pytest.raises(MissingSignatureError) as refused:
        verify_signature("/users/self", params, SECRET)
    assert refused.value.message == "Invalid signed-request: Missing required parameter 'sig'"


def test_wrong_signature_is_refused_with_the_legacy_message() -> None:
    with pytest.raises(InvalidSignatureError) as refused:
        verify_signature("/users/self", {**PARAMS, "sig": "0" * 64}, SECRET)
    assert refused.value.message == "Invalid signed-request: Signature does not match"


def test_signature_over_other_parameters_is_refused() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_signature("/users/self", {**PARAMS, "count": "5", "sig": SIG}, SECRET)


def test_non_ascii_signature_is_refused_as_a_mismatch() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_signature("/users/self", {**PARAMS, "sig": "é" * 64}, SECRET)
