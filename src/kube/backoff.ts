// Exponential backoff: `base * 2^failures`, capped. Pure, so queue and informer share one rule.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export function backoffDelay(failures: number, { baseMs, maxMs }: BackoffOptions): number {
  if (failures <= 0) return 0;
  // 2^failures overflows to Infinity long after the cap: Math.min keeps it finite.
  return Math.min(maxMs, baseMs * 2 ** (failures - 1));
}

/** Full-jitter-free but bounded random spread (±20%), so many clients do not retry in lockstep. */
export function jitter(ms: number, spread = 0.2, random: () => number = Math.random): number {
  return Math.round(ms * (1 - spread + 2 * spread * random()));
}
