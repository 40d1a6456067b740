#!/usr/bin/env bash
# CI's readme stage (scripts/test-all.sh): every command README.md tells a user to run that no other stage runs,
# run as written (`npm run demo` itself is the demo stage; `npm test` is this whole run):
#   npm run demo -- --keep, then kubectl with the printed KUBECONFIG (kubectl get sandboxprofiles / sbp, logs),
#   then npm run demo:down, which must leave nothing running;
#   npm run cluster:up, kubectl with the printed KUBECONFIG, npm run cluster:down;
#   podfence compile and podfence preview on the README's own profile.yaml (extracted from README.md).
# Takes no lock itself (CI runs stages one after another); by hand beside others: flock /tmp/pf-node.lock ...
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> [readme] %s\n' "$*"; }
fail() {
  echo "ci-readme: $*" >&2
  exit 1
}
work=$(mktemp -d)
trap 'npm run -s demo:down >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
# shellcheck source=../test/cluster/paths.sh
. test/cluster/paths.sh
kubectl="$PODFENCE_K8S_BIN/kubectl"

step 'npm run demo -- --keep'
npm run demo -- --keep 2>&1 | tee "$work/keep.log"
kc=$(sed -nE 's/^export KUBECONFIG=(.*)$/\1/p' "$work/keep.log" | tail -n 1)
[[ -n $kc && -f $kc ]] || fail "npm run demo -- --keep printed no usable 'export KUBECONFIG=...' line"
step "KUBECONFIG=$kc kubectl get sandboxprofiles; kubectl get sbp; kubectl logs -n demo probe"
KUBECONFIG=$kc "$kubectl" get sandboxprofiles
KUBECONFIG=$kc "$kubectl" get sbp web -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True ||
  fail "kubectl get sbp: profile web is not Ready in the kept cluster"
KUBECONFIG=$kc "$kubectl" logs -n demo probe | grep -q '^CHECK ' || fail "kubectl logs -n demo probe shows no CHECK lines"
step 'npm run demo:down'
npm run demo:down
! KUBECONFIG=$kc "$kubectl" --request-timeout=5s get namespaces >/dev/null 2>&1 ||
  fail "the cluster still answers after npm run demo:down"
for comm in kubelet containerd kube-apiserver etcd; do
  for p in /proc/[0-9]*; do
    [[ $(cat "$p/comm" 2>/dev/null) == "$comm" ]] || continue
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qE 'podfence-stack|podfence-e2e' &&
      fail "npm run demo:down left $comm running (pid ${p#/proc/})"
  done
done

step 'npm run cluster:up; kubectl get namespaces; npm run cluster:down'
# Its own directory, so a developer's own `cluster:up` cluster is never touched.
export PODFENCE_CLUSTER_DIR=$work/dev-cluster
line=$(npm run -s cluster:up | tail -n 1)
[[ $line == "export KUBECONFIG=$PODFENCE_CLUSTER_DIR/kubeconfig" ]] || fail "npm run cluster:up printed: $line"
KUBECONFIG=$PODFENCE_CLUSTER_DIR/kubeconfig "$kubectl" get namespaces default
npm run cluster:down
! KUBECONFIG=$PODFENCE_CLUSTER_DIR/kubeconfig "$kubectl" --request-timeout=5s get namespaces >/dev/null 2>&1 ||
  fail "the cluster still answers after npm run cluster:down"

step "podfence compile profile.yaml; podfence preview --profile profile.yaml -f pod.yaml (README's profile.yaml)"
awk '/^# profile.yaml$/ { on = 1; next } on && /^```/ { exit } on' README.md >"$work/profile.yaml"
grep -q '^kind: SandboxProfile$' "$work/profile.yaml" || fail "no '# profile.yaml' block in README.md"
podfence() { node dist/src/cli.js "$@"; } # the package's bin (package.json "bin")
podfence compile "$work/profile.yaml" >"$work/seccomp.json"
node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (!s.defaultAction) process.exit(1)' \
  "$work/seccomp.json" || fail "podfence compile printed no seccomp profile"
cat >"$work/pod.yaml" <<'POD'
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop }
spec:
  containers: [{ name: app, image: registry.invalid/web:1, command: [/app/web] }]
POD
podfence preview --profile "$work/profile.yaml" -f "$work/pod.yaml" >"$work/preview.yaml"
grep -q 'podfence.dev/applied' "$work/preview.yaml" || fail "podfence preview did not sandbox the pod"
echo "ci-readme: every README command ran as documented"
