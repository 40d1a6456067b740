#!/usr/bin/env bash
# `npm run demo`: on a fresh machine of this kind, installs what is missing (scripts/setup.sh), builds the pinned
# Kubernetes binaries and helm once (cached in ~/.cache/podfence), starts a local cluster with a real node,
# installs podfence with `helm install` of charts/podfence (images built from this checkout), applies the README's
# example profile, labels a namespace, runs a probe pod there and the same pod in an unlabelled namespace, prints
# side by side what is blocked and what is allowed and which admission objects admitted the pod, then stops
# everything. Exits non-zero when any step fails or the table does not show the escapes blocked in the sandboxed
# pod and allowed in the control pod.
#   npm run demo -- --keep    leave the cluster running and print the `export KUBECONFIG=...` line
#   npm run demo:down         stop a cluster left running (same as `bash scripts/demo.sh --down`)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*" >&2; }
keep=0
for arg in "$@"; do
  case $arg in
    --keep) keep=1 ;;
    --down)
      node test/node/stack-cli.js down
      exit 0
      ;;
    *) echo "usage: $0 [--keep | --down]" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (it starts a kubelet, containerd and pod networking)" >&2; exit 1; }

t0=$SECONDS
say "setting up (Debian packages, npm dependencies, build)"
bash scripts/setup.sh
say "building the pinned Kubernetes binaries and helm (first time: about 15 minutes on 2 cores; then cached)"
bash test/cluster/build-binaries.sh >/dev/null
bash test/chart/build-helm.sh >/dev/null
say "starting the cluster and the node, installing podfence with helm, running the demo pods"
if [[ $keep -eq 1 ]]; then
  node test/node/stack-cli.js demo --keep
else
  node test/node/stack-cli.js demo
fi
say "demo done in $((SECONDS - t0)) s"
