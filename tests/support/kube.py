"""A real, throw-away Kubernetes control plane for tests: etcd + kube-apiserver +
kube-controller-manager, built from Go modules by tools/cluster/build.sh.

Why not kind: no container engine runs on the development machines or in CI here.
What is real: the API server (validation, admission, CEL, RBAC, server-side apply and
dry-run, CRDs) and the controllers (Deployments, ReplicaSets, Jobs, garbage collection,
service accounts). What is missing: a kubelet and a scheduler, so pods stay unbound and
tests play the kubelet with tests/support/kubelet.py. See docs/testing.md.
"""

from __future__ import annotations

import atexit
import base64
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tests.support.kube_certs import ClusterPki, generate_pki
from tests.support.kube_process import (
    ManagedProcess,
    free_port,
    https_ok,
    leftover_processes,
    run_tool,
)

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "helm")
START_TIMEOUT = 60.0


class ControlPlaneError(RuntimeError):
    """The control plane could not be started or stopped cleanly."""


class BinariesMissingError(ControlPlaneError):
    """tools/cluster/build.sh has not been run (or failed) on this machine."""


class OrphanProcessError(ControlPlaneError):
    """A control-plane process outlived teardown."""


def default_bin_dir() -> Path:
    return Path(os.environ.get("EM_CLUSTER_BIN_DIR", REPO_ROOT / ".cache" / "cluster" / "bin"))


@dataclass(frozen=True)
class ClusterBinaries:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    helm: Path

    @classmethod
    def locate(cls, bin_dir: Path | None = None) -> ClusterBinaries:
        """Find the binaries or raise BinariesMissingError naming the fix."""
        folder = bin_dir or default_bin_dir()
        missing = [b for b in BINARIES if not os.access(folder / b, os.X_OK)]
        if missing:
            raise BinariesMissingError(
                f"control-plane binaries missing in {folder}: {', '.join(missing)}; "
                "run `make cluster-bins` (tools/cluster/build.sh)"
            )
        return cls(*(folder / b for b in BINARIES))


class ControlPlane:
    """Start with start() (or a with-block); stop() tears down and checks for orphans."""

    def __init__(self, binaries: ClusterBinaries, workdir: Path | None = None) -> None:
        self.binaries = binaries
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="em-kube-"))
        self.kubeconfig = self.workdir / "kubeconfig"
        self.api_port = 0
        self.etcd_port = 0
        self._pki: ClusterPki | None = None
        self._procs: list[ManagedProcess] = []
        self.startup_seconds = 0.0

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(
        self, exc: type[BaseException] | None, val: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> ControlPlane:
        started = time.monotonic()
        atexit.register(self.stop)
        try:
            self._start_processes()
            self._wait_ready(started + START_TIMEOUT)
        except BaseException:
            self.stop(check=False)
            raise
        self.startup_seconds = time.monotonic() - started
        logger.info("control plane ready at %s in %.1fs", self.server, self.startup_seconds)
        return self

    def _start_processes(self) -> None:
        pki = self._pki = generate_pki(self.workdir / "pki")
        self.etcd_port, peer_port, self.api_port = free_port(), free_port(), free_port()
        etcd_url = f"http://127.0.0.1:{self.etcd_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        self._write_kubeconfig(pki)
        # All three start at once: the apiserver retries etcd and the controller-manager
        # waits for the apiserver's /healthz, which saves several seconds of start-up.
        self._spawn("etcd", [
            str(self.binaries.etcd), "--name=em-test", f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=em-test={peer_url}", "--unsafe-no-fsync=true",
            "--log-level=warn", "--quota-backend-bytes=536870912",
        ])  # fmt: skip
        self._spawn("kube-apiserver", [
            str(self.binaries.kube_apiserver), "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1", f"--secure-port={self.api_port}",
            f"--etcd-servers={etcd_url}", f"--cert-dir={self.workdir / 'apiserver-certs'}",
            f"--tls-cert-file={pki.serving_cert}", f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_cert}", "--authorization-mode=RBAC",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-cluster-ip-range=10.0.0.0/24", "--allow-privileged=true",
            "--endpoint-reconciler-type=none", "--v=1",
        ])  # fmt: skip
        self._spawn("kube-controller-manager", [
            str(self.binaries.kube_controller_manager), f"--kubeconfig={self.kubeconfig}",
            "--secure-port=0", "--leader-elect=false", f"--root-ca-file={pki.ca_cert}",
            f"--service-account-private-key-file={pki.sa_key}",
            "--use-service-account-credentials=false", "--v=1",
        ])  # fmt: skip

    def _spawn(self, name: str, argv: Sequence[str]) -> None:
        self._procs.append(ManagedProcess.spawn(name, argv, self.workdir / f"{name}.log"))

    def _write_kubeconfig(self, pki: ClusterPki) -> None:
        def b64(path: Path) -> str:
            return base64.b64encode(path.read_bytes()).decode()

        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "em-test", "cluster": {
                "server": self.server, "certificate-authority-data": b64(pki.ca_cert)}}],
            "users": [{"name": "em-admin", "user": {
                "client-certificate-data": b64(pki.admin_cert),
                "client-key-data": b64(pki.admin_key)}}],
            "contexts": [{"name": "em-test", "context": {
                "cluster": "em-test", "user": "em-admin", "namespace": "default"}}],
            "current-context": "em-test",
        }  # fmt: skip
        self.kubeconfig.write_text(json.dumps(doc, indent=2))
        self.kubeconfig.chmod(0o600)

    def _check_alive(self) -> None:
        for proc in self._procs:
            if not proc.alive():
                raise ControlPlaneError(f"{proc.name} exited early:\n{proc.log_tail()}")

    def _wait_ready(self, deadline: float) -> None:
        assert self._pki is not None
        pki = self._pki
        while not https_ok(f"{self.server}/readyz", pki.ca_cert, pki.admin_cert, pki.admin_key):
            self._check_alive()
            if time.monotonic() > deadline:
                raise ControlPlaneError(f"/readyz not ok in time:\n{self._procs[1].log_tail()}")
            time.sleep(0.1)
        logger.info("kube-apiserver ready; waiting for the controller-manager")
        # Pods are refused until the service-account controller has made `default`
        # in the namespace, so that is the controller-manager's readiness signal.
        api = self.api_client()
        try:
            core = client.CoreV1Api(api)
            while True:
                try:
                    core.read_namespaced_service_account("default", "default")
                    return
                except ApiException as exc:
                    if exc.status != 404:
                        raise
                self._check_alive()
                if time.monotonic() > deadline:
                    raise ControlPlaneError(
                        f"controller-manager not ready:\n{self._procs[2].log_tail()}"
                    )
                time.sleep(0.1)
        finally:
            api.close()  # type: ignore[no-untyped-call]

    def api_client(self) -> client.ApiClient:
        """A fresh ApiClient for the admin user; close it (or use `with`)."""
        api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(self.kubeconfig)
        )
        return api

    def tool_env(self) -> dict[str, str]:
        """Environment for kubectl/helm: this cluster only, caches inside the workdir."""
        env = dict(os.environ)
        env.update(
            KUBECONFIG=str(self.kubeconfig),
            KUBECACHEDIR=str(self.workdir / "kube-cache"),
            HELM_CACHE_HOME=str(self.workdir / "helm" / "cache"),
            HELM_CONFIG_HOME=str(self.workdir / "helm" / "config"),
            HELM_DATA_HOME=str(self.workdir / "helm" / "data"),
        )
        return env

    def kubectl(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl (EM_KUBECTL or the one on PATH) against this cluster."""
        exe = os.environ.get("EM_KUBECTL") or shutil.which("kubectl")
        if exe is None:
            raise ControlPlaneError("kubectl not found on PATH (set EM_KUBECTL)")
        return run_tool([exe, f"--kubeconfig={self.kubeconfig}", *args], self.tool_env(),
                        check=check, stdin=stdin)  # fmt: skip

    def helm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_tool([str(self.binaries.helm), f"--kubeconfig={self.kubeconfig}", *args],
                        self.tool_env(), check=check)  # fmt: skip

    def stop(self, check: bool = True) -> None:
        """Stop controller-manager, apiserver, then etcd; verify nothing survived."""
        atexit.unregister(self.stop)
        for proc in reversed(self._procs):
            proc.terminate()
        survivors = leftover_processes(self.pids, self.workdir)
        self._procs = []
        if self._own_workdir and not survivors and not os.environ.get("EM_KUBE_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)
        if survivors and check:
            raise OrphanProcessError(f"processes left after teardown: {survivors}")
