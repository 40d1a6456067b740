import type { V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ClusterObjects } from '../kube/cluster-objects.js';
import { EventRecorder } from '../kube/events.js';
import type { ResilientInformer } from '../kube/informer.js';
import type { KubeConnection } from '../kube/access.js';
import { KubeRest } from '../kube/rest.js';
import { CompiledProfiles } from '../model/compiled-profiles.js';
import type { InformerOverrides } from '../model/informers.js';
import { GROUP, PROFILE_PLURAL, VERSION } from '../common/constants.js';
import { controllerInformers } from './informers.js';
import { Interner } from './interner.js';
import { slimReport } from './slim-report.js';
import type { NodeReportObject, ProfileObject } from '../model/objects.js';
import { sameContent } from '../model/same-content.js';
import { NodeReportStatusSchema } from '../profile/index.js';
import type { ControllerCaches } from './caches.js';
import { NodeInstallIndex, type Affected } from './install-index.js';
import { nodeName, profileName, type NodeName, type ProfileName } from './keys.js';
import { ReconcileLoop } from './loop.js';
import { controllerMetrics, type ControllerMetrics } from './metrics.js';
import { NodeLabelReconciler } from './node-reconciler.js';
import { PodProfileIndex } from './pod-index.js';
import { ParamsPublisher } from './params-publisher.js';
import { ProfileReconciler } from './profile-reconciler.js';
import { ProfileRequirements } from './requirements.js';
import type { AdmissionSettings } from '../model/admission-params.js';

// The podfence controller: five caches (profiles, node reports, nodes, pods, opted-in namespaces) feed two
// reconcilers, each with its own queue: SandboxProfile (status, finalizer, events; keyed by profile name) and node
// labels (the node's seccomp labels; keyed by node name). Caches run on every replica (so a standby is warm and /readyz is honest);
// the queues and their workers exist only while this replica holds the lease, and every write checks leadership
// first. Events requeue only the keys they can affect (a report change: the profiles whose files it changes; a
// profile's status write: nothing else), and requeues caused by other objects are coalesced for `coalesceMs`, so a
// burst of 1,000 report or pod changes costs each affected profile one reconcile, not 1,000.

export interface ControllerOptions {
  /** client-node's KubeConfig or src/kube/access.ts's KubeAccess (what `podfence controller` uses). */
  kubeConfig: KubeConnection;
  log: Logger;
  registry: Registry;
  /** Full resync period: every profile and node is reconciled at least this often. */
  resyncMs?: number;
  /** Overrides for the informers (tests shorten the staleness timer). */
  informer?: InformerOverrides;
  /** Workers per reconciler. */
  concurrency?: number;
  /** A profile requeued by a node, report or pod change waits this long, so a burst gives one reconcile. */
  coalesceMs?: number;
  /** Publish the sandbox-required policy's parameters (src/model/admission-params.ts) as this SandboxAdmissionParams. */
  admissionParams?: { name: string; settings: AdmissionSettings };
}

export class Controller {
  readonly profiles: ResilientInformer<ProfileObject>;
  readonly reports: ResilientInformer<NodeReportObject>;
  readonly nodes: ResilientInformer<V1Node>;
  readonly pods: ResilientInformer<V1Pod>;
  readonly namespaces: ResilientInformer<V1Namespace>;
  private readonly caches: ControllerCaches;
  private readonly metrics: ControllerMetrics;
  private readonly profileLoop: ReconcileLoop<ProfileName>;
  private readonly nodeLoop: ReconcileLoop<NodeName>;
  /** Ready reason per profile, for the profiles gauge. */
  private readonly states = new Map<string, string>();
  private resyncTimer: NodeJS.Timeout | undefined;
  private leading = false;
  private readonly params: ParamsPublisher | undefined;
  private readonly requirements: ProfileRequirements;
  private readonly intern = new Interner();

  constructor(private readonly opts: ControllerOptions) {
    const { kubeConfig: kc, log } = opts;
    const rest = new KubeRest(kc);
    this.metrics = controllerMetrics(opts.registry);
    const informers = controllerInformers(kc, (r) => this.checkedReport(r), log, opts.informer);
    this.profiles = informers.profiles;
    this.reports = informers.reports;
    this.nodes = informers.nodes;
    this.pods = informers.pods;
    this.namespaces = informers.namespaces;
    this.caches = {
      profiles: this.profiles,
      reports: this.reports,
      nodes: this.nodes,
      pods: this.pods,
      namespaces: this.namespaces,
      compiled: new CompiledProfiles(),
      podIndex: new PodProfileIndex(),
      installs: new NodeInstallIndex(),
    };
    this.requirements = new ProfileRequirements(this.caches.compiled);
    const assertLeading = () => this.assertLeading();
    const loop = {
      metrics: this.metrics,
      log,
      concurrency: opts.concurrency ?? 2,
      cachesSynced: () => this.informers().every((i) => i.hasSynced()),
    };
    const profileReconciler = new ProfileReconciler({
      caches: this.caches,
      objects: new ClusterObjects(kc, { group: GROUP, version: VERSION, plural: PROFILE_PLURAL }),
      events: new EventRecorder(kc, 'podfence-controller', log),
      log,
      assertLeading,
      onState: (name, reason) => {
        this.states.set(name, reason);
        this.updateProfileGauge();
      },
    });
    this.profileLoop = new ReconcileLoop(profileReconciler, loop);
    this.nodeLoop = new ReconcileLoop(
      new NodeLabelReconciler({
        caches: this.caches,
        requirements: () => this.requirements.all(),
        rest,
        log,
        assertLeading,
      }),
      loop,
    );
    if (opts.admissionParams) {
      this.params = new ParamsPublisher({
        ...opts.admissionParams,
        kubeConfig: kc,
        log,
        profiles: () => this.profiles.list(),
        assertLeading,
      });
    }
    this.wireHandlers();
  }

  /** Readiness: every watch alive. */
  health(): string | undefined {
    const problems = this.informers()
      .map((i) => i.health())
      .filter(Boolean);
    return problems.length ? problems.join('; ') : undefined;
  }

  isLeading(): boolean {
    return this.leading;
  }

  startInformers(): void {
    for (const i of this.informers()) i.start();
  }

  async stopInformers(): Promise<void> {
    await Promise.all(this.informers().map((i) => i.stop()));
  }

  async waitForSync(): Promise<void> {
    await Promise.all(this.informers().map((i) => i.waitForSync()));
  }

  /** Called when this replica becomes leader: start the queues and reconcile everything once. */
  startReconciling(): void {
    if (this.leading) return;
    this.leading = true;
    this.metrics.leader.set({ name: 'podfence-controller' }, 1);
    this.profileLoop.start();
    this.nodeLoop.start();
    void this.waitForSync().then(() => {
      this.enqueueAll();
      if (this.leading) this.params?.start();
    });
    this.resyncTimer = setInterval(() => {
      this.enqueueAll();
      this.params?.schedule();
    }, this.opts.resyncMs ?? 120_000);
    this.resyncTimer.unref?.();
    this.opts.log.info('reconciling (leader)');
  }

  /** Called at once when leadership is lost: no new reconcile starts, writes in flight are refused. */
  async stopReconciling(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.metrics.leader.set({ name: 'podfence-controller' }, 0);
    clearInterval(this.resyncTimer);
    this.params?.stop();
    await Promise.all([this.profileLoop.stop(), this.nodeLoop.stop()]);
    this.opts.log.info('stopped reconciling');
  }

  private informers(): ResilientInformer<ProfileObject | NodeReportObject | V1Node | V1Pod | V1Namespace>[] {
    return [this.profiles, this.reports, this.nodes, this.pods, this.namespaces] as ResilientInformer<
      ProfileObject | NodeReportObject | V1Node | V1Pod | V1Namespace
    >[];
  }

  private enqueueAll(): void {
    this.enqueueProfiles();
    this.enqueueNodes();
  }

  private enqueueProfiles(): void {
    for (const p of this.profiles.list()) this.profileLoop.add(profileName(p));
  }

  private enqueueNodes(): void {
    for (const n of this.nodes.list()) this.nodeLoop.add(nodeName(n));
  }

  /** Requeue profiles because something else changed, after the coalescing delay. */
  private touchProfiles(affected: Affected | string[]): void {
    const delay = this.opts.coalesceMs ?? 500;
    if (Array.isArray(affected) || !affected.all) {
      for (const name of Array.isArray(affected) ? affected : affected.profiles) {
        this.profileLoop.addAfter(profileName(name), delay);
      }
    } else {
      for (const p of this.profiles.list()) this.profileLoop.addAfter(profileName(p), delay);
    }
  }

  /**
   * Which keys each event touches: a profile's own change reconciles it at once, and its nodes when its version
   * (hash, ABI) changed; a report, the profiles whose files it changes (all on an ABI change) and its node; a node
   * coming or going, every profile's total; a pod, the profiles it uses.
   */
  private wireHandlers(): void {
    const onProfile = (p: ProfileObject, old?: ProfileObject) => {
      this.profileLoop.add(profileName(p));
      // The controller's own status and finalizer writes come back here: they change no node label or parameter.
      if (old && sameContent(old.spec ?? {}, p.spec ?? {})) return;
      if (this.requirements.set(p)) this.enqueueNodes();
      this.params?.schedule();
    };
    this.profiles.on('add', (p) => onProfile(p));
    this.profiles.on('update', (p, old) => onProfile(p, old));
    this.profiles.on('delete', (p) => {
      const name = p.metadata?.name ?? '';
      this.caches.compiled.delete(name);
      this.states.delete(name);
      this.updateProfileGauge();
      if (this.requirements.delete(name)) this.enqueueNodes();
      this.params?.schedule();
    });
    this.reports.on('add', (r) => this.onReport(r));
    this.reports.on('update', (r) => this.onReport(r));
    this.reports.on('delete', (r) => this.onReport(r, true));
    this.nodes.on('add', (n) => {
      if (this.caches.installs.addNode(nodeName(n))) this.touchProfiles({ all: true });
      this.nodeLoop.add(nodeName(n));
    });
    this.nodes.on('update', (n, old) => {
      // Our own label writes come back as updates: only react when labels differ from what we want.
      if (JSON.stringify(n.metadata?.labels) !== JSON.stringify(old?.metadata?.labels)) {
        this.nodeLoop.add(nodeName(n));
      }
    });
    this.nodes.on('delete', (n) => {
      if (this.caches.installs.deleteNode(nodeName(n))) this.touchProfiles({ all: true });
    });
    const onPod = (pod: V1Pod, gone = false) => this.touchProfiles(this.caches.podIndex.update(pod, gone));
    this.pods.on('add', (pod) => onPod(pod));
    this.pods.on('update', (pod) => onPod(pod));
    this.pods.on('delete', (pod) => onPod(pod, true));
    // A namespace joining or leaving podfence (the label selector's add and delete) changes whose pods pin profiles.
    for (const e of ['add', 'delete'] as const) this.namespaces.on(e, () => this.touchProfiles({ all: true }));
  }

  private onReport(r: NodeReportObject, gone = false): void {
    this.touchProfiles(this.caches.installs.setReport(nodeName(r), gone ? undefined : r.status));
    this.nodeLoop.add(nodeName(r));
  }

  private assertLeading(): void {
    if (!this.leading) throw new Error('not the leader any more: write refused');
  }

  /**
   * A report that does not match the schema counts as no report (its node is "not installed"), loudly. Cached slim,
   * its repeated strings shared (slim-report.ts).
   */
  private checkedReport(report: NodeReportObject): NodeReportObject {
    const parsed = NodeReportStatusSchema.safeParse(report.status ?? {});
    if (parsed.success) return slimReport({ ...report, status: parsed.data }, this.intern);
    this.opts.log.warn({ node: report.metadata?.name, err: parsed.error.message }, 'malformed node report ignored');
    return slimReport({ ...report, status: undefined }, this.intern);
  }

  private updateProfileGauge(): void {
    this.metrics.profiles.reset();
    const counts = new Map<string, number>();
    for (const s of this.states.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
    for (const [state, n] of counts) this.metrics.profiles.set({ state }, n);
  }
}
