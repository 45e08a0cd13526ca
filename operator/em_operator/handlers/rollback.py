"""Manual rollback requests, and the data-loss markers the operator is told about.

The rollback itself is a step of the rollout machine (`runbook.rollout`); this
module only acknowledges `spec.rollback.toRevision` at once with an Event, so
`kubectl describe em` shows the request before the first step reports.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from em_operator import settings
from em_operator.runbook import migrations, naming

logger = logging.getLogger(__name__)


def catalog() -> migrations.MigrationCatalog:
    """Migrations marked data-losing by configuration, beyond what Jobs reported."""
    return migrations.MigrationCatalog(data_losing=settings.get().data_losing_migrations)


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
