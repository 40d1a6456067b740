#!/usr/bin/env bash
# Builds or installs, once, the pinned peers `npm run bench:peers` and `npm run bench:scale` compare podfence with,
# into a cache outside the repo (next to the Kubernetes binaries of test/cluster/build-binaries.sh):
#   $PODFENCE_CACHE/peers/kwok-v0.8.0/bin/kwok            go install sigs.k8s.io/kwok/cmd/kwok@v0.8.0
#   $PODFENCE_CACHE/peers/gatekeeper-v3.23.1/bin/gatekeeper  go install github.com/open-policy-agent/gatekeeper/v3@...
#   $PODFENCE_CACHE/peers/kyverno-v1.19.1/bin/kyverno     go build ./cmd/kyverno from a copy of the module source
#                                                         (`go install` refuses it: its go.mod has replace directives)
#   $PODFENCE_CACHE/peers/pepr-1.1.4/                      npm install pepr@1.1.4 + a `pepr init` module
# Each peer's source tree (CRDs, kwok stages) is kept beside its binary. A peer is done when its `.done` stamp exists,
# so a second run returns at once. Builds run at nice 19: a cold build takes ~30 min on 2 busy cores
# (Kyverno alone 14 min and 2.9 GB RAM).
# Usage: build-peers.sh [kwok|gatekeeper|kyverno|pepr ...]   (default: all; the last stdout line is a JSON map of paths)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../test/cluster/paths.sh
. "$here/../../test/cluster/paths.sh"

KWOK_VERSION=v0.8.0
GATEKEEPER_VERSION=v3.23.1
KYVERNO_VERSION=v1.19.1
PEPR_VERSION=1.1.4
PEERS=$PODFENCE_CACHE/peers

log() { printf '[bench:peers:build] %s\n' "$*" >&2; }
fail() { printf '[bench:peers:build] ERROR: %s\n' "$*" >&2; exit 1; }

GO=${GO:-$(command -v go || true)}
[[ -z $GO && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
export GOPATH="$PODFENCE_CACHE/go"
export GOMODCACHE="$PODFENCE_CACHE/go/pkg/mod"
export GOCACHE="$PODFENCE_CACHE/go/build-cache"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-buildvcs=false -trimpath"

need_go() { [[ -n $GO && -x $GO ]] || fail "missing tool: go (>= 1.26, at /usr/local/go) to build $1"; }
gobuild() { nice -n 19 "$GO" "$@"; }

build_kwok() {
  local dir=$PEERS/kwok-$KWOK_VERSION
  [[ -f $dir/.done ]] && return 0
  need_go kwok
  log "kwok $KWOK_VERSION: go install (about 3.5 min)"
  mkdir -p "$dir/bin"
  GOBIN=$dir/bin gobuild install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" || fail "go install kwok failed"
  # the standalone kwok loads no stages by itself: keep the module's stage files
  rm -rf "$dir/stage" && cp -r "$GOMODCACHE/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage" "$dir/stage" && chmod -R u+w "$dir/stage"
  touch "$dir/.done"
}

build_gatekeeper() {
  local dir=$PEERS/gatekeeper-$GATEKEEPER_VERSION
  [[ -f $dir/.done ]] && return 0
  need_go gatekeeper
  log "gatekeeper $GATEKEEPER_VERSION: go install (about 8 min)"
  mkdir -p "$dir/bin"
  GOBIN=$dir/bin gobuild install -ldflags "-s -w" "github.com/open-policy-agent/gatekeeper/v3@$GATEKEEPER_VERSION" ||
    fail "go install gatekeeper failed"
  mv -f "$dir/bin/v3" "$dir/bin/gatekeeper" 2>/dev/null || true
  # its CRDs (the manifest, not the code, creates them)
  cp "$GOMODCACHE/github.com/open-policy-agent/gatekeeper/v3@$GATEKEEPER_VERSION/deploy/gatekeeper.yaml" "$dir/gatekeeper.yaml"
  chmod u+w "$dir/gatekeeper.yaml"
  touch "$dir/.done"
}

build_kyverno() {
  local dir=$PEERS/kyverno-$KYVERNO_VERSION
  [[ -f $dir/.done ]] && return 0
  need_go kyverno
  log "kyverno $KYVERNO_VERSION: module source + go build ./cmd/kyverno (about 14 min, 2.9 GB RAM)"
  mkdir -p "$dir/bin" "$dir/tmpmod"
  (cd "$dir/tmpmod" && { [[ -f go.mod ]] || "$GO" mod init tmp/kyv >/dev/null 2>&1; } &&
    GOFLAGS=-mod=mod gobuild mod download "github.com/kyverno/kyverno@$KYVERNO_VERSION") || fail "go mod download kyverno failed"
  if [[ ! -f $dir/src/go.mod ]]; then
    rm -rf "$dir/src" && cp -r "$GOMODCACHE/github.com/kyverno/kyverno@$KYVERNO_VERSION" "$dir/src" && chmod -R u+w "$dir/src"
  fi
  (cd "$dir/src" && gobuild mod download && gobuild build -ldflags "-s -w" -o "$dir/bin/.kyverno.tmp" ./cmd/kyverno) ||
    fail "go build kyverno failed"
  mv -f "$dir/bin/.kyverno.tmp" "$dir/bin/kyverno"
  touch "$dir/.done"
}

build_pepr() {
  local dir=$PEERS/pepr-$PEPR_VERSION
  [[ -f $dir/.done ]] && return 0
  command -v npm >/dev/null || fail "missing tool: npm"
  mkdir -p "$dir"
  # one installer at a time (npm in one directory is not safe to run twice)
  exec 9>"$dir.lock"
  flock 9
  [[ -f $dir/.done ]] && { flock -u 9; return 0; }
  log "pepr $PEPR_VERSION: npm install + pepr init (about 2 min)"
  (cd "$dir" && { [[ -f package.json ]] || npm init -y >/dev/null; } &&
    nice -n 19 npm install --no-audit --no-fund --save-exact "pepr@$PEPR_VERSION" >&2) || fail "npm install pepr failed"
  if [[ ! -f $dir/pepr-podfence/package.json ]]; then
    (cd "$dir" && nice -n 19 npx --no-install pepr init --name pepr-podfence --description "podfence-equivalent peer" \
      --error-behavior reject --uuid podfence-peer --skip-post-init --yes >&2) || fail "pepr init failed"
  fi
  # pin the module's own pepr to the same version; `pepr dev` runs the module's node_modules/.bin/tsc
  (cd "$dir/pepr-podfence" && nice -n 19 npm install --no-audit --no-fund --save-exact "pepr@$PEPR_VERSION" >&2) ||
    fail "npm install in the pepr module failed"
  touch "$dir/.done"
  flock -u 9
}

which=("$@")
[[ ${#which[@]} -eq 0 ]] && which=(kwok pepr gatekeeper kyverno)
t0=$SECONDS
for p in "${which[@]}"; do
  case "$p" in
    kwok | gatekeeper | kyverno | pepr) s=$SECONDS; "build_$p"; log "$p ready ($((SECONDS - s)) s)" ;;
    *) fail "unknown peer '$p' (kwok, gatekeeper, kyverno, pepr)" ;;
  esac
done
log "all ready in $((SECONDS - t0)) s"
printf '{"kwok":"%s","gatekeeper":"%s","kyverno":"%s","pepr":"%s","goModCache":"%s"}\n' \
  "$PEERS/kwok-$KWOK_VERSION" "$PEERS/gatekeeper-$GATEKEEPER_VERSION" "$PEERS/kyverno-$KYVERNO_VERSION" \
  "$PEERS/pepr-$PEPR_VERSION" "$GOMODCACHE"
