// Pure pieces of the peer and scale benchmarks: percentiles, CPU time from /proc/<pid>/stat, ratios, last lines.

/** Nearest-rank percentile (p in 0..100) of a sample; NaN for an empty one. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]!;
}

export const median = (xs: readonly number[]) => percentile(xs, 50);

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

export function summarize(xs: readonly number[]): Summary {
  const n = xs.length;
  return {
    n,
    p50: percentile(xs, 50),
    p99: percentile(xs, 99),
    mean: n ? xs.reduce((a, b) => a + b, 0) / n : NaN,
    max: n ? Math.max(...xs) : NaN,
  };
}

/**
 * utime + stime of a process (all its threads), in clock ticks, from the text of /proc/<pid>/stat. The command name
 * (field 2) is in parentheses and may contain spaces and ')', so fields are counted after the last ')'.
 */
export function cpuTicksFromStat(stat: string): number {
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line: no ")" after the command name');
  // after ") ": field 3 (state) is index 0, so utime (field 14) is index 11 and stime (field 15) index 12
  const f = stat
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('/proc/<pid>/stat: utime/stime missing');
  return utime + stime;
}

/** Resident set size in bytes from the text of /proc/<pid>/status (VmRSS, in kB). */
export function rssBytesFromStatus(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!m) throw new Error('/proc/<pid>/status has no VmRSS line');
  return Number(m[1]) * 1024;
}

/** CPU milliseconds per request from tick counters of one or more processes before and after a run. */
export function cpuMsPerRequest(ticksBefore: number, ticksAfter: number, requests: number, hz = 100): number {
  if (requests <= 0) return NaN;
  return ((ticksAfter - ticksBefore) * 1000) / hz / requests;
}

/** Fixed-point with a sensible number of digits for a table cell ("0.41", "12.3", "250"). */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  return x.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
}

export interface PeerCpu {
  name: string;
  /** CPU ms per admission (median over rounds of the unthrottled runs). */
  ms: number;
}

/** The last line of `npm run bench:peers`: podfence's CPU per admission, the best peer's, and their ratio. */
export function peersLastLine(podfence: number, peers: readonly PeerCpu[]): string {
  const valid = peers.filter((p) => Number.isFinite(p.ms) && p.ms > 0);
  if (valid.length === 0) return `peers: podfence ${podfence.toFixed(2)} ms/admission, best peer none - ms, ratio -`;
  const best = valid.reduce((a, b) => (b.ms < a.ms ? b : a));
  return (
    `peers: podfence ${podfence.toFixed(2)} ms/admission, best peer ${best.name} ${best.ms.toFixed(2)} ms, ` +
    `ratio ${(best.ms / podfence).toFixed(2)}`
  );
}

export interface ScaleResult {
  nodes: number;
  pods: number;
  controllerMiB: number;
  webhookMiB: number;
  applyToReadySeconds: number;
  admissionP99Ms: number;
}

/** The last line of `npm run bench:scale`. */
export function scaleLastLine(r: ScaleResult): string {
  return (
    `scale: ${r.nodes} nodes, ${r.pods} pods: controller ${r.controllerMiB.toFixed(0)} MiB, ` +
    `webhook ${r.webhookMiB.toFixed(0)} MiB, apply->Ready ${r.applyToReadySeconds.toFixed(1)} s, ` +
    `admission p99 ${r.admissionP99Ms.toFixed(1)} ms`
  );
}

/** Cumulative buckets of one Prometheus histogram (summed over label sets) from the text exposition format. */
export function parseHistogram(text: string, name: string): { le: number; count: number }[] {
  const byLe = new Map<number, number>();
  const re = new RegExp(`^${name}_bucket\\{([^}]*)\\}\\s+([0-9.eE+-]+)`, 'gm');
  for (const m of text.matchAll(re)) {
    const le = /(?:^|,)le="([^"]+)"/.exec(m[1]!)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    byLe.set(bound, (byLe.get(bound) ?? 0) + Number(m[2]));
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/** Quantile q (0..1) of cumulative buckets, interpolated linearly within a bucket (as PromQL histogram_quantile). */
export function histogramQuantile(buckets: readonly { le: number; count: number }[], q: number): number {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe; // beyond the largest finite bound: the best we can say
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(1, b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** Subtracts an earlier scrape's buckets (the histogram over an interval). */
export function bucketDelta(
  after: readonly { le: number; count: number }[],
  before: readonly { le: number; count: number }[],
): { le: number; count: number }[] {
  const b = new Map(before.map((x) => [x.le, x.count]));
  return after.map((x) => ({ le: x.le, count: x.count - (b.get(x.le) ?? 0) }));
}
