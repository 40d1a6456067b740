// A real node joined to a test cluster: containerd (Debian's) with runc and the CNI bridge plugins, the images
// the tests need imported from local OCI archives, and the pinned kubelet, registered under its own node name.
// start: cleanup of any leftovers -> configs -> containerd -> images -> kubelet -> Node Ready.
// stop: kubelet, containerd, then cleanup.sh (containers, mounts, netns, bridge, cgroups, state dirs).
import { execFile, execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  copyFileSync,
  truncateSync,
} from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, StorageV1Api, type KubeConfig, type V1CSIDriver } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { binary } from '../cluster/binaries.js';
import { waitFor } from '../cluster/net.js';
import { repoRoot as findRepoRootOfCheckout } from '../cluster/repo-root.js';
import { logTail, startProcess, type ManagedProcess } from '../cluster/processes.js';
import {
  cniConflist,
  cniLoopback,
  containerdConfig,
  DEFAULT_LAYOUT,
  kubeletConfig,
  nodePaths,
  registryHostsToml,
  type NodeLayout,
  type NodePaths,
} from './config.js';

const run = promisify(execFile);
// cleanup.sh and the image scripts are read from the checkout, not next to this file (it may run transpiled).
const repoRoot = findRepoRootOfCheckout();
const here = join(repoRoot, 'test', 'node');

export const PAUSE_IMAGE = 'localhost/podfence/pause:dev';

/** What the node needs from the cluster it joins (a subset of test/cluster/harness.ts's TestCluster). */
export interface ClusterForNode {
  kubeConfig: KubeConfig;
  caCertPath: string;
  clusterDNS: string;
  clusterDomain: string;
  writeKubeconfig(fileName: string, user: string, groups?: string[]): Promise<string>;
}

export interface NodeOptions {
  layout?: NodeLayout;
  /** Leave kubelet and containerd running when this process exits (the demo's `--keep`). */
  detach?: boolean;
  /** Plain-HTTP registries on loopback containerd may pull from (`127.0.0.1:5000`). */
  insecureRegistries?: string[];
  /** Progress messages. */
  log?: (msg: string) => void;
}

export interface TestNode {
  name: string;
  layout: NodeLayout;
  paths: NodePaths;
  /** The kubelet's root dir: the node agent writes `<root>/seccomp/podfence/`. */
  kubeletRoot: string;
  /** Image names imported into containerd (`localhost/podfence/<name>:dev`). */
  images: string[];
  /** `ctr` against this node's containerd, in the CRI namespace. */
  ctr(args: string[]): Promise<string>;
  /** Imports an OCI archive under `localhost/<baseName>` (the archive's tag is kept). */
  importImage(archive: string, baseName: string): Promise<void>;
  logs(): Record<string, string>;
  processes: ManagedProcess[];
  stop(): Promise<void>;
}

const NODE_READY_TIMEOUT_MS = 120_000;

/** This machine's first non-loopback IPv4 address (the kubelet registers it as the node's InternalIP). */
export function hostIP(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** cleanup.sh reads the layout from the environment. */
function cleanupEnv(layout: NodeLayout): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PODFENCE_NODE_DATA_DIR: layout.dataDir,
    PODFENCE_NODE_RUN_DIR: layout.runDir,
    PODFENCE_NODE_BRIDGE: layout.bridge,
    PODFENCE_NODE_CGROUP_ROOT: layout.cgroupRoot.replace(/^\/+/, ''),
  };
}

/** Runs cleanup.sh: safe with or without a node; removes every trace of a previous one. */
export async function cleanupNode(layout: NodeLayout = DEFAULT_LAYOUT, all = false): Promise<void> {
  await run('bash', [join(here, 'cleanup.sh'), ...(all ? ['--all'] : [])], { env: cleanupEnv(layout) });
}

/** Builds (cached) the local images and returns `[name, archive]` pairs. */
export async function buildImages(): Promise<[string, string][]> {
  const { stdout } = await run('bash', [join(repoRoot, 'test', 'images', 'build-all.sh')], {
    maxBuffer: 1 << 20,
  });
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ') as [string, string]);
}

/**
 * The chart's CSIDriver (charts/podfence/templates/csi-driver.yaml, its only source) without the Helm directives,
 * created or replaced in the cluster.
 */
export function csiDriverObject(): V1CSIDriver {
  const template = readFileSync(join(repoRoot, 'charts', 'podfence', 'templates', 'csi-driver.yaml'), 'utf8');
  const plain = template
    .split('\n')
    .filter((l) => !l.includes('{{') && !/^\s*labels:\s*$/.test(l))
    .join('\n');
  return parse(plain) as V1CSIDriver;
}

export async function ensureCsiDriver(kc: KubeConfig): Promise<void> {
  const storage = kc.makeApiClient(StorageV1Api);
  const body = csiDriverObject();
  try {
    await storage.deleteCSIDriver({ name: body.metadata!.name! });
  } catch {
    // not there
  }
  await storage.createCSIDriver({ body });
}

export async function startNode(cluster: ClusterForNode, opts: NodeOptions = {}): Promise<TestNode> {
  const layout = opts.layout ?? DEFAULT_LAYOUT;
  const p = nodePaths(layout);
  const log = opts.log ?? (() => undefined);
  if (process.getuid?.() !== 0) throw new Error('the e2e node needs root (kubelet, containerd, mounts, network)');
  const kubeletBin = binary('kubelet');

  log('cleaning up any previous node');
  await cleanupNode(layout);

  // --- files ---------------------------------------------------------------------------------------------------
  for (const d of [
    p.logDir,
    p.etcDir,
    p.cniConfDir,
    p.cniIpamDir,
    p.kubeletRoot,
    p.podLogsDir,
    p.registryHostsDir,
    p.pluginsRegistryDir,
    layout.runDir,
  ]) {
    mkdirSync(d, { recursive: true });
  }
  for (const f of readdirSync(p.logDir)) if (f.endsWith('.log')) truncateSync(join(p.logDir, f));
  writeFileSync(p.containerdConfig, containerdConfig(layout, PAUSE_IMAGE));
  writeFileSync(join(p.cniConfDir, '10-podfence-e2e.conflist'), cniConflist(layout));
  writeFileSync(join(p.cniConfDir, '99-loopback.conf'), cniLoopback());
  for (const reg of opts.insecureRegistries ?? []) {
    mkdirSync(join(p.registryHostsDir, reg), { recursive: true });
    writeFileSync(join(p.registryHostsDir, reg, 'hosts.toml'), registryHostsToml(reg));
  }
  copyFileSync(cluster.caCertPath, p.kubeletCA);
  const kubeconfig = await cluster.writeKubeconfig(
    `kubelet-${layout.nodeName}.kubeconfig`,
    `system:node:${layout.nodeName}`,
    ['system:nodes'],
  );
  copyFileSync(kubeconfig, p.kubeletKubeconfig);
  writeFileSync(
    p.kubeletConfig,
    kubeletConfig(layout, { clusterDNS: cluster.clusterDNS, clusterDomain: cluster.clusterDomain }),
  );
  // The kubelet expects its cgroup root to exist in every v1 hierarchy.
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const dir = join('/sys/fs/cgroup', h);
    if (statSync(dir).isDirectory() && !h.includes(',')) mkdirSync(join(dir, layout.cgroupRoot), { recursive: true });
  }

  const procs: ManagedProcess[] = [];
  const start = (name: string, command: string, args: string[]) => {
    const proc = startProcess({ name, command, args, dir: p.logDir, tiedToParent: !opts.detach });
    procs.push(proc);
    return proc;
  };
  const ctr = async (args: string[]) =>
    (await run('ctr', ['-a', p.containerdSocket, '-n', 'k8s.io', ...args], { maxBuffer: 16 << 20 })).stdout;
  // Interrupted (Ctrl-C, a failing test runner) before stop(): the kubelet and containerd die with this process,
  // but containerd's shims, the pods' mounts, netns and the bridge would stay. cleanup.sh is synchronous, so it can
  // run in an 'exit' handler.
  let stopped = false;
  const onExit = () => {
    if (stopped) return;
    try {
      execFileSync('bash', [join(here, 'cleanup.sh')], { env: cleanupEnv(layout), stdio: 'ignore' });
    } catch {
      // best effort: the next start (or `npm run demo:down`) runs it again
    }
  };
  if (!opts.detach) process.on('exit', onExit);
  const stop = async () => {
    for (const proc of [...procs].reverse()) await proc.stop(15_000);
    procs.length = 0;
    await cleanupNode(layout);
    stopped = true;
    process.off('exit', onExit);
  };
  const awaitReady = async (proc: ManagedProcess, what: string, check: () => Promise<boolean>, timeoutMs: number) => {
    const died = proc.exited.then((code) => {
      throw new Error(`${proc.name} exited (${code}) before ${what}; ${proc.logPath}:\n${logTail(proc.logPath, 40)}`);
    });
    died.catch(() => undefined);
    await Promise.race([
      waitFor(check, timeoutMs, `${what} (log: ${proc.logPath}:\n${logTail(proc.logPath, 40)})`),
      died,
    ]);
  };

  try {
    // --- containerd ------------------------------------------------------------------------------------------------
    log('starting containerd');
    const containerd = start('containerd', 'containerd', ['--config', p.containerdConfig, '--log-level', 'info']);
    await awaitReady(
      containerd,
      'containerd answers',
      async () => existsSync(p.containerdSocket) && !!(await ctr(['version'])),
      30_000,
    );

    // --- images ----------------------------------------------------------------------------------------------------
    log('building and importing images');
    const images: string[] = [];
    for (const [name, archive] of await buildImages()) {
      await ctr(['images', 'import', '--base-name', name, archive]);
      images.push(`${name}:dev`);
    }
    if (!images.includes(PAUSE_IMAGE)) throw new Error(`the pause image ${PAUSE_IMAGE} was not built`);

    // --- kubelet ---------------------------------------------------------------------------------------------------
    log('starting kubelet');
    const kubelet = start('kubelet', kubeletBin, [
      `--config=${p.kubeletConfig}`,
      `--kubeconfig=${p.kubeletKubeconfig}`,
      `--root-dir=${p.kubeletRoot}`,
      `--hostname-override=${layout.nodeName}`,
      `--node-ip=${hostIP()}`,
      `--cert-dir=${join(p.kubeletRoot, 'pki')}`,
      '--v=1',
    ]);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    await awaitReady(
      kubelet,
      `node ${layout.nodeName} is Ready`,
      async () => {
        const node = await core.readNode({ name: layout.nodeName });
        // Ready, and the node lifecycle controller has lifted the not-ready taint (else nothing schedules).
        return (
          !!node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
          !(node.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/'))
        );
      },
      NODE_READY_TIMEOUT_MS,
    );
    log(`node ${layout.nodeName} is Ready`);

    return {
      name: layout.nodeName,
      layout,
      paths: p,
      kubeletRoot: p.kubeletRoot,
      images,
      ctr,
      async importImage(archive, baseName) {
        await ctr(['images', 'import', '--base-name', `localhost/${baseName}`, archive]);
      },
      logs: () => Object.fromEntries(procs.map((x) => [x.name, x.logPath])),
      processes: procs,
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
