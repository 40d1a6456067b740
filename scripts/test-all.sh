#!/usr/bin/env bash
# The one test command (README, .ci/run): sets up, builds, and runs every suite in order, stopping at the first
# failure. Each stage prints its own time. Set PODFENCE_SKIP="e2e chart" to leave stages out while developing.
set -euo pipefail
cd "$(dirname "$0")/.."

skip=" ${PODFENCE_SKIP:-} "
passed=0
failed=0
stage() {
  local name=$1; shift
  if [[ "$skip" == *" $name "* ]]; then echo "==> [$name] skipped (PODFENCE_SKIP)"; return 0; fi
  local t0=$SECONDS
  echo
  echo "==> [$name] $*"
  if "$@"; then
    passed=$((passed + 1))
    echo "==> [$name] ok in $((SECONDS - t0))s"
  else
    failed=$((failed + 1))
    echo "==> [$name] FAILED after $((SECONDS - t0))s"
    echo "stages: $passed passed, $failed failed"
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
echo
echo "stages: $passed passed, $failed failed"
