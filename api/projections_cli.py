"""`ledger projections …`: rebuild the read models from the log, and digest them."""

from __future__ import annotations

import typer

from infrastructure.read_model.checksum import checksum as read_model_checksum
from infrastructure.read_model.projector import rebuild as rebuild_read_models
from infrastructure.runtime import open_runtime
from infrastructure.settings import build_settings

projections = typer.Typer(
    help="Maintain the read models projected from the event log.", no_args_is_help=True
)


@projections.command()
def rebuild() -> None:
    """Drop the read models and project the whole log again, with a progress bar."""
    runtime = open_runtime(build_settings(), run_projector=False)
    try:
        total = runtime.ledger.position()
        with typer.progressbar(length=total, label="Projecting events") as bar:
            applied = rebuild_read_models(runtime.projector, bar.update)
        typer.echo(f"rebuilt read models from {applied} events")
        typer.echo(read_model_checksum(runtime.db))
    finally:
        runtime.close()


@projections.command()
def checksum() -> None:
    """Print the read models' digest (compare it before and after a rebuild)."""
    runtime = open_runtime(build_settings(), run_projector=False)
    try:
        typer.echo(f"{read_model_checksum(runtime.db)}  position {runtime.projector.position()}")
    finally:
        runtime.close()
