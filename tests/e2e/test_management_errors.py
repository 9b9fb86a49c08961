"""The one table from domain error to HTTP status: every refusal is a 4xx (or a 503 to retry)."""

from __future__ import annotations

import pytest

import domain.errors as errors
from api.errors import status_for

ALL_ERRORS = sorted(
    (
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.LedgerError)
    ),
    key=lambda cls: cls.__name__,
)


def instance(cls: type[errors.LedgerError]) -> errors.LedgerError:
    """An instance whatever the constructor asks for."""
    for args in ((), ("x",), (60,), ("x", "y"), (1, 0, 1.0)):
        try:
            return cls(*args)  # type: ignore[arg-type]
        except TypeError:
            continue
    raise AssertionError(f"cannot build {cls.__name__}")


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda cls: cls.__name__)
def test_every_domain_error_is_a_client_error_or_a_retry(cls: type[errors.LedgerError]) -> None:
    status = status_for(instance(cls))

    assert 400 <= status < 500 or (
        issubclass(cls, (errors.ProjectionTimeoutError, errors.StoreUnavailableError))
        and status == 503
    )


@pytest.mark.parametrize(
    ("cls", "status"),
    [
        (errors.CodeNotFoundError, 400),
        (errors.InvalidApiKeyError, 401),
        (errors.NotPermittedError, 403),
        (errors.ApiKeyRoleError, 403),
        (errors.AppNotFoundError, 404),
        (errors.TokenNotFoundError, 404),
        (errors.ApprovalNotFoundError, 404),
        (errors.AlreadyExistsError, 409),
        (errors.UsernameTakenError, 409),
        (errors.ConcurrencyConflictError, 409),
        (errors.InvalidInputError, 422),
        (errors.InvalidScopeError, 422),
        (errors.InvalidAsOfError, 422),
        (errors.PositionBeyondLogError, 422),
        (errors.SignInThrottledError, 429),
        (errors.ProjectionTimeoutError, 503),
        (errors.ReadsBusyError, 503),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else str(v),
)
def test_error_status(cls: type[errors.LedgerError], status: int) -> None:
    assert status_for(instance(cls)) == status
