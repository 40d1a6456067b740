import { jest } from '@jest/globals';
import {
  Fatal,
  pollUntil,
  retrying,
  transientCreateFailure,
  untilQuiet,
  withDeadline,
  type Clock,
} from '../../../bench/scale/waits.js';

/** A clock that advances only when slept on: the waits' logic without time passing. */
function fakeClock(): Clock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: (ms) => {
      slept.push(ms);
      t += ms;
      return Promise.resolve();
    },
  };
}

describe('bench:scale waits', () => {
  it('pollUntil returns once the condition holds, polling at its interval', async () => {
    const clock = fakeClock();
    let n = 0;
    await pollUntil(() => Promise.resolve(++n === 3), { timeoutMs: 10_000, intervalMs: 500, what: 'x', clock });
    expect(clock.slept).toEqual([500, 500]);
  });

  it('pollUntil gives up at its deadline, naming what did not happen and the last state', async () => {
    const clock = fakeClock();
    await expect(
      pollUntil(
        (note) => {
          note('3/10 Running');
          return Promise.resolve(false);
        },
        { timeoutMs: 5000, intervalMs: 1000, what: 'all pods Running', clock },
      ),
    ).rejects.toThrow('timed out after 5 s waiting until all pods Running (last: 3/10 Running)');
    expect(clock.now()).toBe(5000);
  });

  it('pollUntil retries a failing check but stops at once on a Fatal one', async () => {
    const clock = fakeClock();
    let n = 0;
    await pollUntil(
      () => {
        if (++n < 3) throw new Error('connection refused');
        return Promise.resolve(true);
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'x', clock },
    );
    await expect(
      pollUntil(() => Promise.reject(new Fatal('kwok exited')), {
        timeoutMs: 10_000,
        intervalMs: 100,
        what: 'x',
        clock,
      }),
    ).rejects.toThrow('kwok exited');
    expect(clock.slept).toEqual([100, 100]);
  });

  it('untilQuiet waits until the counter has not moved for the quiet time', async () => {
    const clock = fakeClock();
    const values = [1, 2, 3, 3, 3, 3, 3, 3, 3];
    let i = 0;
    const took = await untilQuiet(() => Promise.resolve(values[Math.min(i++, values.length - 1)]!), {
      quietMs: 3000,
      timeoutMs: 60_000,
      intervalMs: 1000,
      what: 'settled',
      clock,
    });
    // read 1 at the start, 2 at t=0, 3 at t=1000 and then no change: quiet for 3 s at t=4000
    expect(took).toBe(4000);
  });

  it('withDeadline rejects with the message of the moment when the time is up', async () => {
    jest.useFakeTimers();
    try {
      let done = 0;
      const p = withDeadline(new Promise(() => undefined), 60_000, () => `storm (${done} created)`);
      done = 7;
      jest.advanceTimersByTime(60_000);
      await expect(p).rejects.toThrow('timed out after 60 s: storm (7 created)');
      await expect(withDeadline(Promise.resolve(4), 1000, 'x')).resolves.toBe(4);
    } finally {
      jest.useRealTimers();
    }
  });

  it('retrying retries transient failures only, and gives up after its attempts', async () => {
    const clock = fakeClock();
    let n = 0;
    const retried: unknown[] = [];
    const v = await retrying(
      () => (++n < 3 ? Promise.reject(new Error('POST /x: HTTP 500: webhook call failed')) : Promise.resolve('ok')),
      { attempts: 3, backoffMs: 1000, retryable: transientCreateFailure, onRetry: (e) => retried.push(e), clock },
    );
    expect([v, retried.length, clock.slept]).toEqual(['ok', 2, [1000, 2000]]);
    await expect(
      retrying(() => Promise.reject(new Error('POST /x: HTTP 403: denied')), {
        attempts: 3,
        backoffMs: 1,
        retryable: transientCreateFailure,
        clock,
      }),
    ).rejects.toThrow('HTTP 403');
    let m = 0;
    await expect(
      retrying(() => (m++, Promise.reject(new Error('socket hang up'))), {
        attempts: 3,
        backoffMs: 1,
        retryable: transientCreateFailure,
        clock,
      }),
    ).rejects.toThrow('socket hang up');
    expect(m).toBe(3);
  });
});
