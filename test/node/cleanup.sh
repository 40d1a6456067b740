#!/usr/bin/env bash
# Removes everything the e2e node (test/node/node.ts) may have left on this machine: its kubelet and containerd,
# containerd's shims and the containers they ran, mounts (pod volumes, rootfs overlays, shm, netns), the pods'
# bridge and veths, the kubelet's iptables canary chains, its cgroups and its state directories. Safe to run any
# number of times, with or without a node running; it touches only the node's own directories, bridge and cgroup
# root (the defaults of test/node/config.ts, overridable by the same environment variables).
# Usage: cleanup.sh [--keep-logs]   (the logs under <data dir>/logs are kept by default; --all removes them too)
set -uo pipefail

DATA=${PODFENCE_NODE_DATA_DIR:-/var/lib/podfence-e2e}
RUN=${PODFENCE_NODE_RUN_DIR:-/run/podfence-e2e}
BRIDGE=${PODFENCE_NODE_BRIDGE:-podfence0}
CGROUP_ROOT=${PODFENCE_NODE_CGROUP_ROOT:-podfence-e2e}
remove_logs=0
[[ ${1:-} == --all ]] && remove_logs=1

log() { printf '[node:cleanup] %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || { log "must run as root"; exit 1; }
case "$DATA$RUN" in *' '*) log "refusing paths with spaces"; exit 1 ;; esac
[[ $DATA == /*/* && $RUN == /*/* ]] || { log "refusing suspicious directories: $DATA $RUN"; exit 1; }

# cmdline of a pid with NULs as spaces ("" when gone).
cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

# 1. kubelet and containerd, by their pid files, only if the pid still runs that program.
stop_pidfile() { # name expected-substring
  local f="$DATA/logs/$1.pid" pid i
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if [[ $pid =~ ^[0-9]+$ ]] && [[ $(cmdline "$pid") == *"$2"* ]]; then
    log "stopping $1 (pid $pid)"
    kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 50); do [[ -d /proc/$pid ]] || break; sleep 0.2; done
    kill -KILL "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$f"
}
stop_pidfile kubelet kubelet
stop_pidfile containerd containerd

# 2. Containers: runc's view first (kills the container's processes and removes its cgroups), then the shims that
#    served our containerd, then anything still in our cgroups.
runc_root=$RUN/runc/k8s.io
if [[ -d $runc_root ]]; then
  for id in $(runc --root "$runc_root" list -q 2>/dev/null); do
    runc --root "$runc_root" delete --force "$id" >/dev/null 2>&1 || true
  done
fi
for p in /proc/[0-9]*; do
  pid=${p#/proc/}
  c=$(cmdline "$pid")
  if [[ $c == *containerd-shim* && $c == *"-address $RUN/containerd.sock"* ]]; then
    log "killing shim $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
done
for procs in /sys/fs/cgroup/*/"$CGROUP_ROOT"; do
  [[ -d $procs ]] || continue
  find "$procs" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u | while read -r pid; do
    [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
  done
done
# Wait until the killed processes are gone (not a fixed sleep: a loaded machine reaps late), at most 30 s.
cgroup_pids() { for procs in /sys/fs/cgroup/*/"$CGROUP_ROOT"; do [[ -d $procs ]] && find "$procs" -name cgroup.procs -exec cat {} + 2>/dev/null; done; }
for i in $(seq 1 300); do [[ -z $(cgroup_pids) ]] && break; sleep 0.1; done

# 3. Mounts under our directories, deepest first (pod volumes, overlays, shm, netns).
our_mounts() {
  awk -v d="$DATA/" -v r="$RUN/" '{ m = $5; gsub(/\\040/, " ", m); if (index(m "/", d) == 1 || index(m "/", r) == 1) print m }' /proc/self/mountinfo | sort -r -u
}
for i in 1 2 3; do
  mounts=$(our_mounts)
  [[ -z $mounts ]] && break
  while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done <<<"$mounts"
done
left=$(our_mounts)
[[ -z $left ]] || log "WARNING: mounts left: $left"

# 4. Network: host-side veths on our bridge, then the bridge.
if ip link show "$BRIDGE" >/dev/null 2>&1; then
  for dev in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link del "$dev" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null && log "removed bridge $BRIDGE"
fi

# 5. The kubelet's iptables canary/hint chains (it recreates them when it starts), unless another kubelet runs.
other_kubelet=0
for p in /proc/[0-9]*; do [[ $(cat "$p/comm" 2>/dev/null) == kubelet ]] && other_kubelet=1; done
if [[ $other_kubelet -eq 0 ]] && command -v iptables >/dev/null; then
  for ipt in iptables ip6tables; do
    for table in mangle nat filter; do
      for chain in KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT KUBE-FIREWALL; do
        if $ipt -w -t "$table" -S "$chain" >/dev/null 2>&1; then
          # Jumps into the chain first, then the chain itself.
          $ipt -w -t "$table" -S | grep -E "^-A .* -j $chain( |$)" | sed 's/^-A/-D/' | while read -r rule; do
            eval "$ipt -w -t $table $rule" 2>/dev/null || true
          done
          $ipt -w -t "$table" -F "$chain" 2>/dev/null
          $ipt -w -t "$table" -X "$chain" 2>/dev/null
        fi
      done
    done
  done
fi

# 6. Cgroups under our root, deepest first (each must be empty of processes by now).
for root in /sys/fs/cgroup/*/"$CGROUP_ROOT" /sys/fs/cgroup/unified/"$CGROUP_ROOT"; do
  [[ -d $root ]] || continue
  find "$root" -depth -type d -exec rmdir {} + 2>/dev/null || true
  [[ -d $root ]] && log "WARNING: cgroup $root is still in use"
done

# 7. State directories (never across a mount point), keeping the logs unless --all.
if [[ -z $(our_mounts) ]]; then
  rm -rf --one-file-system "$RUN"
  if [[ -d $DATA ]]; then
    for e in "$DATA"/* "$DATA"/.[!.]*; do
      [[ -e $e ]] || continue
      [[ $remove_logs -eq 0 && $e == "$DATA/logs" ]] && continue
      rm -rf --one-file-system "$e"
    done
    [[ $remove_logs -eq 1 ]] && rmdir "$DATA" 2>/dev/null
  fi
else
  log "WARNING: not removing $DATA and $RUN: mounts are still there"
  exit 1
fi
exit 0
