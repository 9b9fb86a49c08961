"""The log's tamper evidence over HTTP: the audit pass, signed checkpoints, and proof bundles
that the stand-alone verifier accepts with nothing but the ledger's verifier key."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.app import create_app
from infrastructure.audit import checkpoints as cp
from infrastructure.audit.proof_verifier import ProofError, verify_bundle
from infrastructure.settings import Settings
from tests.support.http_api import Api, World

pytest_plugins = ["tests.support.http_api_fixtures"]

ORIGIN = "ledger.test/log"
SIGNER_TEXT, VERIFIER_TEXT = cp.generate_key("ops-2026", bytes(range(32)))
VERIFIERS = [cp.parse_verifier_key(VERIFIER_TEXT)]  # all an outside verifier has


@pytest.fixture
def api_app(api_settings: Settings) -> FastAPI:
    """The app signing checkpoints with the test key, only when asked."""
    settings = api_settings.model_copy(
        update={
            "checkpoint_signer_key": SecretStr(SIGNER_TEXT),
            "checkpoint_origin": ORIGIN,
            "checkpoint_interval": 0,
        }
    )
    app = create_app(settings)
    app.state.read_wait_timeout = 5.0
    return app


@pytest.fixture
def auditor(api: Api) -> str:
    return api.key("auditor")


def sign(api: Api) -> dict[str, Any]:
    return api.ok(api.post("/v1/audit/checkpoints", key=api.admin), 201)


def wait_for_tree(api: Api, position: int) -> None:
    """The tree follows the read models by one batch at most: wait for it to reach a write."""
    deadline = time.monotonic() + 5
    while api.runtime.audit.verify().intact_through != position:
        assert time.monotonic() < deadline, f"the audit tree did not reach {position}"
        time.sleep(0.02)


def get(api: Api, url: str, key: str, **params: Any) -> dict[str, Any]:
    return api.ok(api.get(url, key=key, params=params))


def test_inclusion_proof_verifies_with_only_the_verifier_key(
    api: Api, world: World, auditor: str
) -> None:
    sign(api)
    position = api.synced()

    bundle = get(api, "/v1/audit/proofs/inclusion", auditor, position=position)

    assert verify_bundle(bundle, VERIFIERS, ORIGIN).startswith(f"leaf {position - 1} is in")
    assert bundle["event"]["position"] == position


def test_inclusion_proof_in_an_older_checkpoint_verifies(
    api: Api, world: World, auditor: str
) -> None:
    old = sign(api)
    api.user("bob")
    sign(api)

    bundle = get(
        api, "/v1/audit/proofs/inclusion", auditor, position=1, checkpoint_size=old["size"]
    )

    assert verify_bundle(bundle, VERIFIERS, ORIGIN).endswith(f"at tree size {old['size']}")


def test_inclusion_proof_fails_with_another_key(api: Api, world: World, auditor: str) -> None:
    sign(api)
    _, stranger = cp.generate_key("ops-2026", bytes(range(2, 34)))
    bundle = get(api, "/v1/audit/proofs/inclusion", auditor, position=1)

    with pytest.raises(ProofError):
        verify_bundle(bundle, [cp.parse_verifier_key(stranger)], ORIGIN)


def test_consistency_proof_between_two_checkpoints_verifies(
    api: Api, world: World, auditor: str
) -> None:
    old = sign(api)
    api.user("bob")
    new = sign(api)

    bundle = get(
        api, "/v1/audit/proofs/consistency", auditor, old_size=old["size"], new_size=new["size"]
    )

    assert verify_bundle(bundle, VERIFIERS, ORIGIN) == (
        f"tree size {old['size']} is a prefix of tree size {new['size']} of {ORIGIN}"
    )


def test_consistency_proof_of_an_unsigned_size_is_not_found(
    api: Api, world: World, auditor: str
) -> None:
    new = sign(api)

    response = api.get(
        "/v1/audit/proofs/consistency", key=auditor, params={"old_size": 1, "new_size": new["size"]}
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "audit_proof_not_found"


def test_inclusion_proof_of_a_position_no_checkpoint_covers_is_not_found(
    api: Api, world: World, auditor: str
) -> None:
    sign(api)
    position = api.write(
        api.post(
            "/v1/users",
            {
                "username": "bob",
                "full_name": "Bob",
                "profile_picture": "https://pics.example/b.jpg",
            },
        ),
        201,
    )
    wait_for_tree(api, position)

    response = api.get("/v1/audit/proofs/inclusion", key=auditor, params={"position": position})

    assert response.status_code == 404
    assert "No signed checkpoint covers" in response.json()["error"]["message"]


def test_checkpoints_are_listed_as_signed_notes(api: Api, world: World, auditor: str) -> None:
    signed = sign(api)

    listed = api.ok_list("/v1/audit/checkpoints", key=auditor)

    assert listed == [signed]
    checkpoint = cp.verify_checkpoint(listed[0]["note"], VERIFIERS, ORIGIN).checkpoint
    assert checkpoint.size == signed["size"]


def test_audit_verify_reports_the_log_intact(api: Api, world: World, auditor: str) -> None:
    sign(api)

    report = get(api, "/v1/audit/verify", auditor)

    assert (report["intact"], report["finding"], report["checkpoints_verified"]) == (
        True,
        "intact",
        1,
    )
    assert report["signed_through"] == report["intact_through"]


def test_explain_with_proofs_carries_inclusion_proofs_that_verify(api: Api, world: World) -> None:
    sign(api)

    body = api.ok(
        api.post(
            "/v1/decisions/explain?with_proofs=true",
            {"access_token": world.token.access_token, "scope": "basic"},
            key=api.key("auditor"),
        )
    )

    assert body["evidence"]
    for item in body["evidence"]:
        bundle = item["inclusion_proof"]
        verify_bundle(bundle, VERIFIERS, ORIGIN)
        assert bundle["event"]["position"] == item["position"]


def test_explain_without_proofs_carries_none(api: Api, world: World) -> None:
    sign(api)

    body = api.ok(
        api.post(
            "/v1/decisions/explain",
            {"access_token": world.token.access_token, "scope": "basic"},
            key=api.key("auditor"),
        )
    )

    assert [item["inclusion_proof"] for item in body["evidence"]] == [None] * len(body["evidence"])


@pytest.mark.parametrize("role", ["gateway", "developer", "reviewer"])
@pytest.mark.parametrize(
    "url", ["/v1/audit/verify", "/v1/audit/checkpoints", "/v1/audit/proofs/inclusion?position=1"]
)
def test_only_admins_and_auditors_read_the_audit(
    api: Api, world: World, role: str, url: str
) -> None:
    key = api.key(role, principal="dev_dana" if role == "developer" else None)

    response = api.get(url, key=key)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "api_key_role"


def test_auditor_may_not_sign_a_checkpoint(api: Api, world: World, auditor: str) -> None:
    response = api.post("/v1/audit/checkpoints", key=auditor)

    assert response.status_code == 403
    assert api.ok_list("/v1/audit/checkpoints", key=auditor) == []
