#!/usr/bin/env bash
# `npm run cluster:up`: a local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) that
# keeps running for a person with kubectl. Prints the `export KUBECONFIG=...` line on stdout.
# PODFENCE_CLUSTER_DIR (default $PODFENCE_CACHE/dev-cluster) holds its certificates, data, logs and pid files.
# A cluster already running there is reused; `npm run cluster:down` stops it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=paths.sh
. "$here/paths.sh"
dir=${PODFENCE_CLUSTER_DIR:-$PODFENCE_CACHE/dev-cluster}

bash "$here/build-binaries.sh" >/dev/null

if [[ -f $dir/logs/kube-apiserver.pid ]] && kill -0 "$(cat "$dir/logs/kube-apiserver.pid")" 2>/dev/null; then
  echo "[cluster:up] already running in $dir (npm run cluster:down stops it)" >&2
  echo "export KUBECONFIG=$dir/kubeconfig"
  exit 0
fi
# Stale leftovers of a previous cluster (killed machine, ...): stop whatever still runs, then start fresh.
bash "$here/down.sh" >/dev/null 2>&1 || true
rm -rf "$dir"
mkdir -p "$dir"
node "$here/up.js" "$dir"
