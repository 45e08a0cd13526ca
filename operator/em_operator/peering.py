"""The kopf peering object, created when missing so replicas can see each other.

kopf does not create it, and with a mandatory peering that does not exist it
pauses the operator indefinitely, which would look like an operator that does
nothing. Creating it needs the CRDs (k8s/crds/kopf-peering.yaml) and RBAC to
create the peering object; without them the operator says so and carries on,
and kopf keeps it paused until the object appears.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from kubernetes.client.exceptions import ApiException

from em_operator.handlers import clients as clients_

logger = logging.getLogger(__name__)

GROUP, VERSION = "kopf.dev", "v1"
CLUSTER_PLURAL, NAMESPACED_PLURAL = "clusterkopfpeerings", "kopfpeerings"


def ensure(name: str, namespaces: Sequence[str], api: clients_.Clients | None = None) -> None:
    api = api or clients_.get()
    try:
        if not namespaces:
            body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "ClusterKopfPeering",
                    "metadata": {"name": name}}  # fmt: skip
            api.custom.create_cluster_custom_object(GROUP, VERSION, CLUSTER_PLURAL, body)
            logger.info("created peering", extra={"peering": name})
            return
        for namespace in namespaces:
            body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "KopfPeering",
                    "metadata": {"name": name, "namespace": namespace}}  # fmt: skip
            try:
                api.custom.create_namespaced_custom_object(
                    GROUP, VERSION, namespace, NAMESPACED_PLURAL, body
                )
                logger.info("created peering", extra={"peering": name, "namespace": namespace})
            except ApiException as exc:
                if exc.status != 409:
                    raise
    except ApiException as exc:
        if exc.status == 409:
            return
        logger.error(
            "cannot create the peering object; the operator stays paused until it exists "
            "(install k8s/crds/kopf-peering.yaml, or run with --standalone)",
            extra={"peering": name, "status": exc.status, "reason": exc.reason},
        )
