/**
 * At most `max` holders at once; at most `maxQueued` waiting. A full queue fails at once (code
 * EPODFENCE_QUEUE) instead of piling up memory; a waiter whose signal aborts leaves the queue.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: { grant: () => void; reject: (e: Error) => void }[] = [];

  constructor(
    private readonly max: number,
    private readonly maxQueued: number,
  ) {
    if (!(max >= 1) || !(maxQueued >= 0)) throw new Error('Limiter: max must be >= 1 and maxQueued >= 0');
  }

  /** Resolves with a release function once a slot is free. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxQueued) {
      return Promise.reject(Object.assign(new Error('too many requests queued'), { code: 'EPODFENCE_QUEUE' }));
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
        reject,
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next.grant();
      else this.active--;
    };
  }
}
