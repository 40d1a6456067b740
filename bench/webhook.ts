// Webhook latency and throughput (docs/benchmarks.md, "Webhook latency and throughput").
//
//   npm run build:ts && node dist/bench/webhook.js [--seconds 20] [--rate 500] [--creates 200]
//
// 1. The webhook server (the real TLS server, mutation, registry client and compiled profile) runs in a
//    child process pinned to CPU 0 (`taskset -c 0`); the load generator (autocannon) runs pinned to CPU 1.
//    The AdmissionReview is a 3-container pod whose containers have no `command`: every request resolves three
//    image entrypoints through the registry client, answered from its cache (primed once from a real loopback
//    docker-registry), which is the steady state of a webhook in production.
//    a) fixed rate (default 500 req/s) for N seconds: p50/p99 latency (the target: p99 < 5 ms);
//    b) unthrottled with 16 connections: the throughput of one core.
// 2. A test control plane (etcd + kube-apiserver + controllers, test/cluster/harness.ts) creates the same pod
//    sequentially in a namespace the webhook matches and in one it does not, alternating, and reports the
//    pod-create latency seen by a client for both, side by side.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = here.endsWith(join('dist', 'bench')) ? join(here, '..', '..') : join(here, '..');
// The cluster harness finds the checkout (its pinned versions in test/cluster/paths.sh) through this.
process.env.PODFENCE_REPO_ROOT ??= repo;

function pod(images: string[], name = 'bench') {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench' } },
    spec: {
      containers: images.map((image, i) => ({
        name: `c${i}`,
        image,
        ports: [{ containerPort: 8080 + i }],
        env: [{ name: 'MODE', value: 'prod' }],
        volumeMounts: [{ name: 'cfg', mountPath: `/etc/c${i}`, readOnly: true }],
      })),
      volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }],
    },
  };
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const progress = (msg: string) => process.stderr.write(`[bench] ${new Date().toISOString()} ${msg}\n`);

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

/** Child mode: serve the webhook on 127.0.0.1, print `{port, caBundle}` as one JSON line. */
async function serve(registryHost: string, images: string[]): Promise<void> {
  const { pino } = await import('pino');
  const { RegistryClient } = await import('../src/registry/client.js');
  const { entrypointResolver } = await import('../src/webhook/image-entrypoints.js');
  const { serveBenchWebhook } = await import('./bench-webhook.js');

  const client = new RegistryClient({ plainHttp: [registryHost], tagTtlMs: 3_600_000 });
  for (const image of images) await client.resolve(image); // prime the cache from the real registry
  const server = await serveBenchWebhook({
    log: pino({ level: 'warn' }),
    optedIn: (ns) => ns.startsWith('bench-on') || ns === 'bench',
    resolveEntrypoints: entrypointResolver(client, async () => []),
  });
  const { port, caBundle } = server;
  // The driver asks for this process's CPU time between runs: CPU per request does not depend on what else the
  // machine is doing, unlike latency.
  process.on('message', () => process.send?.({ cpu: process.cpuUsage(), stats: client.stats }));
  process.stdout.write(JSON.stringify({ port, caBundle }) + '\n');
  await once(process, 'SIGTERM');
  await server.close();
  process.exit(0);
}

async function drive(): Promise<void> {
  const seconds = arg('seconds', 20);
  const rate = arg('rate', 500);
  const creates = arg('creates', 200);
  const { startTestRegistry } = await import('../test/registry/registry.js');
  const registry = await startTestRegistry();
  const images: string[] = [];
  for (const [i, ep] of [
    ['/usr/sbin/nginx', '-g', 'daemon off;'],
    ['/app/server'],
    ['/bin/sh', '-c', 'exec sidecar $PORT'],
  ].entries()) {
    images.push((await registry.push(`bench/img${i}`, 'v1', { entrypoint: ep, cmd: ['--flag'] })).ref);
  }

  const self = fileURLToPath(import.meta.url);
  const child = spawn('taskset', ['-c', '0', process.execPath, self, 'serve', registry.hostPort, ...images], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const cpuMs = async () => {
    child.send('cpu');
    const [m] = (await once(child, 'message')) as [{ cpu: NodeJS.CpuUsage }];
    return (m.cpu.user + m.cpu.system) / 1000;
  };
  const first = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { port, caBundle } = JSON.parse(first[0]) as { port: number; caBundle: string };
  const body = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'bench',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      operation: 'CREATE',
      namespace: 'bench',
      object: pod(images),
    },
  });
  const { default: autocannon } = await import('autocannon');
  const url = `https://127.0.0.1:${port}/mutate`;
  const common = { url, method: 'POST', body, headers: { 'content-type': 'application/json' } };
  // Warm-up (JIT, TLS sessions), then the measured runs.
  await autocannon({ ...common, connections: 4, duration: 5 });
  progress('measuring the webhook');
  const load0 = loadavg()[0] ?? 0;
  // The apiserver multiplexes its webhook calls over few connections; autocannon sends a fixed rate as a burst
  // per connection and tick, so more connections add autocannon's own queueing (both shown).
  const plan = [
    {
      label: `fixed rate ${rate}/s, 2 connections, ${seconds} s`,
      connections: 2,
      overallRate: rate,
      duration: seconds,
    },
    {
      label: `fixed rate ${rate}/s, 8 connections, ${seconds} s`,
      connections: 8,
      overallRate: rate,
      duration: seconds,
    },
    { label: 'unthrottled, 16 connections', connections: 16, duration: Math.max(5, Math.round(seconds / 2)) },
  ];
  const runs: { label: string; r: Awaited<ReturnType<typeof autocannon>>; cpuPerReq: number }[] = [];
  for (const { label, ...opts } of plan) {
    const before = await cpuMs();
    const r = await autocannon({ ...common, ...opts });
    runs.push({ label, r, cpuPerReq: ((await cpuMs()) - before) / r.requests.total });
  }
  const load1 = loadavg()[0] ?? 0;

  // Pod-create latency through the apiserver, with and without the webhook.
  const { startCluster } = await import('../test/cluster/harness.js');
  const { AdmissionregistrationV1Api, CoreV1Api } = await import('@kubernetes/client-node');
  progress('starting a test control plane');
  const cluster = await startCluster({ withControllers: true });
  const apiserver: { on: number[]; off: number[] } = { on: [], off: [] };
  try {
    const kc = cluster.kubeConfig;
    const core = kc.makeApiClient(CoreV1Api);
    const admission = kc.makeApiClient(AdmissionregistrationV1Api);
    for (const name of ['bench-on', 'bench-off']) {
      await core.createNamespace({
        body: { metadata: { name, labels: name === 'bench-on' ? { 'podfence.dev/profile': 'bench' } : {} } },
      });
    }
    await admission.createMutatingWebhookConfiguration({
      body: {
        metadata: { name: 'podfence-bench' },
        webhooks: [
          {
            name: 'pods.podfence.dev',
            clientConfig: { url, caBundle },
            rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
            namespaceSelector: { matchLabels: { 'podfence.dev/profile': 'bench' } },
            sideEffects: 'None',
            admissionReviewVersions: ['v1'],
            failurePolicy: 'Fail',
            reinvocationPolicy: 'IfNeeded',
            timeoutSeconds: 10,
          },
        ],
      },
    });
    // Wait for the ServiceAccounts and the webhook to be live.
    for (const namespace of ['bench-on', 'bench-off']) {
      for (let i = 0; ; i++) {
        const ok = await core.readNamespacedServiceAccount({ name: 'default', namespace }).then(
          () => true,
          () => false,
        );
        if (ok) break;
        if (i > 300) throw new Error('no default ServiceAccount');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for (let i = 0; ; i++) {
      const p = await core.createNamespacedPod({
        namespace: 'bench-on',
        body: pod(images, `warm-${i}`) as never,
        dryRun: 'All',
      });
      if (p.metadata?.annotations?.['podfence.dev/applied']) break;
      if (i > 300) throw new Error('the webhook never became active');
      await new Promise((r) => setTimeout(r, 100));
    }
    progress('creating pods');
    for (let i = 0; i < creates + 20; i++) {
      for (const side of i % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        const t0 = process.hrtime.bigint();
        const created = await core.createNamespacedPod({
          namespace: `bench-${side}`,
          body: pod(images, `p-${i}`) as never,
        });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if ((side === 'on') !== Boolean(created.metadata?.annotations?.['podfence.dev/applied'])) {
          throw new Error(`pod in bench-${side} ${side === 'on' ? 'not ' : ''}mutated`);
        }
        if (i >= 20) apiserver[side].push(ms); // the first 20 of each: warm-up
      }
    }
  } finally {
    await cluster.stop();
    child.kill('SIGTERM');
    await registry.stop();
  }

  const cpus = execFileSync('nproc', ['--all'], { encoding: 'utf8' }).trim();
  const f = (n: number) => n.toFixed(2);
  const lines = [
    `webhook on 1 core (taskset -c 0), ${cpus} CPUs, 3-container pod, images resolved from the registry client's cache`,
    '',
    `machine load average (1 min) ${load0.toFixed(1)} before, ${load1.toFixed(1)} after the webhook runs`,
    '',
    '| run | requests/s | p50 (ms) | p99 (ms) | max (ms) | server CPU per request (ms) | one-core capacity (req/s) | errors / non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...runs.map(
      ({ label, r, cpuPerReq }) =>
        `| ${label} | ${f(r.requests.average)} | ${f(r.latency.p50)} | ${f(r.latency.p99)} | ${f(r.latency.max)} | ` +
        `${f(cpuPerReq)} | ${(1000 / cpuPerReq).toFixed(0)} | ${r.errors} / ${r.non2xx} |`,
    ),
    '',
    `apiserver pod create (client-observed, ${creates} sequential creates each, alternating)`,
    '',
    '| namespace | p50 (ms) | p99 (ms) | mean (ms) |',
    '|---|---:|---:|---:|',
    ...(['off', 'on'] as const).map(
      (s) =>
        `| ${s === 'on' ? 'opted in (webhook called)' : 'not opted in (no webhook)'} | ${f(percentile(apiserver[s], 50))} | ${f(percentile(apiserver[s], 99))} | ${f(apiserver[s].reduce((a, b) => a + b, 0) / apiserver[s].length)} |`,
    ),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  process.exit(0);
}

if (process.argv[2] === 'serve') {
  await serve(process.argv[3] ?? '', process.argv.slice(4));
} else if (!process.env.PODFENCE_BENCH_PINNED) {
  // Re-run the driver pinned to CPU 1, away from the server's CPU 0.
  const c = spawn('taskset', ['-c', '1', process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, PODFENCE_BENCH_PINNED: '1' },
  });
  const [code] = (await once(c, 'exit')) as [number];
  process.exit(code);
} else {
  await drive();
}
