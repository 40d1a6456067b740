// podfence's CSI driver (podfence.dev, served by the node agent) on a real node: the kubelet registers it, mounts it
// into pods and unmounts it; nothing in a pod can write the wrapper through it, not even an ephemeral container
// the pod's owner adds; pods keep running across a kubelet restart and a node-agent restart, and new pods start
// afterwards; when the pods are gone and the agent is stopped, no mount and no socket is left.
// Each write attempt has a control: the same attempt on an emptyDir of the same pod, which must succeed.
// Needs root. PODFENCE_E2E=0 skips the suite.
import { readFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { CoreV1Api, StorageV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { parseMountInfo } from '../../src/node-agent/csi/mountinfo.js';
import { csiPaths } from '../../src/node-agent/csi/names.js';
import { waitFor } from '../cluster/net.js';
import { logTail, startProcess, type ManagedProcess } from '../cluster/processes.js';
import { createNamespace, parseChecks, podDiagnostics, PROBE_IMAGE } from '../node/probe-pods.js';
import { startStack, type Stack } from '../node/stack.js';

const enabled = process.getuid?.() === 0 && process.env.PODFENCE_E2E !== '0';
const d = enabled ? describe : describe.skip;
const NS = 'e2e-csi';

let stack: Stack;
let kc: KubeConfig;
let core: CoreV1Api;

/** A pod that mounts the helper volume (without readOnly on the mount: the driver must not care) and an emptyDir. */
function helperPod(name: string, checks: string[], volume: Record<string, unknown> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'probe',
          image: PROBE_IMAGE,
          imagePullPolicy: 'Never',
          command: ['/bin/probe', ...checks],
          volumeMounts: [
            { name: 'helper', mountPath: '/h' },
            { name: 'scratch', mountPath: '/s' },
          ],
        },
      ],
      volumes: [
        { name: 'helper', csi: { driver: 'podfence.dev', readOnly: true, ...volume } },
        { name: 'scratch', emptyDir: {} },
      ],
    },
  };
}

const WRITES = ['write:/h/podfence-init', 'write:/h/new-file', 'write:/s/control'];

async function logOf(name: string, container = 'probe'): Promise<string> {
  return core.readNamespacedPodLog({ namespace: NS, name, container });
}

async function waitRunning(name: string, timeoutMs = 120_000): Promise<V1Pod> {
  let pod: V1Pod | undefined;
  try {
    await waitFor(
      async () => {
        pod = await core.readNamespacedPod({ namespace: NS, name });
        return pod.status?.phase === 'Running' && !!pod.status.containerStatuses?.every((c) => c.ready);
      },
      timeoutMs,
      `pod ${NS}/${name} running`,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await podDiagnostics(kc, NS, name)}\n${diagnostics()}`);
  }
  return pod!;
}

/** podfence.dev mounts below the kubelet's pods dir (mountinfo root = a helper store version). */
function helperMounts(): string[] {
  const store = csiPaths(stack.node.kubeletRoot).storeDir;
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .filter((m) => m.root.startsWith(store + '/'))
    .map((m) => m.mountPoint);
}

/** Stops a process and starts it again with the same command line (read from /proc before the stop). */
async function restart(proc: ManagedProcess): Promise<ManagedProcess> {
  const argv = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  await proc.stop(15_000);
  return startProcess({
    name: proc.name,
    command: argv[0]!,
    args: argv.slice(1),
    dir: dirname(proc.logPath),
    tiedToParent: true,
  });
}

function diagnostics(): string {
  if (!stack) return '';
  return Object.entries(stack.logs())
    .filter(([k]) => k === 'podfence-node-agent' || k === 'kubelet')
    .map(([k, path]) => `--- ${k} (${path})\n${logTail(path, 15)}`)
    .join('\n');
}

async function registered(): Promise<boolean> {
  const n = await kc.makeApiClient(StorageV1Api).readCSINode({ name: stack.node.name });
  return !!n.spec.drivers?.some((x) => x.name === 'podfence.dev');
}

d('podfence.dev CSI driver on a real node', () => {
  beforeAll(async () => {
    stack = await startStack({ log: (m) => process.stderr.write(`[e2e-csi] ${m}\n`) });
    kc = stack.cluster.kubeConfig;
    core = kc.makeApiClient(CoreV1Api);
    await createNamespace(kc, NS);
    await waitFor(registered, 60_000, 'the kubelet lists podfence.dev in the CSINode');
  }, 600_000);

  afterAll(async () => {
    await stack?.stop();
  }, 120_000);

  test('the wrapper is read-only through the volume; an emptyDir of the same pod is the writable control', async () => {
    await core.createNamespacedPod({
      namespace: NS,
      body: helperPod('writer', ['read:/h/podfence-init', ...WRITES, 'sleep:3600']),
    });
    await waitRunning('writer');
    let checks: ReturnType<typeof parseChecks> = {};
    await waitFor(
      async () => {
        checks = parseChecks(await logOf('writer'));
        return Object.keys(checks).length >= 4;
      },
      30_000,
      'writer reported its checks',
    );
    expect(checks['read:/h/podfence-init']?.result).toBe('ok');
    expect(checks['write:/h/podfence-init']?.errno).toBe('EROFS');
    expect(checks['write:/h/new-file']?.errno).toBe('EROFS');
    expect(checks['write:/s/control']?.result).toBe('ok');
    expect(helperMounts()).toHaveLength(1);
  }, 180_000);

  test('an ephemeral container mounting the volume writable cannot write it either', async () => {
    const pod = await core.readNamespacedPod({ namespace: NS, name: 'writer' });
    pod.spec!.ephemeralContainers = [
      {
        name: 'debug',
        image: PROBE_IMAGE,
        imagePullPolicy: 'Never',
        command: ['/bin/probe', ...WRITES],
        volumeMounts: [
          { name: 'helper', mountPath: '/h', readOnly: false },
          { name: 'scratch', mountPath: '/s' },
        ],
      },
    ];
    await core.replaceNamespacedPodEphemeralcontainers({ namespace: NS, name: 'writer', body: pod });
    let checks: ReturnType<typeof parseChecks> = {};
    await waitFor(
      async () => {
        checks = parseChecks(await logOf('writer', 'debug').catch(() => ''));
        return Object.keys(checks).length >= 3;
      },
      90_000,
      'the ephemeral container reported its checks',
    );
    expect(checks['write:/h/podfence-init']?.errno).toBe('EROFS');
    expect(checks['write:/h/new-file']?.errno).toBe('EROFS');
    expect(checks['write:/s/control']?.result).toBe('ok');
  }, 180_000);

  test('the driver refuses a writable volume and pod-chosen attributes (the pod does not start)', async () => {
    await core.createNamespacedPod({ namespace: NS, body: helperPod('rw', ['sleep:3600'], { readOnly: false }) });
    await core.createNamespacedPod({
      namespace: NS,
      body: helperPod('attrs', ['sleep:3600'], { volumeAttributes: { source: '/etc' } }),
    });
    const failedMount = async (name: string, what: RegExp) => {
      const ev = await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${name}` });
      return ev.items.some((e) => e.reason === 'FailedMount' && what.test(e.message ?? ''));
    };
    await waitFor(() => failedMount('rw', /readonly must be true/), 90_000, 'FailedMount for the writable volume');
    await waitFor(() => failedMount('attrs', /volumeAttributes.*source/), 90_000, 'FailedMount for the attributes');
    for (const name of ['rw', 'attrs']) {
      expect((await core.readNamespacedPod({ namespace: NS, name })).status?.phase).toBe('Pending');
      await core.deleteNamespacedPod({ namespace: NS, name, gracePeriodSeconds: 0 });
    }
  }, 180_000);

  test('a kubelet restart and a node-agent restart leave the pod running; new pods start afterwards', async () => {
    const before = await core.readNamespacedPod({ namespace: NS, name: 'writer' });
    const containerID = before.status?.containerStatuses?.[0]?.containerID;

    const kubelet = stack.node.processes.find((p) => p.name === 'kubelet')!;
    const newKubelet = await restart(kubelet);
    stack.node.processes.splice(stack.node.processes.indexOf(kubelet), 1, newKubelet);
    const agent = stack.podfence['node-agent']!;
    stack.podfence['node-agent'] = await restart(agent);
    await waitFor(registered, 90_000, 'podfence.dev registered again');

    await core.createNamespacedPod({
      namespace: NS,
      body: helperPod('after-restarts', ['read:/h/podfence-init', 'sleep:3600']),
    });
    await waitRunning('after-restarts', 180_000);
    const after = await core.readNamespacedPod({ namespace: NS, name: 'writer' });
    expect(after.status?.phase).toBe('Running');
    expect(after.status?.containerStatuses?.[0]?.containerID).toBe(containerID);
    expect(after.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(helperMounts()).toHaveLength(2);
  }, 300_000);

  test('deleting the pods unmounts every volume; stopping the agent leaves no mount and no socket', async () => {
    for (const name of ['writer', 'after-restarts']) {
      await core.deleteNamespacedPod({ namespace: NS, name, gracePeriodSeconds: 0 });
    }
    await waitFor(async () => helperMounts().length === 0, 120_000, 'no podfence.dev mount left');
    const paths = csiPaths(stack.node.kubeletRoot);
    await stack.podfence['node-agent']!.stop(15_000);
    expect(existsSync(paths.registrationSocket)).toBe(false);
    expect(existsSync(paths.csiSocket)).toBe(false);
    expect(helperMounts()).toEqual([]);
    await waitFor(async () => !(await registered()), 60_000, 'the kubelet dropped podfence.dev from the CSINode');
  }, 300_000);
});
