"""`ledger users …`: operator commands on platform users' sign-in.

The password is only ever typed at a hidden prompt (twice), never taken from the command line,
where it would land in shell history and the process list; the ledger stores its argon2id hash.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from api.schemas.users import PASSWORD_MAX, PASSWORD_MIN
from domain.actors import Actor
from domain.errors import LedgerError
from infrastructure.passwords import hash_password
from infrastructure.persistence import open_ledger
from infrastructure.settings import SettingsError, build_settings

users = typer.Typer(help="Manage platform users' sign-in.", no_args_is_help=True)


@users.command("set-password")
def set_password(
    username: Annotated[str, typer.Argument(help="The platform user's username")],
) -> None:
    """Set USERNAME's password for the OAuth sign-in page (prompted twice, hidden)."""
    password: str = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        typer.echo(f"error: a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters", err=True)
        raise typer.Exit(code=2)
    try:
        settings = build_settings()
    except SettingsError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    ledger = open_ledger(settings)
    try:
        ledger.set_user_password(
            username, hash_password(password), Actor.platform(f"cli:{getpass.getuser()}")
        )
    except LedgerError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(code=1) from None
    finally:
        ledger.close()
    typer.echo(f"Password set for {username}.")
