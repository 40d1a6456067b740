import { release } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { API_VERSION, NODE_REPORT_KIND, SECCOMP_SUBDIR } from '../common/constants.js';
import { PODFENCE_VERSION } from '../common/version.js';
import { ClusterObjects } from '../kube/cluster-objects.js';
import { isNotFound, isConflict, shortError } from '../kube/errors.js';
import type { ResilientInformer } from '../kube/informer.js';
import { runWorkers, WorkQueue } from '../kube/workqueue.js';
import { CompiledProfiles } from '../model/compiled-profiles.js';
import { NODE_REPORT_RESOURCE, podInformer, profileInformer, type InformerOverrides } from '../model/informers.js';
import type { NodeReportObject, NodeReportStatus, ProfileObject } from '../model/objects.js';
import { podIsActive, seccompFilesOfPod } from '../model/pod-usage.js';
import { sameContent } from '../model/same-content.js';
import type { DenialCollector } from './denials/collector.js';
import { createDenialCollector, type DenialsOptions } from './denials/index.js';
import { ensureDir, readDir, removeFiles, writeFileAtomic } from './files.js';
import { planSync, type DesiredFile } from './plan.js';
import { probe } from './probe.js';

// The node agent (one per node, DaemonSet): keeps `<kubelet root>/seccomp/podfence/` equal to the current
// compiled version of every valid profile plus the versions pods on this node still load, and reports what it
// has and the node's Landlock ABI in the node's SandboxNodeReport. It compiles profiles itself with the same pure
// function as the controller (see docs/controller.md for why), and every sync is a full comparison of the
// directory with the desired state, so a restart (or a file deleted by hand) converges the same way.

export interface NodeAgentOptions {
  kubeConfig: KubeConfig;
  nodeName: string;
  kubeletRoot: string;
  initBinary: string;
  log: Logger;
  registry: Registry;
  agentVersion?: string;
  /** How long an unneeded file stays (unreported) before it is deleted. */
  retireGraceMs?: number;
  resyncMs?: number;
  informer?: InformerOverrides;
  /** The CSI driver's state, reported for the node label that gates scheduling (absent: no CSI driver). */
  csiStatus?: () => NodeReportStatus['csi'];
  /** Collect sandbox denials from the kernel's audit records (Events, metric, log); off when undefined. */
  denials?: DenialsOptions;
}

const SYNC = 'sync';

export class NodeAgent {
  readonly dir: string;
  readonly profiles: ResilientInformer<ProfileObject>;
  readonly pods: ResilientInformer<V1Pod>;
  private readonly reports: ClusterObjects;
  private readonly core: CoreV1Api;
  private readonly compiled = new CompiledProfiles();
  private readonly queue = new WorkQueue({ baseMs: 100, maxMs: 30_000 });
  private retired = new Map<string, number>();
  private landlockABI: number | undefined;
  private kernel = release();
  private lastReport: NodeReportStatus | undefined;
  /** The profile and pod caches have listed once: only then does a sync know what the node needs. */
  private synced = false;
  private reportExists = false;
  private lastSyncError: string | undefined = 'not synced yet';
  private workers: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly syncs: Counter<'result'>;
  private readonly filesGauge: Gauge;
  private readonly denials: DenialCollector | undefined;

  constructor(private readonly opts: NodeAgentOptions) {
    const kc = opts.kubeConfig;
    this.dir = join(opts.kubeletRoot, 'seccomp', SECCOMP_SUBDIR);
    this.core = kc.makeApiClient(CoreV1Api);
    this.reports = new ClusterObjects(kc, NODE_REPORT_RESOURCE);
    this.profiles = profileInformer(kc, opts.log, opts.informer);
    this.pods = podInformer(kc, {
      name: 'pods-on-node',
      fieldSelector: `spec.nodeName=${opts.nodeName}`,
      log: opts.log,
      overrides: opts.informer,
    });
    const kick = () => this.queue.add(SYNC);
    for (const inf of [this.profiles, this.pods] as ResilientInformer<ProfileObject | V1Pod>[]) {
      inf.on('add', kick);
      inf.on('update', kick);
      inf.on('delete', kick);
    }
    this.syncs = new Counter({
      name: 'podfence_node_agent_syncs_total',
      help: 'Directory syncs by result',
      labelNames: ['result'],
      registers: [opts.registry],
    });
    this.filesGauge = new Gauge({
      name: 'podfence_node_agent_installed_files',
      help: 'Profile files reported installed on this node',
      registers: [opts.registry],
    });
    if (opts.denials) {
      const { nodeName, log, registry } = opts;
      this.denials = createDenialCollector({
        denials: opts.denials,
        pods: this.pods,
        core: this.core,
        nodeName,
        log,
        registry,
      });
    }
  }

  health(): string | undefined {
    const problems = [this.profiles.health(), this.pods.health(), this.lastSyncError].filter(Boolean);
    return problems.length ? problems.join('; ') : undefined;
  }

  async start(): Promise<void> {
    await ensureDir(this.dir);
    try {
      const result = await probe(this.opts.initBinary);
      this.landlockABI = result.landlockABI;
      if (typeof result.raw.kernel === 'string') this.kernel = result.raw.kernel;
    } catch (err) {
      // Fail closed: report ABI 0 so `enforce` profiles are marked unsupported here rather than pods failing.
      this.landlockABI = 0;
      this.opts.log.error({ err: shortError(err) }, 'Landlock probe failed; reporting ABI 0');
    }
    this.opts.log.info(
      { dir: this.dir, landlockABI: this.landlockABI, node: this.opts.nodeName },
      'node agent starting',
    );
    this.profiles.start();
    this.pods.start();
    this.workers = runWorkers(this.queue, () => this.sync(), 1, {
      onOutcome: (_k, outcome, _s, err) => {
        this.syncs.inc({ result: outcome });
        if (err) {
          this.lastSyncError = `sync failed: ${shortError(err)}`;
          this.opts.log.warn({ err: shortError(err) }, 'sync failed');
        }
      },
    });
    await Promise.all([this.profiles.waitForSync(), this.pods.waitForSync()]);
    this.synced = true;
    this.queue.add(SYNC);
    this.resyncTimer = setInterval(() => this.queue.add(SYNC), this.opts.resyncMs ?? 60_000);
    this.resyncTimer.unref?.();
    this.denials?.start();
  }

  async stop(): Promise<void> {
    clearInterval(this.resyncTimer);
    await this.denials?.stop();
    this.queue.shutDown();
    await this.workers;
    await Promise.all([this.profiles.stop(), this.pods.stop()]);
  }

  /**
   * Sync and report again soon (e.g. the CSI driver's readiness changed). Before the caches have listed, a sync
   * would see no profiles and report the node's files as not installed (the controller would then take the
   * node's labels off and the kubelet reject pods placed there meanwhile): the first sync after the listing
   * comes anyway.
   */
  refresh(): void {
    if (this.synced) this.queue.add(SYNC);
  }

  /** One full comparison of disk with the desired state, then the report. */
  async sync(): Promise<{ requeueAfterMs: number } | void> {
    // Removing files on a stale view of the pods could pull a profile from under a starting container.
    const podsStale = this.pods.health();
    const desired = new Map<string, DesiredFile>();
    for (const p of this.profiles.list()) {
      const c = this.compiled.get(p);
      if (c.ok) {
        const { fileName, hash, json } = c.compiled.seccomp;
        desired.set(fileName, { profile: p.metadata?.name ?? '', hash, json });
      }
    }
    const inUse = new Set<string>();
    for (const pod of this.pods.list()) {
      if (podIsActive(pod)) for (const ref of seccompFilesOfPod(pod)) inUse.add(ref.file);
    }
    const { files, temps } = await readDir(this.dir);
    await removeFiles(this.dir, temps);
    const plan = planSync({
      desired,
      inUse,
      present: files,
      retired: this.retired,
      now: Date.now(),
      graceMs: this.opts.retireGraceMs ?? 30_000,
    });
    for (const w of plan.write) {
      await writeFileAtomic(this.dir, w.file, w.json);
      this.opts.log.info({ file: w.file, profile: desired.get(w.file)?.profile }, 'profile file written');
    }
    if (!podsStale) {
      this.retired = plan.retired;
      await removeFiles(this.dir, plan.remove);
      for (const file of plan.remove) this.opts.log.info({ file }, 'unused profile file removed');
    }
    for (const file of plan.missingInUse) {
      this.opts.log.warn({ file }, 'a pod on this node uses a profile file that is neither on disk nor current');
    }
    await this.report({
      landlockABI: this.landlockABI ?? 0,
      kernel: this.kernel,
      agentVersion: this.opts.agentVersion ?? PODFENCE_VERSION,
      installed: plan.installed,
      ...(this.opts.csiStatus ? { csi: this.opts.csiStatus() } : {}),
    });
    this.filesGauge.set(plan.installed.length);
    this.lastSyncError = undefined;
    if (podsStale) return { requeueAfterMs: 2_000 };
    if (plan.recheckInMs !== undefined) return { requeueAfterMs: plan.recheckInMs + 10 };
  }

  private async report(content: Omit<NodeReportStatus, 'updatedAt'>): Promise<void> {
    const { updatedAt: _ignored, ...last } = this.lastReport ?? {};
    if (this.lastReport && sameContent(last, content)) return;
    const name = this.opts.nodeName;
    if (!this.reportExists) {
      try {
        await this.reports.get<NodeReportObject>(name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await this.createReport();
      }
      this.reportExists = true;
    }
    const status: NodeReportStatus = { ...content, updatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    try {
      await this.reports.replaceStatus(name, status);
    } catch (err) {
      if (isNotFound(err)) this.reportExists = false; // deleted by hand: recreate on the retry
      throw err;
    }
    this.lastReport = status;
    this.opts.log.info(
      { installed: content.installed?.length, landlockABI: content.landlockABI },
      'node report updated',
    );
  }

  private async createReport(): Promise<void> {
    const name = this.opts.nodeName;
    let ownerReferences;
    try {
      // Owned by the Node: the garbage collector removes the report with its node (no pile-up on node churn).
      const node = await this.core.readNode({ name });
      ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata!.uid!, blockOwnerDeletion: false }];
    } catch (err) {
      this.opts.log.warn({ err: shortError(err) }, 'cannot read own Node; report created without owner');
    }
    try {
      await this.reports.create({
        apiVersion: API_VERSION,
        kind: NODE_REPORT_KIND,
        metadata: { name, ownerReferences },
      });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
}
