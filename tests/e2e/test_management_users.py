"""Platform users over HTTP: registration, passwords, reads."""

from __future__ import annotations

from argon2 import PasswordHasher

from tests.support.http_api import Api

pytest_plugins = ["tests.support.http_api_fixtures"]


def test_registered_user_is_answered_with_id_and_position(api: Api) -> None:
    response = api.post("/v1/users", {"username": "alice", "full_name": "Alice"})

    position = api.write(response, 201)
    body = response.json()
    assert body["username"] == "alice"
    assert body["user_id"] == api.ledger.user("alice").id.hex
    assert position == api.ledger.position()


def test_taken_username_is_a_conflict(api: Api) -> None:
    api.user("alice")

    response = api.post("/v1/users", {"username": "alice", "full_name": "Other"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "username_taken"


def test_invalid_username_is_unprocessable_and_writes_nothing(api: Api) -> None:
    before = api.ledger.position()

    response = api.post("/v1/users", {"username": "no spaces", "full_name": "X"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    assert api.ledger.position() == before


def test_missing_field_names_the_field(api: Api) -> None:
    response = api.post("/v1/users", {"username": "alice"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"] == "full_name: Field required"


def test_unknown_field_is_refused(api: Api) -> None:
    response = api.post("/v1/users", {"username": "alice", "full_name": "A", "admin": True})

    assert response.status_code == 422
    assert "admin" in response.json()["error"]["message"]


def test_body_that_is_not_json_is_400(api: Api) -> None:
    response = api.client.post(
        "/v1/users",
        content=b"{not json",
        headers={**api.auth(api.admin), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_password_is_stored_as_an_argon2id_hash(api: Api) -> None:
    api.user("alice")

    api.write(api.put("/v1/users/alice/password", {"password": "correct horse battery"}))

    stored = api.ledger.user("alice").password_hash
    assert stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, "correct horse battery")
    assert api.ok(api.get("/v1/users/alice"))["has_password"] is True


def test_short_password_is_refused_without_echoing_it(api: Api) -> None:
    api.user("alice")

    response = api.put("/v1/users/alice/password", {"password": "s3cr€t"})

    assert response.status_code == 422
    assert "s3cr€t" not in response.text
    assert api.ledger.user("alice").password_hash == ""


def test_password_never_appears_in_the_event_log(api: Api) -> None:
    api.user("alice")

    api.write(api.put("/v1/users/alice/password", {"password": "correct horse battery"}))

    logged = api.runtime.db.query("SELECT * FROM rm_log")
    stored = api.ledger.recorder.select_notifications(start=1, limit=1000)
    assert "correct horse battery" not in str(logged)
    assert all(b"correct horse battery" not in n.state for n in stored)


def test_user_is_read_with_sandbox_apps(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)
    api.user("alice")
    api.sandbox_user(app.client_id, developer, "alice")

    body = api.ok(api.get("/v1/users/alice"))

    assert body["username"] == "alice"
    assert body["sandbox_apps"] == [app.client_id]
    assert body["has_password"] is False


def test_unknown_user_is_404(api: Api) -> None:
    response = api.get("/v1/users/ghost")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "user_not_found"


def test_developer_key_reads_only_its_own_user(api: Api) -> None:
    developer = api.developer("dev_dana")
    api.user("alice")

    assert api.get("/v1/users/dev_dana", key=developer).status_code == 200
    assert api.get("/v1/users/alice", key=developer).status_code == 403
