#!/usr/bin/env bash
# CI's demo stage (scripts/test-all.sh): runs the README's main command, `npm run demo`, exactly as a user does,
# and fails when it fails or when its table does not show the escapes blocked in the sandboxed pod and allowed in
# the control pod, or when it does not say the chart's webhook and validating policy admitted the pod.
#   bash scripts/ci-demo.sh                 run the demo and check what it printed
#   bash scripts/ci-demo.sh --check FILE    only check a saved demo output
# Takes no lock itself (CI runs stages one after another); by hand beside others: flock /tmp/pf-node.lock ...
set -euo pipefail
cd "$(dirname "$0")/.."

# Rows the README's example profile (examples/profiles/web.yaml) must show as "BLOCKED (...)" in the sandboxed
# column and "allowed" in the control column.
ESCAPES=(
  'create a user namespace (unshare)'
  'read /data/secret.txt (outside the profile)'
  'write /etc/podfence-demo'
  'run /opt/tool/busybox (outside the profile)'
  'connect to another pod, port 9090'
  'listen on port 9090'
  'listen on port 80'
)

check() {
  local out=$1 bad=0 row line
  for row in "${ESCAPES[@]}"; do
    # The row's own line: its label followed by the column gap ("port 80" must not match "port 8080").
    line=$(while IFS= read -r l; do [[ $l == "$row   "* ]] && { echo "$l"; break; }; done <"$out")
    if ! [[ $line =~ ^"$row"\ +BLOCKED\ \([A-Z0-9]+\)\ +allowed$ ]]; then
      echo "ci-demo: the table does not show \"$row\" blocked (sandboxed) and allowed (control): ${line:-(row missing)}"
      bad=1
    fi
  done
  grep -qE '^  MutatingWebhookConfiguration .* sandboxed it: podfence\.dev/applied=[a-z0-9-]+@[0-9a-f]+$' "$out" || {
    echo "ci-demo: the demo does not say which MutatingWebhookConfiguration sandboxed the pod"
    bad=1
  }
  grep -qE '^  ValidatingAdmissionPolicy .* is refused:$' "$out" || {
    echo "ci-demo: the demo does not show the ValidatingAdmissionPolicy guarding the pod"
    bad=1
  }
  grep -q '^RESULT: ok' "$out" || { echo "ci-demo: no 'RESULT: ok' line"; bad=1; }
  [[ $bad -eq 0 ]] && echo "ci-demo: table and admission report as promised"
  return $bad
}

if [[ ${1:-} == --check ]]; then
  check "$2"
  exit
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
npm run demo 2>&1 | tee "$out" || rc=${PIPESTATUS[0]}
if [[ $rc -ne 0 ]]; then
  echo "ci-demo: npm run demo exited with $rc"
  exit 1
fi
check "$out"
