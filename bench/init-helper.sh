#!/usr/bin/env bash
# podfence-init start-up overhead: the wall time of starting /bin/true through the wrapper versus starting it
# directly, measured side by side in one run (each iteration starts every variant once, in rotating order, with
# fork+exec+wait timed by a small C driver), plus bubblewrap giving an equivalent read-only view, and the size
# of the static binary.   Usage: bash bench/init-helper.sh [RUNS]   (default 2000)
# Reports, per variant, the median start-to-exit time and the median over iterations of the per-iteration ratio
# (variant - bare) / bare, i.e. the added time relative to a bare exec of /bin/true. Target: <= 25%, <= 64 KiB.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-2000}
make -s -C init-helper >/dev/null
pi=$PWD/init-helper/build/podfence-init
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/spawnbench.c" <<'C'
/* spawnbench N CMD... [:: CMD...]...: per iteration, times fork+exec+wait of each command (rotating order);
   prints one line per iteration with the nanoseconds of each command in the given order. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
static long long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
int main(int argc, char **argv) {
  int n = atoi(argv[1]), k = 0, i, j;
  char **cmd[16];
  cmd[k++] = &argv[2];
  for (i = 2; i < argc; i++) if (!strcmp(argv[i], "::")) { argv[i] = NULL; cmd[k++] = &argv[i + 1]; }
  long long *t = calloc((size_t)k, sizeof(long long));
  for (i = 0; i < n; i++) {
    for (j = 0; j < k; j++) {
      int c = (i + j) % k, st;
      long long t0 = now();
      pid_t p = fork();
      if (p == 0) { execv(cmd[c][0], cmd[c]); _exit(127); }
      waitpid(p, &st, 0);
      t[c] = now() - t0;
      if (!WIFEXITED(st) || WEXITSTATUS(st)) { fprintf(stderr, "command %d failed (status %d)\n", c, st); return 1; }
    }
    for (j = 0; j < k; j++) printf("%lld%c", t[j], j + 1 < k ? ' ' : '\n');
  }
  return 0;
}
C
gcc -O2 -o "$tmp/spawnbench" "$tmp/spawnbench.c"

# The wrapper with a realistic small profile (/bin/true is dynamic: it needs its loader and libc executable/readable).
# Wrapper cost without real policy work: one rule granting everything (isolates the extra execve).
rules1=(--exec /)
rules4=(--ro /etc --exec /usr/bin --exec /usr/lib --rw /tmp)
# A profile like the webhook's baseline plus a network rule: 12 filesystem rules, TCP handled.
rules12=(--ro /etc --ro /usr/share --ro /proc --ro /sys/fs/cgroup --rw /dev/null --rw /dev/zero --ro /dev/urandom
  --exec /usr/bin --exec /usr/lib --exec /usr/lib64 --rw /tmp --rw /var/tmp --connect-tcp 443 --bind-tcp 8080)
bw=(/usr/bin/bwrap --ro-bind /usr /usr --ro-bind /etc /etc --symlink usr/lib /lib --symlink usr/lib64 /lib64
  --symlink usr/bin /bin --bind /tmp /tmp)

echo "podfence-init $("$pi" --version | cut -d' ' -f2), kernel $(uname -r), Landlock ABI $("$pi" --probe | sed 's/.*"landlock_abi":\([0-9]*\).*/\1/'), $(nproc) CPUs, $runs runs"
"$tmp/spawnbench" "$runs" /bin/true \
  :: "$pi" "${rules1[@]}" -- /bin/true \
  :: "$pi" "${rules4[@]}" -- /bin/true \
  :: "$pi" "${rules12[@]}" -- /bin/true \
  :: "${bw[@]}" /bin/true >"$tmp/times"

# All arithmetic in awk (integers in, %-formatted out: awk's default number format would go scientific).
median() { sort -n | awk '{a[NR]=$1} END {printf "%.6f\n", (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
col() { awk -v c="$1" '{print $c}' "$tmp/times" | median; }
ratio() { awk -v c="$1" '{printf "%.6f\n", ($c-$1)/$1}' "$tmp/times" | median; }
names=("/bin/true (bare exec)" "podfence-init, 1 rule (--exec /)" "podfence-init, 4 rules" "podfence-init, 12 rules + TCP" "bwrap, equivalent read-only view")
printf '%-36s %12s %22s %20s\n' variant "median (us)" "median of added/bare" "added, of medians"
b=$(col 1)
for c in 1 2 3 4 5; do
  m=$(col "$c")
  if ((c == 1)); then r=- q=-; else
    r=$(ratio "$c" | awk '{printf "%.1f%%", $1 * 100}')
    q=$(awk -v m="$m" -v b="$b" 'BEGIN {printf "%.1f%%", (m - b) / b * 100}')
  fi
  printf '%-36s %12s %22s %20s\n' "${names[c - 1]}" "$(awk -v m="$m" 'BEGIN {printf "%.1f", m / 1000}')" "$r" "$q"
done
size=$(stat -c %s "$pi")
echo "binary: $size bytes ($(awk -v s="$size" 'BEGIN {printf "%.1f", s / 1024}') KiB, static, stripped; target <= 65536)"
if ratio 3 | awk -v s="$size" '{exit !($1 <= 0.25 && s <= 65536)}'; then
  echo "target met (4-rule profile: median added time <= 25% of a bare /bin/true, binary <= 64 KiB)"
else
  echo "target MISSED"
fi
