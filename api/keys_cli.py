"""`ledger keys …`: create, revoke and list API keys (the first admin key comes from here).

The new key is printed once, alone on standard output (so `KEY=$(ledger keys create …)` works);
what it is goes to standard error. Only its keyed digest is stored.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from application.ledger import Ledger
from domain.actors import Actor
from domain.api_keys import KeyRole
from domain.errors import LedgerError
from infrastructure.persistence import open_ledger
from infrastructure.settings import Settings, SettingsError, build_settings

keys = typer.Typer(help="Create, revoke and list API keys.", no_args_is_help=True)


def operator() -> Actor:
    """The person at the terminal acts for the platform; the OS user is recorded."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (a container without passwd entry)
        user = "unknown"
    return Actor.platform(f"cli:{user}")


DEVELOPMENT_KEY_WARNING = (
    "WARNING: LEDGER_SECRET_KEY is not set, so this key is hashed with the built-in development "
    "key: it works only with a server in development that has no LEDGER_SECRET_KEY either. For "
    "any other server, run this command with that server's LEDGER_ENVIRONMENT and "
    "LEDGER_SECRET_KEY."
)


def _settings() -> Settings:
    """The server's settings; outside development without ``LEDGER_SECRET_KEY`` they are
    refused here (a key hashed with another key would be refused by the server)."""
    try:
        return build_settings()
    except SettingsError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(code=2) from None


@contextmanager
def _ledger(settings: Settings | None = None) -> Iterator[Ledger]:
    ledger = open_ledger(settings or _settings())
    try:
        yield ledger
    except LedgerError as exc:
        typer.echo(f"refused: {exc.message}", err=True)
        raise typer.Exit(code=1) from None
    finally:
        ledger.close()


@keys.command()
def create(
    name: Annotated[str, typer.Option(help="What the key is for, e.g. 'edge gateway'")],
    role: Annotated[KeyRole, typer.Option(help="What the key may do")],
    principal: Annotated[
        str | None,
        typer.Option(
            help="Who the key acts as: a developer key's username (defaults to the "
            "name for other roles)"
        ),
    ] = None,
) -> None:
    """Create a key and print it once."""
    settings = _settings()
    if settings.secret_key is None or not settings.secret_key.get_secret_value():
        typer.echo(DEVELOPMENT_KEY_WARNING, err=True)
    with _ledger(settings) as ledger:
        result = ledger.create_api_key(name=name, role=role, principal=principal, actor=operator())
    typer.echo(
        f"created {result.key_role.value} key {result.id} ({result.name!r}, acting as "
        f"{result.principal!r}); it is shown once, store it now:",
        err=True,
    )
    typer.echo(result.key)


@keys.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from `ledger keys list`)")],
    reason: Annotated[str, typer.Option(help="Why, for the record")] = "",
) -> None:
    """Revoke a key; it stops working on its next request."""
    with _ledger() as ledger:
        result = ledger.revoke_api_key(key_id, operator(), reason)
    typer.echo(f"revoked key {key_id} at log position {result.position}")


@keys.command("list")
def list_keys() -> None:
    """Every key: id, role, state, principal and name (never the key)."""
    with _ledger() as ledger:
        found = ledger.api_keys()
    if not found:
        typer.echo("no API keys", err=True)
        return
    for key in found:
        state = "revoked" if key.revoked else "active"
        typer.echo(f"{key.id}\t{key.key_role.value}\t{state}\t{key.principal}\t{key.name}")
