// The apiserver goes away under a running controller and node agent (both in-process, on a cluster of this file's
// own so the shared one is not disturbed): readiness reports the broken watches, and once the apiserver is back
// the watches recover by themselves and a change made right after the restart converges (file, report, status).
// Both run with service-account tokens bound to exactly the roles of deploy/rbac/, and the controller under Lease
// leader election: this is also the check that those least-privilege roles are enough.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Controller } from '../../src/controller/controller.js';
import { LeaderElector } from '../../src/kube/leader-election.js';
import { NodeAgent } from '../../src/node-agent/agent.js';
import { startCluster, type TestCluster } from '../cluster/harness.js';
import { applyManifestFiles, waitForCRDsEstablished } from '../cluster/manifests.js';
import { waitFor } from '../cluster/net.js';
import {
  createProfile,
  expectedSeccomp as expected,
  PROFILES,
  getProfile as readProfile,
  readyCondition,
} from './profiles.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function initBinary(dir: string): string {
  const real = join(root, 'init-helper', 'build', 'podfence-init');
  if (existsSync(real)) return real;
  console.warn(`${real} not built: the node agent probes a stand-in reporting Landlock ABI 7`);
  const fake = join(dir, 'podfence-init');
  writeFileSync(fake, '#!/bin/sh\necho \'{"landlock_abi":7}\'\n');
  chmodSync(fake, 0o755);
  return fake;
}

describe('watches recover from an apiserver restart', () => {
  // Made in beforeAll: describe bodies also run for suites that end up skipped, and would leak directories.
  let kubeletRoot = '';
  let seccompDir = '';
  const nodeName = 'restart-node';
  const profileName = 'restart';
  const specV1 = { preset: 'computation' };
  const specV2 = { preset: 'computation', seccomp: { deny: ['mkdir'] } };
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const informer = { staleAfterMs: 30_000, backoff: { baseMs: 200, maxMs: 2000 } };
  let cluster: TestCluster;
  let controller: Controller;
  let agent: NodeAgent;
  let elector: LeaderElector;

  /** A kubeconfig that authenticates as `podfence-system/<sa>` with a TokenRequest token. */
  const serviceAccountConfig = async (sa: string): Promise<KubeConfig> => {
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const token = await core.createNamespacedServiceAccountToken({
      name: sa,
      namespace: 'podfence-system',
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const server = cluster.kubeConfig.getCurrentCluster()!;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [server],
      users: [{ name: sa, token: token.status!.token }],
      contexts: [{ name: sa, cluster: server.name, user: sa }],
      currentContext: sa,
    });
    return kc;
  };

  const files = () => (existsSync(seccompDir) ? readdirSync(seccompDir).sort() : []);

  beforeAll(async () => {
    kubeletRoot = mkdtempSync(join(tmpdir(), 'podfence-kubelet-'));
    seccompDir = join(kubeletRoot, 'seccomp', 'podfence');
    cluster = await startCluster({ withControllers: false });
    const crdDir = join(root, 'crds');
    const crds = readdirSync(crdDir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(crdDir, f));
    const applied = await applyManifestFiles(cluster.kubeConfig, crds);
    await waitForCRDsEstablished(
      cluster.kubeConfig,
      applied.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata!.name!),
    );
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNode({ body: { metadata: { name: nodeName } } });
    await core.createNamespace({ body: { metadata: { name: 'podfence-system' } } });
    const rbacDir = join(root, 'deploy', 'rbac');
    await applyManifestFiles(
      cluster.kubeConfig,
      readdirSync(rbacDir).map((f) => join(rbacDir, f)),
    );
    const controllerConfig = await serviceAccountConfig('podfence-controller');
    controller = new Controller({
      kubeConfig: controllerConfig,
      log,
      registry: new Registry(),
      informer,
      resyncMs: 5000,
    });
    controller.startInformers();
    await controller.waitForSync();
    elector = new LeaderElector({
      kubeConfig: controllerConfig,
      namespace: 'podfence-system',
      name: 'podfence-controller',
      identity: 'restart-test',
      log,
      onStartedLeading: () => controller.startReconciling(),
      onStoppedLeading: () => void controller.stopReconciling(),
    });
    elector.start();
    agent = new NodeAgent({
      kubeConfig: await serviceAccountConfig('podfence-node-agent'),
      nodeName,
      kubeletRoot,
      initBinary: initBinary(kubeletRoot),
      log,
      registry: new Registry(),
      retireGraceMs: 500,
      resyncMs: 5000,
      informer,
    });
    await agent.start();
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await elector?.stop();
    await controller?.stopReconciling();
    await controller?.stopInformers();
    await cluster?.stop();
    if (kubeletRoot) rmSync(kubeletRoot, { recursive: true, force: true });
  }, 300_000);

  it('goes unready while the apiserver is down and converges after it is back', async () => {
    const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const getProfile = () => readProfile(cluster.kubeConfig, profileName);
    const c1 = expected(profileName, specV1);
    const c2 = expected(profileName, specV2);
    await createProfile(cluster.kubeConfig, profileName, specV1);
    await waitFor(
      async () => (await getProfile()).status?.hash === c1.hash && files().includes(c1.fileName),
      60_000,
      'v1 installed',
    );
    await waitFor(async () => controller.health() === undefined && agent.health() === undefined, 60_000, 'all healthy');

    await cluster.stopApiserver();
    await waitFor(
      async () => controller.health() !== undefined,
      60_000,
      'controller readiness reports the lost watches',
    );
    await waitFor(async () => agent.health() !== undefined, 60_000, 'agent readiness reports the lost watches');
    await new Promise((r) => setTimeout(r, 3000)); // several failed reconnects, with backoff

    await cluster.startApiserver();
    await waitFor(
      async () => {
        await custom.patchClusterCustomObject({
          ...PROFILES,
          name: profileName,
          body: [{ op: 'replace', path: '/spec', value: specV2 }],
        });
        return true;
      },
      60_000,
      'the profile can be changed after the restart',
    );
    await waitFor(
      async () => JSON.stringify(files()) === JSON.stringify([c2.fileName]),
      60_000,
      'v2 replaced v1 on disk',
    );
    expect(readFileSync(join(seccompDir, c2.fileName), 'utf8')).toBe(c2.json);
    await waitFor(
      async () => {
        const p = await getProfile();
        const ready = readyCondition(p);
        return (
          p.status?.hash === c2.hash &&
          ready?.status === 'True' &&
          p.status?.observedGeneration === p.metadata?.generation
        );
      },
      60_000,
      'status converged on v2',
    );
    await waitFor(async () => controller.health() === undefined && agent.health() === undefined, 60_000, 'ready again');
    expect(elector.isLeader()).toBe(true);
    expect(controller.profiles.restarts.error + controller.profiles.restarts.ended).toBeGreaterThan(0);
  }, 400_000);
});
