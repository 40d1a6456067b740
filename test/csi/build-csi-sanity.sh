#!/usr/bin/env bash
# Builds, once, the pinned kubernetes-csi `csi-sanity` (the CSI conformance checker) from its Go module into the
# shared cache, next to the other upstream binaries:  $PODFENCE_CACHE/csi-sanity-<version>/csi-sanity
# A second run only checks that the binary is there. Prints the binary's path as its last line.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../cluster/paths.sh
. "$here/../cluster/paths.sh"
VERSION=v5.6.0
out=$PODFENCE_CACHE/csi-sanity-$VERSION
bin=$out/csi-sanity
# The binary reports no version of its own: a stamp file written after a complete build says which one it is.
if [[ -x $bin && -f $out/version && $(cat "$out/version") == "$VERSION" ]]; then
  echo "$bin"
  exit 0
fi
GO=${GO:-$(command -v go || true)}
[[ -z $GO && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
[[ -n $GO ]] || { echo "[csi-sanity] ERROR: go not found" >&2; exit 1; }
export GOPATH="$PODFENCE_CACHE/go" GOMODCACHE="$PODFENCE_CACHE/go/pkg/mod" GOCACHE="$PODFENCE_CACHE/go/build-cache"
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
mkdir -p "$out"
echo "[csi-sanity] building github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity@$VERSION" >&2
GOBIN=$out "$GO" install -ldflags "-s -w" \
  "github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity@$VERSION" >&2
echo "$VERSION" >"$out/version"
echo "$bin"
