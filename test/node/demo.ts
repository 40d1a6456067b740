// The demo (`npm run demo`): a cluster with a real node, podfence installed with `helm install` of the chart (as
// a user installs it), the README's example profile, a labelled namespace, the probe in a sandboxed pod and the same
// pod in a namespace without the label, a side-by-side table in plain words, and which of the chart's admission
// objects admitted the pod. It fails (non-zero exit) when the table does not show the escapes blocked in the
// sandboxed pod and working in the control pod.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { APPLIED_ANNOTATION, PROFILE_LABEL } from '../../src/common/constants.js';
import { applyManifestFiles, errorText } from '../cluster/manifests.js';
import { waitFor } from '../cluster/net.js';
import {
  createNamespace,
  createPod,
  parseChecks,
  probePod,
  waitForPodIP,
  waitForPodLog,
  type CheckResult,
} from './probe-pods.js';
import { REPO_ROOT, startStack, type Stack } from './stack.js';

/** The profile the demo applies: the README's example, else the e2e suite's. */
export function demoProfileFile(): string {
  const candidates = [
    process.env.PODFENCE_DEMO_PROFILE,
    join(REPO_ROOT, 'examples', 'profiles', 'web.yaml'),
    join(REPO_ROOT, 'test', 'e2e', 'profiles.yaml'),
  ].filter((x): x is string => !!x);
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new Error(`no profile to apply (looked for ${candidates.join(', ')})`);
  return found;
}

const SANDBOXED_NS = 'demo';
const CONTROL_NS = 'demo-control';

interface Row {
  what: string;
  check: string;
  /** How to read a result in plain words. */
  show?: (r: CheckResult) => string;
  /**
   * What the demo promises for this row (checked; the demo fails otherwise): 'escape' = BLOCKED in the sandboxed
   * pod and allowed in the control; 'works' = allowed in both (the sandbox leaves the workload its job).
   */
  expect?: 'escape' | 'works';
}

const verdict = (r: CheckResult) =>
  r.result === 'ok' ? 'allowed' : r.result === 'denied' ? `BLOCKED (${r.errno})` : `fails (${r.errno})`;

const capCount = (hex: string) => {
  let n = BigInt(`0x${hex || '0'}`);
  let c = 0;
  while (n > 0n) {
    c += Number(n & 1n);
    n >>= 1n;
  }
  return c === 0 ? 'none' : `${c} capabilities`;
};

export function rows(serverIP: string, connectOk: number, connectNo: number, bindOk: number): Row[] {
  return [
    { what: 'runs as user:group', check: 'id', show: (r) => `${r.fields.uid}:${r.fields.gid}` },
    { what: 'no_new_privs', check: 'status', show: (r) => (r.fields.nonewprivs === '1' ? 'on' : 'off') },
    { what: 'seccomp', check: 'status', show: (r) => (r.fields.seccomp === '2' ? 'filter' : 'none') },
    { what: 'effective capabilities', check: 'status', show: (r) => capCount(r.fields.capeff ?? '') },
    { what: 'create a user namespace (unshare)', check: 'unshare', expect: 'escape' },
    {
      what: 'call mount(2)',
      check: 'mount',
      show: (r) => (r.errno === 'ENOENT' ? 'allowed (reaches the kernel)' : verdict(r)),
    },
    { what: 'read /data/secret.txt (outside the profile)', check: 'read:/data/secret.txt', expect: 'escape' },
    { what: 'read /etc/motd', check: 'read:/etc/motd' },
    { what: 'write /etc/podfence-demo', check: 'write:/etc/podfence-demo', expect: 'escape' },
    { what: 'write /tmp/podfence-demo', check: 'write:/tmp/podfence-demo', expect: 'works' },
    { what: 'run /opt/tool/busybox (outside the profile)', check: 'exec:/opt/tool/busybox', expect: 'escape' },
    { what: 'run /bin/busybox', check: 'exec:/bin/busybox' },
    {
      what: `connect to another pod, port ${connectOk}`,
      check: `connect:${serverIP}:${connectOk}`,
      expect: 'works',
    },
    {
      what: `connect to another pod, port ${connectNo}`,
      check: `connect:${serverIP}:${connectNo}`,
      expect: 'escape',
    },
    { what: `listen on port ${bindOk}`, check: `bind:${bindOk}`, expect: 'works' },
    { what: 'listen on port 9090', check: 'bind:9090', expect: 'escape' },
    { what: 'listen on port 80', check: 'bind:80', expect: 'escape' },
  ];
}

type TcpSpec = { landlock?: { tcp?: { connect?: number[]; bind?: number[] } } } | undefined;

/** The first TCP port a profile allows for connect (the demo's server listens on it and on 9090) or bind. */
function allowedPort(profile: Record<string, unknown>, kind: 'connect' | 'bind'): number {
  const spec = profile.spec as TcpSpec;
  return spec?.landlock?.tcp?.[kind]?.find((p) => p !== 9090 && p !== 80) ?? 8080;
}

export function table(
  rowsIn: Row[],
  sandboxed: Record<string, CheckResult>,
  control: Record<string, CheckResult>,
  profile: string,
): string {
  const cell = (row: Row, res: Record<string, CheckResult>) => {
    const r = res[row.check];
    if (!r) return '(no answer)';
    return (row.show ?? verdict)(r);
  };
  const head = ['', `sandboxed (namespace ${SANDBOXED_NS}, profile ${profile})`, `control (namespace ${CONTROL_NS})`];
  const body = rowsIn.map((r) => [r.what, cell(r, sandboxed), cell(r, control)]);
  const widths = [0, 1, 2].map((i) => Math.max(...[head, ...body].map((l) => l[i]!.length)));
  const fmt = (l: string[]) =>
    l
      .map((c, i) => c.padEnd(widths[i]!))
      .join('   ')
      .trimEnd();
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...body.map(fmt)].join('\n');
}

/** Rows whose result breaks the demo's promise (`expect`), in plain words; empty when all hold (pure). */
export function broken(
  rowsIn: Row[],
  sandboxed: Record<string, CheckResult>,
  control: Record<string, CheckResult>,
): string[] {
  const out: string[] = [];
  for (const r of rowsIn) {
    if (!r.expect) continue;
    const [sb, ctl] = [sandboxed[r.check], control[r.check]];
    const want = r.expect === 'escape' ? ['denied', 'ok'] : ['ok', 'ok'];
    if (sb?.result !== want[0] || ctl?.result !== want[1]) {
      out.push(
        `${r.what}: sandboxed ${sb ? verdict(sb) : '(no answer)'}, control ${ctl ? verdict(ctl) : '(no answer)'}` +
          ` (expected ${r.expect === 'escape' ? 'BLOCKED vs allowed' : 'allowed in both'})`,
      );
    }
  }
  const [id, st] = [sandboxed.id, sandboxed.status];
  if (!id || id.fields.uid === '0') out.push(`sandboxed pod runs as uid ${id?.fields.uid ?? '?'} (expected non-root)`);
  if (st?.fields.seccomp !== '2') out.push('sandboxed pod has no seccomp filter');
  if (control.id?.fields.uid !== '0') out.push(`control pod runs as uid ${control.id?.fields.uid ?? '?'} (expected 0)`);
  return out;
}

/** Logs of the in-cluster controller (for an error message). */
async function controllerLog(kc: KubeConfig, stack: Stack): Promise<string> {
  const ns = stack.release?.namespace;
  if (!ns) return '';
  const core = kc.makeApiClient(CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=controller' });
  const logs = await Promise.all(
    pods.items.map(async (p) =>
      core
        .readNamespacedPodLog({ namespace: ns, name: p.metadata!.name!, tailLines: 20 })
        .then((l) => `--- ${p.metadata!.name}\n${l}`)
        .catch((e: unknown) => `--- ${p.metadata!.name}: ${(e as Error).message}`),
    ),
  );
  return logs.join('\n');
}

/**
 * Which of the chart's admission objects admitted the pod: the MutatingWebhookConfiguration that sandboxed it (its
 * `podfence.dev/applied` annotation), and the ValidatingAdmissionPolicy that guards it, shown live by asking the
 * apiserver (server-side dry run) to strip the sandbox's annotation from the pod.
 */
async function admissionReport(kc: KubeConfig, stack: Stack, pod: V1Pod): Promise<{ text: string; ok: boolean }> {
  const adm = kc.makeApiClient(AdmissionregistrationV1Api);
  const sel = `app.kubernetes.io/instance=${stack.release?.name ?? 'podfence'}`;
  const mwcs = (await adm.listMutatingWebhookConfiguration({ labelSelector: sel })).items;
  const vaps = (await adm.listValidatingAdmissionPolicy({ labelSelector: sel })).items;
  const bindings = (await adm.listValidatingAdmissionPolicyBinding({ labelSelector: sel })).items;
  const applied = pod.metadata?.annotations?.[APPLIED_ANNOTATION];
  const ns = pod.metadata!.namespace!;
  const name = pod.metadata!.name!;
  const refusal = await kc
    .makeApiClient(CoreV1Api)
    .patchNamespacedPod({
      namespace: ns,
      name,
      dryRun: 'All',
      body: [{ op: 'remove', path: `/metadata/annotations/${APPLIED_ANNOTATION.replace('/', '~1')}` }],
    })
    .then(
      () => undefined,
      (err: unknown) => errorText(err),
    );
  const vapNames = vaps.map((v) => v.metadata!.name!);
  const refusedByPolicy = !!refusal && vapNames.some((n) => refusal.includes(n));
  const lines = [
    `How pod ${ns}/${name} was admitted (podfence installed by helm release ${stack.release?.name ?? '?'}` +
      ` in namespace ${stack.release?.namespace ?? '?'}):`,
    `  MutatingWebhookConfiguration ${mwcs.map((m) => m.metadata!.name).join(', ') || '(none!)'}` +
      ` (webhooks ${mwcs.flatMap((m) => (m.webhooks ?? []).map((w) => w.name)).join(', ')})` +
      ` sandboxed it: ${APPLIED_ANNOTATION}=${applied ?? '(missing!)'}`,
    `  ValidatingAdmissionPolicy ${vapNames.join(', ') || '(none!)'}` +
      ` (binding ${bindings.map((b) => b.metadata!.name).join(', ') || 'none!'}) admitted it, and guards it:` +
      ` stripping ${APPLIED_ANNOTATION} from the pod (dry run) is ${refusal ? 'refused' : 'ALLOWED (!)'}` +
      (refusal ? `:\n    ${refusal.split('\n')[0]}` : ''),
  ];
  return { text: lines.join('\n'), ok: mwcs.length > 0 && !!applied && refusedByPolicy };
}

async function waitProfileReady(kc: KubeConfig, name: string, stack: Stack): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  try {
    await waitFor(
      async () => {
        const p = (await api.getClusterCustomObject({
          group: 'podfence.dev',
          version: 'v1alpha1',
          plural: 'sandboxprofiles',
          name,
        })) as { status?: { conditions?: { type: string; status: string }[] } };
        return !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      },
      90_000,
      `profile ${name} is Ready`,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\ncontroller log:\n${await controllerLog(kc, stack).catch(() => '')}`);
  }
}

/** Runs the demo; resolves to false when the table or the admission report breaks the demo's promise. */
export async function runDemo(opts: { keep: boolean; log: (m: string) => void }): Promise<boolean> {
  const { log } = opts;
  const stack = await startStack({ detach: opts.keep, log, install: 'chart' });
  let ok = false;
  const kc = stack.cluster.kubeConfig;
  try {
    const file = demoProfileFile();
    const docs = parseAllDocuments(readFileSync(file, 'utf8'))
      .map((d) => d.toJSON() as Record<string, unknown> | null)
      .filter((d): d is Record<string, unknown> => d?.kind === 'SandboxProfile');
    const profile = docs[0];
    if (!profile) throw new Error(`${file} holds no SandboxProfile`);
    const name = (profile.metadata as { name: string }).name;
    log(`applying profile ${name} from ${file.replace(`${REPO_ROOT}/`, '')}`);
    await applyManifestFiles(kc, [file]);
    await waitProfileReady(kc, name, stack);

    log(`labelling namespace ${SANDBOXED_NS} with ${PROFILE_LABEL}=${name}; ${CONTROL_NS} stays unlabelled`);
    await createNamespace(kc, SANDBOXED_NS, { [PROFILE_LABEL]: name });
    await createNamespace(kc, CONTROL_NS);
    const okPort = allowedPort(profile, 'connect');
    await createPod(kc, probePod({ namespace: CONTROL_NS, name: 'server', checks: [`serve:${okPort},9090`] }));
    const serverIP = await waitForPodIP(kc, CONTROL_NS, 'server');
    const rs = rows(serverIP, okPort, 9090, allowedPort(profile, 'bind'));
    const checks = [...new Set(rs.map((r) => r.check))];
    log('starting the probe in both namespaces (same image, same command)');
    const [sb, ctl] = await Promise.all(
      [SANDBOXED_NS, CONTROL_NS].map(async (ns) => {
        await createPod(kc, probePod({ namespace: ns, name: 'probe', checks }));
        return parseChecks(await waitForPodLog(kc, ns, 'probe'));
      }),
    );
    const admitted = await kc.makeApiClient(CoreV1Api).readNamespacedPod({ namespace: SANDBOXED_NS, name: 'probe' });
    process.stdout.write(
      `\nThe same probe, run in two pods:\n\n${table(rs, sb!, ctl!, name)}\n\n` +
        'BLOCKED means the kernel refused: EPERM from the seccomp filter, EACCES from Landlock (or, for port 80, ' +
        'from the missing capability).\n\n',
    );
    process.stdout.write(
      `The sandboxed pod's command, as the webhook rewrote it:\n  ${(admitted.spec?.containers[0]?.command ?? []).join(' ')}\n\n`,
    );
    const admission = await admissionReport(kc, stack, admitted);
    process.stdout.write(`${admission.text}\n\n`);
    const problems = broken(rs, sb!, ctl!);
    if (!admission.ok) problems.push("the pod was not admitted through the chart's webhook and policy (see above)");
    ok = problems.length === 0;
    process.stdout.write(
      ok
        ? 'RESULT: ok: every escape above is BLOCKED in the sandboxed pod and allowed in the control pod.\n'
        : `RESULT: FAILED: the demo's promise does not hold:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
    if (opts.keep) {
      process.stdout.write(
        'The cluster keeps running. Try:\n' +
          `  export KUBECONFIG=${stack.kubeconfigPath}\n` +
          `  alias kubectl=${stack.kubectl}\n` +
          `  kubectl get sandboxprofiles; kubectl logs -n ${SANDBOXED_NS} probe\n` +
          'Stop it with: npm run demo:down\n',
      );
      process.stdout.write(`export KUBECONFIG=${stack.kubeconfigPath}\n`);
    }
  } finally {
    if (!opts.keep) {
      log('stopping everything (npm run demo -- --keep leaves it running)');
      await stack.stop();
    }
  }
  return ok;
}
