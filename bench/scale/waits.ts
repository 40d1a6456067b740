// Bounded waits for bench:scale: every wait ends, at the latest at its deadline, with a message naming what did
// not happen. Waits are on conditions (polled), never fixed sleeps; the clock and the sleep are injectable so the
// logic is tested without time passing.

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** `p`, or a rejection naming `what` (read when the time is up) once `ms` have passed. */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`timed out after ${Math.round(ms / 1000)} s: ${typeof what === 'string' ? what : what()}`)),
      ms,
    );
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Polls `check` every `intervalMs` until it returns true; throws naming `what` (and the last error or state
 * `check` reported through `note`) after `timeoutMs`. A check that throws a `Fatal` stops the wait at once.
 */
export async function pollUntil(
  check: (note: (state: string) => void) => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs: number; what: string; clock?: Clock },
): Promise<void> {
  const clock = opts.clock ?? realClock;
  const deadline = clock.now() + opts.timeoutMs;
  let last = '';
  for (;;) {
    try {
      if (await check((s) => (last = s))) return;
    } catch (err) {
      if (err instanceof Fatal) throw err;
      last = err instanceof Error ? err.message : String(err);
    }
    if (clock.now() >= deadline) {
      throw new Error(
        `timed out after ${Math.round(opts.timeoutMs / 1000)} s waiting until ${opts.what}${last ? ` (last: ${last})` : ''}`,
      );
    }
    await clock.sleep(opts.intervalMs);
  }
}

/** An error that ends a wait at once (a process died): waiting longer cannot help. */
export class Fatal extends Error {}

/**
 * Waits until `read()` (e.g. a process's reconcile counter) has not changed for `quietMs`: the process has
 * settled. Returns how long that took.
 */
export async function untilQuiet(
  read: () => Promise<number>,
  opts: { quietMs: number; timeoutMs: number; intervalMs: number; what: string; clock?: Clock },
): Promise<number> {
  const clock = opts.clock ?? realClock;
  const start = clock.now();
  let value = await read();
  let since = clock.now();
  await pollUntil(async (note) => {
    const v = await read();
    if (v !== value) {
      value = v;
      since = clock.now();
    }
    note(`still changing: ${v}`);
    return clock.now() - since >= opts.quietMs;
  }, opts);
  return clock.now() - start;
}

/**
 * Runs `attempt` up to `attempts` times while the failure is transient (`retryable`), sleeping `backoffMs` between
 * tries; `onRetry` is told each time (the benchmark counts them). The last failure is thrown as is.
 */
export async function retrying<T>(
  attempt: (n: number) => Promise<T>,
  opts: {
    attempts: number;
    backoffMs: number;
    retryable: (err: unknown) => boolean;
    onRetry?: (err: unknown) => void;
    clock?: Clock;
  },
): Promise<T> {
  const clock = opts.clock ?? realClock;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= opts.attempts || !opts.retryable(err)) throw err;
      opts.onRetry?.(err);
      await clock.sleep(opts.backoffMs * n);
    }
  }
}

/** Failures worth a retry of a pod create: the connection, or a 5xx (a webhook call that failed in transit). */
export function transientCreateFailure(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /HTTP 5\d\d|HTTP 429|ECONNRESET|EPIPE|ETIMEDOUT|socket hang up|timed out/.test(text);
}
