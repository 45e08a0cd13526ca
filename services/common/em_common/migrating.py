"""Run the one Alembic history from code: the `em migrate` CLI, the operator's Jobs, tests.

Each revision file declares `data_loss_on_downgrade = True | False`. A downgrade through a
revision that drops data refuses to run unless the caller says `allow_data_loss=True`, so
an automatic rollback cannot silently destroy a column of balances; the operator reads
`data_losing_revisions()` to decide before it starts. A revision that does not declare the
marker counts as data-losing: unknown means unsafe.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from em_common import db

logger = logging.getLogger(__name__)

MIGRATIONS_DIR_ENV: Final = "EM_MIGRATIONS_DIR"
DATA_LOSS_MARKER: Final = "data_loss_on_downgrade"
# services/common/em_common/migrating.py -> the repository root holds migrations/.
_REPO_MIGRATIONS: Final = Path(__file__).resolve().parents[3] / "migrations"


class MigrationError(RuntimeError):
    """Base for migration failures the CLI and the operator report by name."""


class MigrationsNotFound(MigrationError):
    """The migrations directory is missing (set EM_MIGRATIONS_DIR in installed images)."""


class DataLossError(MigrationError):
    """A downgrade would undo revisions that drop data, and the caller did not allow it."""

    def __init__(self, revisions: list[str]) -> None:
        super().__init__(
            "downgrade would undo data-losing revisions "
            f"{', '.join(revisions)}; pass allow_data_loss=True to proceed"
        )
        self.revisions = revisions


def migrations_dir() -> Path:
    path = Path(os.environ.get(MIGRATIONS_DIR_ENV) or _REPO_MIGRATIONS)
    if not (path / "env.py").is_file():
        raise MigrationsNotFound(f"no Alembic environment at {path} (set {MIGRATIONS_DIR_ENV})")
    return path


def make_config(database_url: str | None = None) -> Config:
    """An Alembic config without an ini file; the URL travels as an attribute, not a string
    option, so `%` in a password is not taken for interpolation."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if database_url is not None:
        config.attributes["database_url"] = db.sync_url(database_url)
    return config


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(make_config()).get_heads())


def current(database_url: str) -> str | None:
    """The revision the database is at; None for a database never migrated (or at base)."""
    engine = create_engine(db.sync_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def at_head(database_url: str) -> bool:
    """Whether the database is at the newest revision this code knows (readiness, smoke)."""
    return current(database_url) in heads()


def upgrade(database_url: str, target: str = "head") -> None:
    logger.info("migrating up", extra={"target": target})
    command.upgrade(make_config(database_url), target)


def downgrade(database_url: str, target: str, *, allow_data_loss: bool = False) -> None:
    """Downgrade to `target` (a revision, `base`, or relative like `-1`)."""
    losing = data_losing_revisions(database_url, target)
    if losing and not allow_data_loss:
        raise DataLossError(losing)
    logger.info("migrating down", extra={"target": target, "data_losing": losing})
    command.downgrade(make_config(database_url), target)


def data_losing_revisions(database_url: str | None = None, target: str = "base") -> list[str]:
    """Revisions whose downgrade loses data, newest first.

    Without a URL: every such revision in the history. With one: those that downgrading
    the database from its current revision to `target` would undo.
    """
    script = ScriptDirectory.from_config(make_config())
    if database_url is None:
        revisions: list[Script] = list(script.walk_revisions())
    else:
        revisions = _revisions_to_undo(script, current(database_url), target)
    return [rev.revision for rev in revisions if _loses_data(rev)]


def _revisions_to_undo(script: ScriptDirectory, at: str | None, target: str) -> list[Script]:
    if at is None:
        return []
    if target.startswith("-"):
        steps = int(target[1:])
        undone: list[Script] = []
        step: Script | None = script.get_revision(at)
        while step is not None and len(undone) < steps:
            undone.append(step)
            down = step.down_revision
            step = script.get_revision(down) if isinstance(down, str) else None
        return undone
    lower_rev = None if target == "base" else script.get_revision(target)
    lower = lower_rev.revision if isinstance(lower_rev, Script) else None
    # iterate_revisions(upper, lower) yields upper..lower inclusive of lower; lower stays.
    return [
        rev
        for rev in script.iterate_revisions(at, lower)
        if isinstance(rev, Script) and rev.revision != lower
    ]


def _loses_data(rev: Script) -> bool:
    return bool(getattr(rev.module, DATA_LOSS_MARKER, True))
