#!/usr/bin/env bash
# Fuzzes podfence-init's option parser and ABI planner with libFuzzer (clang, ASan+UBSan) for a bounded time.
#   bash fuzz/run.sh [SECONDS]        (default FUZZ_SECONDS or 60; `make fuzz`)
# Inputs are NUL-separated argument lists (fuzz/harness.c). Seeds: fuzz/corpus and fuzz/regressions. The working
# corpus grows in build/fuzz-corpus (not committed). A crash is copied into fuzz/regressions/ — commit it: `make
# test` replays every file there through the same harness under ASan+UBSan — and this script exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-${FUZZ_SECONDS:-60}}
out=build/fuzz
mkdir -p "$out/artifacts" build/fuzz-corpus
clang -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -o "$out/fuzz-parse" fuzz/fuzz_parse.c fuzz/harness.c src/opts.c src/policy.c
rm -f "$out/artifacts/"*
set +e
"$out/fuzz-parse" -max_total_time="$secs" -max_len=20000 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/artifacts/" -print_final_stats=1 build/fuzz-corpus fuzz/corpus fuzz/regressions 2>&1 |
  grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)'
rc=${PIPESTATUS[0]}
set -e
shopt -s nullglob
found=("$out/artifacts/"*)
if ((${#found[@]})); then
  for f in "${found[@]}"; do
    cp "$f" "fuzz/regressions/$(basename "$f")"
    echo "fuzz: kept $(basename "$f") in fuzz/regressions/ (commit it; make test replays it)"
  done
  exit 1
fi
if ((rc != 0)); then echo "fuzz: libFuzzer exited $rc" >&2; exit "$rc"; fi
echo "fuzz: no crash in ${secs}s"
