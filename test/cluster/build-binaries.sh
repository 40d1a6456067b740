#!/usr/bin/env bash
# Builds, once, the pinned upstream binaries the test clusters run (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kube-proxy, kubectl, etcd, etcdctl) from their Go modules, into a cache outside the repo:
#   $PODFENCE_CACHE/k8s-<version>/bin   (PODFENCE_CACHE defaults to ~/.cache/podfence)
# A second run only checks that each binary is there and reports the pinned version, and returns in seconds.
# The Go module and build caches live under the same root so they survive between runs.
# Usage: build-binaries.sh    (prints progress on stderr and the bin dir on stdout, as its last line)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=paths.sh
. "$here/paths.sh"

log() { printf '[cluster:build] %s\n' "$*" >&2; }
fail() { printf '[cluster:build] ERROR: %s\n' "$*" >&2; exit 1; }

# Ordered so the control plane (etcd, kube-apiserver, kubectl) is usable first.
ALL_CMDS=(etcd etcdctl kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet kube-proxy)

# The version each binary must report; anything else (stale cache, half-written file) is rebuilt.
expected_version() {
  case "$1" in
    etcd | etcdctl) echo "${PODFENCE_ETCD_VERSION#v}" ;;
    *) echo "$PODFENCE_K8S_VERSION" ;;
  esac
}

binary_ok() {
  local bin="$PODFENCE_K8S_BIN/$1" out
  [[ -x $bin ]] || return 1
  case "$1" in
    kubectl) out=$("$bin" version --client 2>/dev/null) || return 1 ;;
    etcdctl) out=$("$bin" version 2>/dev/null) || return 1 ;;
    *) out=$("$bin" --version 2>/dev/null) || return 1 ;;
  esac
  [[ $out == *"$(expected_version "$1")"* ]]
}

missing=()
for c in "${ALL_CMDS[@]}"; do binary_ok "$c" || missing+=("$c"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  log "all binaries present (Kubernetes $PODFENCE_K8S_VERSION, etcd $PODFENCE_ETCD_VERSION)"
  echo "$PODFENCE_K8S_BIN"
  exit 0
fi

# --- tools --------------------------------------------------------------------------------------------
# $GO overrides which go is used; else go from PATH, else /usr/local/go/bin/go.
GO=${GO:-$(command -v go || true)}
[[ -z $GO && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
[[ -n $GO && -x $GO ]] || fail "missing tool: go (Go >= 1.26 is needed to build Kubernetes $PODFENCE_K8S_VERSION and etcd $PODFENCE_ETCD_VERSION; install it at /usr/local/go)"
go_minor=$("$GO" env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
[[ $go_minor =~ ^[0-9]+$ && $go_minor -ge 26 ]] || fail "go is $("$GO" env GOVERSION) at $GO; Go >= 1.26 is needed (etcd $PODFENCE_ETCD_VERSION declares go 1.26)"
command -v gcc >/dev/null || log "note: gcc not found; fine, everything is built with CGO_ENABLED=0"

export GOPATH="$PODFENCE_CACHE/go"
export GOMODCACHE="$PODFENCE_CACHE/go/pkg/mod"
export GOCACHE="$PODFENCE_CACHE/go/build-cache"
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
mkdir -p "$PODFENCE_K8S_BIN" "$GOMODCACHE" "$GOCACHE"

log "building ${missing[*]} (Kubernetes $PODFENCE_K8S_VERSION, etcd $PODFENCE_ETCD_VERSION) with $("$GO" env GOVERSION)"
log "into $PODFENCE_K8S_BIN; a first build takes about 7 minutes on 2 cores"

# A heartbeat so a long compile does not look hung.
start_all=$SECONDS
(while sleep 60; do log "... still building ($(((SECONDS - start_all) / 60)) min)"; done) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT

k8s_minor=$(echo "$PODFENCE_K8S_VERSION" | cut -d. -f2)
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$PODFENCE_K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done
etcd_ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$PODFENCE_ETCD_VERSION"

build_one() { # name module-dir package ldflags
  local name=$1 dir=$2 pkg=$3 ldflags=$4 t0=$SECONDS tmp="$PODFENCE_K8S_BIN/.$1.tmp"
  log "[$((++done_count))/${#missing[@]}] $name ($pkg)"
  (cd "$dir" && "$GO" build -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg") ||
    fail "go build of $pkg failed (module $dir)"
  mv -f "$tmp" "$PODFENCE_K8S_BIN/$name"
  binary_ok "$name" || fail "$name was built but does not report version $(expected_version "$name")"
  log "    $name done in $((SECONDS - t0)) s"
}

done_count=0
log "downloading Go modules (cached in $GOMODCACHE)"
(cd "$here/tools" && "$GO" mod download) || fail "go mod download failed for test/cluster/tools (is the Go module proxy reachable?)"
(cd "$here/tools/etcd" && "$GO" mod download) || fail "go mod download failed for test/cluster/tools/etcd"
log "    modules ready in $((SECONDS - start_all)) s"
for c in "${missing[@]}"; do
  case "$c" in
    etcd) build_one etcd "$here/tools/etcd" go.etcd.io/etcd/server/v3 "$etcd_ldflags" ;;
    etcdctl) build_one etcdctl "$here/tools/etcd" go.etcd.io/etcd/etcdctl/v3 "$etcd_ldflags" ;;
    *) build_one "$c" "$here/tools" "k8s.io/kubernetes/cmd/$c" "$k8s_ldflags" ;;
  esac
done
log "built ${#missing[@]} binaries in $(((SECONDS - start_all) / 60)) min $(((SECONDS - start_all) % 60)) s"
echo "$PODFENCE_K8S_BIN"
