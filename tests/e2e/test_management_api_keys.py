"""API keys over HTTP and from the `ledger keys` command."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from tests.support.http_api import Api

pytest_plugins = ["tests.support.http_api_fixtures"]


def test_created_key_is_shown_once_and_never_listed(api: Api) -> None:
    response = api.post("/v1/api-keys", {"name": "edge", "role": "gateway"})

    created = api.ok(response, 201)
    assert response.headers["Cache-Control"] == "no-store"
    assert len(created["key"]) >= 43  # 256 bits, URL-safe base64
    listed = api.ok_list("/v1/api-keys")
    assert created["key_id"] in {k["key_id"] for k in listed}
    assert created["key"] not in str(listed)


def test_created_key_authenticates_at_once(api: Api) -> None:
    key = api.key("auditor")

    assert api.get("/v1/catalogue", key=key).status_code == 200


def test_key_is_accepted_in_the_x_api_key_header(api: Api) -> None:
    key = api.key("auditor")

    response = api.client.get("/v1/catalogue", headers={"X-API-Key": key})

    assert response.status_code == 200


def test_missing_key_is_401_with_a_bearer_challenge(api: Api) -> None:
    response = api.client.get("/v1/catalogue")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_revoked_key_is_refused_on_its_very_next_request(api: Api) -> None:
    key, key_id = api.key_with_id("admin")
    assert api.get("/v1/catalogue", key=key).status_code == 200

    api.write(api.post(f"/v1/api-keys/{key_id}/revoke", {"reason": "leaked"}))
    before = api.ledger.position()
    response = api.post("/v1/users", {"username": "mallory", "full_name": "M"}, key=key)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert api.ledger.position() == before


def test_revoked_key_is_listed_as_revoked(api: Api) -> None:
    _, key_id = api.key_with_id("gateway")

    api.write(api.post(f"/v1/api-keys/{key_id}/revoke", {"reason": "rotated"}))

    listed = {k["key_id"]: k for k in api.ok_list("/v1/api-keys")}
    assert listed[key_id]["revoked"] is True


def test_revoking_a_key_twice_is_a_conflict(api: Api) -> None:
    _, key_id = api.key_with_id("gateway")
    api.write(api.post(f"/v1/api-keys/{key_id}/revoke", {"reason": "rotated"}))

    response = api.post(f"/v1/api-keys/{key_id}/revoke", {"reason": "again"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "api_key_state"


def test_revoking_an_unknown_key_is_404(api: Api) -> None:
    response = api.post("/v1/api-keys/not-a-key/revoke", {"reason": "x"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "api_key_not_found"


def test_developer_key_for_an_unregistered_user_is_refused(api: Api) -> None:
    before = api.ledger.position()

    response = api.post("/v1/api-keys", {"name": "d", "role": "developer", "principal": "ghost"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "user_not_found"
    assert api.ledger.position() == before


def test_unknown_role_is_a_validation_error(api: Api) -> None:
    response = api.post("/v1/api-keys", {"name": "x", "role": "root"})

    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("role:")


def test_key_creation_is_recorded_with_the_admin_who_made_it(api: Api) -> None:
    created = api.ok(api.post("/v1/api-keys", {"name": "edge", "role": "gateway"}), 201)

    key = api.ledger.api_key(created["key_id"])

    assert key.created_by == "ops"


# --- the CLI -----------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.sqlite"
    monkeypatch.setenv("LEDGER_SQLITE_PATH", str(path))
    monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    monkeypatch.setenv("LEDGER_ENVIRONMENT", "development")
    monkeypatch.delenv("LEDGER_SECRET_KEY", raising=False)
    return path


def test_cli_creates_an_admin_key_printed_once_on_stdout(cli_env: Path) -> None:
    runner = CliRunner()

    created = runner.invoke(cli, ["keys", "create", "--name", "ops", "--role", "admin"])
    listed = runner.invoke(cli, ["keys", "list"])

    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert len(key) >= 43
    assert "\n" not in key
    assert listed.exit_code == 0
    assert "admin\tactive\tops\tops" in listed.stdout
    assert key not in listed.stdout


def test_cli_key_works_against_the_api(cli_env: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from infrastructure.settings import build_settings

    key = (
        CliRunner()
        .invoke(cli, ["keys", "create", "--name", "ops", "--role", "admin"])
        .stdout.strip()
    )

    with TestClient(create_app(build_settings())) as client:
        response = client.get("/v1/api-keys", headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 200
    assert [k["name"] for k in response.json()] == ["ops"]


def test_cli_revokes_a_key(cli_env: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["keys", "create", "--name", "edge", "--role", "gateway"])
    key_id = runner.invoke(cli, ["keys", "list"]).stdout.split("\t", 1)[0]

    revoked = runner.invoke(cli, ["keys", "revoke", key_id, "--reason", "rotated"])

    assert revoked.exit_code == 0, revoked.output
    assert "\trevoked\t" in runner.invoke(cli, ["keys", "list"]).stdout


def test_cli_refuses_a_developer_key_without_a_principal(cli_env: Path) -> None:
    result = CliRunner().invoke(cli, ["keys", "create", "--name", "d", "--role", "developer"])

    assert result.exit_code == 1
    assert "username" in result.stderr


def test_cli_warns_that_a_key_made_without_a_secret_key_works_only_in_development(
    cli_env: Path,
) -> None:
    created = CliRunner().invoke(cli, ["keys", "create", "--name", "ops", "--role", "admin"])

    assert created.exit_code == 0, created.output
    assert "LEDGER_SECRET_KEY is not set" in created.stderr
    assert "works only with a server in development" in created.stderr


def test_cli_with_the_servers_secret_key_gives_no_warning(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_SECRET_KEY", "k" * 32)

    created = CliRunner().invoke(cli, ["keys", "create", "--name", "ops", "--role", "admin"])

    assert created.exit_code == 0, created.output
    assert "WARNING" not in created.stderr


def test_cli_outside_development_without_a_secret_key_prints_no_key(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_ENVIRONMENT", "production")

    created = CliRunner().invoke(cli, ["keys", "create", "--name", "ops", "--role", "admin"])

    assert created.exit_code == 2
    assert created.stdout == ""
    assert "LEDGER_SECRET_KEY must be set" in created.stderr
