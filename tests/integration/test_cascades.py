"""Cascades: taking something away (an app, a grant, an approval, a scope, a sandbox membership)
stops every token that rests on it, through one event, never an event per token.

Readers combine the one event with the rest of the log (domain/scopes.py, domain/tokens.py), so
no token can be missed and the write stays the same size however many tokens exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from domain.actors import Actor
from domain.decisions import Reason
from domain.errors import CodeNotFoundError
from tests.support.decision_setup import (
    PLATFORM,
    AppSetup,
    TokenSetup,
    events_written_since,
    live_app,
    project,
    sandbox_app,
    sandbox_token,
    token_for,
    unreviewed_live_token,
)
from tests.support.ledger_setup import authorize, exchange

if TYPE_CHECKING:
    from infrastructure.runtime import Runtime

USERS = ("ann", "ben", "cat", "dan")


def many_tokens(
    runtime: Runtime, app: AppSetup, scopes: str = "basic likes", per_user: int = 2
) -> list[TokenSetup]:
    """Several users of the app, each with several tokens."""
    return [token_for(runtime, app, user, scopes) for user in USERS for _ in range(per_user)]


def reasons(runtime: Runtime, tokens: list[TokenSetup], scope: str) -> set[Reason | None]:
    """The denial reasons the tokens get for the scope (None for an allowed token)."""
    found = set()
    for token in tokens:
        denial = runtime.read_model.check(token.access_token, scope).denial
        found.add(denial.reason if denial else None)
    return found


# --- disabling an app ---------------------------------------------------------------------------


def test_disabling_an_app_writes_one_event_however_many_tokens_it_has(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    many_tokens(runtime, app)
    before = runtime.ledger.position()
    runtime.ledger.disable_app(app.client_id, PLATFORM, "spam")
    assert events_written_since(runtime.ledger, before) == ["App.Disabled"]


def test_disabling_an_app_refuses_every_one_of_its_tokens(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    tokens = many_tokens(runtime, app)
    assert reasons(runtime, tokens, "likes") == {None}
    runtime.ledger.disable_app(app.client_id, PLATFORM, "spam")
    project(runtime)
    assert reasons(runtime, tokens, "likes") == {Reason.APP_DISABLED}


def test_disabling_an_app_leaves_other_apps_tokens_allowed(runtime: Runtime) -> None:
    disabled = live_app(runtime, approved=["likes"], owner="dev_one", name="One")
    other = live_app(runtime, approved=["likes"], owner="dev_two", name="Two")
    token_for(runtime, disabled, "bob", "basic likes")
    kept = token_for(runtime, other, "bob", "basic likes")
    runtime.ledger.disable_app(disabled.client_id, PLATFORM, "spam")
    project(runtime)
    assert runtime.read_model.check(kept.access_token, "likes").allowed


def test_enabling_a_disabled_app_lets_its_tokens_work_again(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    tokens = many_tokens(runtime, app, per_user=1)
    runtime.ledger.disable_app(app.client_id, PLATFORM, "spam")
    runtime.ledger.enable_app(app.client_id, PLATFORM, "appeal upheld")
    project(runtime)
    assert reasons(runtime, tokens, "likes") == {None}


# --- deauthorization ----------------------------------------------------------------------------


def test_deauthorizing_writes_one_event_however_many_tokens_the_user_has(
    runtime: Runtime,
) -> None:
    app = live_app(runtime, approved=["likes"])
    for _ in range(4):
        token_for(runtime, app, "bob", "basic likes")
    before = runtime.ledger.position()
    runtime.ledger.deauthorize(app.client_id, "bob", Actor.user("bob"), "no longer use it")
    assert events_written_since(runtime.ledger, before) == ["Grant.Deauthorized"]


def test_deauthorizing_refuses_every_token_of_that_user_for_that_app(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    tokens = [token_for(runtime, app, "bob", "basic likes") for _ in range(4)]
    runtime.ledger.deauthorize(app.client_id, "bob", Actor.user("bob"), "no longer use it")
    project(runtime)
    assert reasons(runtime, tokens, "likes") == {Reason.GRANT_WITHDRAWN}
    assert reasons(runtime, tokens, "basic") == {Reason.GRANT_WITHDRAWN}


def test_deauthorizing_leaves_other_users_tokens_allowed(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    token_for(runtime, app, "bob", "basic likes")
    other = token_for(runtime, app, "carol", "basic likes")
    runtime.ledger.deauthorize(app.client_id, "bob", Actor.user("bob"), "no longer use it")
    project(runtime)
    assert runtime.read_model.check(other.access_token, "likes").allowed


def test_deauthorizing_one_app_leaves_the_users_tokens_for_other_apps_allowed(
    runtime: Runtime,
) -> None:
    first = live_app(runtime, approved=["likes"], owner="dev_one", name="One")
    second = live_app(runtime, approved=["likes"], owner="dev_two", name="Two")
    token_for(runtime, first, "bob", "basic likes")
    kept = token_for(runtime, second, "bob", "basic likes")
    runtime.ledger.deauthorize(first.client_id, "bob", Actor.user("bob"), "no longer use it")
    project(runtime)
    assert runtime.read_model.check(kept.access_token, "likes").allowed


def test_code_issued_before_a_deauthorization_is_refused_after_reauthorization(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic")
    stale_code = authorize(runtime.ledger, token.client_id, "alice", "basic").code
    runtime.ledger.deauthorize(token.client_id, "alice", Actor.user("alice"), "no longer")
    authorize(runtime.ledger, token.client_id, "alice", "basic")  # later consent, code unused
    with pytest.raises(CodeNotFoundError):
        exchange(runtime.ledger, token.app.app, stale_code)


# --- approvals and platform policy --------------------------------------------------------------


def test_withdrawing_an_approval_writes_one_event_however_many_tokens_use_it(
    runtime: Runtime,
) -> None:
    app = live_app(runtime, approved=["likes"])
    many_tokens(runtime, app)
    before = runtime.ledger.position()
    runtime.ledger.withdraw_approval(app.client_id, "likes", PLATFORM, "April 2018")
    assert events_written_since(runtime.ledger, before) == ["App.ApprovalWithdrawn"]


def test_withdrawing_an_approval_refuses_every_token_for_that_scope(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    tokens = many_tokens(runtime, app)
    runtime.ledger.withdraw_approval(app.client_id, "likes", PLATFORM, "April 2018")
    project(runtime)
    assert reasons(runtime, tokens, "likes") == {Reason.NOT_APPROVED}
    assert reasons(runtime, tokens, "basic") == {None}


def test_retiring_a_scope_writes_one_event_however_many_apps_and_tokens_use_it(
    runtime: Runtime,
) -> None:
    many_tokens(runtime, live_app(runtime, approved=["likes"], owner="dev_one", name="One"))
    sandbox_token(runtime, "basic likes", owner="dev_two")
    before = runtime.ledger.position()
    runtime.ledger.retire_scope("likes", PLATFORM, "April 2018: likes switched off")
    assert events_written_since(runtime.ledger, before) == ["ScopeCatalogue.ScopeRetired"]


def test_retiring_a_scope_refuses_it_to_every_token_of_every_app(runtime: Runtime) -> None:
    tokens = many_tokens(
        runtime, live_app(runtime, approved=["likes"], owner="dev_one", name="One")
    )
    tokens.append(sandbox_token(runtime, "basic likes", owner="dev_two"))
    runtime.ledger.retire_scope("likes", PLATFORM, "April 2018: likes switched off")
    project(runtime)
    assert reasons(runtime, tokens, "likes") == {Reason.SCOPE_RETIRED}
    assert reasons(runtime, tokens, "basic") == {None}


def test_moving_unreviewed_apps_to_sandbox_writes_no_event_per_token(runtime: Runtime) -> None:
    first = unreviewed_live_token(runtime, "basic likes")
    second = sandbox_app(runtime, "dev_later", name="Later")
    runtime.ledger.go_live(second.client_id, Actor.developer("dev_later"))
    many_tokens(runtime, first.app)
    many_tokens(runtime, second)
    before = runtime.ledger.position()
    runtime.ledger.move_unreviewed_apps_to_sandbox(PLATFORM, "June 2016")
    written = events_written_since(runtime.ledger, before)
    assert "ScopeCatalogue.UnreviewedAppsMovedToSandbox" in written
    assert not [e for e in written if e.startswith(("AccessToken.", "Grant."))]


def test_moving_unreviewed_apps_to_sandbox_refuses_every_non_sandbox_users_token(
    runtime: Runtime,
) -> None:
    first = unreviewed_live_token(runtime, "basic likes")
    second = sandbox_app(runtime, "dev_later", name="Later")
    runtime.ledger.go_live(second.client_id, Actor.developer("dev_later"))
    tokens = [first, *many_tokens(runtime, first.app), *many_tokens(runtime, second)]
    runtime.ledger.move_unreviewed_apps_to_sandbox(PLATFORM, "June 2016")
    project(runtime)
    assert reasons(runtime, tokens, "likes") == {Reason.NOT_SANDBOX_USER}


# --- sandbox membership -------------------------------------------------------------------------


def test_removing_a_sandbox_user_writes_no_event_per_token(runtime: Runtime) -> None:
    first = sandbox_token(runtime, "basic likes")
    for _ in range(3):
        token_for(runtime, first.app, "alice", "basic likes")
    before = runtime.ledger.position()
    runtime.ledger.remove_sandbox_user(
        first.client_id, "alice", Actor.developer(first.app.owner), "testing is over"
    )
    written = events_written_since(runtime.ledger, before)
    assert "App.SandboxUserRemoved" in written
    assert not [e for e in written if e.startswith(("AccessToken.", "Grant."))]


def test_removing_a_sandbox_user_refuses_every_token_of_that_user(runtime: Runtime) -> None:
    first = sandbox_token(runtime, "basic likes")
    tokens = [first, *(token_for(runtime, first.app, "alice", "basic likes") for _ in range(3))]
    runtime.ledger.remove_sandbox_user(
        first.client_id, "alice", Actor.developer(first.app.owner), "testing is over"
    )
    project(runtime)
    assert reasons(runtime, tokens, "likes") == {Reason.NOT_SANDBOX_USER}
