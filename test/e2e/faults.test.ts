// The fault suite, on a real node: while pods are created in a loop in an opted-in namespace, the webhook is killed
// and restarted, the leading controller killed (a standby takes over), the apiserver restarted and the node agent
// restarted. Every pod the apiserver admitted must carry its sandbox (none admitted unsandboxed, by any path): the
// webhook's failurePolicy Fail refuses pods while it is down, and the sandbox-required policy (with the parameters
// the controller publishes) checks every admitted pod. Figures and method: docs/reliability.md. Needs root and the
// node lock (`flock /tmp/pf-node.lock npm run -s test:e2e -- test/e2e/faults.test.ts`); PODFENCE_FAULTS=0 skips it.
// Time-independent: the loop creates one pod at a time at the apiserver's pace, and after a refusal waits until the
// apiserver answers and the webhook accepts connections again (conditions, no fixed sleeps); each fault waits for
// its effect (refusals seen, a new leader) and for pods being admitted again.
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
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

const enabled = process.getuid?.() === 0 && process.env.PODFENCE_E2E !== '0' && process.env.PODFENCE_FAULTS !== '0';
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
  /** The same counts per phase of the run (between faults). */
  phases: Record<string, { attempted: number; admitted: number; refused: number }>;
}

const WEBHOOK_DOWN = 'webhook unreachable (failurePolicy Fail)';
/** Pods admitted after each recovery, and refused while the webhook is down, before the run moves on. */
const PER_PHASE = 20;
const APISERVER_DOWN = 'apiserver unreachable';

/** Why a creation failed, in a few buckets (the message names what answered). */
function bucket(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string; cause?: { code?: string; message?: string } };
  const text = `${typeof e.body === 'string' ? e.body : ''} ${e.message ?? ''} ${e.cause?.code ?? ''} ${
    e.cause?.message ?? ''
  }`;
  if (/failed calling webhook/.test(text)) return WEBHOOK_DOWN;
  if (/ValidatingAdmissionPolicy/.test(text)) return 'refused by the sandbox-required policy';
  if (/ECONNREFUSED|socket hang up|ECONNRESET|EPIPE|fetch failed|other side closed/.test(text)) return APISERVER_DOWN;
  return `other (${e.code ?? ''} ${text.trim().slice(0, 160)})`;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
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
  const tally: Tally = { attempted: 0, admitted: 0, refused: 0, reasons: {}, phases: {} };
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
    let phase = 'start';
    /** Pods whose stored object (the create's answer, or the list at the end) lacks the sandbox, and why. */
    const unsandboxed = new Map<string, string>();
    const apiserverUp = () =>
      core.listNamespace({ limit: 1 }).then(
        () => true,
        () => false,
      );
    const loop = (async () => {
      while (!stop) {
        const name = `p-${n++}`;
        const ph = (tally.phases[phase] ??= { attempted: 0, admitted: 0, refused: 0 });
        tally.attempted++;
        ph.attempted++;
        try {
          const stored = await core.createNamespacedPod({ namespace: NS, body: pod(name) });
          tally.admitted++;
          ph.admitted++;
          const why = unsandboxedBecause(stored);
          if (why) unsandboxed.set(name, why);
          // Checked: gone again, so the namespace stays small (a failed delete is checked from the list at the end).
          await core.deleteNamespacedPod({ name, namespace: NS, gracePeriodSeconds: 0 }).catch(() => undefined);
        } catch (err) {
          tally.refused++;
          ph.refused++;
          const b = bucket(err);
          tally.reasons[b] = (tally.reasons[b] ?? 0) + 1;
          // With the webhook down the apiserver answers at once: try again (the run counts those refusals).
          // Otherwise pace on recovery, not on time: the next attempt once the apiserver answers and the webhook
          // listens again.
          if (b === WEBHOOK_DOWN) continue;
          await waitFor(
            async () => stop || ((await apiserverUp()) && (await listening(webhook.port))),
            300_000,
            'the apiserver and the webhook are back',
          ).catch(() => undefined);
        }
      }
    })();
    const refusedBy = (reason: string) => tally.reasons[reason] ?? 0;
    const admittedAgain = async (what: string) => {
      const before = tally.admitted;
      await waitFor(async () => tally.admitted >= before + PER_PHASE, 180_000, `pods admitted again after ${what}`);
      say(`pods admitted again after ${what}`);
    };
    const enter = (name: string) => {
      phase = name;
      say(name);
    };

    try {
      await admittedAgain('start');

      enter('webhook killed');
      const webhookRefusals = refusedBy(WEBHOOK_DOWN);
      process.kill(-webhook.process.pid, 'SIGKILL');
      await webhook.process.stop(0);
      await waitFor(
        async () => refusedBy(WEBHOOK_DOWN) >= webhookRefusals + PER_PHASE,
        60_000,
        'pods refused (webhook down)',
      );
      await restartWebhook();
      enter('webhook restarted');
      await admittedAgain('the webhook restart');

      // SIGKILL, as a crash: the lease is not released, the standby takes over once it expires.
      const first = await leader();
      enter(`leader ${first} killed`);
      process.kill(-controllers[first!]!.pid, 'SIGKILL');
      await controllers[first!]!.stop(0);
      await waitFor(
        async () => {
          const now = await leader();
          return !!now && now !== first;
        },
        60_000,
        'the standby controller leads',
      );
      say(`leader now ${await leader()}`);
      await startController(first!);
      await admittedAgain('the leader change');

      enter('apiserver stopped');
      const apiserverRefusals = refusedBy(APISERVER_DOWN);
      await stack.cluster.stopApiserver();
      await waitFor(
        async () => refusedBy(APISERVER_DOWN) > apiserverRefusals,
        60_000,
        'creations fail (apiserver down)',
      );
      await stack.cluster.startApiserver();
      enter('apiserver started');
      await admittedAgain('the apiserver restart');

      enter('node agent killed');
      process.kill(-agent.pid, 'SIGKILL');
      await agent.stop(0);
      agent = startProcess({
        name: 'podfence-node-agent-2',
        command: process.execPath,
        args: agentArgs,
        dir: stack.dir,
        tiedToParent: true,
      });
      enter('node agent restarted');
      await admittedAgain('the node agent restart');
    } finally {
      stop = true;
      await loop;
    }

    // Pods left over (a delete that failed, a create whose answer was lost while the apiserver went down) are
    // checked from what the apiserver stored.
    const left = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'suite=faults' })).items;
    for (const p of left) {
      const why = unsandboxedBecause(p);
      if (why) unsandboxed.set(p.metadata!.name!, why);
    }
    const report = {
      attempted: tally.attempted,
      admitted: tally.admitted,
      refused: tally.refused,
      refusedBy: tally.reasons,
      phases: tally.phases,
      leftStoredAndChecked: left.length,
      admittedUnsandboxed: unsandboxed.size,
      seconds: Math.round((Date.now() - t0) / 1000),
      timeline,
    };
    writeFileSync(join(stack.dir, 'faults-report.json'), JSON.stringify(report, null, 2));
    process.stderr.write(`[faults] ${JSON.stringify(report, null, 2)}\n`);
    expect([...unsandboxed]).toEqual([]);
    expect(tally.admitted).toBeGreaterThan(10);
    expect(refusedBy(WEBHOOK_DOWN)).toBeGreaterThan(0);
    expect(refusedBy(APISERVER_DOWN)).toBeGreaterThan(0);
  }, 900_000);
});
