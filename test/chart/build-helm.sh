#!/usr/bin/env bash
# Builds, once, the pinned helm CLI the chart tests run, from its Go module (tools/go.mod pins helm.sh/helm/v3 and
# every dependency; go.sum is checked in), into a cache outside the repo:
#   $PODFENCE_CACHE/helm-<version>/helm   (PODFENCE_CACHE defaults to ~/.cache/podfence)
# A second run only checks the binary reports the pinned version and returns at once.
# Usage: build-helm.sh   (progress on stderr; the helm path on stdout as the last line)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PODFENCE_CACHE=${PODFENCE_CACHE:-$HOME/.cache/podfence}
# The single place the helm version is pinned for scripts; it must match tools/go.mod (checked below).
HELM_VERSION=$(sed -nE 's#^\s*helm\.sh/helm/v3 (v[0-9.]+).*#\1#p' "$here/tools/go.mod" | head -1)
[[ -n $HELM_VERSION ]] || { echo "[chart:helm] ERROR: helm.sh/helm/v3 not pinned in $here/tools/go.mod" >&2; exit 1; }
dir="$PODFENCE_CACHE/helm-$HELM_VERSION"
bin="$dir/helm"

log() { printf '[chart:helm] %s\n' "$*" >&2; }

if [[ -x $bin ]] && "$bin" version --short 2>/dev/null | grep -qE "^${HELM_VERSION}([+]|$)"; then
  log "helm $HELM_VERSION present"
  echo "$bin"
  exit 0
fi

GO=$(command -v go || true)
[[ -z $GO && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
[[ -n $GO ]] || { log "ERROR: go not found (install Go >= 1.25 at /usr/local/go)"; exit 1; }

# Share the module and build caches with test/cluster/build-binaries.sh (many modules are the same).
export GOPATH="$PODFENCE_CACHE/go"
export GOMODCACHE="$PODFENCE_CACHE/go/pkg/mod"
export GOCACHE="$PODFENCE_CACHE/go/build-cache"
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
mkdir -p "$dir"

# Like helm's Makefile: the default Kubernetes version of `helm template`/`lint` is the client-go minor helm is built with.
k8s_minor=$(sed -nE 's#^\s*k8s\.io/client-go v0\.([0-9]+)\..*#\1#p' "$here/tools/go.mod" | head -1)
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

log "building helm $HELM_VERSION with $("$GO" env GOVERSION) into $dir (a few minutes on 2 cores)"
t0=$SECONDS
# A temporary name of its own: two builds at once (a demo and a test) must not move each other's file.
tmp=$(mktemp "$dir/.helm.tmp.XXXXXX")
(cd "$here/tools" && "$GO" build -trimpath \
-ldflags "$ldflags" -o "$tmp" helm.sh/helm/v3/cmd/helm) || { log "ERROR: go build of helm failed (is the Go module proxy reachable?)"; exit 1; }
mv -f "$tmp" "$bin"
"$bin" version --short | grep -qE "^${HELM_VERSION}([+]|$)" || { log "ERROR: built helm does not report $HELM_VERSION"; exit 1; }
log "helm built in $((SECONDS - t0)) s"
echo "$bin"
