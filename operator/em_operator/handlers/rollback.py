"""Manual rollback requests, and the data-loss markers the operator is told about.

The rollback itself is a step of the rollout machine (`runbook.rollout`); this
module only acknowledges `spec.rollback.toRevision` at once with an Event, so
`kubectl describe em` shows the request before the first step reports.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import kopf
from alembic.script import ScriptDirectory

from em_common import migrating
from em_operator import settings
from em_operator.runbook import migrations, naming

logger = logging.getLogger(__name__)


def catalog() -> migrations.MigrationCatalog:
    """What the operator's own image knows of the Alembic history, plus configured markers.

    The migrate Jobs report only heads; the graph and the `data_loss_on_downgrade`
    markers come from the migrations shipped in this image (as new as the operator,
    so possibly older than a market's newest version; the downgrade Job still
    refuses data loss by itself for anything this misses).
    """
    extra = migrations.MigrationCatalog(data_losing=settings.get().data_losing_migrations)
    return image_catalog().merged(extra)


@functools.cache
def image_catalog() -> migrations.MigrationCatalog:
    try:
        script = ScriptDirectory.from_config(migrating.make_config())
        losing = set(migrating.data_losing_revisions())
    except migrating.MigrationError as exc:
        logger.warning("no migrations in this image", extra={"error": str(exc)})
        return migrations.MigrationCatalog()
    steps = []
    for revision in script.walk_revisions():
        down = revision.down_revision
        parents = () if down is None else (down,) if isinstance(down, str) else tuple(down)
        steps.append(
            migrations.MigrationStep(revision.revision, parents, revision.revision in losing)
        )
    return migrations.MigrationCatalog.of(steps)


@kopf.on.field(naming.GROUP, naming.VERSION, naming.PLURAL, field="spec.rollback.toRevision")
def on_rollback_requested(body: kopf.Body, old: Any, new: Any, **_: Any) -> None:
    if new is None:
        kopf.info(
            body,
            reason="RollbackCleared",
            message="spec.rollback.toRevision removed: following spec.version again",
        )
        return
    kopf.info(
        body,
        reason="RollbackRequested",
        message=f"Rollback to revision {new} requested (was {old or 'unset'})",
    )
