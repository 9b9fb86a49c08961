"""`ledger audit …`: the log's tamper evidence: verify it, sign a checkpoint, make a key."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from api.audit_cli import audit
from infrastructure.audit.checkpoints import CheckpointError, generate_key
from infrastructure.audit.trail import checkpoint_body, report_body
from infrastructure.runtime import open_runtime
from infrastructure.settings import Settings, SettingsError, build_settings


def _settings() -> Settings:
    try:
        return build_settings()
    except SettingsError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(code=2) from None


@audit.command()
def verify() -> None:
    """Recompute the tree from the stored events and check every checkpoint's signature.

    Prints the report as JSON; exits 1 when the log is not intact."""
    runtime = open_runtime(_settings(), run_projector=False)
    try:
        report = runtime.audit.verify()
    finally:
        runtime.close()
    typer.echo(json.dumps(report_body(report), indent=2))
    if not report.intact:
        raise typer.Exit(code=1)


@audit.command()
def checkpoint() -> None:
    """Extend the tree to the end of the log and sign a checkpoint of it now."""
    from domain.errors import CheckpointSigningDisabledError

    runtime = open_runtime(_settings(), run_projector=False)
    try:
        stored = runtime.audit.checkpoint()
    except CheckpointSigningDisabledError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        runtime.close()
    typer.echo(json.dumps(checkpoint_body(stored), indent=2))


@audit.command()
def keygen(
    name: Annotated[
        str,
        typer.Option(help="The key's name (no spaces or '+'), e.g. the log's origin and the year"),
    ],
) -> None:
    """Print a new checkpoint signer key (for LEDGER_CHECKPOINT_SIGNER_KEY; keep it secret)
    and its verifier key (publish it; keep old ones in LEDGER_CHECKPOINT_VERIFIER_KEYS)."""
    try:
        signer, verifier = generate_key(name)
    except CheckpointError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"LEDGER_CHECKPOINT_SIGNER_KEY={signer}")
    typer.echo(f"verifier key: {verifier}")
