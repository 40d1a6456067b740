// The controller (in-process) and the node agent (a real `podfence node-agent` process pointed at a temp directory
// as kubelet root) against the shared test cluster's real kube-apiserver, for a fake Node object: files appear with
// the exact compiled bytes, status goes Ready, node labels follow, a changed profile gets a new file and the old
// one goes once unused, a pod bound to the node keeps its version, deletion waits for that pod, and an agent
// restarted over a tampered directory puts it right.
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Controller } from '../../src/controller/controller.js';
import type { NodeReportObject } from '../../src/model/objects.js';
import { freePort, waitFor } from '../cluster/net.js';
import {
  createProfile,
  expectedSeccomp as expected,
  PROFILES,
  getProfile as readProfile,
  readyCondition as ready,
} from './profiles.js';
import { ensurePodfenceCli } from '../cluster/podfence-cli.js';
import { logTail, startProcess, type ManagedProcess } from '../cluster/processes.js';
import {
  deleteNamespace,
  sharedKubeConfig,
  sharedClusterHasControllers,
  sharedKubeconfigPath,
  uniqueName,
  uniqueNamespace,
} from '../cluster/shared.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const kc = sharedKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const REPORTS = { group: 'podfence.dev', version: 'v1alpha1', plural: 'sandboxnodereports' };

/** The real helper when built (scripts/setup.sh builds it); else a stand-in that states the probe's JSON. */
function initBinary(dir: string): string {
  const real = join(root, 'init-helper', 'build', 'podfence-init');
  if (existsSync(real)) return real;
  console.warn(`${real} not built: the node agent probes a stand-in reporting Landlock ABI 7`);
  const fake = join(dir, 'podfence-init');
  writeFileSync(fake, '#!/bin/sh\necho \'{"landlock_abi":7}\'\n');
  chmodSync(fake, 0o755);
  return fake;
}

const getProfile = (name: string) => readProfile(kc, name);

/** `podfence node-agent` as a child process against the shared cluster, with a temp kubelet root. */
function startNodeAgent(
  name: string,
  o: { cli: string; nodeName: string; kubeletRoot: string; probe: string; logDir: string; port: number },
  extraArgs: string[] = [],
): ManagedProcess {
  return startProcess({
    name,
    command: process.execPath,
    args: [
      o.cli,
      'node-agent',
      '--kubeconfig',
      sharedKubeconfigPath(),
      '--node-name',
      o.nodeName,
      '--kubelet-root',
      o.kubeletRoot,
      '--init-binary',
      o.probe,
      '--ops-port',
      String(o.port),
      ...extraArgs,
    ],
    dir: o.logDir,
    tiedToParent: true,
  });
}

describe('controller and node agent against a real apiserver', () => {
  const nodeName = uniqueName('fake-node');
  const profileName = uniqueName('web');
  // Made in beforeAll: describe bodies also run for suites that end up skipped, and would leak directories.
  let kubeletRoot = '';
  let seccompDir = '';
  let logDir = '';
  const specV1 = { preset: 'computation' };
  const specV2 = { preset: 'computation', seccomp: { deny: ['mkdir'] } };
  const specV3 = { preset: 'computation', seccomp: { deny: ['mkdir', 'rmdir'] } };
  let controller: Controller;
  let agent: ManagedProcess | undefined;
  let namespace: string;
  let cli: string;
  let probe: string;

  const startAgent = async () => {
    const port = await freePort();
    agent = startNodeAgent(`node-agent-${Date.now()}`, { cli, nodeName, kubeletRoot, probe, logDir, port }, [
      '--retire-grace-seconds',
      '1',
      '--resync-seconds',
      '5',
    ]);
  };
  const files = () => (existsSync(seccompDir) ? readdirSync(seccompDir).sort() : []);
  const waitOr = async (check: () => Promise<boolean>, ms: number, what: string) => {
    try {
      await waitFor(check, ms, what);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- node agent log ---\n${agent ? logTail(agent.logPath, 40) : ''}`);
    }
  };

  beforeAll(async () => {
    kubeletRoot = mkdtempSync(join(tmpdir(), 'podfence-kubelet-'));
    seccompDir = join(kubeletRoot, 'seccomp', 'podfence');
    logDir = mkdtempSync(join(tmpdir(), 'podfence-agent-log-'));
    cli = ensurePodfenceCli();
    probe = initBinary(logDir);
    await core.createNode({ body: { metadata: { name: nodeName, labels: { 'podfence.dev/test': 'true' } } } });
    // Opted in: only pods podfence sandboxed (those of opted-in namespaces) pin a profile.
    namespace = await uniqueNamespace('ctl', { 'podfence.dev/profile': profileName });
    controller = new Controller({
      kubeConfig: kc,
      log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      registry: new Registry(),
      resyncMs: 10_000,
    });
    controller.startInformers();
    await controller.waitForSync();
    controller.startReconciling();
    await startAgent();
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await controller?.stopReconciling();
    await controller?.stopInformers();
    // Leave nothing behind in the shared cluster, even after a failure midway.
    const p = await getProfile(profileName).catch(() => undefined);
    if (p) {
      await custom
        .patchClusterCustomObject({
          ...PROFILES,
          name: profileName,
          body: [{ op: 'replace', path: '/metadata/finalizers', value: [] }],
        })
        .catch(() => undefined);
      await custom.deleteClusterCustomObject({ ...PROFILES, name: profileName }).catch(() => undefined);
    }
    await custom.deleteClusterCustomObject({ ...REPORTS, name: nodeName }).catch(() => undefined);
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    if (namespace) await deleteNamespace(namespace);
    if (kubeletRoot) rmSync(kubeletRoot, { recursive: true, force: true });
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  }, 300_000);

  it('installs the exact compiled bytes, reports them, labels the node, and goes Ready', async () => {
    const c1 = expected(profileName, specV1);
    await createProfile(kc, profileName, specV1);
    await waitOr(async () => files().includes(c1.fileName), 60_000, `${c1.fileName} is written`);
    expect(readFileSync(join(seccompDir, c1.fileName), 'utf8')).toBe(c1.json);
    expect(statSync(join(seccompDir, c1.fileName)).mode & 0o777).toBe(0o644);

    await waitOr(async () => ready(await getProfile(profileName))?.status === 'True', 60_000, 'the profile is Ready');
    const p = await getProfile(profileName);
    expect(p.status).toMatchObject({ seccompProfilePath: c1.localhostProfile, hash: c1.hash, pods: 0 });
    expect(p.status?.nodes?.installed).toBe(p.status?.nodes?.total);
    expect(ready(p)).toMatchObject({ reason: 'Installed', observedGeneration: p.metadata?.generation });
    expect(p.metadata?.finalizers).toContain('podfence.dev/in-use');

    const report = (await custom.getClusterCustomObject({ ...REPORTS, name: nodeName })) as NodeReportObject;
    expect(report.status?.installed).toContainEqual({ profile: profileName, hash: c1.hash, file: c1.fileName });
    expect(typeof report.status?.landlockABI).toBe('number');
    await waitOr(
      async () =>
        (await core.readNode({ name: nodeName })).metadata?.labels?.[`seccomp.podfence.dev/${c1.hash}`] === 'true',
      60_000,
      'the node carries the seccomp label of the installed version',
    );
    const events = await core.listNamespacedEvent({
      namespace: 'default',
      fieldSelector: `involvedObject.name=${profileName}`,
    });
    expect(events.items.map((e) => e.reason)).toEqual(expect.arrayContaining(['Compiled', 'Installed']));
  }, 300_000);

  it('a changed profile gets a new file; the unused old one, its report entry and its node label go', async () => {
    const c1 = expected(profileName, specV1);
    const c2 = expected(profileName, specV2);
    expect(c2.hash).not.toBe(c1.hash);
    await custom.patchClusterCustomObject({
      ...PROFILES,
      name: profileName,
      body: [{ op: 'replace', path: '/spec', value: specV2 }],
    });
    await waitOr(
      async () => JSON.stringify(files()) === JSON.stringify([c2.fileName]),
      60_000,
      'only the new file is left',
    );
    expect(readFileSync(join(seccompDir, c2.fileName), 'utf8')).toBe(c2.json);
    await waitOr(
      async () => {
        const p = await getProfile(profileName);
        return (
          p.status?.hash === c2.hash &&
          ready(p)?.status === 'True' &&
          p.status?.observedGeneration === p.metadata?.generation
        );
      },
      60_000,
      'status follows the new version',
    );
    await waitOr(
      async () => {
        const labels = (await core.readNode({ name: nodeName })).metadata?.labels ?? {};
        return labels[`seccomp.podfence.dev/${c2.hash}`] === 'true' && !(`seccomp.podfence.dev/${c1.hash}` in labels);
      },
      60_000,
      'the node label moves to the new version',
    );
  }, 300_000);

  it('keeps the version a pod on the node uses, and blocks deletion until the pod is gone', async () => {
    const c2 = expected(profileName, specV2);
    const c3 = expected(profileName, specV3);
    const podName = uniqueName('user');
    // Bound to the fake node by spec.nodeName: no kubelet or scheduler involved.
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: podName, annotations: { 'podfence.dev/applied': `${profileName}@test` } },
        spec: {
          nodeName,
          securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: c2.localhostProfile } },
          containers: [{ name: 'c', image: 'localhost/none:dev' }],
        },
      },
    });
    await waitOr(async () => (await getProfile(profileName)).status?.pods === 1, 60_000, 'status counts the pod');

    await custom.patchClusterCustomObject({
      ...PROFILES,
      name: profileName,
      body: [{ op: 'replace', path: '/spec', value: specV3 }],
    });
    await waitOr(async () => files().includes(c3.fileName), 60_000, 'the third version is written');
    // Past the retire grace (1 s) and a few syncs: the in-use version must still be there.
    await new Promise((r) => setTimeout(r, 4000));
    expect(files()).toEqual([c2.fileName, c3.fileName].sort());

    await custom.deleteClusterCustomObject({ ...PROFILES, name: profileName });
    await waitOr(
      async () => ready(await getProfile(profileName))?.reason === 'Terminating',
      60_000,
      'the profile is Terminating',
    );
    // Wait for the status to name the pod (a fixed sleep raced the controller on a loaded machine).
    await waitOr(
      async () => (await getProfile(profileName)).status?.blockingPods?.[0] === `${namespace}/${podName}`,
      60_000,
      'the status names the blocking pod',
    );
    const blocked = await getProfile(profileName);
    expect(blocked.metadata?.deletionTimestamp).toBeDefined();
    expect(blocked.status?.blockingPods).toEqual([`${namespace}/${podName}`]);
    expect(ready(blocked)?.message).toContain(podName);

    await core.deleteNamespacedPod({ name: podName, namespace, gracePeriodSeconds: 0 });
    await waitOr(
      async () => {
        try {
          await getProfile(profileName);
          return false;
        } catch (err) {
          return (err as { code?: number }).code === 404;
        }
      },
      60_000,
      'the profile is gone once its pod is',
    );
    await waitOr(async () => files().length === 0, 60_000, 'every file of the deleted profile is removed');
    await waitOr(
      async () =>
        !Object.keys((await core.readNode({ name: nodeName })).metadata?.labels ?? {}).some((k) =>
          k.startsWith('seccomp.podfence.dev/'),
        ),
      60_000,
      'the node has no podfence seccomp label left',
    );
  }, 300_000);

  it('a restarted agent repairs a tampered directory', async () => {
    const name = `${profileName}-r`;
    const spec = { preset: 'computation' };
    const c = expected(name, spec);
    await createProfile(kc, name, spec);
    try {
      await waitOr(async () => files().includes(c.fileName), 60_000, `${c.fileName} is written`);
      await agent!.stop();
      writeFileSync(join(seccompDir, c.fileName), '{"truncated":');
      writeFileSync(join(seccompDir, `.tmp-${c.fileName}.1.dead`), 'half');
      writeFileSync(join(seccompDir, `${name}-aaaaaaaaaaaaaaaa.json`), '{}');
      await startAgent();
      await waitOr(
        async () =>
          JSON.stringify(files()) === JSON.stringify([c.fileName]) &&
          readFileSync(join(seccompDir, c.fileName), 'utf8') === c.json,
        60_000,
        'the directory is back to exactly the current version',
      );
    } finally {
      await custom
        .patchClusterCustomObject({
          ...PROFILES,
          name,
          body: [{ op: 'replace', path: '/metadata/finalizers', value: [] }],
        })
        .catch(() => undefined);
      await custom.deleteClusterCustomObject({ ...PROFILES, name }).catch(() => undefined);
    }
  }, 300_000);

  // The scheduling half of "pods never fail for a missing profile", with the real kube-scheduler: a pod that
  // requires the version's node label (what the webhook injects) stays Pending until the agent has written the
  // file and the controller has labelled the node, and is bound only then.
  (sharedClusterHasControllers() ? it : it.skip)(
    'a pod requiring the version label is scheduled only once the file is on the node',
    async () => {
      const name = `${profileName}-s`;
      const spec = { preset: 'computation', seccomp: { deny: ['chmod'] } };
      const c = expected(name, spec);
      const podName = uniqueName('waits');
      await core.patchNodeStatus({
        name: nodeName,
        body: [
          {
            op: 'add',
            path: '/status/allocatable',
            value: { cpu: '4', memory: '8Gi', pods: '110' },
          },
          { op: 'add', path: '/status/capacity', value: { cpu: '4', memory: '8Gi', pods: '110' } },
        ],
      });
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: podName },
          spec: {
            // No kubelet runs the fake node: tolerate the taints the node lifecycle controller puts on it.
            tolerations: [{ operator: 'Exists' }],
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    { matchExpressions: [{ key: `seccomp.podfence.dev/${c.hash}`, operator: 'Exists' }] },
                  ],
                },
              },
            },
            securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: c.localhostProfile } },
            containers: [{ name: 'c', image: 'localhost/none:dev' }],
          },
        },
      });
      try {
        await waitOr(
          async () => {
            const pod = await core.readNamespacedPod({ name: podName, namespace });
            return pod.status?.conditions?.some((x) => x.type === 'PodScheduled' && x.status === 'False') ?? false;
          },
          60_000,
          'the scheduler finds no node for the pod',
        );
        expect((await core.readNamespacedPod({ name: podName, namespace })).spec?.nodeName).toBeUndefined();

        await createProfile(kc, name, spec);
        await waitOr(
          async () => (await core.readNamespacedPod({ name: podName, namespace })).spec?.nodeName === nodeName,
          60_000,
          'the pod is bound to the node once the node has the file',
        );
        expect(readFileSync(join(seccompDir, c.fileName), 'utf8')).toBe(c.json);
      } finally {
        await core.deleteNamespacedPod({ name: podName, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
        await custom
          .patchClusterCustomObject({
            ...PROFILES,
            name,
            body: [{ op: 'replace', path: '/metadata/finalizers', value: [] }],
          })
          .catch(() => undefined);
        await custom.deleteClusterCustomObject({ ...PROFILES, name }).catch(() => undefined);
      }
    },
    120_000,
  );
});

// A node whose kernel is too old for an enforce profile: the probe is a stand-in here (this machine's kernel has
// Landlock ABI 7), the rest is real. The profile says NodeUnsupported and the node is not labelled for it, so the
// webhook's affinity keeps pods off it; a best-effort profile needs nothing and is Installed there.
describe('a node with a Landlock ABI too low for the profile', () => {
  const nodeName = uniqueName('old-kernel');
  const profileName = uniqueName('tcp');
  let kubeletRoot = '';
  let logDir = '';
  const enforce = { preset: 'network-server', landlock: { tcp: { bind: [8080] } } };
  const bestEffort = { preset: 'network-server', landlock: { mode: 'best-effort', tcp: { bind: [8080] } } };
  let controller: Controller;
  let agent: ManagedProcess;

  beforeAll(async () => {
    kubeletRoot = mkdtempSync(join(tmpdir(), 'podfence-kubelet-'));
    logDir = mkdtempSync(join(tmpdir(), 'podfence-agent-log-'));
    const cli = ensurePodfenceCli();
    const probe = join(logDir, 'probe-abi3');
    writeFileSync(probe, '#!/bin/sh\necho \'{"landlock_abi":3,"kernel":"6.1.0"}\'\n');
    chmodSync(probe, 0o755);
    await core.createNode({ body: { metadata: { name: nodeName } } });
    controller = new Controller({
      kubeConfig: kc,
      log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      registry: new Registry(),
      resyncMs: 10_000,
    });
    controller.startInformers();
    await controller.waitForSync();
    controller.startReconciling();
    const port = await freePort();
    agent = startNodeAgent('node-agent-abi3', { cli, nodeName, kubeletRoot, probe, logDir, port });
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await controller?.stopReconciling();
    await controller?.stopInformers();
    await custom
      .patchClusterCustomObject({
        ...PROFILES,
        name: profileName,
        body: [{ op: 'replace', path: '/metadata/finalizers', value: [] }],
      })
      .catch(() => undefined);
    await custom.deleteClusterCustomObject({ ...PROFILES, name: profileName }).catch(() => undefined);
    await custom.deleteClusterCustomObject({ ...REPORTS, name: nodeName }).catch(() => undefined);
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    if (kubeletRoot) rmSync(kubeletRoot, { recursive: true, force: true });
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  }, 300_000);

  it('is NodeUnsupported and unlabelled for an enforce TCP profile, Installed for best-effort', async () => {
    const c = expected(profileName, enforce);
    await createProfile(kc, profileName, enforce);
    await waitFor(
      async () => ready(await getProfile(profileName))?.reason === 'NodeUnsupported',
      60_000,
      'the profile is NodeUnsupported',
    );
    const p = await getProfile(profileName);
    expect(ready(p)?.message).toContain(`${nodeName} (ABI 3)`);
    const report = (await custom.getClusterCustomObject({ ...REPORTS, name: nodeName })) as NodeReportObject;
    expect(report.status).toMatchObject({ landlockABI: 3, kernel: '6.1.0' });
    expect(report.status?.installed).toContainEqual({ profile: profileName, hash: c.hash, file: c.fileName });
    await new Promise((r) => setTimeout(r, 2000));
    expect(
      (await core.readNode({ name: nodeName })).metadata?.labels?.[`seccomp.podfence.dev/${c.hash}`],
    ).toBeUndefined();

    const b = expected(profileName, bestEffort);
    await custom.patchClusterCustomObject({
      ...PROFILES,
      name: profileName,
      body: [{ op: 'replace', path: '/spec', value: bestEffort }],
    });
    await waitFor(
      async () => ready(await getProfile(profileName))?.reason === 'Installed',
      60_000,
      'the best-effort profile is Installed',
    );
    await waitFor(
      async () =>
        (await core.readNode({ name: nodeName })).metadata?.labels?.[`seccomp.podfence.dev/${b.hash}`] === 'true',
      60_000,
      'the node is labelled for the best-effort version',
    );
  }, 300_000);
});
