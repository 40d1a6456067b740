import type { Logger } from 'pino';
import type { KubeConnection } from './access.js';
import { KubeRest } from './rest.js';
import { isConflict, isNotFound, shortError } from './errors.js';
import { jitter } from './backoff.js';

// Leader election on a coordination.k8s.io/v1 Lease with controller-runtime's timings (lease 15 s, renew deadline
// 10 s, retry 2 s). Like client-go, expiry is judged on the local clock from when this process last saw the lease
// record change, so clock skew between replicas does not matter. A leader that cannot renew within the renew
// deadline steps down at once (a watchdog timer, not the next API answer, decides), so it stops acting before any
// other replica can take over (renew deadline < lease duration).

/** The coordination.k8s.io/v1 Lease fields used here, as the apiserver's JSON. */
interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectorOptions {
  kubeConfig: KubeConnection;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
  log?: Logger;
}

export class LeaderElector {
  private readonly rest: KubeRest;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private leader = false;
  private running = false;
  private lastRenewAt = 0;
  private observed: { record: string; at: number } | undefined;
  private observedHolder: string | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.rest = new KubeRest(opts.kubeConfig);
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseMs) throw new Error('renew deadline must be shorter than the lease duration');
  }

  isLeader(): boolean {
    return this.leader;
  }

  currentLeader(): string | undefined {
    return this.observedHolder;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.watchdog = setInterval(() => {
      if (this.leader && Date.now() - this.lastRenewAt > this.renewDeadlineMs) this.stepDown('renew deadline passed');
    }, 250);
    this.loop = this.run();
  }

  /** Stop campaigning; a leader releases the lease so another replica takes over without waiting for expiry. */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.watchdog);
    this.wake?.();
    await this.loop;
    if (this.leader) {
      this.stepDown('stopping');
      await this.release().catch((err: unknown) =>
        this.opts.log?.warn({ err: shortError(err) }, 'could not release the lease'),
      );
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      let ok = false;
      try {
        ok = await withTimeout(this.tryAcquireOrRenew(), this.renewDeadlineMs);
      } catch (err) {
        this.opts.log?.warn({ err: shortError(err), lease: this.opts.name }, 'lease acquire/renew failed');
      }
      if (!this.running) break;
      if (ok) {
        this.lastRenewAt = Date.now();
        if (!this.leader) {
          this.leader = true;
          this.opts.log?.info({ lease: this.opts.name, identity: this.opts.identity }, 'became leader');
          this.opts.onStartedLeading();
        }
      }
      await this.sleep(jitter(this.retryMs, 0.1));
    }
  }

  private stepDown(reason: string): void {
    if (!this.leader) return;
    this.leader = false;
    this.opts.log?.warn({ lease: this.opts.name, identity: this.opts.identity, reason }, 'lost leadership');
    this.opts.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = microTime();
    const leaseDurationSeconds = Math.ceil(this.leaseMs / 1000);
    let lease: Lease;
    try {
      lease = await this.rest.request<Lease>('GET', this.leasePath());
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.rest.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, {
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
        this.noteHolder(identity);
        return true;
      } catch (createErr) {
        if (isConflict(createErr)) return false;
        throw createErr;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = JSON.stringify([holder, String(spec.renewTime ?? ''), spec.leaseDurationSeconds]);
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    this.noteHolder(holder);
    const durationMs = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    const expired = holder === '' || this.observed.at + durationMs < Date.now();
    if (holder !== identity && !expired) return false;

    const mine = holder === identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: now,
      acquireTime: mine ? spec.acquireTime : now,
      leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
    };
    try {
      await this.rest.request('PUT', this.leasePath(), { body: lease });
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
    this.observed = undefined;
    this.noteHolder(identity);
    return true;
  }

  private async release(): Promise<void> {
    const { identity } = this.opts;
    const lease = await this.rest.request<Lease>('GET', this.leasePath());
    if (lease.spec?.holderIdentity !== identity) return;
    lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime() };
    await this.rest.request('PUT', this.leasePath(), { body: lease });
  }

  private leasePath(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases/${this.opts.name}`;
  }

  private noteHolder(holder: string): void {
    if (holder && holder !== this.observedHolder) {
      this.observedHolder = holder;
      this.opts.onNewLeader?.(holder);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** A metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
