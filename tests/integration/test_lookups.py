"""Lookups across tokens and grants, as of any moment: who holds a scope for an app
(``token_holders``), and what a user has authorized (``user_authorizations``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from domain.actors import Actor
from domain.errors import UserNotFoundError
from domain.identity import user_id
from tests.support.decision_setup import (
    PLATFORM,
    TokenSetup,
    live_app,
    project,
    sandbox_app,
    sandbox_token,
    token_for,
)
from tests.support.ledger_setup import register_user

if TYPE_CHECKING:
    from infrastructure.runtime import Runtime


def holders(runtime: Runtime, client_id: str, scope: str = "likes", **kwargs: object) -> list[str]:
    """The usernames listed, in the order given."""
    return [h["username"] for h in runtime.read_model.token_holders(client_id, scope, **kwargs)]  # type: ignore[arg-type]


def revoke(runtime: Runtime, token: TokenSetup) -> int:
    return runtime.ledger.revoke_token(
        Actor.user(token.username), access_token=token.access_token, reason="lost my phone"
    ).position


# --- token_holders --------------------------------------------------------------------------------


def test_token_holders_lists_each_user_allowed_the_scope(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    for user in ("bob", "carol"):
        token_for(runtime, app, user, "basic likes")
    token_for(runtime, app, "dave", "basic")
    assert holders(runtime, app.client_id, "likes") == ["bob", "carol"]


def test_token_holders_of_basic_include_every_token_with_basic(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    token_for(runtime, app, "bob", "basic likes")
    token_for(runtime, app, "dave", "basic")
    assert holders(runtime, app.client_id, "basic") == ["bob", "dave"]


def test_token_holders_name_the_token_and_user_never_the_secret(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    token = token_for(runtime, app, "bob", "basic likes")
    assert runtime.read_model.token_holders(app.client_id, "likes") == [
        {"token_id": token.token_id.hex, "user_id": user_id("bob").hex, "username": "bob"}
    ]


def test_token_holders_list_each_token_of_a_user(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    first = token_for(runtime, app, "bob", "basic likes")
    second = token_for(runtime, app, "bob", "basic likes")
    listed = runtime.read_model.token_holders(app.client_id, "likes")
    assert [h["token_id"] for h in listed] == [first.token_id.hex, second.token_id.hex]


def test_token_holders_leave_out_a_revoked_token(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    bob = token_for(runtime, app, "bob", "basic likes")
    token_for(runtime, app, "carol", "basic likes")
    revoke(runtime, bob)
    project(runtime)
    assert holders(runtime, app.client_id) == ["carol"]


def test_token_holders_as_of_before_a_revocation_include_the_token(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    bob = token_for(runtime, app, "bob", "basic likes")
    token_for(runtime, app, "carol", "basic likes")
    revoked_at = revoke(runtime, bob)
    project(runtime)
    assert holders(runtime, app.client_id, as_of=revoked_at - 1) == ["bob", "carol"]


def test_token_holders_as_of_a_moment_before_a_revocation_include_the_token(
    runtime: Runtime,
) -> None:
    app = live_app(runtime, approved=["likes"])
    bob = token_for(runtime, app, "bob", "basic likes")
    time.sleep(0.005)
    before = datetime.now(UTC)
    time.sleep(0.005)
    revoke(runtime, bob)
    project(runtime)
    assert holders(runtime, app.client_id, as_of=before) == ["bob"]
    assert holders(runtime, app.client_id, as_of=datetime.now(UTC)) == []


def test_token_holders_as_of_before_a_token_was_issued_leave_it_out(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    bob = token_for(runtime, app, "bob", "basic likes")
    token_for(runtime, app, "carol", "basic likes")
    assert holders(runtime, app.client_id, as_of=bob.position) == ["bob"]


def test_token_holders_leave_out_a_deauthorized_user(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    token_for(runtime, app, "bob", "basic likes")
    token_for(runtime, app, "carol", "basic likes")
    runtime.ledger.deauthorize(app.client_id, "bob", Actor.user("bob"), "no longer")
    project(runtime)
    assert holders(runtime, app.client_id) == ["carol"]


def test_token_holders_of_a_disabled_app_are_none(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    token_for(runtime, app, "bob", "basic likes")
    runtime.ledger.disable_app(app.client_id, PLATFORM, "spam")
    project(runtime)
    assert holders(runtime, app.client_id) == []


def test_token_holders_leave_out_a_scope_whose_approval_was_withdrawn(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    token_for(runtime, app, "bob", "basic likes")
    runtime.ledger.withdraw_approval(app.client_id, "likes", PLATFORM, "April 2018")
    project(runtime)
    assert holders(runtime, app.client_id, "likes") == []
    assert holders(runtime, app.client_id, "basic") == ["bob"]


def test_token_holders_of_a_sandbox_app_leave_out_a_removed_sandbox_user(
    runtime: Runtime,
) -> None:
    alice = sandbox_token(runtime, "basic likes")
    token_for(runtime, alice.app, "bert", "basic likes", sandbox_user=True)
    runtime.ledger.remove_sandbox_user(
        alice.client_id, "alice", Actor.developer(alice.app.owner), "testing is over"
    )
    project(runtime)
    assert holders(runtime, alice.client_id) == ["bert"]


def test_token_holders_only_list_the_apps_own_tokens(runtime: Runtime) -> None:
    first = live_app(runtime, approved=["likes"], owner="dev_one", name="One")
    second = live_app(runtime, approved=["likes"], owner="dev_two", name="Two")
    token_for(runtime, first, "bob", "basic likes")
    token_for(runtime, second, "carol", "basic likes")
    assert holders(runtime, first.client_id) == ["bob"]


@pytest.mark.parametrize("client_id", ["not-a-client-id", "0" * 32])
def test_token_holders_of_an_unknown_client_are_none(runtime: Runtime, client_id: str) -> None:
    live_token_app = live_app(runtime, approved=["likes"])
    token_for(runtime, live_token_app, "bob", "basic likes")
    assert runtime.read_model.token_holders(client_id, "likes") == []


# --- user_authorizations --------------------------------------------------------------------------


def test_user_authorizations_show_each_app_with_its_scopes(runtime: Runtime) -> None:
    first = live_app(runtime, approved=["likes"], owner="dev_one", name="One")
    second = live_app(runtime, approved=["basic"], owner="dev_two", name="Two")
    token_for(runtime, first, "bob", "basic likes")
    token_for(runtime, second, "bob", "basic")
    assert runtime.read_model.user_authorizations("bob") == {
        first.client_id: ["basic", "likes"],
        second.client_id: ["basic"],
    }


def test_user_authorizations_accumulate_the_scopes_of_each_authorization(
    runtime: Runtime,
) -> None:
    app = live_app(runtime, approved=["likes"])
    token_for(runtime, app, "bob", "basic")
    token_for(runtime, app, "bob", "likes")
    assert runtime.read_model.user_authorizations("bob") == {app.client_id: ["basic", "likes"]}


def test_user_authorizations_are_empty_after_deauthorization(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    token_for(runtime, app, "bob", "basic likes")
    runtime.ledger.deauthorize(app.client_id, "bob", Actor.user("bob"), "no longer")
    project(runtime)
    assert runtime.read_model.user_authorizations("bob") == {}


def test_user_authorizations_as_of_before_deauthorization_show_the_app(
    runtime: Runtime,
) -> None:
    app = live_app(runtime, approved=["likes"])
    token_for(runtime, app, "bob", "basic likes")
    deauthorized = runtime.ledger.deauthorize(app.client_id, "bob", Actor.user("bob"), "no longer")
    project(runtime)
    assert runtime.read_model.user_authorizations("bob", as_of=deauthorized.position - 1) == {
        app.client_id: ["basic", "likes"]
    }


def test_user_authorizations_as_of_a_moment_before_deauthorization_show_the_app(
    runtime: Runtime,
) -> None:
    app = live_app(runtime, approved=["likes"])
    token_for(runtime, app, "bob", "basic likes")
    time.sleep(0.005)
    before = datetime.now(UTC)
    time.sleep(0.005)
    runtime.ledger.deauthorize(app.client_id, "bob", Actor.user("bob"), "no longer")
    project(runtime)
    assert runtime.read_model.user_authorizations("bob", as_of=before) == {
        app.client_id: ["basic", "likes"]
    }


def test_user_authorizations_after_reauthorization_show_only_the_new_consent(
    runtime: Runtime,
) -> None:
    app = live_app(runtime, approved=["likes"])
    token_for(runtime, app, "bob", "basic likes")
    runtime.ledger.deauthorize(app.client_id, "bob", Actor.user("bob"), "no longer")
    token_for(runtime, app, "bob", "basic")
    assert runtime.read_model.user_authorizations("bob") == {app.client_id: ["basic"]}


def test_user_authorizations_of_a_user_who_authorized_nothing_are_empty(
    runtime: Runtime,
) -> None:
    sandbox_app(runtime)
    register_user(runtime.ledger, "bob")
    project(runtime)
    assert runtime.read_model.user_authorizations("bob") == {}


def test_user_authorizations_of_an_unknown_user_raise_user_not_found(runtime: Runtime) -> None:
    sandbox_token(runtime, "basic")
    with pytest.raises(UserNotFoundError):
        runtime.read_model.user_authorizations("nobody")


def test_user_authorizations_as_of_before_the_user_registered_raise_user_not_found(
    runtime: Runtime,
) -> None:
    sandbox_token(runtime, "basic")
    registered = runtime.ledger.register_user(
        "late_comer", "Late Comer", None, Actor.user("late_comer")
    )
    project(runtime)
    with pytest.raises(UserNotFoundError):
        runtime.read_model.user_authorizations("late_comer", as_of=registered.position - 1)


def test_user_authorizations_find_the_user_whatever_the_case_asked(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    token_for(runtime, app, "bob", "basic likes")
    assert runtime.read_model.user_authorizations("Bob") == {app.client_id: ["basic", "likes"]}
