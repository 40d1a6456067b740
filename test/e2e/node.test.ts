// The e2e node itself (test/node): it joins a real control plane, runs pods that reach each other over the bridge,
// with an in-memory emptyDir, a projected service-account token and an init container, and stopping it leaves
// nothing behind: no mounts, processes, network devices, cgroups or state directories. cleanup.sh is idempotent.
// Needs root. PODFENCE_E2E=0 skips the suite.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { startCluster, type TestCluster } from '../cluster/harness.js';
import { DEFAULT_LAYOUT } from '../node/config.js';
import { cleanupNode, startNode, type TestNode } from '../node/node.js';
import { parseChecks, PROBE_IMAGE, waitForPodIP, waitForPodLog } from '../node/probe-pods.js';

const run = promisify(execFile);
const enabled = process.getuid?.() === 0 && process.env.PODFENCE_E2E !== '0';
const d = enabled ? describe : describe.skip;
const L = DEFAULT_LAYOUT;

/** Mount points under the node's directories. */
function nodeMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(`${L.dataDir}/`) || m === L.dataDir || m.startsWith(`${L.runDir}/`) || m === L.runDir);
}

/** Processes whose command line names the node's run dir or config (kubelet, containerd, shims). */
function nodeProcesses(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(`${L.runDir}/`) || cmd.includes(`${L.dataDir}/etc/`)) out.push(`${pid}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return out;
}

const linkExists = async (dev: string) =>
  run('ip', ['link', 'show', dev]).then(
    () => true,
    () => false,
  );

const nodeCgroups = () =>
  readdirSync('/sys/fs/cgroup')
    .map((h) => join('/sys/fs/cgroup', h, L.cgroupRoot))
    .filter((p) => existsSync(p));

d('the e2e node (kubelet + containerd + runc + CNI)', () => {
  let cluster: TestCluster;
  let node: TestNode;
  let serverIP = '';
  let clientLog = '';
  const inUse: { mounts: number; cgroups: number; bridge: boolean; processes: number } = {
    mounts: 0,
    cgroups: 0,
    bridge: false,
    processes: 0,
  };

  beforeAll(async () => {
    cluster = await startCluster({
      withControllers: true,
      apiserverArgs: ['--kubelet-preferred-address-types=InternalIP'],
    });
    node = await startNode(cluster);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const pod = (name: string, command: string[]): V1Pod => ({
      metadata: { name, namespace: 'default' },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } }],
        initContainers: [
          {
            name: 'init',
            image: PROBE_IMAGE,
            imagePullPolicy: 'Never',
            command: ['/bin/probe', 'write:/scratch/from-init'],
            volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
          },
        ],
        containers: [
          {
            name: 'probe',
            image: PROBE_IMAGE,
            imagePullPolicy: 'Never',
            command,
            volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
          },
        ],
      },
    });
    await core.createNamespacedPod({ namespace: 'default', body: pod('server', ['/bin/probe', 'serve:8080']) });
    serverIP = await waitForPodIP(cluster.kubeConfig, 'default', 'server');
    await core.createNamespacedPod({
      namespace: 'default',
      body: pod('client', [
        '/bin/probe',
        'read:/scratch/from-init',
        'read:/var/run/secrets/kubernetes.io/serviceaccount/token',
        `connect:${serverIP}:8080`,
      ]),
    });
    clientLog = await waitForPodLog(cluster.kubeConfig, 'default', 'client');
    // While pods run: the node really holds mounts, cgroups, the bridge and its processes.
    inUse.mounts = nodeMounts().length;
    inUse.cgroups = nodeCgroups().length;
    inUse.bridge = await linkExists(L.bridge);
    inUse.processes = nodeProcesses().length;
    await node.stop();
    await cluster.stop();
  }, 300_000);

  afterAll(async () => {
    // Only matters when beforeAll failed half-way.
    await cluster?.stop();
    await cleanupNode();
  }, 120_000);

  test('pods get an IP on the bridge and reach each other; init containers, emptyDir and tokens work', () => {
    expect(serverIP.startsWith(L.podCIDR.split('.').slice(0, 3).join('.'))).toBe(true);
    const checks = parseChecks(clientLog);
    expect(checks['read:/scratch/from-init']).toMatchObject({ result: 'ok' });
    expect(checks['read:/var/run/secrets/kubernetes.io/serviceaccount/token']).toMatchObject({ result: 'ok' });
    expect(checks[`connect:${serverIP}:8080`]).toMatchObject({ result: 'ok' });
  });

  test('while running, the node held mounts, cgroups, its bridge and processes (so the next test means something)', () => {
    expect(inUse.mounts).toBeGreaterThan(3);
    expect(inUse.cgroups).toBeGreaterThan(0);
    expect(inUse.bridge).toBe(true);
    expect(inUse.processes).toBeGreaterThan(2);
  });

  test('after stop nothing is left: mounts, processes, bridge and veths, cgroups, run dir', async () => {
    expect(nodeMounts()).toEqual([]);
    expect(nodeProcesses()).toEqual([]);
    expect(await linkExists(L.bridge)).toBe(false);
    const { stdout } = await run('ip', ['-o', 'link', 'show', 'type', 'veth']);
    expect(stdout.split('\n').filter((l) => l.includes(`master ${L.bridge}`))).toEqual([]);
    expect(nodeCgroups()).toEqual([]);
    expect(existsSync(L.runDir)).toBe(false);
    expect(readdirSync(L.dataDir)).toEqual(['logs']);
  });

  test('cleanup.sh can run again and again', async () => {
    await cleanupNode();
    await cleanupNode();
    expect(nodeMounts()).toEqual([]);
  });
});
