"""API keys in the domain: who may create and revoke them, what each role may do and acts as."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.credentials import new_secret
from domain.actors import Actor, Role
from domain.api_keys import (
    ROLES_BY_CAPABILITY,
    ApiKey,
    ApiKeyIndex,
    Capability,
    KeyRole,
    api_key_id,
    roles_allowed,
)
from domain.credentials import SecretHasher
from domain.errors import (
    ApiKeyRoleError,
    ApiKeyStateError,
    InvalidInputError,
    NotPermittedError,
)

HASHER = SecretHasher(b"k" * 32)
PLATFORM = Actor.platform("ops")


def make_key(
    role: KeyRole | str = KeyRole.ADMIN,
    principal: str | None = None,
    name: str = "ops key",
    actor: Actor = PLATFORM,
) -> ApiKey:
    return ApiKey.create(HASHER.digest(new_secret()), name, role, principal, actor)


def test_key_id_is_derived_from_the_digest_of_the_key() -> None:
    secret = new_secret()
    digest = HASHER.digest(secret)

    key = ApiKey.create(digest, "ops", KeyRole.ADMIN, None, PLATFORM)

    assert key.id == api_key_id(digest)
    assert key.id == api_key_id(HASHER.digest(secret))


def test_created_event_keeps_the_digest_never_the_key() -> None:
    secret = new_secret()
    key = ApiKey.create(HASHER.digest(secret), "ops", KeyRole.ADMIN, None, PLATFORM)

    (created,) = key.collect_events()

    assert secret not in repr(vars(created))
    assert created.digest == HASHER.digest(secret)  # type: ignore[attr-defined]


def test_created_event_records_the_keys_role_apart_from_the_creators_role() -> None:
    key = make_key(KeyRole.GATEWAY, name="edge")

    (created,) = key.collect_events()

    assert created.key_role == "gateway"  # type: ignore[attr-defined]
    assert (created.actor, created.role) == ("ops", "platform")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "actor",
    [Actor.reviewer("rita"), Actor.developer("dana"), Actor.user("alice"), Actor.client("abc")],
)
def test_only_the_platform_creates_keys(actor: Actor) -> None:
    with pytest.raises(NotPermittedError):
        make_key(actor=actor)


def test_a_developer_key_needs_a_username() -> None:
    with pytest.raises(InvalidInputError, match="username"):
        make_key(KeyRole.DEVELOPER)


def test_a_developer_key_principal_must_be_a_valid_username() -> None:
    with pytest.raises(InvalidInputError):
        make_key(KeyRole.DEVELOPER, principal="not a username!")


def test_an_unknown_role_is_refused_with_the_roles_listed() -> None:
    with pytest.raises(InvalidInputError, match="admin, reviewer, developer, gateway, auditor"):
        make_key("superuser")


def test_a_key_needs_a_name() -> None:
    with pytest.raises(InvalidInputError, match="name"):
        make_key(name="  ")


def test_a_key_acts_under_its_name_unless_a_principal_is_given() -> None:
    assert make_key(KeyRole.REVIEWER, name="rita").principal == "rita"
    assert make_key(KeyRole.REVIEWER, principal="rita.r", name="reviews").principal == "rita.r"


def test_admin_key_acts_as_the_platform() -> None:
    assert make_key(KeyRole.ADMIN, name="ops").actor == Actor("ops", Role.PLATFORM)


def test_reviewer_key_acts_as_a_reviewer() -> None:
    assert make_key(KeyRole.REVIEWER, name="rita").actor == Actor("rita", Role.REVIEWER)


def test_developer_key_acts_as_its_developer() -> None:
    key = make_key(KeyRole.DEVELOPER, principal="dev_dana")
    assert key.actor == Actor("dev_dana", Role.DEVELOPER)


@pytest.mark.parametrize("role", [KeyRole.GATEWAY, KeyRole.AUDITOR])
def test_gateway_and_auditor_keys_cannot_write(role: KeyRole) -> None:
    with pytest.raises(NotPermittedError, match="read-only"):
        _ = make_key(role).actor


@pytest.mark.parametrize(
    ("role", "capabilities"),
    [
        (KeyRole.ADMIN, set(Capability)),
        (KeyRole.REVIEWER, {Capability.REVIEW, Capability.READ}),
        (KeyRole.DEVELOPER, {Capability.MANAGE_APPS, Capability.READ}),
        (KeyRole.GATEWAY, {Capability.DECIDE, Capability.EXPLAIN, Capability.INTROSPECT}),
        (KeyRole.AUDITOR, {Capability.EXPLAIN, Capability.READ, Capability.AUDIT}),
    ],
)
def test_each_role_has_exactly_its_capabilities(
    role: KeyRole, capabilities: set[Capability]
) -> None:
    key = make_key(role, principal="dev_dana" if role is KeyRole.DEVELOPER else None)
    assert {c for c in Capability if key.may(c)} == capabilities


def test_a_key_without_the_capability_is_refused_naming_the_allowed_roles() -> None:
    key = make_key(KeyRole.AUDITOR)

    with pytest.raises(ApiKeyRoleError, match="allowed roles: admin, gateway"):
        key.require(Capability.DECIDE)


def test_roles_allowed_lists_every_role_of_the_table_in_a_stable_order() -> None:
    for capability, roles in ROLES_BY_CAPABILITY.items():
        assert set(roles_allowed(capability)) == roles
    assert roles_allowed(Capability.READ) == (
        KeyRole.ADMIN,
        KeyRole.REVIEWER,
        KeyRole.DEVELOPER,
        KeyRole.AUDITOR,
    )


def test_developer_key_sees_only_what_its_developer_owns() -> None:
    key = make_key(KeyRole.DEVELOPER, principal="dev_dana")

    key.require_may_see("dev_dana")
    with pytest.raises(NotPermittedError):
        key.require_may_see("dev_eve")


def test_developer_key_sees_its_developers_apps_whatever_the_case_of_its_principal() -> None:
    key = make_key(KeyRole.DEVELOPER, principal="Dev_Dana")
    key.require_may_see("dev_dana")


@pytest.mark.parametrize("role", [KeyRole.ADMIN, KeyRole.REVIEWER, KeyRole.AUDITOR])
def test_other_reading_roles_see_everything(role: KeyRole) -> None:
    make_key(role).require_may_see("dev_eve")


def test_revoked_key_is_no_longer_active() -> None:
    key = make_key()

    key.revoke(PLATFORM, "leaked")

    assert key.revoked is True
    assert key.active is False


def test_revoking_twice_is_refused() -> None:
    key = make_key()
    key.revoke(PLATFORM, "leaked")

    with pytest.raises(ApiKeyStateError):
        key.revoke(PLATFORM, "again")


def test_only_the_platform_revokes_keys() -> None:
    key = make_key()

    with pytest.raises(NotPermittedError):
        key.revoke(Actor.reviewer("rita"), "no")
    assert key.active


def test_index_lists_each_key_once() -> None:
    index = ApiKeyIndex.start(PLATFORM)
    first, second = make_key(), make_key()

    index.add(first.id, PLATFORM)
    index.add(second.id, PLATFORM)
    index.add(first.id, PLATFORM)

    assert index.key_ids == [first.id, second.id]


@given(
    role=st.sampled_from(list(KeyRole)),
    revocations=st.integers(min_value=0, max_value=3),
)
def test_replaying_a_keys_events_gives_the_same_key(role: KeyRole, revocations: int) -> None:
    key = make_key(role, principal="dev_dana" if role is KeyRole.DEVELOPER else None)
    for _ in range(revocations):
        with contextlib.suppress(ApiKeyStateError):
            key.revoke(PLATFORM, "test")
    events = key.collect_events()

    replayed: ApiKey | None = None
    for e in events:
        replayed = e.mutate(replayed)

    assert replayed is not None
    assert (
        replayed.id,
        replayed.version,
        replayed.key_role,
        replayed.principal,
        replayed.revoked,
    ) == (key.id, key.version, key.key_role, key.principal, key.revoked)
