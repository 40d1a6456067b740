// The whole thing, started with one call and stopped with one call: a control plane with controllers
// (test/cluster/harness.ts), a real node (node.ts), and podfence, either installed the way users install it
// (install: 'chart': `helm install` of charts/podfence, podfence running in pods; the demo) or as host processes
// pointed at that cluster with its CRDs applied (install: 'processes'; the e2e suite, which needs to see and
// restart them). Used by the e2e suite (test/e2e) and by the demo (scripts/demo.sh through stack-cli.js). Everything lives under one directory (default /var/lib/podfence-stack):
// the cluster's certificates, data and logs, podfence's logs and pid files, and state.json for `down`.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startCluster, type TestCluster } from '../cluster/harness.js';
import { applyManifestFiles, waitForCRDsEstablished } from '../cluster/manifests.js';
import { freePort, waitFor } from '../cluster/net.js';
import { ensurePodfenceCli } from '../cluster/podfence-cli.js';
import { logTail, startProcess, type ManagedProcess } from '../cluster/processes.js';
import { repoRoot } from '../cluster/repo-root.js';
import { DEFAULT_LAYOUT, type NodeLayout } from './config.js';
import { cleanupNode, ensureCsiDriver, startNode, type TestNode } from './node.js';
import {
  buildShippedImages,
  bypassProxyFor,
  CHART_NAMESPACE,
  CHART_RELEASE,
  chartClusterOptions,
  helmInstall,
  startChartRegistry,
  waitPodfencePodsReady,
} from './stack-chart.js';
import { registerWebhook, startWebhook, type WebhookHandle } from './webhook.js';

const run = promisify(execFile);
export const REPO_ROOT = repoRoot();
export const DEFAULT_STACK_DIR = process.env.PODFENCE_STACK_DIR ?? '/var/lib/podfence-stack';

export interface StackOptions {
  dir?: string;
  layout?: NodeLayout;
  /** Leave everything running when this process exits (`npm run demo -- --keep`); `stopStackFromState` stops it. */
  detach?: boolean;
  /** Start podfence's controller and node agent (default true; false gives a bare cluster + node + CRDs). */
  podfence?: boolean;
  /**
   * How podfence runs: 'processes' (default): controller, node agent and webhook as host processes, CRDs applied
   * from crds/; 'chart': `helm install` of charts/podfence with the images built from this checkout's Dockerfiles,
   * pulled through a registry on loopback, as a user does.
   */
  install?: 'processes' | 'chart';
  /** Start the webhook and register it (default true when podfence is started). */
  webhook?: boolean;
  /** Plain-HTTP loopback registries containerd may pull from (e.g. the e2e's `127.0.0.1:PORT`). */
  insecureRegistries?: string[];
  log?: (msg: string) => void;
}

export interface Stack {
  dir: string;
  cluster: TestCluster;
  node: TestNode;
  kubeconfigPath: string;
  kubectl: string;
  webhook?: WebhookHandle;
  /** podfence's host processes by name (controller, node-agent, webhook); none with install: 'chart'. */
  podfence: Record<string, ManagedProcess>;
  /** With install: 'chart': the Helm release and its namespace. */
  release?: { name: string; namespace: string };
  /** Every log file, by component. */
  logs(): Record<string, string>;
  stop(): Promise<void>;
}

interface StackState {
  kubeconfigPath: string;
  clusterDir: string;
  podfenceLogDir: string;
  layout: NodeLayout;
  startedAt: string;
}

/** dist/src/cli.js, rebuilt when any file under src/ is newer. */
export async function ensurePodfenceBuilt(log: (m: string) => void = () => undefined): Promise<string> {
  return ensurePodfenceCli(log);
}

/**
 * The static Landlock wrapper, brought up to date by `make -C init-helper` (incremental: a no-op when current). It
 * is what every sandboxed pod runs: the node agent serves it through the CSI volume, so a stale build would test
 * old code.
 */
export async function ensureInitHelper(log: (m: string) => void = () => undefined): Promise<string> {
  const bin = join(REPO_ROOT, 'init-helper', 'build', 'podfence-init');
  if (!existsSync(bin)) log('building init-helper (make -C init-helper)');
  await run('make', ['-s', '-C', join(REPO_ROOT, 'init-helper')]);
  return bin;
}

/** The CRD manifests: crds/ (the source of truth) or, until it exists, the chart's copy. */
export function crdFiles(): string[] {
  for (const dir of [join(REPO_ROOT, 'crds'), join(REPO_ROOT, 'charts', 'podfence', 'crds')]) {
    if (!existsSync(dir)) continue;
    const files = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(dir, f));
    if (files.length > 0) return files;
  }
  throw new Error('no CRD manifests found in crds/ or charts/podfence/crds/');
}

async function waitReady(proc: ManagedProcess, port: number, timeoutMs = 60_000): Promise<void> {
  const died = proc.exited.then((code) => {
    throw new Error(
      `${proc.name} exited (${code}) before it was ready; ${proc.logPath}:\n${logTail(proc.logPath, 40)}`,
    );
  });
  died.catch(() => undefined);
  await Promise.race([
    waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
      timeoutMs,
      `${proc.name} /readyz on port ${port} is ok (log ${proc.logPath}:\n${logTail(proc.logPath, 20)})`,
    ),
    died,
  ]);
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const dir = opts.dir ?? DEFAULT_STACK_DIR;
  const layout = opts.layout ?? DEFAULT_LAYOUT;
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  const step = (m: string) => log(`${m} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  // A previous stack (a killed test, a kept demo) goes first: one node layout, one set of ports.
  await stopStackFromState(dir, layout);
  rmSync(dir, { recursive: true, force: true });
  const clusterDir = join(dir, 'cluster');
  const podfenceLogDir = join(dir, 'podfence');
  mkdirSync(podfenceLogDir, { recursive: true });

  const withPodfence = opts.podfence !== false;
  const viaChart = withPodfence && opts.install === 'chart';
  // With the chart, podfence's own binary comes in the operator image (built below, while the node starts).
  const [cli, initBinary] = withPodfence
    ? await Promise.all([viaChart ? '' : ensurePodfenceBuilt(step), ensureInitHelper(step)])
    : ['', ''];

  // The chart's images are built (or found current) while the control plane starts.
  const shipped = viaChart ? buildShippedImages() : undefined;
  shipped?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  step('starting the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)');
  if (viaChart) bypassProxyFor(layout);
  const cluster = await startCluster({
    withControllers: true,
    dir: clusterDir,
    detach: opts.detach,
    // `kubectl logs` goes apiserver -> kubelet: by IP, the node's name is not in DNS.
    ...(viaChart ? chartClusterOptions() : { apiserverArgs: ['--kubelet-preferred-address-types=InternalIP'] }),
  });
  const state: StackState = {
    kubeconfigPath: cluster.kubeconfigPath,
    clusterDir,
    podfenceLogDir,
    layout,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(join(dir, 'state.json'), JSON.stringify(state, null, 2));

  const podfence: Record<string, ManagedProcess> = {};
  let node: TestNode | undefined;
  let webhook: WebhookHandle | undefined;
  let chartRegistry: { stop(): Promise<void> } | undefined;
  const stop = async () => {
    for (const p of Object.values(podfence).reverse()) await p.stop(10_000);
    if (node) await node.stop();
    else await cleanupNode(layout);
    await chartRegistry?.stop();
    await cluster.stop();
  };
  const finish = (c: TestCluster, n: TestNode, release?: Stack['release']): Stack => ({
    dir,
    cluster: c,
    node: n,
    kubeconfigPath: c.kubeconfigPath,
    kubectl: join(c.binDir, 'kubectl'),
    webhook,
    podfence,
    release,
    logs: () => ({
      ...c.logs(),
      ...n.logs(),
      ...Object.fromEntries(Object.entries(podfence).map(([k, p]) => [`podfence-${k}`, p.logPath])),
    }),
    stop,
  });

  try {
    // The chart's images: built from the Dockerfiles (cached), pushed to a loopback registry the node pulls from.
    let images: Awaited<ReturnType<typeof startChartRegistry>>['images'] | undefined;
    if (shipped) {
      step('images built from their Dockerfiles (scripts/build-images.sh; cached while unchanged)');
      const chart = await startChartRegistry(join(dir, 'registry'), await shipped);
      chartRegistry = chart.registry;
      images = chart.images;
      step(`images pushed to ${images.registry}/podfence/{operator,init}:${images.tag}`);
    }
    step('starting the node (containerd, images, kubelet)');
    node = await startNode(cluster, {
      layout,
      detach: opts.detach,
      insecureRegistries: [...(opts.insecureRegistries ?? []), ...(images ? [images.registry] : [])],
      log: (m) => step(`node: ${m}`),
    });

    if (viaChart && images) {
      step(`helm install ${CHART_RELEASE} charts/podfence -n ${CHART_NAMESPACE} --create-namespace --wait`);
      helmInstall({ kubeconfigPath: cluster.kubeconfigPath, node, apiserverUrl: cluster.apiserverUrl, images });
      const pods = await waitPodfencePodsReady(cluster.kubeConfig);
      step(`podfence is running in pods: ${pods.map(([c]) => c).join(', ')}`);
      return finish(cluster, node, { name: CHART_RELEASE, namespace: CHART_NAMESPACE });
    }

    step('installing the CRDs');
    const applied = await applyManifestFiles(cluster.kubeConfig, crdFiles());
    await waitForCRDsEstablished(
      cluster.kubeConfig,
      applied.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata!.name!),
    );
    // The chart's CSIDriver, for the node agent's podfence.dev driver (what `helm install` creates in a cluster).
    if (withPodfence && !viaChart) await ensureCsiDriver(cluster.kubeConfig);

    const startPodfence = async (mode: string, args: string[]) => {
      const port = await freePort();
      const proc = startProcess({
        name: `podfence-${mode}`,
        command: process.execPath,
        args: [cli, mode, '--kubeconfig', cluster.kubeconfigPath, '--ops-port', String(port), ...args],
        dir: podfenceLogDir,
        tiedToParent: !opts.detach,
      });
      podfence[mode] = proc;
      await waitReady(proc, port);
      return proc;
    };

    if (withPodfence) {
      step('starting podfence: controller, node agent');
      await startPodfence('controller', ['--no-leader-elect', '--resync-seconds', '30']);
      await startPodfence('node-agent', [
        '--node-name',
        node.name,
        '--kubelet-root',
        node.kubeletRoot,
        '--init-binary',
        initBinary,
        '--retire-grace-seconds',
        '5',
        '--resync-seconds',
        '10',
      ]);
      if (opts.webhook !== false) {
        step('starting podfence: webhook');
        webhook = await startWebhook({
          cli,
          kubeconfigPath: cluster.kubeconfigPath,
          dir: podfenceLogDir,
          detach: !!opts.detach,
          issueCert: (o) => cluster.issueCert(o),
          caCertPath: cluster.caCertPath,
          insecureRegistries: opts.insecureRegistries ?? [],
          freePort,
        });
        podfence.webhook = webhook.process;
        await waitReady(webhook.process, webhook.opsPort);
        await registerWebhook(cluster.kubeConfig, webhook);
      }
    }
    step(withPodfence ? 'podfence is running' : 'cluster and node are running (podfence not started)');
    return finish(cluster, node);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** True when `pid` still runs a command line containing `needle` (pids get reused). */
function runs(pid: number, needle: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle);
  } catch {
    return false;
  }
}

async function killByPidFile(pidFile: string, needle: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (pid > 1 && runs(pid, needle)) {
    for (const [sig, waitMs] of [
      ['SIGTERM', 10_000],
      ['SIGKILL', 2_000],
    ] as const) {
      try {
        process.kill(-pid, sig);
      } catch {
        // gone
      }
      const end = Date.now() + waitMs;
      while (runs(pid, needle) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      if (!runs(pid, needle)) break;
    }
  }
  rmSync(pidFile, { force: true });
}

/**
 * Stops a stack started by another process (the demo's `--keep`, or a test run that was killed): podfence's
 * processes by their pid files, the node (cleanup.sh), the control plane (test/cluster/down.sh). Safe to call when
 * nothing runs.
 */
export async function stopStackFromState(dir = DEFAULT_STACK_DIR, layout: NodeLayout = DEFAULT_LAYOUT): Promise<void> {
  const podfenceLogDir = join(dir, 'podfence');
  if (existsSync(podfenceLogDir)) {
    for (const f of readdirSync(podfenceLogDir).filter((x) => x.endsWith('.pid'))) {
      await killByPidFile(join(podfenceLogDir, f), 'cli.js');
    }
  }
  await cleanupNode(layout);
  const clusterDir = join(dir, 'cluster');
  if (existsSync(clusterDir)) {
    await run('bash', [join(REPO_ROOT, 'test', 'cluster', 'down.sh')], {
      env: { ...process.env, PODFENCE_CLUSTER_DIR: clusterDir },
    }).catch(() => undefined);
  }
}
