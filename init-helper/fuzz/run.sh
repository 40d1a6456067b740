#!/usr/bin/env bash
# Fuzzes podfence-init with libFuzzer (clang, ASan+UBSan) for a bounded time, in two harnesses one after the other:
#   parse  the option parser and ABI planner (fuzz/harness.c; inputs are NUL-separated argument lists)
#   walk   the symlink-safe path walker and the judging of path rules over a hostile tree in a private mount
#          namespace (fuzz/walk_harness.c; needs root or unprivileged user namespaces)
#   bash fuzz/run.sh [SECONDS] [parse|walk|both]     (default FUZZ_SECONDS or 60 each, both; `make fuzz`)
# Seeds: fuzz/corpus + fuzz/regressions, fuzz/walk-corpus + fuzz/walk-regressions. Working corpora grow in build/
# (not committed). A crash is copied into the harness's regressions folder — commit it: `make test` replays every
# file there through the same harness under ASan+UBSan — and this script exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-${FUZZ_SECONDS:-60}}
which=${2:-both}
out=build/fuzz
mkdir -p "$out/artifacts" build/fuzz-corpus build/fuzz-walk-corpus fuzz/walk-regressions
status=0

fuzz() { # NAME BINARY REGRESSIONS CORPUS...
  local name=$1 bin=$2 keep=$3 rc f
  shift 3
  rm -f "$out/artifacts/"*
  set +e
  "$bin" -max_total_time="$secs" -max_len=20000 -timeout=20 -rss_limit_mb=2048 \
    -artifact_prefix="$out/artifacts/" -print_final_stats=1 "$@" 2>&1 |
    grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written|walk fuzz: invariant)'
  rc=${PIPESTATUS[0]}
  set -e
  shopt -s nullglob
  local found=("$out/artifacts/"*)
  if ((${#found[@]})); then
    for f in "${found[@]}"; do
      cp "$f" "$keep/$name-$(basename "$f")"
      echo "fuzz $name: kept $name-$(basename "$f") in $keep/ (commit it; make test replays it)"
    done
    status=1
  elif ((rc != 0)); then
    echo "fuzz $name: libFuzzer exited $rc" >&2
    status=$rc
  else
    echo "fuzz $name: no crash in ${secs}s"
  fi
}

if [[ $which == parse || $which == both ]]; then
  clang -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -o "$out/fuzz-parse" fuzz/fuzz_parse.c fuzz/harness.c src/opts.c src/seclog.c src/policy.c
  fuzz parse "$out/fuzz-parse" fuzz/regressions build/fuzz-corpus fuzz/corpus fuzz/regressions
fi
if [[ $which == walk || $which == both ]]; then
  make -s "$out/fuzz-walk"
  fuzz walk "$out/fuzz-walk" fuzz/walk-regressions build/fuzz-walk-corpus fuzz/walk-corpus fuzz/walk-regressions
fi
exit "$status"
