import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { API_VERSION, PROFILE_KIND } from '../common/constants.js';
import { ClusterObjects } from '../kube/cluster-objects.js';
import { isNotFound, isPreconditionFailure, shortError } from '../kube/errors.js';
import { EventRecorder } from '../kube/events.js';
import { ResilientInformer } from '../kube/informer.js';
import { runWorkers, WorkQueue, type Outcome, type ReconcileResult } from '../kube/workqueue.js';
import { CompiledProfiles } from '../model/compiled-profiles.js';
import { findCondition } from '../model/conditions.js';
import {
  nodeReportInformer,
  podInformer,
  PROFILE_RESOURCE,
  profileInformer,
  type InformerOverrides,
} from '../model/informers.js';
import type { NodeReportObject, ProfileObject } from '../model/objects.js';
import { podKey, profilesUsedByPod } from '../model/pod-usage.js';
import { NodeReportStatusSchema } from '../profile/index.js';
import { desiredStatus, sameStatus, type NodeView } from './desired-status.js';
import { controllerMetrics, type ControllerMetrics } from './metrics.js';
import { desiredSeccompLabels, seccompLabelPatch, type ProfileRequirement } from './node-labels.js';

/**
 * The SandboxProfile controller. Four caches (profiles, node reports, nodes, pods) feed one keyed queue with two
 * kinds of keys: `profile/<name>` (status, finalizer, events) and `node/<name>` (the node's seccomp labels).
 * Caches run on every replica (so a standby is warm and /readyz is honest); the queue and its workers exist only
 * while this replica holds the lease, and every write checks leadership first.
 */
export interface ControllerOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  registry: Registry;
  /** Full resync period: every profile and node is reconciled at least this often. */
  resyncMs?: number;
  /** Overrides for the informers (tests shorten the staleness timer). */
  informer?: InformerOverrides;
  concurrency?: number;
}

export class Controller {
  readonly profiles: ResilientInformer<ProfileObject>;
  readonly reports: ResilientInformer<NodeReportObject>;
  readonly nodes: ResilientInformer<V1Node>;
  readonly pods: ResilientInformer<V1Pod>;
  private readonly profileObjects: ClusterObjects;
  private readonly core: CoreV1Api;
  private readonly events: EventRecorder;
  private readonly metrics: ControllerMetrics;
  private readonly compiled = new CompiledProfiles();
  /** profile name -> pods (namespace/name) using it; pod -> profiles, to update the index on change. */
  private readonly podsByProfile = new Map<string, Set<string>>();
  private readonly profilesByPod = new Map<string, string[]>();
  private readonly states = new Map<string, string>();
  private queue: WorkQueue | undefined;
  private workers: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private leading = false;

  constructor(private readonly opts: ControllerOptions) {
    const { kubeConfig: kc, log } = opts;
    this.profileObjects = new ClusterObjects(kc, PROFILE_RESOURCE);
    this.core = kc.makeApiClient(CoreV1Api);
    this.events = new EventRecorder(kc, 'podfence-controller', log);
    this.metrics = controllerMetrics(opts.registry);
    this.profiles = profileInformer(kc, log, opts.informer);
    this.reports = nodeReportInformer(kc, (r) => this.checkedReport(r), log, opts.informer);
    this.nodes = new ResilientInformer<V1Node>({
      kubeConfig: kc,
      log,
      ...opts.informer,
      name: 'nodes',
      path: '/api/v1/nodes',
      list: (s) => this.core.listNode(s),
    });
    this.pods = podInformer(kc, { name: 'pods', log, overrides: opts.informer });
    this.wireHandlers();
  }

  /** Readiness: every watch alive. */
  health(): string | undefined {
    const problems = [this.profiles, this.reports, this.nodes, this.pods].map((i) => i.health()).filter(Boolean);
    return problems.length ? problems.join('; ') : undefined;
  }

  isLeading(): boolean {
    return this.leading;
  }

  startInformers(): void {
    for (const i of [this.profiles, this.reports, this.nodes, this.pods]) i.start();
  }

  async stopInformers(): Promise<void> {
    await Promise.all([this.profiles, this.reports, this.nodes, this.pods].map((i) => i.stop()));
  }

  async waitForSync(): Promise<void> {
    await Promise.all([this.profiles, this.reports, this.nodes, this.pods].map((i) => i.waitForSync()));
  }

  /** Called when this replica becomes leader: start the queue and reconcile everything once. */
  startReconciling(): void {
    if (this.leading) return;
    this.leading = true;
    this.metrics.leader.set({ name: 'podfence-controller' }, 1);
    const queue = new WorkQueue({ onDepth: (d) => this.metrics.queueDepth.set({ name: 'sandboxprofile' }, d) });
    this.queue = queue;
    this.workers = runWorkers(queue, (key) => this.reconcileKey(key), this.opts.concurrency ?? 2, {
      onOutcome: (key, outcome, seconds, err) => this.observe(key, outcome, seconds, err),
    });
    void this.waitForSync().then(() => this.enqueueAll());
    this.resyncTimer = setInterval(() => this.enqueueAll(), this.opts.resyncMs ?? 120_000);
    this.resyncTimer.unref?.();
    this.opts.log.info('reconciling (leader)');
  }

  /** Called at once when leadership is lost: no new reconcile starts, writes in flight are refused. */
  async stopReconciling(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.metrics.leader.set({ name: 'podfence-controller' }, 0);
    clearInterval(this.resyncTimer);
    this.queue?.shutDown();
    this.queue = undefined;
    await this.workers;
    this.opts.log.info('stopped reconciling');
  }

  private enqueueAll(): void {
    for (const p of this.profiles.list()) this.queue?.add(`profile/${p.metadata?.name}`);
    for (const n of this.nodes.list()) this.queue?.add(`node/${n.metadata?.name}`);
  }

  private enqueueProfiles(): void {
    for (const p of this.profiles.list()) this.queue?.add(`profile/${p.metadata?.name}`);
  }

  private enqueueNodes(): void {
    for (const n of this.nodes.list()) this.queue?.add(`node/${n.metadata?.name}`);
  }

  private wireHandlers(): void {
    const onProfile = (p: ProfileObject) => {
      this.queue?.add(`profile/${p.metadata?.name}`);
      this.enqueueNodes();
    };
    this.profiles.on('add', onProfile);
    this.profiles.on('update', onProfile);
    this.profiles.on('delete', (p) => {
      const name = p.metadata?.name ?? '';
      this.compiled.delete(name);
      this.states.delete(name);
      this.updateProfileGauge();
      this.enqueueNodes();
    });
    const onReport = (r: NodeReportObject) => {
      this.enqueueProfiles();
      this.queue?.add(`node/${r.metadata?.name}`);
    };
    for (const e of ['add', 'update', 'delete'] as const) this.reports.on(e, onReport);
    this.nodes.on('add', (n) => {
      this.enqueueProfiles();
      this.queue?.add(`node/${n.metadata?.name}`);
    });
    this.nodes.on('update', (n, old) => {
      // Our own label writes come back as updates: only react when labels differ from what we want.
      if (JSON.stringify(n.metadata?.labels) !== JSON.stringify(old?.metadata?.labels)) {
        this.queue?.add(`node/${n.metadata?.name}`);
      }
    });
    this.nodes.on('delete', () => this.enqueueProfiles());
    const onPod = (pod: V1Pod) => this.indexPod(pod, profilesUsedByPod(pod));
    this.pods.on('add', onPod);
    this.pods.on('update', onPod);
    this.pods.on('delete', (pod) => this.indexPod(pod, []));
  }

  private indexPod(pod: V1Pod, profiles: string[]): void {
    const key = podKey(pod);
    const before = this.profilesByPod.get(key) ?? [];
    if (before.length === 0 && profiles.length === 0) return;
    for (const name of before) this.podsByProfile.get(name)?.delete(key);
    for (const name of profiles) {
      let set = this.podsByProfile.get(name);
      if (!set) this.podsByProfile.set(name, (set = new Set()));
      set.add(key);
    }
    if (profiles.length) this.profilesByPod.set(key, profiles);
    else this.profilesByPod.delete(key);
    for (const name of new Set([...before, ...profiles])) this.queue?.add(`profile/${name}`);
  }

  private async reconcileKey(key: string): Promise<ReconcileResult> {
    // Decisions on a half-filled cache are wrong (0 pods => finalizer removed): wait for every cache.
    if (![this.profiles, this.reports, this.nodes, this.pods].every((i) => i.hasSynced())) {
      return { requeueAfterMs: 500 };
    }
    const [kind, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    if (kind === 'profile') return this.reconcileProfile(name);
    return this.reconcileNode(name);
  }

  private assertLeading(): void {
    if (!this.leading) throw new Error('not the leader any more: write refused');
  }

  /** Level-triggered: reads caches, computes the desired state, writes only differences. */
  async reconcileProfile(name: string): Promise<ReconcileResult> {
    const profile = this.profiles.get(name);
    if (!profile) return;
    const log = this.opts.log.child({ profile: name });
    const decision = desiredStatus({
      profile,
      compilation: this.compiled.get(profile),
      nodes: this.nodeViews(),
      pods: [...(this.podsByProfile.get(name) ?? [])],
      now: new Date(),
    });
    const ready = findCondition(decision.status.conditions, 'Ready');
    this.states.set(name, ready?.reason ?? 'Unknown');
    this.updateProfileGauge();

    const profileName = profile.metadata?.name ?? name;
    const releasing = profile.metadata?.deletionTimestamp && decision.finalizers;
    if (releasing && this.pods.health()) {
      // Releasing a profile on a pod view that may be stale could let it go while a pod still uses it.
      log.warn({ reason: this.pods.health() }, 'pod watch unhealthy: finalizer kept for now');
      return { requeueAfterMs: 2000 };
    }
    if (decision.finalizers) {
      this.assertLeading();
      try {
        await this.profileObjects.setFinalizers(
          profileName,
          profile.metadata?.resourceVersion ?? '',
          decision.finalizers,
        );
        log.info({ finalizers: decision.finalizers }, 'finalizers updated');
      } catch (err) {
        if (isNotFound(err)) return;
        // Changed under us: the cache will catch up and the key comes back.
        if (isPreconditionFailure(err)) return { requeueAfterMs: 200 };
        throw err;
      }
      if (profile.metadata?.deletionTimestamp) return; // the object is going away: no status to write
    }
    if (!sameStatus(profile.status, decision.status)) {
      this.assertLeading();
      try {
        await this.profileObjects.replaceStatus(profileName, decision.status);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      log.info(
        { reason: ready?.reason, hash: decision.status.hash, nodes: decision.status.nodes },
        ready?.message ?? '',
      );
    }
    const target = { apiVersion: API_VERSION, kind: PROFILE_KIND, metadata: profile.metadata };
    for (const e of decision.events) void this.events.record(target, e.type, e.reason, e.message);
    return;
  }

  async reconcileNode(name: string): Promise<ReconcileResult> {
    const node = this.nodes.get(name);
    if (!node) return;
    const requirements = new Map<string, ProfileRequirement>();
    for (const p of this.profiles.list()) {
      const c = this.compiled.get(p);
      if (c.ok) {
        const { seccomp, requiredLandlockAbi } = c.compiled;
        requirements.set(p.metadata?.name ?? '', { hash: seccomp.hash, requiredAbi: requiredLandlockAbi });
      }
    }
    const desired = desiredSeccompLabels(this.reports.get(name)?.status, requirements);
    const patch = seccompLabelPatch(node.metadata?.labels, desired);
    if (!patch) return;
    this.assertLeading();
    try {
      await this.core.patchNode(
        { name, body: { metadata: { labels: patch } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    this.opts.log.info({ node: name, labels: patch }, 'node seccomp labels updated');
  }

  /** A report that does not match the schema counts as no report (its node is "not installed"), loudly. */
  private checkedReport(report: NodeReportObject): NodeReportObject {
    const parsed = NodeReportStatusSchema.safeParse(report.status ?? {});
    if (parsed.success) return { ...report, status: parsed.data };
    this.opts.log.warn({ node: report.metadata?.name, err: parsed.error.message }, 'malformed node report ignored');
    return { ...report, status: undefined };
  }

  private nodeViews(): NodeView[] {
    return this.nodes.list().map((n) => {
      const name = n.metadata?.name ?? '';
      return { name, report: this.reports.get(name)?.status };
    });
  }

  private updateProfileGauge(): void {
    this.metrics.profiles.reset();
    const counts = new Map<string, number>();
    for (const s of this.states.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
    for (const [state, n] of counts) this.metrics.profiles.set({ state }, n);
  }

  private observe(key: string, outcome: Outcome, seconds: number, err?: unknown): void {
    const controller = key.startsWith('profile/') ? 'sandboxprofile' : 'node-labels';
    const result = outcome === 'success' ? 'success' : outcome === 'requeue_after' ? 'requeue_after' : 'error';
    this.metrics.reconcileTotal.inc({ controller, result });
    this.metrics.reconcileTime.observe({ controller }, seconds);
    if (err) this.opts.log.warn({ key, err: shortError(err), outcome }, 'reconcile failed');
  }
}
