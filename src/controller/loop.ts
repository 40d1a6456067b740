import type { Logger } from 'pino';
import { shortError } from '../kube/errors.js';
import { runWorkers, WorkQueue, type Outcome, type ReconcileResult } from '../kube/workqueue.js';
import type { ControllerMetrics } from './metrics.js';

/** One reconciler: one kind of key, level-triggered (reads caches, writes differences). */
export interface Reconciler<K extends string> {
  /** The `controller` label of its metrics. */
  readonly name: string;
  reconcile(key: K): Promise<ReconcileResult>;
}

/**
 * A reconciler with its own queue and workers, in the manner of a controller-runtime controller. The queue exists
 * only while running (this replica leads); keys added meanwhile are dropped, the start reconciles everything.
 */
export class ReconcileLoop<K extends string> {
  private queue: WorkQueue<K> | undefined;
  private workers: Promise<void> | undefined;

  constructor(
    private readonly reconciler: Reconciler<K>,
    private readonly opts: {
      metrics: ControllerMetrics;
      log: Logger;
      concurrency: number;
      /** Decisions on half-filled caches are wrong (0 pods => finalizer removed): keys wait until this holds. */
      cachesSynced(): boolean;
    },
  ) {}

  start(): void {
    if (this.queue) return;
    const name = this.reconciler.name;
    const queue = new WorkQueue<K>({ onDepth: (d) => this.opts.metrics.queueDepth.set({ name }, d) });
    this.queue = queue;
    this.workers = runWorkers(queue, (key) => this.handle(key), this.opts.concurrency, {
      onOutcome: (key, outcome, seconds, err) => this.observe(key, outcome, seconds, err),
    });
  }

  async stop(): Promise<void> {
    this.queue?.shutDown();
    this.queue = undefined;
    await this.workers;
  }

  add(key: K): void {
    this.queue?.add(key);
  }

  /** Queue `key` within `ms`: more adds meanwhile change nothing (an earlier pending time wins), so bursts coalesce. */
  addAfter(key: K, ms: number): void {
    this.queue?.addAfter(key, ms);
  }

  private async handle(key: K): Promise<ReconcileResult> {
    if (!this.opts.cachesSynced()) return { requeueAfterMs: 500 };
    return this.reconciler.reconcile(key);
  }

  private observe(key: K, outcome: Outcome, seconds: number, err?: unknown): void {
    const controller = this.reconciler.name;
    const result = outcome === 'success' ? 'success' : outcome === 'requeue_after' ? 'requeue_after' : 'error';
    this.opts.metrics.reconcileTotal.inc({ controller, result });
    this.opts.metrics.reconcileTime.observe({ controller }, seconds);
    if (err) this.opts.log.warn({ controller, key, err: shortError(err), outcome }, 'reconcile failed');
  }
}
