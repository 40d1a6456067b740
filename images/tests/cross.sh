#!/usr/bin/env bash
# The static programs of the images, built the way the Dockerfiles build them (images/cross-build.sh), for amd64 and
# arm64 on this machine: each must be an ELF of its architecture, static, within init-helper's size budget, and
# run: the arm64 ones under qemu-user (Debian's qemu-user-static, called directly: no binfmt_misc needed).
#   podfence-init --version   prints the version of the native build
#   podfence-init --probe     exits 0 with its JSON report naming the architecture (under qemu-user Landlock
#                             syscalls are not translated: status "unsupported" there is expected and accepted)
#   audit-tap --bogus         exits 2 with its usage (it starts and parses its arguments; reading audit records
#                             is tested natively by audit-tap/tests)
# Last line "N passed, N failed" (scripts/test-all.sh counts it); exit 1 on any failure.
set -u
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
W=$(mktemp -d /tmp/podfence-cross-test.XXXXXX)
trap 'rm -rf "$W"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "$DETAIL"; fi; }
DETAIL=

max_size=$(sed -n 's/^MAX_SIZE *:= *//p' "$repo/init-helper/Makefile")
[[ $max_size =~ ^[0-9]+$ ]] || { echo "FAIL: no MAX_SIZE in init-helper/Makefile"; echo "0 passed, 1 failed"; exit 1; }
native_version=$(make -s -C "$repo/init-helper" >/dev/null && "$repo/init-helper/build/podfence-init" --version)
host_arch=$(dpkg --print-architecture)

machine_of() { readelf -h "$1" 2>/dev/null | sed -n 's/^ *Machine: *//p'; }
is_machine() { DETAIL="machine '$(machine_of "$1")'"; [[ $(machine_of "$1") == "$2" ]]; }
is_static() {
  DETAIL=$(readelf -lW "$1" 2>&1 | grep -E 'INTERP|DYNAMIC' | head -n 2)
  readelf -h "$1" >/dev/null 2>&1 && ! readelf -lW "$1" | grep -qE '^\s*(INTERP|DYNAMIC)\s'
}
within_budget() { DETAIL="$(stat -c %s "$1") bytes > $max_size"; [[ $(stat -c %s "$1") -le $max_size ]]; }

# runner ARCH: how to run a binary of ARCH here.
runner() {
  if [[ $1 == "$host_arch" ]]; then return 0; fi
  case $1 in
    arm64) echo qemu-aarch64-static ;;
    amd64) echo qemu-x86_64-static ;;
  esac
}

for arch in amd64 arm64; do
  case $arch in amd64) machine="Advanced Micro Devices X86-64" uname=x86_64 ;; arm64) machine=AArch64 uname=aarch64 ;; esac
  out=$W/$arch
  if ! (cd "$repo" && sh images/cross-build.sh toolchain "$arch" && sh images/cross-build.sh init-helper "$arch" "$out" &&
    sh images/cross-build.sh audit-tap "$arch" "$out") >"$W/build-$arch.log" 2>&1; then
    fail "$arch: cross-build.sh builds init-helper and audit-tap" "$(tail -n 5 "$W/build-$arch.log")"
    continue
  fi
  pass "$arch: cross-build.sh builds init-helper and audit-tap"
  init=$out/podfence-init tap=$out/audit-tap
  check "$arch: podfence-init is an ELF for $uname" is_machine "$init" "$machine"
  check "$arch: podfence-init is static" is_static "$init"
  check "$arch: podfence-init is within the size budget ($max_size bytes)" within_budget "$init"
  check "$arch: audit-tap is an ELF for $uname" is_machine "$tap" "$machine"
  check "$arch: audit-tap is static" is_static "$tap"

  run=$(runner "$arch")
  if [[ -n $run ]] && ! command -v "$run" >/dev/null; then
    fail "$arch: $run is installed (apt-get install qemu-user-static)"
    continue
  fi
  v=$($run "$init" --version 2>&1)
  DETAIL="got '$v', native '$native_version'"
  check "$arch: ${run:+$run }podfence-init --version" test "$v" = "$native_version"
  probe=$($run "$init" --probe 2>"$W/probe.err")
  rc=$?
  DETAIL="rc=$rc out=$probe err=$(cat "$W/probe.err")"
  check "$arch: ${run:+$run }podfence-init --probe exits 0" test "$rc" -eq 0
  got=$(jq -r '[.arch, .status, .version] | join(" ")' <<<"$probe" 2>/dev/null)
  DETAIL="report: $probe"
  check "$arch: the probe reports arch $uname and a known status" \
    bash -c '[[ $1 =~ ^$2\ (available|unsupported)\ ${3#podfence-init } ]]' _ "$got" "$uname" "$native_version"
  $run "$tap" --bogus >/dev/null 2>"$W/tap.err"
  rc=$?
  DETAIL="rc=$rc stderr=$(cat "$W/tap.err")"
  check "$arch: ${run:+$run }audit-tap starts and refuses a bad option (exit 2, usage)" \
    bash -c '[[ $1 -eq 2 ]] && grep -q "^usage: audit-tap" "$2"' _ "$rc" "$W/tap.err"
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
