// What RBAC cannot scope, on a cluster of its own (it creates Nodes): deploy/rbac's roles plus
// deploy/rbac-scope/own-objects-policy.yaml, exercised with real ServiceAccount tokens. The node agent's token is
// bound to a pod on node n1 (as the kubelet gets it), so the apiserver itself names the node in the token's user
// info; with it the agent writes n1's report and nobody else's. The controller's token may patch Nodes (RBAC) but
// the policy lets through only podfence's seccomp labels. Each case first shows RBAC alone allows the escape.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { startCluster, type TestCluster } from '../cluster/harness.js';
import { applyManifestFiles, errorText, waitForCRDsEstablished } from '../cluster/manifests.js';

jest.setTimeout(240_000);

const NS = 'podfence-system';
const REPORTS = { group: 'podfence.dev', version: 'v1alpha1', plural: 'sandboxnodereports' };
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let cluster: TestCluster;
let admin: KubeConfig;
let agentN1: KubeConfig; // node agent token bound to its pod on n1
let agentUnbound: KubeConfig; // node agent token bound to nothing
let controller: KubeConfig;

function tokenConfig(name: string, token: string): KubeConfig {
  const server = admin.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [server],
    users: [{ name, token }],
    contexts: [{ name, cluster: server.name, user: name }],
    currentContext: name,
  });
  return kc;
}

async function outcome(p: Promise<unknown>): Promise<'allowed' | string> {
  return p.then(
    () => 'allowed' as const,
    (e: unknown) => `${(e as { code?: number }).code}: ${errorText(e).replace(/\s+/g, ' ')}`,
  );
}

const createReport = (kc: KubeConfig, name: string, dryRun?: 'All') =>
  kc.makeApiClient(CustomObjectsApi).createClusterCustomObject({
    ...REPORTS,
    body: { apiVersion: 'podfence.dev/v1alpha1', kind: 'SandboxNodeReport', metadata: { name } },
    ...(dryRun ? { dryRun } : {}),
  });
const patchReportStatus = (kc: KubeConfig, name: string) =>
  kc
    .makeApiClient(CustomObjectsApi)
    .patchClusterCustomObjectStatus({ ...REPORTS, name, body: { status: { landlockABI: 6, installed: [] } } }, merge);
const patchNode = (kc: KubeConfig, name: string, body: object) =>
  kc.makeApiClient(CoreV1Api).patchNode({ name, body }, merge);

async function applyPolicies(): Promise<void> {
  const api = admin.makeApiClient(AdmissionregistrationV1Api);
  const docs = parseAllDocuments(readFileSync('deploy/rbac-scope/own-objects-policy.yaml', 'utf8')).map(
    (d) => d.toJS() as { kind: string },
  );
  for (const d of docs) {
    if (d.kind === 'ValidatingAdmissionPolicy') {
      await api.createValidatingAdmissionPolicy({ body: d as V1ValidatingAdmissionPolicy });
    } else {
      await api.createValidatingAdmissionPolicyBinding({ body: d as V1ValidatingAdmissionPolicyBinding });
    }
  }
}

/** Repeats `attempt` until the policies (picked up asynchronously by the apiserver) refuse it. */
async function untilRefused(attempt: () => Promise<unknown>): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await outcome(attempt());
    if (r !== 'allowed') return r;
    if (Date.now() > deadline) throw new Error('never refused');
    await new Promise((res) => setTimeout(res, 250));
  }
}

beforeAll(async () => {
  cluster = await startCluster({ withControllers: false });
  admin = cluster.kubeConfig;
  const crdDir = 'crds';
  const applied = await applyManifestFiles(
    admin,
    readdirSync(crdDir).map((f) => join(crdDir, f)),
  );
  await waitForCRDsEstablished(
    admin,
    applied.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata!.name!),
  );
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await applyManifestFiles(admin, [join('deploy/rbac', 'controller.yaml'), join('deploy/rbac', 'node-agent.yaml')]);
  for (const n of ['n1', 'n2']) {
    await core.createNode({ body: { metadata: { name: n, labels: { 'kubernetes.io/hostname': n } } } });
  }
  const pod = await core.createNamespacedPod({
    namespace: NS,
    body: {
      metadata: { name: 'agent-n1' },
      spec: {
        nodeName: 'n1',
        serviceAccountName: 'podfence-node-agent',
        containers: [{ name: 'agent', image: 'r.invalid/agent:1' }],
      },
    },
  });
  const token = async (sa: string, pod?: { name: string; uid: string }) =>
    (
      await core.createNamespacedServiceAccountToken({
        name: sa,
        namespace: NS,
        body: {
          spec: {
            audiences: [],
            expirationSeconds: 3600,
            ...(pod ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', ...pod } } : {}),
          },
        },
      })
    ).status!.token;
  agentN1 = tokenConfig('agent-n1', await token('podfence-node-agent', { name: 'agent-n1', uid: pod.metadata!.uid! }));
  agentUnbound = tokenConfig('agent', await token('podfence-node-agent'));
  controller = tokenConfig('controller', await token('podfence-controller'));
});

afterAll(async () => {
  await cluster?.stop();
});

test("RBAC alone: the node agent writes another node's report, the controller any node field", async () => {
  expect(await outcome(createReport(agentN1, 'n2'))).toBe('allowed');
  expect(await outcome(patchReportStatus(agentUnbound, 'n2'))).toBe('allowed');
  expect(await outcome(patchNode(controller, 'n2', { metadata: { labels: { evil: 'yes' } } }))).toBe('allowed');
  await admin.makeApiClient(CustomObjectsApi).deleteClusterCustomObject({ ...REPORTS, name: 'n2' });
  await patchNode(admin, 'n2', { metadata: { labels: { evil: null } } });
});

test("with the policies: the node agent writes only its own node's report", async () => {
  await applyPolicies();
  // Dry runs (admission runs, nothing is stored) until the apiserver has picked the policies up.
  expect(await untilRefused(() => createReport(agentN1, 'n2', 'All'))).toMatch(
    /^403: .*podfence: the node agent of node n1 may only write its own SandboxNodeReport, not n2/,
  );
  expect(await outcome(createReport(agentN1, 'n2'))).toMatch(/^403: .*not n2/);
  expect(await outcome(createReport(agentN1, 'n1'))).toBe('allowed');
  expect(await outcome(patchReportStatus(agentN1, 'n1'))).toBe('allowed');
  await createReport(admin, 'n2');
  expect(await outcome(patchReportStatus(agentN1, 'n2'))).toMatch(/^403: .*not n2/);
  // A token not bound to a pod on a node writes no report at all.
  expect(await outcome(patchReportStatus(agentUnbound, 'n1'))).toMatch(/^403: .*token is not bound to a node/);
  // Others (the admin) are not concerned.
  expect(await outcome(patchReportStatus(admin, 'n2'))).toBe('allowed');
});

test("with the policies: the controller sets and removes podfence's seccomp and CSI-ready labels and nothing else", async () => {
  const dryPatch = () =>
    controller
      .makeApiClient(CoreV1Api)
      .patchNode({ name: 'n1', body: { metadata: { labels: { evil: 'yes' } } }, dryRun: 'All' }, merge);
  expect(await untilRefused(dryPatch)).toMatch(
    /^403: .*podfence: the controller may only set or remove seccomp.podfence.dev\/ labels on nodes/,
  );
  expect(
    await outcome(
      patchNode(controller, 'n1', { metadata: { labels: { 'seccomp.podfence.dev/0123456789abcdef': '' } } }),
    ),
  ).toBe('allowed');
  expect(
    await outcome(
      patchNode(controller, 'n1', { metadata: { labels: { 'seccomp.podfence.dev/0123456789abcdef': null } } }),
    ),
  ).toBe('allowed');
  // The CSI readiness label (helperDelivery csi) is podfence's too.
  for (const v of ['true', null]) {
    expect(await outcome(patchNode(controller, 'n1', { metadata: { labels: { 'csi.podfence.dev/ready': v } } }))).toBe(
      'allowed',
    );
  }
  for (const body of [
    { metadata: { labels: { 'csi.podfence.dev/other': 'true' } } },
    { metadata: { labels: { 'kubernetes.io/hostname': 'n2' } } },
    { metadata: { labels: { 'kubernetes.io/hostname': null } } },
    { metadata: { annotations: { a: 'b' } } },
    { spec: { unschedulable: true } },
    { spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } },
  ]) {
    expect([body, await outcome(patchNode(controller, 'n1', body))]).toEqual([
      body,
      expect.stringMatching(/^403: .*seccomp.podfence.dev\/ labels/),
    ]);
  }
});
