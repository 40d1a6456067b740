#!/usr/bin/env bash
# audit-tap against the real kernel (needs root): records caused on purpose by build/tests/deny must come out of
# the tap, one per line, from netlink and from /dev/kmsg; a seccomp ERRNO without SECCOMP_FILTER_FLAG_LOG must not
# (the kernel fact podfence's compiled profiles rely on). Last line "N passed, N failed"; exit 1 on any failure.
set -u
B=$(cd "${1:-build}" && pwd)
TAP=$B/audit-tap DENY=$B/tests/deny
passed=0 failed=0
W=$(mktemp -d /tmp/audit-tap-test.XXXXXX)
tap_pid=
audit_was=
cleanup() {
  [[ -n $tap_pid ]] && kill "$tap_pid" 2>/dev/null
  [[ $audit_was == 0 ]] && auditctl -e 0 >/dev/null 2>&1
  wait 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
ok() { passed=$((passed + 1)); echo "PASS $1"; }
ko() { failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "     $l"; done; }

if [[ $(id -u) != 0 ]]; then echo "audit-tap tests need root (CAP_AUDIT_READ): not run"; echo "0 passed, 0 failed"; exit 0; fi

# start_tap ARGS...: the tap in the background, output in $W/out, status in $W/err; waits for its source line.
start_tap() {
  [[ -n $tap_pid ]] && { kill "$tap_pid" 2>/dev/null; wait "$tap_pid" 2>/dev/null; }
  : >"$W/out"; : >"$W/err"
  "$TAP" "$@" >"$W/out" 2>"$W/err" &
  tap_pid=$!
  for _ in $(seq 100); do grep -q 'source=' "$W/err" && return 0; sleep 0.1; done
  return 1
}
# wait_line REGEX: true once a line of the tap's output matches (10 s at most).
wait_line() {
  for _ in $(seq 100); do grep -Eq "$1" "$W/out" && return 0; sleep 0.1; done
  return 1
}
pid_of() { sed -n 's/^pid=\([0-9]*\) .*/\1/p' <<<"$1"; }

# 1. netlink: SECCOMP_RET_LOG, with audit disabled or not (seccomp records are forced).
if start_tap && grep -q 'source=netlink' "$W/err"; then ok "netlink source joins the read-log group"
else ko "netlink source joins the read-log group" "$(cat "$W/err")"; fi
# deny_held MODE...: runs deny until the test has seen its record (DENY_HOLD), so the tap can still read its
# cgroup however slow the machine; its "pid=N ..." line lands in $W/deny.out. release_deny lets it exit.
deny_pid=
deny_held() {
  rm -f "$W/release"
  : >"$W/deny.out"
  DENY_HOLD="$W/release" "$DENY" "$@" >"$W/deny.out" &
  deny_pid=$!
  for _ in $(seq 300); do grep -q '^pid=' "$W/deny.out" && break; sleep 0.1; done
}
release_deny() { touch "$W/release"; wait "$deny_pid" 2>/dev/null; }
deny_held seccomp-log; out=$(cat "$W/deny.out"); p=$(pid_of "$out")
ok1=0
wait_line "^type=1326 audit\([0-9.]+:[0-9]+\): .* pid=$p .*syscall=110 .*code=0x7ffc0000 pf_cgroup=[^ ]*0::[^ ]*$" && ok1=1
release_deny
if [[ $ok1 == 1 ]]; then
  ok "seccomp RET_LOG record, one line, with the caller's pid and cgroup"
else ko "seccomp RET_LOG record" "deny: $out" "tap: $(tail -3 "$W/out")"; fi

# 2. ERRNO: silent without SECCOMP_FILTER_FLAG_LOG, logged (code 0x50000) with it.
out=$("$DENY" seccomp-errno); quiet=$(pid_of "$out")
out=$("$DENY" seccomp-errno log); p=$(pid_of "$out")
if wait_line "^type=1326 .* pid=$p .*syscall=110 .*code=0x50000( |$)" && ! grep -q " pid=$quiet " "$W/out"; then
  ok "seccomp ERRNO is logged only with SECCOMP_FILTER_FLAG_LOG"
else ko "seccomp ERRNO logging" "tap: $(tail -3 "$W/out")"; fi

# 2b. Stacked filters (docs/denials.md, "seccomp in enforce mode"): the newest filter decides a tie, so a wrapper's
# logging copy installed after the runtime's silent filter gets the ERRNO logged; the other order stays silent.
out=$("$DENY" seccomp-stack log); quiet=$(pid_of "$out")
out=$("$DENY" seccomp-stack plain); p=$(pid_of "$out")
if [[ $out == *errno=EPERM* ]] && wait_line "^type=1326 .* pid=$p .*syscall=110 .*code=0x50000( |$)" &&
  ! grep -q " pid=$quiet " "$W/out"; then
  ok "stacked ERRNO filters: logged when the newest carries SECCOMP_FILTER_FLAG_LOG, not when only the oldest does"
else ko "stacked seccomp filters" "deny: $out" "tap: $(tail -3 "$W/out")"; fi

# 3. Landlock: needs audit enabled (auditctl restores the previous state afterwards).
if command -v auditctl >/dev/null; then
  audit_was=$(auditctl -s | sed -n 's/^enabled \([0-9]\).*/\1/p')
  auditctl -e 1 >/dev/null
  mkdir -p "$W/ro"
  out=$("$DENY" landlock "$W/ro"); p=$(pid_of "$out")
  if wait_line "^type=1300 audit\([0-9.]+:[0-9]+\): .* pid=$p " &&
    serial=$(grep -E "^type=1300 .* pid=$p " "$W/out" | head -1 | sed -n 's/.*audit([0-9.]*:\([0-9]*\)).*/\1/p') &&
    grep -Eq "^type=1423 audit\([0-9.]+:$serial\): domain=[0-9a-f]+ blockers=fs.make_reg path=\"$W/ro\"" "$W/out"; then
    ok "Landlock denial: ACCESS (1423) and SYSCALL (1300, the pid) share one event"
  else ko "Landlock denial record" "deny: $out" "tap: $(tail -5 "$W/out")"; fi
  # A caller gone before the tap reads its cgroup (the tap is stopped meanwhile, so it surely is): the record
  # carries the parent's cgroup (this script's) as pf_pcgroup instead.
  kill -STOP "$tap_pid"
  out=$("$DENY" landlock "$W/ro"); p=$(pid_of "$out")
  kill -CONT "$tap_pid"
  if wait_line "^type=1300 .* ppid=$$ pid=$p .* pf_pcgroup=[^ ]*[0-9]+:[^ ]*$" &&
    ! grep -Eq "^type=1300 .* pid=$p .* pf_cgroup=" "$W/out"; then
    ok "a caller already gone: its parent's cgroup (pf_pcgroup) instead of its own"
  else ko "parent's cgroup for a gone caller" "deny: $out" "tap: $(grep -E " pid=$p " "$W/out" | tail -3)"; fi
  out=$("$DENY" landlock "$W/ro" exec); p=$(pid_of "$out")
  if wait_line "^type=1300 .* pid=$p "; then ok "Landlock denial after execve is logged with LOG_NEW_EXEC_ON"
  else ko "Landlock denial after execve" "deny: $out" "tap: $(tail -5 "$W/out")"; fi
else
  echo "SKIP Landlock records: auditctl is not installed (cannot enable audit and restore it): not testable here"
fi

# 4. /dev/kmsg fallback: kauditd prints records only while no auditd is connected.
if [[ $(auditctl -s 2>/dev/null | sed -n 's/^pid \([0-9]*\).*/\1/p') == 0 ]]; then
  if start_tap --source=kmsg && grep -q 'source=kmsg' "$W/err"; then
    # printk_ratelimit() (5 s, burst 10 here) may drop a record: cause one a second until one comes through.
    found=
    for _ in $(seq 20); do
      out=$("$DENY" seccomp-log); p=$(pid_of "$out")
      for _ in $(seq 10); do grep -Eq "^type=1326 audit\([0-9.]+:[0-9]+\): .* pid=$p .*syscall=110 " "$W/out" && found=1 && break; sleep 0.1; done
      [[ -n $found ]] && break
    done
    if [[ -n $found ]]; then
      ok "kmsg source: the same record, the same line format"
    else ko "kmsg source record" "deny: $out" "tap: $(tail -3 "$W/out")" "$(cat "$W/err")"; fi
  else ko "kmsg source opens" "$(cat "$W/err")"; fi
else
  echo "SKIP kmsg source: auditd is connected, kauditd prints nothing to the kernel log: not testable here"
fi

# 5. The chart's init-delivery agent settings (nodeAgent.denials.enabled): uid 0, every capability dropped but
# AUDIT_READ, no_new_privs. That is enough for netlink; without AUDIT_READ, or as a non-root uid (an added
# capability does not survive execve without ambient capabilities, which Kubernetes does not set), it is refused.
if command -v setpriv >/dev/null; then
  as_chart() { setpriv --reuid="$1" --regid=65532 --clear-groups --inh-caps=-all --bounding-set=-all"$2" --no-new-privs "$TAP" --source=netlink; }
  # Refused: it exits at once. Allowed: it reads on; stopped once it said so (30 s at most).
  timeout 30 setpriv --reuid=0 --regid=65532 --clear-groups --inh-caps=-all --bounding-set=-all,+audit_read \
    --no-new-privs "$TAP" --source=netlink >/dev/null 2>"$W/chart0.err" &
  chart_pid=$!
  for _ in $(seq 300); do grep -q 'source=' "$W/chart0.err" && break; sleep 0.1; done
  kill "$chart_pid" 2>/dev/null; wait "$chart_pid" 2>/dev/null
  as_chart 0 '' >/dev/null 2>"$W/chart1.err"
  as_chart 65532 ,+audit_read >/dev/null 2>"$W/chart2.err"
  if grep -q 'source=netlink' "$W/chart0.err" && grep -q 'netlink refused: Operation not permitted' "$W/chart1.err" &&
    grep -q 'netlink refused: Operation not permitted' "$W/chart2.err"; then
    ok "uid 0 with only CAP_AUDIT_READ and no_new_privs reads netlink; without the capability or as non-root, refused"
  else ko "the chart's agent privileges" "$(cat "$W"/chart*.err)"; fi
else
  echo "SKIP the chart's agent privileges: setpriv (util-linux) is not installed: not testable here"
fi

# 6. Usage and a reader that goes away.
"$TAP" --bogus 2>/dev/null; rc=$?
[[ $rc == 2 ]] && ok "unknown option: exit 2" || ko "unknown option: exit 2" "rc=$rc"
start_tap >/dev/null; kill "$tap_pid"; wait "$tap_pid" 2>/dev/null; tap_pid=
( timeout 15 "$TAP" 2>/dev/null; echo "rc=$?" >"$W/rc" ) | head -c 1 >/dev/null &
reader=$!
sleep 0.2; "$DENY" seccomp-log >/dev/null; "$DENY" seccomp-log >/dev/null
for _ in $(seq 100); do [[ -s $W/rc ]] && break; sleep 0.1; "$DENY" seccomp-log >/dev/null; done
wait "$reader" 2>/dev/null
[[ $(cat "$W/rc" 2>/dev/null) == rc=0 ]] && ok "exits 0 when its reader is gone" || ko "exits when its reader is gone" "$(cat "$W/rc" 2>/dev/null)"

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
