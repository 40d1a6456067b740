// The demo (`npm run demo`): the whole stack, one example profile, a labelled namespace, the probe in a sandboxed
// pod and the same pod in a namespace without the label, and a side-by-side table in plain words.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { PROFILE_LABEL } from '../../src/common/constants.js';
import { applyManifestFiles } from '../cluster/manifests.js';
import { waitFor } from '../cluster/net.js';
import { logTail } from '../cluster/processes.js';
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

function rows(serverIP: string, connectOk: number, connectNo: number, bindOk: number): Row[] {
  return [
    { what: 'runs as user:group', check: 'id', show: (r) => `${r.fields.uid}:${r.fields.gid}` },
    { what: 'no_new_privs', check: 'status', show: (r) => (r.fields.nonewprivs === '1' ? 'on' : 'off') },
    { what: 'seccomp', check: 'status', show: (r) => (r.fields.seccomp === '2' ? 'filter' : 'none') },
    { what: 'effective capabilities', check: 'status', show: (r) => capCount(r.fields.capeff ?? '') },
    { what: 'create a user namespace (unshare)', check: 'unshare' },
    {
      what: 'call mount(2)',
      check: 'mount',
      show: (r) => (r.errno === 'ENOENT' ? 'allowed (reaches the kernel)' : verdict(r)),
    },
    { what: 'read /data/secret.txt (outside the profile)', check: 'read:/data/secret.txt' },
    { what: 'read /etc/motd', check: 'read:/etc/motd' },
    { what: 'write /etc/podfence-demo', check: 'write:/etc/podfence-demo' },
    { what: 'write /tmp/podfence-demo', check: 'write:/tmp/podfence-demo' },
    { what: 'run /opt/tool/busybox (outside the profile)', check: 'exec:/opt/tool/busybox' },
    { what: 'run /bin/busybox', check: 'exec:/bin/busybox' },
    { what: `connect to another pod, port ${connectOk}`, check: `connect:${serverIP}:${connectOk}` },
    { what: `connect to another pod, port ${connectNo}`, check: `connect:${serverIP}:${connectNo}` },
    { what: `listen on port ${bindOk}`, check: `bind:${bindOk}` },
    { what: 'listen on port 9090', check: 'bind:9090' },
    { what: 'listen on port 80', check: 'bind:80' },
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
    const logs = stack.logs();
    throw new Error(`${(err as Error).message}\ncontroller log:\n${logTail(logs['podfence-controller'] ?? '', 20)}`);
  }
}

export async function runDemo(opts: { keep: boolean; log: (m: string) => void }): Promise<void> {
  const { log } = opts;
  const stack = await startStack({ detach: opts.keep, log });
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
}
