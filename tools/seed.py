"""`python -m tools.seed`: append a realistic history of about N events to the configured store.

For development, demos and benchmarks: developers, apps, reviews, sandbox users, users,
authorizations and code exchanges, revocations, deauthorizations, disabled apps and the
platform's policy changes, all made by the ledger's own commands (``tools.log_generator``).
The log is append-only, so seeded events stay for good: this development tool is not part of
the installed ``ledger`` command, and it refuses any ledger whose ``LEDGER_ENVIRONMENT`` is not
development.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infrastructure.settings import SettingsError, build_settings

if TYPE_CHECKING:
    from tools.log_generator import SampleToken


def seed(
    events: Annotated[
        int, typer.Option("--events", "-n", min=1, help="About how many events to append")
    ] = 100_000,
    random_seed: Annotated[
        int, typer.Option("--seed", help="The same seed makes the same history")
    ] = 0,
    batch: Annotated[
        int, typer.Option("--batch", min=1, help="Events written per transaction")
    ] = 5_000,
    project: Annotated[
        bool,
        typer.Option("--project/--no-project", help="Bring the read models up to date afterwards"),
    ] = True,
    tokens_out: Annotated[
        Path | None,
        typer.Option(
            "--tokens-out",
            help="Write sample plaintext tokens, one JSON object a "
            "line, to this file (for load tests)",
        ),
    ] = None,
    sample_tokens: Annotated[
        int, typer.Option("--sample-tokens", min=0, help="How many tokens to sample")
    ] = 100,
) -> None:
    """Append a realistic history of about N events (made by the ledger's own commands)."""
    from infrastructure.read_model.writer import ProjectionConflictError
    from infrastructure.runtime import open_runtime
    from tools.log_generator import generate_log

    try:
        settings = build_settings()
    except SettingsError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if not settings.is_development:
        typer.echo(
            f"refusing to seed a {settings.environment!r} ledger: its log is append-only, so "
            "the generated users, apps and tokens would stay for good",
            err=True,
        )
        raise typer.Exit(code=2)

    runtime = open_runtime(settings, run_projector=False)
    try:
        with typer.progressbar(length=events, label="Seeding events") as bar:
            result = generate_log(
                runtime.ledger,
                events,
                seed=random_seed,
                batch_events=batch,
                sample_tokens=sample_tokens,
                progress=bar.update,
            )
        typer.echo(
            f"appended {result.events} events (positions {result.first_position}-"
            f"{result.last_position}) in {result.seconds:.1f} s ({result.events_per_s:.0f}/s): "
            f"{len(result.usernames)} users, {len(result.apps)} apps, "
            f"{result.event_counts.get('AccessToken.Issued', 0)} tokens"
        )
        for kind, count in sorted(result.event_counts.items(), key=lambda kv: -kv[1]):
            typer.echo(f"  {count:>9}  {kind}")
        if project:
            behind = result.last_position - runtime.projector.position()
            try:
                with typer.progressbar(length=max(behind, 0), label="Projecting events") as bar:
                    runtime.projector.catch_up(bar.update)
                typer.echo(f"read models at position {runtime.projector.position()}")
            except ProjectionConflictError:
                typer.echo("a running service is projecting the new events; not projecting here")
        if tokens_out is not None:
            _write_tokens(tokens_out, [*result.tokens, *result.denied_tokens])
            typer.echo(
                f"wrote {len(result.tokens)} allowed and {len(result.denied_tokens)} "
                f"denied sample tokens to {tokens_out}"
            )
    finally:
        runtime.close()


def _write_tokens(path: Path, tokens: list[SampleToken]) -> None:
    """Plaintext tokens are secrets: the file is readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        for token in tokens:
            out.write(
                json.dumps(
                    {
                        "access_token": token.access_token,
                        "token_id": token.token_id,
                        "client_id": token.client_id,
                        "username": token.username,
                        "scope": token.scope,
                        "allowed": token.allowed,
                        "reason": token.reason,
                    }
                )
                + "\n"
            )


if __name__ == "__main__":
    typer.run(seed)
