"""Commands catch their aggregates up with the store in one read (application/repository.py).

What another process wrote is still seen at once, the read is one round trip on PostgreSQL, and
a copy the cache drops in the middle of the read is read whole rather than patched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from application.ledger import Ledger
from domain.actors import Actor
from domain.errors import AppDisabledError, CodeNotFoundError, NotSandboxUserError
from domain.identity import SCOPE_CATALOGUE_ID, app_id_from_client_id, grant_id, user_id
from infrastructure.event_store import LedgerPostgresRecorder
from tests.conftest import TEST_SECRET_KEY
from tests.support.ledger_setup import (
    PLATFORM,
    SandboxSetup,
    authorize,
    exchange,
    issue_token,
    sandbox_app_with_user,
)

if TYPE_CHECKING:
    from tests.support.clock import Clock

READS = ("select_events", "select_events_after", "max_notification_id")
ON_POSTGRES = pytest.mark.parametrize(
    "ledger_env", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def sandbox(ledger: Ledger) -> SandboxSetup:
    return sandbox_app_with_user(ledger)


@pytest.fixture
def other_process(ledger_env: dict[str, str], clock: Clock) -> Iterator[Ledger]:
    """A second ledger on the same store, as another service process would be."""
    other = Ledger(env=ledger_env, secret_key=TEST_SECRET_KEY, clock=clock)
    try:
        yield other
    finally:
        other.close()


def count_calls(
    monkeypatch: pytest.MonkeyPatch, target: Any, names: tuple[str, ...]
) -> Counter[str]:
    """Counts the calls of ``target``'s methods ``names`` from now on."""
    calls: Counter[str] = Counter()
    for name in names:
        original: Callable[..., Any] = getattr(target, name)

        def counted(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            calls[_name] += 1
            return _original(*args, **kw)

        monkeypatch.setattr(target, name, counted)
    return calls


def test_authorize_sees_an_app_disabled_by_another_process(
    ledger: Ledger, other_process: Ledger, sandbox: SandboxSetup
) -> None:
    authorize(ledger, sandbox.app.client_id, "alice")  # the app is now cached here
    other_process.disable_app(sandbox.app.client_id, PLATFORM, "spam reports")

    with pytest.raises(AppDisabledError):
        authorize(ledger, sandbox.app.client_id, "alice")


def test_authorize_sees_a_sandbox_user_removed_by_another_process(
    ledger: Ledger, other_process: Ledger, sandbox: SandboxSetup
) -> None:
    authorize(ledger, sandbox.app.client_id, "alice")
    other_process.remove_sandbox_user(
        sandbox.app.client_id, "alice", Actor.developer(sandbox.owner)
    )

    with pytest.raises(NotSandboxUserError):
        authorize(ledger, sandbox.app.client_id, "alice")


def test_exchange_sees_a_deauthorization_by_another_process(
    ledger: Ledger, other_process: Ledger, sandbox: SandboxSetup
) -> None:
    issue_token(ledger, sandbox.app, "alice")  # the grant is now cached here
    code = authorize(ledger, sandbox.app.client_id, "alice").code
    other_process.deauthorize(sandbox.app.client_id, "alice", Actor.user("alice"))

    with pytest.raises(CodeNotFoundError):
        exchange(ledger, sandbox.app, code)


def test_a_consent_that_writes_nothing_answers_the_log_position(
    ledger: Ledger, other_process: Ledger, sandbox: SandboxSetup
) -> None:
    authorize(ledger, sandbox.app.client_id, "alice")
    other_process.register_user("bob", "Bob", None, PLATFORM)  # moves the log on elsewhere

    again = authorize(ledger, sandbox.app.client_id, "alice")

    assert again.position == other_process.position()


@ON_POSTGRES
def test_on_postgres_a_consent_reads_the_store_once(
    ledger: Ledger, sandbox: SandboxSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    authorize(ledger, sandbox.app.client_id, "alice")
    calls = count_calls(monkeypatch, ledger.recorder, (*READS, "insert_events"))

    authorize(ledger, sandbox.app.client_id, "alice")  # app, catalogue, grant and position

    assert calls == Counter({"select_events_after": 1})


@ON_POSTGRES
def test_on_postgres_a_code_exchange_reads_once_and_writes_once(
    ledger: Ledger, sandbox: SandboxSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue_token(ledger, sandbox.app, "alice")
    code = authorize(ledger, sandbox.app.client_id, "alice").code
    calls = count_calls(monkeypatch, ledger.recorder, (*READS, "insert_events"))

    exchange(ledger, sandbox.app, code)  # app, catalogue and grant; then token and grant

    assert calls == Counter({"select_events_after": 1, "insert_events": 1})


@ON_POSTGRES
def test_an_aggregate_evicted_during_the_read_is_read_whole(
    ledger_env: dict[str, str], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = Ledger(
        env={**ledger_env, "AGGREGATE_CACHE_MAXSIZE": "50"},
        secret_key=TEST_SECRET_KEY,
        clock=clock,
    )
    try:
        setup = sandbox_app_with_user(small)
        issue_token(small, setup.app, "alice")
        small.update_app_details(setup.app.client_id, Actor.developer(setup.owner), name="Moved")
        cache = small.repository.cache
        assert cache is not None
        select = small.recorder.select_events_after  # type: ignore[attr-defined]

        def evict_then_select(*args: Any, **kwargs: Any) -> Any:
            answer = select(*args, **kwargs)
            for filler in range(60):  # another thread's loads push the app out of the cache
                cache.put(user_id(f"filler{filler}"), object())
            return answer

        monkeypatch.setattr(small.recorder, "select_events_after", evict_then_select)
        found = small.repository.prefetch([app_id_from_client_id(setup.app.client_id)])
        assert found is not None
        assert small.app(setup.app.client_id).name == "Moved"
    finally:
        small.close()


@ON_POSTGRES
def test_the_recorder_answers_new_events_of_several_aggregates_and_the_position(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    issue_token(ledger, sandbox.app, "alice")
    recorder = ledger.recorder
    assert isinstance(recorder, LedgerPostgresRecorder)
    app = app_id_from_client_id(sandbox.app.client_id)
    assert app is not None
    grant = grant_id(user_id("alice"), app)
    app_events = recorder.select_events(app)
    grant_events = recorder.select_events(grant)

    events, position = recorder.select_events_after(
        [(app, len(app_events) - 2), (grant, 0), (SCOPE_CATALOGUE_ID, 10**6), (user_id("x"), 0)]
    )

    assert [(e.originator_id, e.originator_version) for e in events] == sorted(
        [(e.originator_id, e.originator_version) for e in app_events[-2:] + grant_events]
    )
    assert position == ledger.position()
