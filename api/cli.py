"""The `ledger` command: `ledger serve` now, operator commands later (one function each)."""

from __future__ import annotations

from typing import Annotated

import typer

from api.audit_tree_cli import audit
from api.keys_cli import keys
from api.projections_cli import projections
from api.users_cli import users
from infrastructure.settings import SettingsError, build_settings

app = typer.Typer(
    name="ledger",
    help="Event-sourced token and permission ledger.",
    no_args_is_help=True,
    add_completion=False,
)


app.add_typer(projections, name="projections")
app.add_typer(keys, name="keys")
app.add_typer(users, name="users")
app.add_typer(audit, name="audit")


@app.callback()
def _group() -> None:
    """Event-sourced token and permission ledger."""
    # A callback makes `ledger` a group, so `ledger serve` keeps its name even
    # while it is the only command.


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind [LEDGER_HOST/HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port [LEDGER_PORT/PORT]")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [LEDGER_WORKERS]")] = None,
) -> None:
    """Serve the HTTP API with uvicorn (defaults from the LEDGER_* settings)."""
    import uvicorn

    # Validates the configuration here, so a missing key fails before binding a port.
    try:
        settings = build_settings()
    except SettingsError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port if port is not None else settings.port,
        workers=workers if workers is not None else settings.workers,
    )


def main() -> None:
    app()
