import { backoffDelay } from '../../../src/kube/backoff.js';
import { runWorkers, WorkQueue, type WorkQueueOptions } from '../../../src/kube/workqueue.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
/** Waits for a condition (a loaded machine runs timers late), failing after a generous deadline. */
const until = async (cond: () => boolean, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await tick(5);
  }
};

describe('backoffDelay', () => {
  it('doubles from the base and stops at the cap', () => {
    const o = { baseMs: 5, maxMs: 1000 };
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, o))).toEqual([0, 5, 10, 20, 40]);
    expect(backoffDelay(9, o)).toBe(1000);
    expect(backoffDelay(5000, o)).toBe(1000);
  });
});

/** A queue and its depth (queued, not in-flight keys) as its onDepth hook reports it. */
function observed(o: WorkQueueOptions = {}) {
  const seen = { depth: 0 };
  const q = new WorkQueue({ ...o, onDepth: (d) => (seen.depth = d) });
  return { q, depth: () => seen.depth };
}

describe('WorkQueue', () => {
  it('deduplicates keys that are queued', async () => {
    const { q, depth } = observed();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(depth()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    q.shutDown();
  });

  it('never hands out a key twice at once; a re-add while in flight comes back after done', async () => {
    const { q, depth } = observed();
    q.add('a');
    const first = await q.get();
    q.add('a'); // while processing
    expect(depth()).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await tick();
    expect(second).toBeUndefined();
    q.done(first!);
    await tick();
    expect(second).toBe('a');
    q.shutDown();
  });

  it('counts failures per key and resets them on forget', () => {
    const q = new WorkQueue({ baseMs: 5, maxMs: 40 });
    expect([1, 2, 3, 4, 5].map(() => q.addRateLimited('a'))).toEqual([5, 10, 20, 40, 40]);
    expect(q.addRateLimited('b')).toBe(5);
    q.forget('a');
    expect(q.addRateLimited('a')).toBe(5); // counting starts again
    q.shutDown();
  });

  it('addAfter keeps the earliest time', async () => {
    const { q, depth } = observed();
    q.addAfter('a', 10_000);
    q.addAfter('a', 5);
    await tick(30);
    expect(depth()).toBe(1);
    q.shutDown();
  });

  it('shutDown releases idle workers', async () => {
    const { q, depth } = observed();
    const pending = q.get();
    q.shutDown();
    expect(await pending).toBeUndefined();
    q.add('x');
    expect(depth()).toBe(0);
  });
});

describe('runWorkers', () => {
  it('retries a failing key with backoff until it succeeds, then forgets its failures', async () => {
    const q = new WorkQueue({ baseMs: 5, maxMs: 50 });
    const calls: number[] = [];
    const outcomes: string[] = [];
    let n = 0;
    const done = runWorkers(
      q,
      async () => {
        calls.push(Date.now());
        if (++n < 4) throw new Error('boom');
      },
      1,
      { onOutcome: (_k, o) => outcomes.push(o) },
    );
    q.add('k');
    await until(() => outcomes.length >= 4);
    expect(outcomes).toEqual(['error', 'error', 'error', 'success']);
    expect(q.addRateLimited('k')).toBe(5); // failures forgotten after the success
    // Delays 5, 10, 20 ms between attempts (timers may fire a little late, never early).
    expect(calls[3]! - calls[0]!).toBeGreaterThanOrEqual(33);
    q.shutDown();
    await done;
  });

  it('honours requeueAfter', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    let requeued = 0;
    const done = runWorkers(q, async (key) => {
      seen.push(key);
      if (key === 'poll' && requeued++ === 0) return { requeueAfterMs: 10 };
    });
    q.add('poll');
    await until(() => seen.length >= 2);
    await tick(60); // a third run would have come by now (it is not expected)
    expect(seen).toEqual(['poll', 'poll']);
    q.shutDown();
    await done;
  });

  it('processes different keys concurrently but one key at a time', async () => {
    const q = new WorkQueue();
    const active = new Map<string, number>();
    let maxSameKey = 0;
    let maxTotal = 0;
    const done = runWorkers(
      q,
      async (key) => {
        active.set(key, (active.get(key) ?? 0) + 1);
        maxSameKey = Math.max(maxSameKey, active.get(key)!);
        maxTotal = Math.max(
          maxTotal,
          [...active.values()].reduce((a, b) => a + b, 0),
        );
        await tick(10);
        active.set(key, active.get(key)! - 1);
      },
      3,
    );
    for (let i = 0; i < 5; i++) {
      q.add('a');
      q.add('b');
      q.add('c');
      await tick(3);
    }
    await tick(80);
    expect(maxSameKey).toBe(1);
    expect(maxTotal).toBeGreaterThan(1);
    q.shutDown();
    await done;
  });
});
