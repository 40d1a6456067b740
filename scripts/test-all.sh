#!/usr/bin/env bash
# The one test command (README, .ci/run): sets up, builds, and runs every suite in order, stopping at the first
# failure. Each stage prints its own time. Set PODFENCE_SKIP="e2e chart" to leave stages out while developing.
set -euo pipefail
cd "$(dirname "$0")/.."

skip=" ${PODFENCE_SKIP:-} "
passed=0
failed=0
tests_passed=0
tests_failed=0
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

# Adds a stage's test counts (jest's "Tests: ..." line, or the C suite's "N passed, N failed") to the totals.
count_tests() {
  local line p f
  line=$(grep -E '^Tests: |^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1 || true)
  [[ -n "$line" ]] || return 0
  p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  tests_passed=$((tests_passed + p))
  tests_failed=$((tests_failed + f))
}
summary() {
  echo "stages: $passed passed, $failed failed"
  echo "tests: $tests_passed passed, $tests_failed failed"
}

stage() {
  local name=$1; shift
  if [[ "$skip" == *" $name "* ]]; then echo "==> [$name] skipped (PODFENCE_SKIP)"; return 0; fi
  local t0=$SECONDS
  echo
  echo "==> [$name] $*"
  local rc=0
  "$@" 2>&1 | tee "$logdir/$name.log" || rc=${PIPESTATUS[0]}
  count_tests "$logdir/$name.log"
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
    echo "==> [$name] ok in $((SECONDS - t0))s"
  else
    failed=$((failed + 1))
    echo "==> [$name] FAILED after $((SECONDS - t0))s"
    summary
    exit 1
  fi
}

stage setup bash scripts/setup.sh
stage lint npm run -s lint
stage typecheck npm run -s typecheck
stage c-tests npm run -s test:c
stage unit npm run -s test:unit
stage runc npm run -s test:runc
stage k8s-binaries npm run -s cluster:build
stage integration npm run -s test:integration
stage e2e npm run -s test:e2e
stage chart npm run -s test:chart
# The README's commands as a user runs them: the demo (its table must show the escapes blocked in the sandboxed pod
# and allowed in the control pod), then everything else the README tells a user to run.
stage demo bash scripts/ci-demo.sh
stage readme bash scripts/ci-readme.sh
echo
summary
