"""Every refusal is a LedgerError with a "Raised when" docstring and a unique, stable code."""

from __future__ import annotations

from collections import Counter

import pytest

from domain import errors
from domain.errors import LedgerError


def domain_errors() -> list[type[LedgerError]]:
    """LedgerError and every subclass defined in domain/errors.py (other layers' excluded)."""
    found: list[type[LedgerError]] = []
    pending: list[type[LedgerError]] = [LedgerError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__ == errors.__name__:
            found.append(cls)
    return found


ERRORS = domain_errors()


def test_every_error_class_in_the_module_is_a_ledger_error() -> None:
    in_module = {
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and issubclass(value, Exception)
        and value.__module__ == errors.__name__
    }
    assert in_module == set(ERRORS)


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
def test_error_docstring_starts_raised_when(error: type[LedgerError]) -> None:
    assert (error.__doc__ or "").startswith("Raised when ")


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
def test_error_is_named_error(error: type[LedgerError]) -> None:
    assert error.__name__.endswith("Error")


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
def test_error_declares_its_own_code(error: type[LedgerError]) -> None:
    assert isinstance(vars(error).get("code"), str)
    assert vars(error)["code"]


def test_error_codes_are_unique() -> None:
    duplicates = {c: n for c, n in Counter(e.code for e in ERRORS).items() if n > 1}
    assert duplicates == {}


def test_error_without_a_message_says_when_it_is_raised() -> None:
    assert errors.NotPermittedError().message.startswith("Raised when")


def test_error_message_is_the_one_given() -> None:
    assert errors.NotPermittedError("Only the owner may do that").message == (
        "Only the owner may do that"
    )


@pytest.mark.parametrize(
    ("error", "message", "legacy_type", "legacy_code"),
    [
        (errors.AppNotFoundError("x"), "Invalid Client ID", "OAuthException", 400),
        (errors.InvalidClientSecretError(), "Invalid Client Secret", "OAuthException", 400),
        (errors.MissingClientIdError(), "You must provide a client_id", "OAuthException", 400),
        (
            errors.TokenNotFoundError(),
            "The access_token provided is invalid.",
            "OAuthAccessTokenException",
            400,
        ),
        (
            errors.NotSandboxUserError(),
            "You are not a sandbox user of this client",
            "OAuthForbiddenException",
            403,
        ),
        (
            errors.NotApprovedError("likes"),
            "This client has not been approved to access this resource.",
            "OAuthPermissionsException",
            400,
        ),
        (
            errors.RedirectUriMismatchError(),
            "Redirect URI does not match registered redirect URI",
            "OAuthException",
            400,
        ),
        (
            errors.UnsupportedResponseTypeError(),
            'Only response type "code" and "token" is allowed',
            "OAuthException",
            400,
        ),
        (
            errors.ImplicitFlowDisabledError(),
            "Implicit authentication is disabled",
            "OAuthForbiddenException",
            403,
        ),
        (
            errors.CodeNotFoundError(),
            "Matching code was not found or was already used.",
            "OAuthException",
            400,
        ),
        (
            errors.CodeRedirectMismatchError(),
            "Redirect URI doesn't match original redirect URI",
            "OAuthException",
            400,
        ),
        (
            errors.AppDisabledError(),
            "The client used for authentication is no longer active.",
            "OAuthException",
            400,
        ),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else None,
)
def test_legacy_error_carries_the_platforms_exact_message_and_type(
    error: LedgerError, message: str, legacy_type: str, legacy_code: int
) -> None:
    assert (error.message, error.legacy_type, error.legacy_code) == (
        message,
        legacy_type,
        legacy_code,
    )
