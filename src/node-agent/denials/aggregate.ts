import type { PodDenial } from './attribute.js';
import { TokenBucket } from './token-bucket.js';

/** One Event to write: a denial and how many times it (the same key) happened since the last Event for it. */
export interface Emission {
  key: string;
  denial: PodDenial;
  count: number;
  firstTime: number;
  lastTime: number;
}

export interface AggregatorLimits {
  /** Per pod+denial key: Events at once, then one per `keyEveryMs`. */
  keyBurst: number;
  keyEveryMs: number;
  /** Per pod, over all its keys (a loop over many paths): Events at once, then one per `podEveryMs`. */
  podBurst: number;
  podEveryMs: number;
  /** Keys remembered at most (the oldest idle ones go first; beyond it new keys are counted, not reported). */
  maxKeys: number;
}

export const DEFAULT_LIMITS: AggregatorLimits = {
  keyBurst: 1,
  keyEveryMs: 60_000,
  podBurst: 10,
  podEveryMs: 6_000,
  maxKeys: 5_000,
};

/** What makes two denials "the same" for aggregation. */
export function denialKey(d: PodDenial): string {
  return [d.podUid, d.container ?? '', d.layer, d.outcome, d.operation, d.object].join('\u0000');
}

interface Entry {
  bucket: TokenBucket;
  pending?: { denial: PodDenial; count: number; firstTime: number; lastTime: number };
}

/**
 * Turns a stream of denials into a bounded stream of Events: the first denial of a key goes out at once (when the
 * pod's bucket allows), repeats are counted and go out as one Event with their count when the key's bucket
 * refills. So a loop of 10,000 identical denials gives a handful of Events, each saying how many it stands for.
 * Time comes from the caller (`now` in ms). Pure.
 */
export class DenialAggregator {
  private readonly keys = new Map<string, Entry>();
  private readonly pods = new Map<string, TokenBucket>();
  /** Denials counted but never reported because the key table was full. */
  overflow = 0;

  constructor(private readonly limits: AggregatorLimits = DEFAULT_LIMITS) {}

  add(d: PodDenial, now: number): void {
    const key = denialKey(d);
    let e = this.keys.get(key);
    if (!e) {
      if (this.keys.size >= this.limits.maxKeys && !this.evictIdle(now)) {
        this.overflow++;
        return;
      }
      e = { bucket: new TokenBucket(this.limits.keyBurst, this.limits.keyEveryMs, now) };
      this.keys.set(key, e);
    }
    if (e.pending) {
      e.pending.count++;
      e.pending.lastTime = d.time;
    } else {
      e.pending = { denial: d, count: 1, firstTime: d.time, lastTime: d.time };
    }
  }

  /** The Events due now; the rest stay pending. */
  take(now: number): Emission[] {
    const out: Emission[] = [];
    for (const [key, e] of this.keys) {
      if (!e.pending) continue;
      const uid = e.pending.denial.podUid;
      let pod = this.pods.get(uid);
      if (!pod) {
        pod = new TokenBucket(this.limits.podBurst, this.limits.podEveryMs, now);
        this.pods.set(uid, pod);
      }
      if (e.bucket.waitMs(now) > 0 || pod.waitMs(now) > 0) continue;
      e.bucket.take(now);
      pod.take(now);
      out.push({ key, ...e.pending });
      e.pending = undefined;
    }
    return out;
  }

  /** When `take` may next have something (undefined: nothing pending). */
  nextDueMs(now: number): number | undefined {
    let min: number | undefined;
    for (const e of this.keys.values()) {
      if (!e.pending) continue;
      const pod = this.pods.get(e.pending.denial.podUid);
      const wait = Math.max(e.bucket.waitMs(now), pod?.waitMs(now) ?? 0);
      min = min === undefined ? wait : Math.min(min, wait);
    }
    return min;
  }

  /** Forgets a pod (deleted): its pending counts are dropped with it. */
  forgetPod(uid: string): void {
    this.pods.delete(uid);
    for (const key of this.keys.keys()) if (key.startsWith(`${uid}\u0000`)) this.keys.delete(key);
  }

  private evictIdle(now: number): boolean {
    for (const [key, e] of this.keys) {
      if (!e.pending && e.bucket.idle(now)) {
        this.keys.delete(key);
        return true;
      }
    }
    return false;
  }

  get size(): number {
    return this.keys.size;
  }
}

/**
 * The Event message: layer, operation and object first (`landlock: write /etc/app.conf denied (...)`). It does
 * not change with the count, so repeats of one key update one Event's `count` (kubectl shows "x N").
 */
export function eventMessage(d: PodDenial): string {
  const verb =
    d.outcome === 'logged'
      ? 'would be denied (audit mode: allowed)'
      : d.outcome === 'killed'
        ? 'killed the process'
        : 'denied';
  const who = [d.container ? `container ${d.container}` : '', d.exe ?? d.comm ?? ''].filter(Boolean).join(', ');
  const what = d.operation === 'create' ? `create in ${d.object}` : `${d.operation} ${d.object}`;
  return `${d.layer}: ${what} ${verb} (${[who, `profile ${d.profile}`, d.detail].filter(Boolean).join('; ')})`;
}
