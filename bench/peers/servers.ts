// Starting each server the peer benchmark compares, pinned to CPU 0, against the test control plane, with its
// equivalent policy (bench/peers/policies). How each runs outside a pod is in docs/benchmarks.md; every one
// registers (or gets) a webhook that matches only its own namespace (label bench.podfence.dev/peer=<name>).
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { createCA, issueServingCert } from '../../src/certs/issue.js';
import { admissionParams } from '../../src/model/admission-params.js';
import { BENCH_PROFILE } from '../bench-webhook.js';
import { freePort, waitFor } from '../../test/cluster/net.js';
import { logTail, startProcess, type ManagedProcess } from '../../test/cluster/processes.js';
import { pidListeningOn } from './procfs.js';

const run = promisify(execFile);

export interface PeerPaths {
  kwok: string;
  gatekeeper: string;
  kyverno: string;
  pepr: string;
}

export interface Ctx {
  repo: string;
  dir: string; // working directory for logs, certs, configs
  kubeconfig: string;
  kubectl: string;
  paths: PeerPaths;
  progress(msg: string): void;
}

/** One measured webhook: a server process and the URL its webhook configuration points at. */
export interface Peer {
  name: string;
  namespace: string;
  /** URL for the direct AdmissionReview POSTs (the same one the apiserver calls). */
  url: string;
  /** The process whose CPU time is measured (the one listening; Pepr's dev mode may restart its module process). */
  pid(): number;
  /** podfence only: its own Prometheus metrics (http, loopback), for the handler's latency. */
  metricsUrl?: string;
}

export interface Running {
  peers: Peer[];
  stop(): Promise<void>;
}

export const PEER_LABEL = 'bench.podfence.dev/peer';
export const nsOf = (peer: string) => `bench-${peer}`;

export async function kubectl(ctx: Ctx, args: string[], input?: string): Promise<string> {
  const p = run(ctx.kubectl, [`--kubeconfig=${ctx.kubeconfig}`, ...args], { maxBuffer: 64 << 20 });
  if (input !== undefined) {
    p.child.stdin!.end(input);
  }
  return (await p).stdout;
}

export async function createNamespace(ctx: Ctx, name: string, labels: Record<string, string>): Promise<void> {
  const body = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
  await kubectl(ctx, ['apply', '-f', '-'], JSON.stringify(body));
}

function start(ctx: Ctx, name: string, command: string[], env: Record<string, string> = {}, cwd?: string) {
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const inner = ['env', ...envArgs, 'taskset', '-c', '0', ...command];
  const [cmd, ...args] = cwd ? ['bash', '-c', `cd "$0" && exec "$@"`, cwd, ...inner] : inner;
  return startProcess({ name, command: cmd!, args, dir: ctx.dir, tiedToParent: true });
}

async function waitListening(proc: ManagedProcess, port: number, what: string, timeoutMs = 180_000) {
  let pid: number | undefined;
  await waitFor(
    async () => {
      if (!proc.isRunning()) throw new Error(`${what} exited:\n${logTail(proc.logPath)}`);
      pid = pidListeningOn(port);
      return pid !== undefined;
    },
    timeoutMs,
    `${what} listens on ${port}`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${logTail(proc.logPath)}`);
  });
  return pid!;
}

/** A serving certificate for 127.0.0.1/localhost from a fresh CA: {dir with tls.crt/tls.key, caBundle}. */
export async function servingCert(dir: string) {
  const ca = await createCA('bench-peer-ca', 1);
  const leaf = await issueServingCert(ca, {
    commonName: 'bench-peer',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    days: 1,
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tls.crt'), leaf.cert);
  writeFileSync(join(dir, 'tls.key'), leaf.key);
  return { dir, caBundle: Buffer.from(ca.cert).toString('base64') };
}

/** A MutatingWebhookConfiguration like podfence's (Fail, IfNeeded, 10 s) pointing at a URL, for one peer label. */
export function webhookConfiguration(name: string, url: string, caBundle: string, peers: string[]) {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name },
    webhooks: [
      {
        name: `${name}.bench.podfence.dev`,
        clientConfig: { url, caBundle },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
        namespaceSelector: { matchExpressions: [{ key: PEER_LABEL, operator: 'In', values: peers }] },
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        failurePolicy: 'Fail',
        reinvocationPolicy: 'IfNeeded',
        matchPolicy: 'Equivalent',
        timeoutSeconds: 10,
      },
    ],
  };
}

// --- podfence ---------------------------------------------------------------------------------------------------

export async function startPodfence(ctx: Ctx, withVap: boolean): Promise<Running> {
  const readyFile = join(ctx.dir, 'podfence.ready');
  const namespaces = [nsOf('podfence'), ...(withVap ? [nsOf('podfence-vap')] : [])];
  const proc = start(
    ctx,
    'podfence',
    [process.execPath, join(ctx.repo, 'dist', 'bench', 'peers', 'podfence-serve.js')],
    {
      PODFENCE_BENCH_NAMESPACES: namespaces.join(','),
      PODFENCE_BENCH_READY_FILE: readyFile,
    },
  );
  await waitFor(async () => existsSync(readyFile), 60_000, 'podfence serves').catch((err: Error) => {
    throw new Error(`${err.message}\n${logTail(proc.logPath)}`);
  });
  const { port, caBundle, metricsPort } = JSON.parse(readFileSync(readyFile, 'utf8')) as {
    port: number;
    caBundle: string;
    metricsPort: number;
  };
  const url = `https://127.0.0.1:${port}/mutate`;
  const peerLabels = ['podfence', ...(withVap ? ['podfence-vap'] : [])];
  await kubectl(ctx, ['apply', '-f', '-'], JSON.stringify(webhookConfiguration('podfence', url, caBundle, peerLabels)));
  if (withVap) {
    // The policy's parameters (paramKind SandboxAdmissionParams) as the controller publishes them for the bench
    // profile: without the kind the policy fails every request it is asked about, in any namespace.
    await kubectl(ctx, ['apply', '-f', join(ctx.repo, 'crds')]);
    const params = {
      apiVersion: 'podfence.dev/v1alpha1',
      kind: 'SandboxAdmissionParams',
      metadata: { name: 'podfence-sandbox-params' },
      data: admissionParams([BENCH_PROFILE], {
        initImage: 'localhost/podfence/init:dev',
        onUnresolvedEntrypoint: 'deny',
      }),
    };
    await waitFor(
      async () => (await kubectl(ctx, ['apply', '-f', '-'], JSON.stringify(params)), true),
      60_000,
      'the SandboxAdmissionParams CRD serves',
    );
    // The validating policy as shipped (deploy/webhook), bound to the podfence-vap namespace only.
    const docs = parseAllDocuments(readFileSync(join(ctx.repo, 'deploy', 'webhook', 'validating-policy.yaml'), 'utf8'));
    const [policy, binding] = docs.map((d) => d.toJS() as Record<string, never>) as [
      object,
      { spec: { matchResources: object } },
    ];
    binding.spec.matchResources = { namespaceSelector: { matchLabels: { [PEER_LABEL]: 'podfence-vap' } } };
    await kubectl(
      ctx,
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [policy, binding] }),
    );
  }
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const peers = [{ name: 'podfence', namespace: nsOf('podfence'), url, pid: () => proc.pid, metricsUrl }];
  return { peers, stop: () => proc.stop() };
}

// --- Gatekeeper -----------------------------------------------------------------------------------------------------

export async function startGatekeeper(ctx: Ctx): Promise<Running> {
  const gk = ctx.paths.gatekeeper;
  const manifest = parseAllDocuments(readFileSync(join(gk, 'gatekeeper.yaml'), 'utf8')).map((d) => d.toJS());
  const crds = manifest.filter((d: { kind?: string } | null) => d?.kind === 'CustomResourceDefinition');
  await kubectl(ctx, ['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: crds }));
  await createNamespace(ctx, 'gatekeeper-system', {});
  // The mutator controllers look up their own Pod to own status objects: a placeholder (never scheduled).
  await kubectl(
    ctx,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'gatekeeper-local', namespace: 'gatekeeper-system' },
      spec: { containers: [{ name: 'x', image: 'placeholder.invalid/none' }], nodeName: 'none' },
    }),
  );
  const certs = await servingCert(join(ctx.dir, 'gatekeeper-certs'));
  const port = await freePort();
  const health = await freePort();
  const proc = start(
    ctx,
    'gatekeeper',
    [
      join(gk, 'bin', 'gatekeeper'),
      `--kubeconfig=${ctx.kubeconfig}`,
      '--operation=mutation-webhook',
      `--port=${port}`,
      '--host=127.0.0.1',
      `--cert-dir=${certs.dir}`,
      '--disable-cert-rotation',
      `--health-addr=127.0.0.1:${health}`,
      '--metrics-addr=0',
      '--log-level=INFO',
    ],
    { POD_NAMESPACE: 'gatekeeper-system', POD_NAME: 'gatekeeper-local' },
  );
  const pid = await waitListening(proc, port, 'gatekeeper');
  // Mutators: the CRDs must be established first.
  await waitFor(
    async () => {
      await kubectl(ctx, ['apply', '-f', join(ctx.repo, 'bench', 'peers', 'policies', 'gatekeeper-mutators.yaml')]);
      return true;
    },
    60_000,
    'the Gatekeeper mutators are accepted',
  );
  const url = `https://127.0.0.1:${port}/v1/mutate`;
  await kubectl(
    ctx,
    ['apply', '-f', '-'],
    JSON.stringify(webhookConfiguration('gatekeeper', url, certs.caBundle, ['gatekeeper'])),
  );
  return {
    peers: [{ name: 'gatekeeper', namespace: nsOf('gatekeeper'), url, pid: () => pid }],
    stop: () => proc.stop(),
  };
}

// --- Kyverno ----------------------------------------------------------------------------------------------------------

/**
 * Kyverno with ONE of its two policy types: the ClusterPolicy ('cpol', kyverno.io/v1, deprecated in 1.19) or the
 * MutatingPolicy ('mpol', policies.kyverno.io/v1, CEL, the recommended one). Not both in one process: Kyverno gives
 * every webhook it registers, the MutatingPolicy's own included, the namespaceSelector of its ConfigMap, so with both
 * loaded each peer namespace reaches two Kyverno webhooks (the benchmark's routing check refused that run).
 */
export async function startKyverno(ctx: Ctx, kind: 'cpol' | 'mpol'): Promise<Running> {
  const peer = `kyverno-${kind}`;
  const ky = ctx.paths.kyverno;
  const crdDirs = ['kyverno', 'policies.kyverno.io', 'reports', 'policyreport']
    .map((d) => join(ky, 'src', 'config', 'crds', d))
    .filter((d) => existsSync(d));
  for (const d of crdDirs) await kubectl(ctx, ['create', '-R', '-f', d]);
  await createNamespace(ctx, 'kyverno', {});
  // Kyverno's resource webhook (ClusterPolicy) matches every namespace unless its ConfigMap narrows it.
  await kubectl(
    ctx,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kyverno', namespace: 'kyverno' },
      data: { webhooks: JSON.stringify({ namespaceSelector: { matchLabels: { [PEER_LABEL]: peer } } }) },
    }),
  );
  const port = await freePort();
  const metricsPort = await freePort();
  const tlsSecret = 'kyverno-svc.kyverno.svc.kyverno-tls-pair';
  const proc = start(
    ctx,
    'kyverno',
    [
      join(ky, 'bin', 'kyverno'),
      `--kubeconfig=${ctx.kubeconfig}`,
      `--serverIP=127.0.0.1:${port}`,
      `--webhookServerPort=${port}`,
      '--webhookServerHost=127.0.0.1',
      '--caSecretName=kyverno-svc.kyverno.svc.kyverno-tls-ca',
      `--tlsSecretName=${tlsSecret}`,
      // its metrics servers on loopback (their defaults: every address, ports 8000 and 8080)
      '--metricsHost=127.0.0.1',
      `--metricsPort=${metricsPort}`,
      '--controllerRuntimeMetricsAddress=0',
      // chart defaults, except reports and metrics (admission reports write an object per admission)
      '--admissionReports=false',
      '--omitEvents=PolicyApplied,PolicySkipped,PolicyViolation,PolicyError',
      '--disableMetrics=true',
      '--autoMemLimitEnabled=false',
      '--loggingFormat=text',
      '-v=2',
    ],
    {
      KYVERNO_NAMESPACE: 'kyverno',
      KYVERNO_SERVICEACCOUNT_NAME: 'kyverno-admission-controller',
      KYVERNO_DEPLOYMENT: 'kyverno',
      KYVERNO_POD_NAME: 'kyverno-local',
      INIT_CONFIG: 'kyverno',
      METRICS_CONFIG: 'kyverno-metrics',
    },
  );
  const pid = await waitListening(proc, port, 'kyverno');
  // It listens before its certificate controller (leader-elected) has generated its serving pair: until the Secret
  // exists every TLS handshake fails ("secret ... not found"). Wait for it (RSA 2048 on a busy CPU takes seconds).
  await waitFor(
    async () => {
      if (!proc.isRunning()) throw new Error(`kyverno exited:\n${logTail(proc.logPath)}`);
      await kubectl(ctx, ['-n', 'kyverno', 'get', 'secret', tlsSecret, '-o', 'name']);
      return true;
    },
    180_000,
    `Kyverno writes its serving pair (secret kyverno/${tlsSecret})`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${logTail(proc.logPath)}`);
  });
  const policies = join(ctx.repo, 'bench', 'peers', 'policies');
  await waitFor(
    async () => {
      const file = kind === 'cpol' ? 'kyverno-clusterpolicy.yaml' : 'kyverno-mutatingpolicy.yaml';
      await kubectl(ctx, ['apply', '-f', join(policies, file)]);
      return true;
    },
    60_000,
    'the Kyverno policies are accepted',
  );
  // Kyverno registers its webhooks itself once the policies are ready; take the URLs from there.
  const urlFor = async (pathPrefix: string) => {
    let url = '';
    await waitFor(
      async () => {
        const list = JSON.parse(await kubectl(ctx, ['get', 'mutatingwebhookconfigurations', '-o', 'json'])) as {
          items: { webhooks?: { clientConfig: { url?: string } }[] }[];
        };
        for (const c of list.items) {
          for (const w of c.webhooks ?? []) {
            const u = w.clientConfig.url ?? '';
            if (u.includes(`:${port}${pathPrefix}`)) url = u;
          }
        }
        return url !== '';
      },
      120_000,
      `Kyverno registers a webhook under ${pathPrefix}`,
    );
    return url;
  };
  const url = await urlFor(kind === 'cpol' ? '/mutate/fail' : '/mpol/');
  return {
    peers: [{ name: peer, namespace: nsOf(peer), url, pid: () => pid }],
    stop: () => proc.stop(),
  };
}

// --- Pepr ----------------------------------------------------------------------------------------------------------------

export async function startPepr(ctx: Ctx): Promise<Running> {
  const mod = join(ctx.paths.pepr, 'pepr-podfence');
  // The module as `pepr init` made it, with the podfence-equivalent capability in place of hello-pepr.
  mkdirSync(join(mod, 'capabilities'), { recursive: true });
  copyFileSync(
    join(ctx.repo, 'bench', 'peers', 'policies', 'pepr-capability.ts.txt'),
    join(mod, 'capabilities', 'podfence.ts'),
  );
  for (const f of readdirSync(join(mod, 'capabilities'))) {
    if (f.startsWith('hello-pepr')) writeFileSync(join(mod, 'capabilities', f), '');
  }
  const peprTs = readFileSync(join(mod, 'pepr.ts'), 'utf8');
  writeFileSync(
    join(mod, 'pepr.ts'),
    peprTs
      .replace(
        /import \{ HelloPepr \} from "\.\/capabilities\/hello-pepr";/,
        'import { Podfence } from "./capabilities/podfence";',
      )
      .replace(/HelloPepr,?/g, 'Podfence,'),
  );
  // `pepr dev` listens on :3000 (fixed) and registers a webhook for https://localhost:3000.
  if (pidListeningOn(3000)) throw new Error('port 3000 is taken: Pepr dev mode needs it');
  const proc = start(
    ctx,
    'pepr',
    ['npx', '--no-install', 'pepr', 'dev', '--host', 'localhost', '--yes'],
    {
      KUBECONFIG: ctx.kubeconfig,
      // dev mode forces pretty multi-line logs, and at info it prints every answer, patch included (~23 KB per
      // admission): that would be measured as Pepr's cost. warn, as the method in docs/benchmarks.md says.
      LOG_LEVEL: 'warn',
    },
    mod,
  );
  await waitListening(proc, 3000, 'pepr', 300_000);
  const pid = () => {
    const p = pidListeningOn(3000);
    if (p === undefined) throw new Error(`Pepr's module process is gone:\n${logTail(proc.logPath)}`);
    return p;
  };
  // Its webhook matches every namespace but kube-system and pepr-system (the capability filters in-process):
  // narrow it to its own namespace so it is not in the path of the others.
  let url = '';
  let name = '';
  await waitFor(
    async () => {
      const list = JSON.parse(await kubectl(ctx, ['get', 'mutatingwebhookconfigurations', '-o', 'json'])) as {
        items: { metadata: { name: string }; webhooks?: { clientConfig: { url?: string } }[] }[];
      };
      for (const c of list.items) {
        const u = c.webhooks?.[0]?.clientConfig.url ?? '';
        if (u.includes(':3000/')) [url, name] = [u, c.metadata.name];
      }
      return url !== '';
    },
    120_000,
    'Pepr registers its webhook',
  );
  const selector = { matchLabels: { [PEER_LABEL]: 'pepr' } };
  const cfg = JSON.parse(await kubectl(ctx, ['get', 'mutatingwebhookconfiguration', name, '-o', 'json'])) as {
    webhooks: { namespaceSelector?: object }[];
  };
  const patch = cfg.webhooks.map((_, i) => ({
    op: 'replace',
    path: `/webhooks/${i}/namespaceSelector`,
    value: selector,
  }));
  await kubectl(ctx, ['patch', 'mutatingwebhookconfiguration', name, '--type=json', `-p=${JSON.stringify(patch)}`]);
  return { peers: [{ name: 'pepr', namespace: nsOf('pepr'), url, pid }], stop: () => proc.stop() };
}
