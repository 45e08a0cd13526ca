#!/usr/bin/env bash
# Builds the local Kubernetes control plane used by the tests (etcd, kube-apiserver,
# kube-controller-manager) and helm from Go modules, into .cache/cluster/bin/.
#
# Versions are pinned by the wrapper modules beside this script (go.mod + go.sum);
# a stamp file per binary records what it was built from, so a second run only
# rebuilds what changed. See tools/cluster/README.md.
#
# Usage: tools/cluster/build.sh [--force] [binary ...]
#   binaries: etcd kube-apiserver kube-controller-manager helm (default: all)
# Env: CLUSTER_BIN_DIR overrides the output folder; GO names the go command (default: go).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${CLUSTER_BIN_DIR:-$root/.cache/cluster/bin}"
min_go_minor=26 # the pinned Kubernetes release declares go 1.26.0

force=0
wanted=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
    etcd|kube-apiserver|kube-controller-manager|helm) wanted+=("$arg") ;;
    *) echo "build.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
if [ ${#wanted[@]} -eq 0 ]; then
  wanted=(etcd kube-apiserver kube-controller-manager helm)
fi

go_cmd="${GO:-go}"
if ! command -v "$go_cmd" >/dev/null 2>&1; then
  cat >&2 <<'EOF'
build.sh: Go is not installed (no `go` on PATH, or $GO is not a command).
The local control plane is built from Go modules; install Go >= 1.26
(e.g. `apt-get install golang-go` if it is new enough, or your distribution's package)
and run `make cluster-bins` again.
EOF
  exit 1
fi

go_version="$("$go_cmd" env GOVERSION)" # e.g. go1.26.8
go_minor="$(sed -E 's/^go1\.([0-9]+).*/\1/' <<<"$go_version")"
if ! [[ "$go_minor" =~ ^[0-9]+$ ]] || [ "$go_minor" -lt "$min_go_minor" ]; then
  echo "build.sh: $go_version is too old; Go >= 1.$min_go_minor is required." >&2
  exit 1
fi

export CGO_ENABLED=0
export GOFLAGS="-trimpath -mod=readonly -buildvcs=false"
# Never switch toolchains behind the user's back (it would need a download).
export GOTOOLCHAIN=local

mkdir -p "$out"

# module folder, main package, pinned module
spec() {
  case "$1" in
    etcd) echo "etcd go.etcd.io/etcd/server/v3 go.etcd.io/etcd/server/v3" ;;
    kube-*) echo "kube k8s.io/kubernetes/cmd/$1 k8s.io/kubernetes" ;;
    helm) echo "helm helm.sh/helm/v4/cmd/helm helm.sh/helm/v4" ;;
  esac
}

module_version() { # dir module -> version pinned in that wrapper module
  (cd "$here/$1" && "$go_cmd" list -m -f '{{.Version}}' "$2")
}

ldflags_for() { # binary dir -> ldflags
  local v major minor flags="-s -w"
  case "$1" in
    kube-*)
      v="$(module_version "$2" k8s.io/kubernetes)"
      major="$(sed -E 's/^v([0-9]+)\..*/\1/' <<<"$v")"
      minor="$(sed -E 's/^v[0-9]+\.([0-9]+)\..*/\1/' <<<"$v")"
      for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
        flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
      done
      ;;
    helm)
      v="$(module_version "$2" helm.sh/helm/v4)"
      flags+=" -X helm.sh/helm/v4/internal/version.version=$v"
      flags+=" -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
      ;;
  esac
  echo "$flags"
}

stamp_for() { # binary dir ldflags -> content of the stamp file
  local sum
  sum="$(cat "$here/$2/go.mod" "$here/$2/go.sum" | sha256sum | cut -d' ' -f1)"
  printf 'binary=%s\ngo=%s\nmodule-sum=%s\nldflags=%s\nflags=%s cgo=%s\n' \
    "$1" "$go_version" "$sum" "$3" "$GOFLAGS" "$CGO_ENABLED"
}

total_start=$SECONDS
built=0
for bin in "${wanted[@]}"; do
  read -r dir pkg mod <<<"$(spec "$bin")"
  flags="$(ldflags_for "$bin" "$dir")"
  stamp="$(stamp_for "$bin" "$dir" "$flags")"
  stamp_file="$out/.$bin.stamp"
  if [ "$force" -eq 0 ] && [ -x "$out/$bin" ] && [ -f "$stamp_file" ] \
      && [ "$(cat "$stamp_file")" = "$stamp" ]; then
    echo "build.sh: $bin is up to date ($out/$bin)"
    continue
  fi
  echo "build.sh: building $bin from $pkg@$(module_version "$dir" "$mod") with $go_version ..."
  start=$SECONDS
  rm -f "$stamp_file"
  (cd "$here/$dir" && "$go_cmd" build -ldflags="$flags" -o "$out/$bin.tmp" "$pkg")
  mv -f "$out/$bin.tmp" "$out/$bin"
  printf '%s\n' "$stamp" > "$stamp_file"
  echo "build.sh: built $bin in $((SECONDS - start)) s ($(du -h "$out/$bin" | cut -f1))"
  built=$((built + 1))
done
echo "build.sh: done, $built built, in $((SECONDS - total_start)) s; binaries in $out"
