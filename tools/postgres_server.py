"""A real, throwaway PostgreSQL server started from the machine's installed binaries.

Tests need a real server (schemas, locks, concurrency), not a fake; this starts one
in a temporary folder on a free port and deletes it afterwards. PostgreSQL refuses
to run as root, so under root the folder is handed to the `postgres` user and the
server tools run as that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

DEFAULT_SETTINGS: dict[str, str] = {
    "max_connections": "200",
    "fsync": "on",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
    "log_line_prefix": "'%m [%p] '",
}

_START_ATTEMPTS = 3
_LOG_TAIL_LINES = 30
_RUN_AS = "postgres"
_BINARIES = ("initdb", "pg_ctl", "postgres")


class PostgresUnavailableError(RuntimeError):
    """Raised when no PostgreSQL server could be started here; the message says why."""


def find_bindir() -> Path:
    """Find the folder holding initdb, pg_ctl and postgres.

    Tried in order: $LEDGER_PG_BINDIR, `pg_config --bindir`, initdb on PATH
    (following symlinks), then the newest /usr/lib/postgresql/*/bin (Debian).
    """
    candidates: list[Path] = []
    if os.environ.get("LEDGER_PG_BINDIR"):
        candidates.append(Path(os.environ["LEDGER_PG_BINDIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: _version_key(p.parent.name),
        reverse=True,
    )
    candidates.extend(debian)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in _BINARIES):
            return bindir
    looked = ", ".join(str(c) for c in candidates) or "nowhere (no pg_config, no initdb on PATH)"
    raise PostgresUnavailableError(
        f"PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; looked in: {looked}. "
        "Install Debian's 'postgresql' package or set LEDGER_TEST_DATABASE_URL."
    )


def _version_key(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return (0,)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayPostgres:
    """Context manager: a PostgreSQL server on 127.0.0.1 that lives as long as the block.

    `settings` are extra postgresql.conf lines (they override DEFAULT_SETTINGS), e.g.
    `{"fsync": "off"}` where durability does not matter.
    """

    def __init__(
        self,
        *,
        settings: dict[str, str] | None = None,
        bindir: Path | None = None,
        start_timeout: int = 60,
    ) -> None:
        self.user = "postgres"
        self.host = "127.0.0.1"
        self.port = 0
        self._settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self._bindir = bindir
        self._start_timeout = start_timeout
        self._tmp: Path | None = None
        self._started = False
        self._run_as: pwd.struct_passwd | None = None

    # -- public -----------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    @property
    def socket_dir(self) -> Path:
        return self._require_tmp() / "sock"

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create a database on this server and return its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def start(self) -> None:
        if self._started:
            return
        self._bindir = bindir = self._bindir or find_bindir()
        missing = [name for name in _BINARIES if not os.access(bindir / name, os.X_OK)]
        if missing:
            raise PostgresUnavailableError(f"{', '.join(missing)} not found in {bindir}")
        self._run_as = self._user_to_run_as()
        self._tmp = Path(tempfile.mkdtemp(prefix="ledger-pg-", dir=self._parent_dir()))
        try:
            self._prepare_dirs()
            self._initdb(bindir)
            for attempt in range(1, _START_ATTEMPTS + 1):
                self.port = _free_port()  # racy by nature: retried on a new port
                self._write_config()
                log_offset = self._logfile.stat().st_size
                result = self._pg_ctl(
                    bindir, "start", "-w", "-t", str(self._start_timeout), "-l", str(self._logfile)
                )
                if result.returncode == 0:
                    self._started = True
                    self._check_connects()
                    return
                port_taken = "already in use" in self._log_since(log_offset)
                if not port_taken or attempt == _START_ATTEMPTS:
                    raise PostgresUnavailableError(
                        f"pg_ctl start failed: {(result.stdout + result.stderr).strip()}\n"
                        f"server log tail:\n{self._log_tail()}"
                    )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop immediately (no checkpoint: the data is thrown away) and delete the folder."""
        # postmaster.pid, not _started: a start that timed out may still have a server.
        running = self._tmp is not None and (self._datadir / "postmaster.pid").exists()
        if running and self._bindir is not None:
            with contextlib.suppress(PostgresUnavailableError):
                self._pg_ctl(self._bindir, "stop", "-m", "immediate", "-w")
        self._started = False
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def halt(self) -> None:
        """Stops the server as an operator's `pg_ctl stop -m fast` would: sessions end, the data
        stays, and `resume` starts it again on the same port (fault tests)."""
        self._control("stop", "-m", "fast", "-w", "-t", "30")

    def resume(self) -> None:
        self._control("start", "-w", "-t", "30", "-l", str(self._logfile))

    def restart(self) -> None:
        """Restarts the server as a crash would (`-m immediate`: no shutdown checkpoint, the
        server recovers from its write-ahead log as it starts)."""
        self._control("restart", "-m", "immediate", "-w", "-t", "30", "-l", str(self._logfile))

    def _control(self, *args: str) -> None:
        if self._bindir is None:
            raise PostgresUnavailableError("server not started")
        result = self._pg_ctl(self._bindir, *args)
        if result.returncode != 0:
            raise PostgresUnavailableError(
                f"pg_ctl {' '.join(args)} failed: {(result.stdout + result.stderr).strip()}"
            )

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------

    @property
    def _datadir(self) -> Path:
        return self._require_tmp() / "data"

    @property
    def _logfile(self) -> Path:
        return self._require_tmp() / "server.log"

    def _require_tmp(self) -> Path:
        if self._tmp is None:
            raise PostgresUnavailableError("server not started")
        return self._tmp

    @staticmethod
    def _user_to_run_as() -> pwd.struct_passwd | None:
        """None when we may run the tools ourselves; the `postgres` account under root."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(_RUN_AS)
        except KeyError:
            raise PostgresUnavailableError(
                f"running as root, and PostgreSQL refuses root, but there is no {_RUN_AS!r} "
                "user to run it as (Debian's postgresql package creates one)"
            ) from None

    def _parent_dir(self) -> str | None:
        """The usual temp folder, unless the postgres user could not reach into it."""
        default = Path(tempfile.gettempdir())
        if self._run_as is not None and not _traversable_by_others(default):
            return "/tmp"  # noqa: S108 - only the folder's parent; mkdtemp makes it private
        return None

    def _prepare_dirs(self) -> None:
        tmp = self._require_tmp()
        (tmp / "sock").mkdir()
        self._logfile.touch()
        if self._run_as is not None:
            for path in (tmp, tmp / "sock", self._logfile):
                os.chown(path, self._run_as.pw_uid, self._run_as.pw_gid)
            # The postgres user must be able to reach the folder through its parents.
            if not _traversable_by_others(tmp.parent):
                raise PostgresUnavailableError(
                    f"{tmp.parent} is not reachable by the {_RUN_AS!r} user; "
                    "point TMPDIR at a world-traversable folder such as /tmp"
                )

    def _initdb(self, bindir: Path) -> None:
        result = self._run(
            [
                str(bindir / "initdb"),
                "-D",
                str(self._datadir),
                "-U",
                self.user,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        if result.returncode != 0:
            raise PostgresUnavailableError(
                f"initdb failed (exit {result.returncode}): "
                f"{(result.stdout + result.stderr).strip()[-2000:]}"
            )

    def _write_config(self) -> None:
        lines = {
            **self._settings,
            "listen_addresses": f"'{self.host}'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
        }
        # postgresql.auto.conf is read last, so rewriting it on each attempt wins.
        text = "".join(f"{key} = {value}\n" for key, value in lines.items())
        auto_conf = self._datadir / "postgresql.auto.conf"
        auto_conf.write_text(text)
        if self._run_as is not None:
            os.chown(auto_conf, self._run_as.pw_uid, self._run_as.pw_gid)

    def _pg_ctl(self, bindir: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run([str(bindir / "pg_ctl"), "-D", str(self._datadir), *args])

    def _run(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        """Run a server tool, as the postgres user when we are root.

        stdin is closed and output captured to files the server never inherits
        (pg_ctl -l redirects the server's own output), so this cannot hang.
        """
        cmd = list(argv)
        if self._run_as is not None:
            if shutil.which("runuser"):
                cmd = ["runuser", "-u", self._run_as.pw_name, "--", *cmd]
            else:
                cmd = ["su", self._run_as.pw_name, "-s", "/bin/sh", "-c", shlex.join(cmd)]
        try:
            return subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=self._start_timeout + 30,
                check=False,
                cwd=self._require_tmp(),
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailableError(f"could not run {shlex.join(cmd)}: {exc}") from exc

    def _check_connects(self) -> None:
        import psycopg

        deadline = time.monotonic() + self._start_timeout
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=5) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise PostgresUnavailableError(
                        f"server started but refuses connections: {exc}\n"
                        f"server log tail:\n{self._log_tail()}"
                    ) from exc
                time.sleep(0.2)

    def _log_since(self, offset: int) -> str:
        try:
            with self._logfile.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def _log_tail(self) -> str:
        try:
            lines = self._logfile.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(server log is empty)"


def _traversable_by_others(path: Path) -> bool:
    """True if every folder from / to `path` lets other users pass through."""
    for folder in (path, *path.parents):
        try:
            if not folder.stat().st_mode & 0o001:
                return False
        except OSError:
            return False
    return True
