"""Kubernetes API clients, configured once per process.

In a pod the service account is used; elsewhere the kubeconfig (`KUBECONFIG`),
which is how the tests' local control plane hands itself to the operator.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException


@dataclass(frozen=True)
class Clients:
    api: client.ApiClient
    core: client.CoreV1Api
    apps: client.AppsV1Api
    batch: client.BatchV1Api
    custom: client.CustomObjectsApi

    def plain(self, obj: Any) -> dict[str, Any]:
        """A client model as the API's JSON (camelCase keys), for the pure converters."""
        result: dict[str, Any] = self.api.sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]
        return result


@functools.cache
def get() -> Clients:
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except ConfigException:
        config.load_kube_config()  # type: ignore[no-untyped-call]
    api = client.ApiClient()
    return Clients(
        api=api,
        core=client.CoreV1Api(api),
        apps=client.AppsV1Api(api),
        batch=client.BatchV1Api(api),
        custom=client.CustomObjectsApi(api),
    )


POOL_SIZE = 8  # within the client's connection pool (5 per CPU)


@functools.cache
def pool() -> ThreadPoolExecutor:
    """For the reads and writes of one pass, which are independent of each other."""
    return ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="em-api")
