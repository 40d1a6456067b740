// The fault suite, on a real node: while pods are created in a loop in an opted-in namespace, the webhook is killed
// and restarted, the leading controller killed (a standby takes over), the apiserver restarted and the node agent
// restarted. Every pod the apiserver admitted must carry its sandbox (none admitted unsandboxed, by any path): the
// webhook's failurePolicy Fail refuses pods while it is down, and the sandbox-required policy (with the parameters
// the controller publishes) checks every admitted pod. Figures: docs/reliability.md. Needs root and the node lock
// (`PODFENCE_FAULTS=1 flock /tmp/pf-node.lock npm run -s test:e2e -- test/e2e/faults.test.ts`). Not yet run to
// completion on this machine (the node lock was busy), so it is opt-in (PODFENCE_FAULTS=1) until it has been.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1Pod,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { APPLIED_ANNOTATION, INIT_BINARY, PROFILE_LABEL } from '../../src/common/constants.js';
import { freePort, waitFor } from '../cluster/net.js';
import { startProcess, type ManagedProcess } from '../cluster/processes.js';
import { createNamespace, PROBE_IMAGE } from '../node/probe-pods.js';
import { ensureInitHelper, ensurePodfenceBuilt, startStack, type Stack } from '../node/stack.js';
import { startWebhook, type WebhookHandle } from '../node/webhook.js';

const enabled = process.getuid?.() === 0 && process.env.PODFENCE_E2E !== '0' && process.env.PODFENCE_FAULTS === '1';
const d = enabled ? describe : describe.skip;

const NS = 'e2e-faults';
const PROFILE = 'e2e-faults';
const OPERATOR_NS = 'podfence-system';

interface Tally {
  attempted: number;
  admitted: number;
  refused: number;
  /** Refusal messages by kind (webhook unreachable, policy, apiserver down, ...), counted. */
  reasons: Record<string, number>;
}

/** Why a creation failed, in a few buckets (the message names what answered). */
function bucket(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  const text = `${typeof e.body === 'string' ? e.body : ''} ${e.message ?? ''}`;
  if (/failed calling webhook/.test(text)) return 'webhook unreachable (failurePolicy Fail)';
  if (/ValidatingAdmissionPolicy/.test(text)) return 'refused by the sandbox-required policy';
  if (/ECONNREFUSED|socket hang up|ECONNRESET|EPIPE/.test(text)) return 'apiserver unreachable';
  return `other (${e.code ?? ''} ${text.trim().slice(0, 120)})`;
}

/** What makes a pod sandboxed, read from the object the apiserver stored. */
function unsandboxedBecause(pod: V1Pod): string | undefined {
  const spec = pod.spec!;
  if (!pod.metadata?.annotations?.[APPLIED_ANNOTATION]) return 'no applied annotation';
  const file = spec.securityContext?.seccompProfile;
  if (file?.type !== 'Localhost' || !file.localhostProfile?.startsWith(`podfence/${PROFILE}-`)) return 'seccomp';
  if (spec.securityContext?.runAsNonRoot !== true) return 'runAsNonRoot';
  for (const c of spec.containers) {
    if (c.command?.[0] !== INIT_BINARY) return `container ${c.name} not behind the wrapper`;
    if (!c.securityContext?.capabilities?.drop?.includes('ALL')) return `container ${c.name} keeps capabilities`;
    if (c.securityContext?.allowPrivilegeEscalation !== false) return `container ${c.name} may escalate`;
  }
  return undefined;
}

d('faults: no pod is admitted unsandboxed while podfence and the control plane fail', () => {
  let stack: Stack;
  let kc: KubeConfig;
  let cli: string;
  let webhook: WebhookHandle;
  const controllers: Record<string, ManagedProcess> = {};
  let agent: ManagedProcess;
  let agentArgs: string[];
  const tally: Tally = { attempted: 0, admitted: 0, refused: 0, reasons: {} };
  const timeline: string[] = [];
  let t0 = 0;
  const say = (m: string) => {
    const line = `${((Date.now() - t0) / 1000).toFixed(1)} s: ${m}`;
    timeline.push(line);
    process.stderr.write(`[faults] ${line}\n`);
  };

  const startController = async (id: string) => {
    const port = await freePort();
    controllers[id] = startProcess({
      name: `podfence-controller-${id}`,
      command: process.execPath,
      args: [
        cli,
        'controller',
        '--kubeconfig',
        stack.kubeconfigPath,
        '--ops-port',
        String(port),
        '--namespace',
        OPERATOR_NS,
        '--identity',
        id,
        '--lease-duration-seconds',
        '6',
        '--renew-deadline-seconds',
        '4',
        '--retry-period-seconds',
        '1',
      ],
      dir: stack.dir,
      tiedToParent: true,
    });
  };

  const leader = async () => {
    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'podfence-controller', namespace: OPERATOR_NS })
      .catch(() => undefined);
    return lease?.spec?.holderIdentity;
  };

  const restartWebhook = async () => {
    const [port, opsPort] = [webhook.port, webhook.opsPort];
    const ports = [port, opsPort];
    webhook = await startWebhook({
      cli,
      kubeconfigPath: stack.kubeconfigPath,
      dir: join(stack.dir, 'podfence'),
      detach: false,
      issueCert: (o) => stack.cluster.issueCert(o),
      caCertPath: stack.cluster.caCertPath,
      insecureRegistries: [],
      freePort: async () => ports.shift() ?? freePort(),
    });
  };

  beforeAll(async () => {
    t0 = Date.now();
    [cli] = await Promise.all([ensurePodfenceBuilt(), ensureInitHelper()]);
    stack = await startStack({ log: (m) => process.stderr.write(`[faults] ${m}\n`) });
    kc = stack.cluster.kubeConfig;
    webhook = stack.webhook!;
    // The stack's single controller is replaced by two leader-elected ones (podfence's own namespace holds the
    // Lease), so the leader can be killed.
    await stack.podfence.controller!.stop();
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: OPERATOR_NS } } });
    await startController('c1');
    await startController('c2');
    agent = stack.podfence['node-agent']!;
    agentArgs = [
      cli,
      'node-agent',
      '--kubeconfig',
      stack.kubeconfigPath,
      '--ops-port',
      String(await freePort()),
      '--node-name',
      stack.node.name,
      '--kubelet-root',
      stack.node.kubeletRoot,
      '--init-binary',
      join(process.cwd(), 'init-helper', 'build', 'podfence-init'),
      '--retire-grace-seconds',
      '5',
      '--resync-seconds',
      '10',
    ];

    // The sandbox-required policy, as the chart installs it, on the opted-in namespace.
    const [policyDoc, bindingDoc] = parseAllDocuments(
      readFileSync('deploy/webhook/validating-policy.yaml', 'utf8'),
    ).map((doc) => doc.toJS() as Record<string, unknown>);
    const admission = kc.makeApiClient(AdmissionregistrationV1Api);
    await admission.createValidatingAdmissionPolicy({ body: policyDoc as unknown as V1ValidatingAdmissionPolicy });
    await admission.createValidatingAdmissionPolicyBinding({
      body: bindingDoc as unknown as V1ValidatingAdmissionPolicyBinding,
    });

    await kc.makeApiClient(CustomObjectsApi).createClusterCustomObject({
      group: 'podfence.dev',
      version: 'v1alpha1',
      plural: 'sandboxprofiles',
      body: {
        apiVersion: 'podfence.dev/v1alpha1',
        kind: 'SandboxProfile',
        metadata: { name: PROFILE },
        spec: { preset: 'computation' },
      },
    });
    await createNamespace(kc, NS, { [PROFILE_LABEL]: PROFILE });
    // Ready: the profile is installed on the node, a leader publishes the policy's parameters, and a pod passes
    // both the webhook and the policy.
    await waitFor(
      async () => {
        const ok = await kc
          .makeApiClient(CoreV1Api)
          .createNamespacedPod({ namespace: NS, body: pod('ready-probe'), dryRun: 'All' })
          .then(
            () => true,
            () => false,
          );
        return ok && (await leader()) !== undefined;
      },
      120_000,
      'a pod of the opted-in namespace is admitted and a controller leads',
    );
    say(`ready; leader ${await leader()}`);
  }, 600_000);

  afterAll(async () => {
    for (const c of Object.values(controllers)) await c.stop().catch(() => undefined);
    await agent?.stop().catch(() => undefined);
    await webhook?.process.stop().catch(() => undefined);
    await stack?.stop();
  }, 300_000);

  function pod(name: string): V1Pod {
    return {
      metadata: { name, namespace: NS, labels: { suite: 'faults' } },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 1,
        // Admission is what is counted: the pods stay Pending (no node matches), so hundreds of them do not
        // swamp the 2-CPU node (test/e2e/sandbox.test.ts runs sandboxed pods for real).
        nodeSelector: { 'podfence.dev/faults-never': 'true' },
        containers: [{ name: 'probe', image: PROBE_IMAGE, imagePullPolicy: 'Never', command: ['/bin/probe', 'id'] }],
      },
    };
  }

  test('pods created in a loop through every fault: admitted ones are all sandboxed', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    let stop = false;
    let n = 0;
    const loop = (async () => {
      while (!stop) {
        const name = `p-${n++}`;
        tally.attempted++;
        try {
          await core.createNamespacedPod({ namespace: NS, body: pod(name) });
          tally.admitted++;
        } catch (err) {
          tally.refused++;
          const b = bucket(err);
          tally.reasons[b] = (tally.reasons[b] ?? 0) + 1;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const admittedSoFar = () => tally.admitted;
    const admittedAgain = async (what: string) => {
      const before = admittedSoFar();
      await waitFor(async () => admittedSoFar() > before + 2, 180_000, `pods admitted again after ${what}`);
      say(`pods admitted again after ${what}`);
    };

    try {
      await admittedAgain('start');

      say('webhook killed');
      await webhook.process.stop(0);
      await waitFor(
        async () => (tally.reasons['webhook unreachable (failurePolicy Fail)'] ?? 0) > 3,
        60_000,
        'refusals',
      );
      await restartWebhook();
      say('webhook restarted');
      await admittedAgain('the webhook restart');

      const first = await leader();
      say(`leader ${first} killed`);
      await controllers[first!]!.stop(0);
      await waitFor(
        async () => {
          const now = await leader();
          return now !== undefined && now !== first;
        },
        60_000,
        'the standby controller leads',
      );
      say(`leader now ${await leader()}`);
      await startController(first!);
      await admittedAgain('the leader change');

      say('apiserver stopped');
      await stack.cluster.stopApiserver();
      await new Promise((r) => setTimeout(r, 3000));
      await stack.cluster.startApiserver();
      say('apiserver started');
      await admittedAgain('the apiserver restart');

      say('node agent killed');
      await agent.stop(0);
      agent = startProcess({
        name: 'podfence-node-agent-2',
        command: process.execPath,
        args: agentArgs,
        dir: stack.dir,
        tiedToParent: true,
      });
      say('node agent restarted');
      await admittedAgain('the node agent restart');
    } finally {
      stop = true;
      await loop;
    }

    const pods = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'suite=faults' })).items;
    const unsandboxed = pods
      .map((p) => [p.metadata!.name!, unsandboxedBecause(p)] as const)
      .filter(([, why]) => why !== undefined);
    const report = {
      attempted: tally.attempted,
      admitted: tally.admitted,
      admittedStored: pods.length,
      refused: tally.refused,
      refusedBy: tally.reasons,
      admittedUnsandboxed: unsandboxed.length,
      timeline,
    };
    writeFileSync(join(stack.dir, 'faults-report.json'), JSON.stringify(report, null, 2));
    process.stderr.write(`[faults] ${JSON.stringify(report, null, 2)}\n`);
    expect(unsandboxed).toEqual([]);
    expect(pods.length).toBe(tally.admitted);
    expect(tally.admitted).toBeGreaterThan(10);
    expect(tally.reasons['webhook unreachable (failurePolicy Fail)'] ?? 0).toBeGreaterThan(0);
  }, 900_000);
});
