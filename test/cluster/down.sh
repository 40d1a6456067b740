#!/usr/bin/env bash
# `npm run cluster:down`: stops the cluster `npm run cluster:up` started (by its pid files; each process leads its
# own process group). Leaves the directory (logs) in place; the next cluster:up starts afresh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=paths.sh
. "$here/paths.sh"
dir=${PODFENCE_CLUSTER_DIR:-$PODFENCE_CACHE/dev-cluster}

# Only a process whose command line names this cluster's directory is ours (pids get reused).
ours() { [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF "$dir/"; }

stopped=0
for name in kube-scheduler kube-controller-manager kube-apiserver etcd; do
  pidfile=$dir/logs/$name.pid
  [[ -f $pidfile ]] || continue
  pid=$(cat "$pidfile")
  if ours "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 100); do ours "$pid" || break; sleep 0.1; done
    if ours "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
    echo "[cluster:down] stopped $name ($pid)" >&2
    stopped=$((stopped + 1))
  fi
  rm -f "$pidfile"
done
[[ $stopped -gt 0 ]] || echo "[cluster:down] no cluster running in $dir" >&2
