"""Guessing a password, over HTTP on SQLite and PostgreSQL: after 5 wrong passwords for a
username within 15 minutes, the OAuth sign-in form (429, the page again) and HTTP Basic on
``/v1/me`` (429 with ``Retry-After``) refuse it for 15 minutes, even with the right password."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from domain.sign_in_attempts import LOCKOUT, MAX_FAILURES
from infrastructure import passwords
from infrastructure.sign_in_throttle import TABLE
from tests.support.clock import Clock
from tests.support.http_api import Api, World
from tests.support.oauth_flow import authorize_query, form_with, sign_in

pytest_plugins = ["tests.support.http_api_fixtures"]

PASSWORD = "alice-correct-horse"
WRONG = "alice-wrong-horse"
THROTTLED = "Too many failed sign-ins for this username: try again in 15 minutes."
LOCKOUT_SECONDS = int(LOCKOUT.total_seconds())

# What each way of signing in answers, by outcome.
SIGNED_IN, WRONG_PASSWORD, REFUSED = "signed in", "wrong password", "throttled"
OUTCOMES = {
    "form": {303: SIGNED_IN, 200: WRONG_PASSWORD, 429: REFUSED},
    "basic": {200: SIGNED_IN, 401: WRONG_PASSWORD, 429: REFUSED},
}


@dataclass
class Attempts:
    """Signs in one way (the OAuth form or Basic on /v1/me) as a fresh browser would."""

    api: Api
    world: World
    way: str

    def response(self, username: str, password: str) -> httpx.Response:
        client = self.api.client
        client.cookies.clear()  # a session from an earlier success would skip the form
        if self.way == "basic":
            found: httpx.Response = client.get("/v1/me", auth=(username, password))
            return found
        return sign_in(client, authorize_query(self.world.app.client_id), username, password)

    def __call__(self, username: str, password: str) -> str:
        response = self.response(username, password)
        return OUTCOMES[self.way].get(response.status_code, response.text)

    def fail(self, username: str, times: int = MAX_FAILURES) -> None:
        for _ in range(times):
            assert self(username, WRONG) == WRONG_PASSWORD


@pytest.fixture
def alice(api: Api, world: World) -> World:
    """The world, alice with a password."""
    api.write(api.put("/v1/users/alice/password", {"password": PASSWORD}))
    return world


@pytest.fixture
def ledger_clock(api: Api) -> Clock:
    """The running ledger's clock, from now on moved by the test."""
    clock = Clock(datetime.now(UTC))
    api.ledger.clock = clock
    return clock


@pytest.fixture(params=["form", "basic"])
def attempt(
    request: pytest.FixtureRequest, api: Api, alice: World, ledger_clock: Clock
) -> Attempts:
    return Attempts(api, alice, request.param)


@pytest.fixture
def form(api: Api, alice: World, ledger_clock: Clock) -> Attempts:
    return Attempts(api, alice, "form")


@pytest.fixture
def basic(api: Api, alice: World, ledger_clock: Clock) -> Attempts:
    return Attempts(api, alice, "basic")


def test_five_wrong_passwords_then_the_right_one_is_refused(attempt: Attempts) -> None:
    attempt.fail("alice")

    assert attempt("alice", PASSWORD) == REFUSED


def test_four_wrong_passwords_then_the_right_one_signs_in(attempt: Attempts) -> None:
    attempt.fail("alice", MAX_FAILURES - 1)

    assert attempt("alice", PASSWORD) == SIGNED_IN


def test_the_right_password_works_again_fifteen_minutes_after_the_last_failure(
    attempt: Attempts, ledger_clock: Clock
) -> None:
    attempt.fail("alice")
    ledger_clock.advance(LOCKOUT_SECONDS - 1)
    assert attempt("alice", PASSWORD) == REFUSED

    ledger_clock.advance(1)

    assert attempt("alice", PASSWORD) == SIGNED_IN


def test_signing_in_resets_the_count(attempt: Attempts) -> None:
    attempt.fail("alice", MAX_FAILURES - 1)
    assert attempt("alice", PASSWORD) == SIGNED_IN
    attempt.fail("alice", MAX_FAILURES - 1)

    assert attempt("alice", PASSWORD) == SIGNED_IN


def test_an_unknown_username_is_throttled_as_a_known_one_is(attempt: Attempts) -> None:
    attempt.fail("alice")
    attempt.fail("nobody")

    known = attempt.response("alice", PASSWORD)
    unknown = attempt.response("nobody", PASSWORD)

    assert unknown.status_code == known.status_code == 429
    assert unknown.headers["Retry-After"] == known.headers["Retry-After"]
    assert THROTTLED in unknown.text
    assert THROTTLED in known.text


def test_a_locked_username_is_refused_without_checking_the_password(
    attempt: Attempts, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempt.fail("alice")
    checked: list[str] = []
    verify: Callable[[str, str], bool] = passwords.verify_password

    def counting_verify(password_hash: str, password: str) -> bool:
        checked.append(password)
        return verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting_verify)

    assert attempt("alice", PASSWORD) == REFUSED
    assert checked == []


def test_the_right_password_after_a_concurrent_burst_of_wrong_ones_is_refused(
    basic: Attempts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wrong passwords sent at once, each held while its password is checked, so that none
    has answered when the right one arrives: no more than the limit are checked, and the right
    password is refused as any would be."""
    burst = 16
    checked: list[str] = []
    released = threading.Event()
    verify: Callable[[str, str], bool] = passwords.verify_password

    def held_verify(password_hash: str, password: str) -> bool:
        checked.append(password)
        if password == WRONG:
            released.wait(timeout=30)
        return verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", held_verify)
    with ThreadPoolExecutor(burst) as pool:
        guesses = [pool.submit(basic, "alice", WRONG) for _ in range(burst)]
        try:
            deadline = time.monotonic() + 30
            while len(checked) + sum(g.done() for g in guesses) < burst:
                assert time.monotonic() < deadline, "the burst did not settle"
                time.sleep(0.01)
            last = basic("alice", PASSWORD)
        finally:
            released.set()
        outcomes = [g.result() for g in guesses]

    assert last == REFUSED
    assert checked == [WRONG] * MAX_FAILURES
    assert outcomes.count(REFUSED) == burst - MAX_FAILURES


def test_the_sign_in_page_says_how_long_to_wait_and_offers_the_form_again(
    form: Attempts,
) -> None:
    form.fail("alice")

    response = form.response("alice", PASSWORD)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(LOCKOUT_SECONDS)
    assert THROTTLED in response.text
    assert form_with(response.text, "password").action == "/oauth/signin"


def test_basic_auth_answers_429_with_the_seconds_to_wait(
    basic: Attempts, ledger_clock: Clock
) -> None:
    basic.fail("alice")
    ledger_clock.advance(60)

    response = basic.response("alice", PASSWORD)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(LOCKOUT_SECONDS - 60)
    assert response.json() == {
        "error": {
            "code": "sign_in_throttled",
            "message": "Too many failed sign-ins for this username: try again in 14 minutes.",
        }
    }


def test_failures_on_the_form_lock_basic_auth_too(form: Attempts, basic: Attempts) -> None:
    form.fail("alice")

    assert basic("alice", PASSWORD) == REFUSED


def test_the_username_is_throttled_without_regard_to_case(basic: Attempts) -> None:
    basic.fail("ALICE")

    assert basic("alice", PASSWORD) == REFUSED


def test_the_stored_failures_hold_no_plaintext_username(api: Api, attempt: Attempts) -> None:
    typed = "Alice-hunter2-typed-as-a-username"
    attempt.fail("alice", 1)
    attempt.fail(typed, 1)

    rows = api.runtime.db.query(f"SELECT * FROM {TABLE}")  # noqa: S608

    assert len(rows) == 2
    stored = " ".join(str(value) for row in rows for value in row).casefold()
    assert "alice" not in stored
    assert "hunter2" not in stored


def test_a_refusal_is_logged_without_the_username_or_password(
    attempt: Attempts, caplog: pytest.LogCaptureFixture
) -> None:
    attempt.fail("alice")
    caplog.clear()

    with caplog.at_level(logging.INFO):
        assert attempt("alice", PASSWORD) == REFUSED

    assert any("throttled" in record.getMessage() for record in caplog.records)
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "alice" not in logged.casefold()
    assert PASSWORD not in logged
