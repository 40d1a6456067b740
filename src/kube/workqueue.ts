import { backoffDelay, type BackoffOptions } from './backoff.js';

// A keyed work queue in the manner of client-go's rate-limited queue: a key is queued at most once (dedup), is
// handled by at most one worker at a time (a key added while in flight is queued again when that worker is done),
// and failed keys come back after a per-key exponential backoff (5 ms doubling up to a cap, reset on success).

export interface WorkQueueOptions extends Partial<BackoffOptions> {
  /** Called whenever the number of queued (not in-flight) keys changes. */
  onDepth?: (depth: number) => void;
}

export class WorkQueue<K extends string = string> {
  private readonly ready: K[] = [];
  private readonly queued = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly dirty = new Set<K>();
  private readonly failures = new Map<K, number>();
  private readonly delayed = new Map<K, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: K | undefined) => void)[] = [];
  private readonly backoff: BackoffOptions;
  private shuttingDown = false;

  constructor(private readonly options: WorkQueueOptions = {}) {
    this.backoff = { baseMs: options.baseMs ?? 5, maxMs: options.maxMs ?? 1_000_000 };
  }

  /** Queue `key` now. No-op when it is already queued; deferred when it is being processed. */
  add(key: K): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      // A worker is idle: hand the key straight over.
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queued.add(key);
    this.ready.push(key);
    this.reportDepth();
  }

  /** Queue `key` after `ms`; an earlier pending time wins over a later one. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref?.();
    this.delayed.set(key, { at, timer });
  }

  /** Queue `key` after its backoff, counting one more failure. Returns the delay used. */
  addRateLimited(key: K): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delay = backoffDelay(n, this.backoff);
    this.addAfter(key, delay);
    return delay;
  }

  /** Reset the failure count of `key` (after a success). */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** Next key to process; `undefined` once the queue is shut down. The caller must call `done(key)`. */
  get(): Promise<K | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.ready.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      this.reportDepth();
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  /** Stop handing out keys at once; idle workers get `undefined`, pending delays are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.ready.length = 0;
    this.queued.clear();
    this.dirty.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    this.reportDepth();
  }

  private reportDepth(): void {
    this.options.onDepth?.(this.ready.length);
  }
}

/** Result of one reconcile: nothing (done), or come back after a while (level-triggered polling). */
export type ReconcileResult = void | { requeueAfterMs: number };

export type Outcome = 'success' | 'requeue_after' | 'error';

export interface WorkerHooks<K extends string = string> {
  onOutcome?: (key: K, outcome: Outcome, seconds: number, err?: unknown) => void;
}

/** Run `concurrency` workers over `queue` until it is shut down; resolves when all workers have stopped. */
export async function runWorkers<K extends string>(
  queue: WorkQueue<K>,
  handler: (key: K) => Promise<ReconcileResult>,
  concurrency = 1,
  hooks: WorkerHooks<K> = {},
): Promise<void> {
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const start = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - start) / 1e9;
      try {
        const result = await handler(key);
        queue.forget(key);
        if (result && result.requeueAfterMs > 0) {
          queue.addAfter(key, result.requeueAfterMs);
          hooks.onOutcome?.(key, 'requeue_after', seconds());
        } else {
          hooks.onOutcome?.(key, 'success', seconds());
        }
      } catch (err) {
        queue.addRateLimited(key);
        hooks.onOutcome?.(key, 'error', seconds(), err);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
