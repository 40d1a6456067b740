// `npm run bench:scale`: podfence's controller and webhook at cluster scale, nodes simulated by kwok.
//
//   npm run bench:scale -- [--nodes 1000] [--pods 10000] [--profiles 100] [--concurrency 16] [--idle-seconds 30]
//                          [--storm-minutes 120] [--running-wait-seconds 300]
//
// A test control plane (etcd, kube-apiserver, controller-manager, scheduler) with kwok v0.8.0 managing --nodes fake
// Nodes; podfence's controller and webhook run as `podfence controller` / `podfence webhook` processes (the shipped
// MutatingWebhookConfiguration and ValidatingAdmissionPolicy in place); --profiles SandboxProfiles exist.
// There is no node agent on a fake node: THE BENCHMARK SIMULATES THE NODE AGENTS, writing each node's
// SandboxNodeReport (profiles installed, Landlock ABI 7) the way a node agent would after writing its files.
// Measured: profile apply -> Ready on all nodes (a new profile created; the simulated agents report it on every node;
// the controller aggregates, labels the nodes and sets Ready), then --pods pods created through the webhook in
// opted-in namespaces (admission latency from the webhook's own histogram, and the client-observed create time),
// controller and webhook RSS (peak VmHWM and current VmRSS), and controller CPU while idle. Last line:
//   scale: <nodes> nodes, <pods> pods: controller <MiB> MiB, webhook <MiB> MiB, apply->Ready <s> s, admission p99 <ms> ms
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { freePort } from '../../test/cluster/net.js';
import { logTail, startProcess } from '../../test/cluster/processes.js';
import { compileProfileObject } from '../../src/profile/compiled.js';
import { kubeRequester, pool } from '../peers/kube-client.js';
import { shippedNodeOptions } from './node-options.js';
import { cpuTicks } from '../peers/procfs.js';
import { createNamespace, kubectl, servingCert } from '../peers/servers.js';
import { arg, repo, startBenchCluster } from '../context.js';
import {
  bucketDelta,
  histogramQuantile,
  parseHistogram,
  percentile,
  rssBytesFromStatus,
  scaleLastLine,
  summarize,
} from '../peers/stats.js';
import { Fatal, pollUntil, retrying, transientCreateFailure, untilQuiet, withDeadline } from './waits.js';

const num = (name: string, def: number) => Number(arg(name, String(def)));
const MiB = 1024 * 1024;
const GROUP = '/apis/podfence.dev/v1alpha1';

function profileObject(i: number) {
  return {
    apiVersion: 'podfence.dev/v1alpha1',
    kind: 'SandboxProfile',
    metadata: { name: `p-${String(i).padStart(3, '0')}` },
    spec: {
      preset: 'network-server',
      capabilities: { keep: ['NET_BIND_SERVICE'] },
      // a distinct port per profile: a distinct seccomp/Landlock content and hash
      landlock: { readOnly: ['/etc'], readWrite: ['/tmp'], trustVolumes: true, tcp: { bind: [8000 + i] } },
    },
  };
}

function installedEntry(profile: object) {
  const c = compileProfileObject(profile);
  if (!c.ok) throw new Error(`bench profile does not compile: ${JSON.stringify(c.errors)}`);
  return { profile: c.compiled.name, hash: c.compiled.seccomp.hash, file: c.compiled.seccomp.fileName };
}

const status = (pid: number) => readFileSync(`/proc/${pid}/status`, 'utf8');
const hwm = (pid: number) => Number(/^VmHWM:\s+(\d+)/m.exec(status(pid))?.[1] ?? NaN) * 1024;

async function main(): Promise<void> {
  const nodes = num('nodes', 1000);
  const pods = num('pods', 10000);
  const profiles = num('profiles', 100);
  const concurrency = num('concurrency', 16);
  const idleSeconds = num('idle-seconds', 30);
  // Bounds that only end a failing run (with a message); a healthy run on a loaded 2-CPU machine stays well inside.
  const stormMinutes = num('storm-minutes', 120);
  // Pods Running on the fake nodes is context, not a goal: under load kube-controller-manager evicts pods from kwok
  // nodes that missed heartbeats, and those never run. Wait this long, then report how many do.
  const runningWaitSeconds = num('running-wait-seconds', 300);
  const namespaces = Math.max(1, Math.min(10, profiles));

  const { ctx, cluster, progress } = await startBenchCluster('scale', ['kwok']);
  const { dir, paths } = ctx;
  const k = await kubeRequester(cluster.kubeConfig, concurrency);
  const stops: (() => Promise<void>)[] = [];
  try {
    await kubectl(ctx, ['apply', '-f', join(repo, 'crds')]);
    await createNamespace(ctx, 'podfence-system', {});

    // --- fake nodes (kwok) ---------------------------------------------------------------------------------------
    progress(`creating ${nodes} kwok nodes`);
    const nodeNames = Array.from({ length: nodes }, (_, i) => `kwok-${String(i).padStart(4, '0')}`);
    await withDeadline(
      pool(nodeNames, concurrency, async (name) => {
        await k.request('POST', '/api/v1/nodes', {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name,
            annotations: { 'kwok.x-k8s.io/node': 'fake' },
            labels: { type: 'kwok', 'kubernetes.io/hostname': name },
          },
          spec: { taints: [{ key: 'kwok.x-k8s.io/node', value: 'fake', effect: 'NoSchedule' }] },
          status: { allocatable: { cpu: '32', memory: '256Gi', pods: '110' } },
        });
      }),
      1_800_000,
      `creating ${nodes} Nodes`,
    );
    const stage = join(paths.kwok, 'stage');
    const kwok = startProcess({
      name: 'kwok',
      command: join(paths.kwok, 'bin', 'kwok'),
      args: [
        `--kubeconfig=${ctx.kubeconfig}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--node-lease-duration-seconds=40',
        `--server-address=127.0.0.1:${await freePort()}`,
        '--node-ip=127.0.0.1',
        ...[
          'node/fast/node-initialize.yaml',
          'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
          'pod/fast/pod-ready.yaml',
          'pod/fast/pod-complete.yaml',
          'pod/fast/pod-delete.yaml',
        ].map((f) => `-c=${join(stage, f)}`),
      ],
      dir,
      tiedToParent: true,
    });
    stops.push(() => kwok.stop());
    await pollUntil(
      async (note) => {
        if (!kwok.isRunning()) throw new Fatal(`kwok exited:\n${logTail(kwok.logPath)}`);
        const list = await k.request<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>(
          'GET',
          '/api/v1/nodes?labelSelector=type%3Dkwok',
        );
        const ready = list.body.items.filter((n) =>
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        ).length;
        note(`${ready}/${nodes} Ready`);
        return ready === nodes;
      },
      { timeoutMs: 900_000, intervalMs: 2000, what: `kwok reports all ${nodes} nodes Ready` },
    );
    progress(`${nodes} kwok nodes Ready`);

    // --- podfence controller and webhook ---------------------------------------------------------------------------
    const cli = join(repo, 'dist', 'src', 'cli.js');
    const ctlOps = await freePort();
    const controller = startProcess({
      name: 'controller',
      command: process.execPath,
      args: [
        ...shippedNodeOptions(repo, 'controller'),
        cli,
        'controller',
        `--kubeconfig=${ctx.kubeconfig}`,
        '--no-leader-elect',
        `--ops-port=${ctlOps}`,
      ],
      dir,
      tiedToParent: true,
    });
    stops.push(() => controller.stop());
    const certs = await servingCert(join(dir, 'webhook-certs'));
    const whPort = await freePort();
    const whOps = await freePort();
    const webhook = startProcess({
      name: 'webhook',
      command: process.execPath,
      args: [
        ...shippedNodeOptions(repo, 'webhook'),
        cli,
        'webhook',
        `--kubeconfig=${ctx.kubeconfig}`,
        '--namespace=podfence-system',
        `--port=${whPort}`,
        `--ops-port=${whOps}`,
        `--cert-dir=${certs.dir}`,
      ],
      dir,
      tiedToParent: true,
    });
    stops.push(() => webhook.stop());
    const mwc = parseAllDocuments(
      readFileSync(join(repo, 'deploy', 'webhook', 'mutating-webhook.yaml'), 'utf8'),
    )[0]!.toJS() as { webhooks: { clientConfig: object }[] };
    for (const w of mwc.webhooks)
      w.clientConfig = { url: `https://127.0.0.1:${whPort}/mutate`, caBundle: certs.caBundle };
    await kubectl(ctx, ['apply', '-f', '-'], JSON.stringify(mwc));
    await kubectl(ctx, ['apply', '-f', join(repo, 'deploy', 'webhook', 'validating-policy.yaml')]);
    const opsGet = async (port: number, path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, text: await res.text() };
    };
    for (const [name, port, proc] of [
      ['controller', ctlOps, controller],
      ['webhook', whOps, webhook],
    ] as const) {
      await pollUntil(
        async (note) => {
          if (!proc.isRunning()) throw new Fatal(`${name} exited:\n${logTail(proc.logPath)}`);
          const r = await opsGet(port, '/readyz');
          note(`/readyz ${r.status}: ${r.text.slice(0, 200)}`);
          return r.status === 200;
        },
        { timeoutMs: 300_000, intervalMs: 500, what: `podfence ${name} is ready` },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${logTail(proc.logPath)}`);
      });
    }

    // --- profiles and the simulated node agents -------------------------------------------------------------------
    progress(`creating ${profiles} SandboxProfiles; simulated node agents report them on ${nodes} nodes`);
    const objs = Array.from({ length: profiles }, (_, i) => profileObject(i));
    await pool(objs, concurrency, async (o) => {
      await k.request('POST', `${GROUP}/sandboxprofiles`, o);
    });
    const installed = objs.map(installedEntry);
    const report = async (node: string, entries: object[], create: boolean) => {
      if (create) {
        await k.request('POST', `${GROUP}/sandboxnodereports`, {
          apiVersion: 'podfence.dev/v1alpha1',
          kind: 'SandboxNodeReport',
          metadata: { name: node },
        });
      }
      const { body } = await k.request<{ metadata: object }>('GET', `${GROUP}/sandboxnodereports/${node}`);
      await k.request('PUT', `${GROUP}/sandboxnodereports/${node}/status`, {
        ...body,
        status: {
          landlockABI: 7,
          kernel: '6.18.0-kwok',
          agentVersion: 'simulated',
          installed: entries,
          // the webhook's default delivery (csi) requires the node's CSI-ready label, which comes from this
          csi: { ready: true },
          updatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      });
    };
    await withDeadline(
      pool(nodeNames, concurrency, (n) => report(n, installed, true)),
      1_800_000,
      `the simulated agents' first reports on ${nodes} nodes`,
    );
    const allReady = async (names: string[]) => {
      const list = await k.request<{
        items: {
          metadata: { name: string };
          status?: { conditions?: { type: string; status: string }[]; nodes?: { installed: number } };
        }[];
      }>('GET', `${GROUP}/sandboxprofiles`);
      const want = new Set(names);
      return (
        list.body.items.filter(
          (p) =>
            want.has(p.metadata.name) &&
            p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
            p.status.nodes?.installed === nodes,
        ).length === want.size
      );
    };
    let t = Date.now();
    await pollUntil(() => allReady(objs.map((o) => o.metadata.name)), {
      timeoutMs: 1_800_000,
      intervalMs: 250,
      what: `all ${profiles} profiles are Ready`,
    });
    progress(
      `${profiles} profiles Ready on ${nodes} nodes ${((Date.now() - t) / 1000).toFixed(1)} s after the reports`,
    );

    // apply -> Ready: one more profile; the simulated agents add it to every node's report as soon as it exists
    const extra = profileObject(profiles);
    t = Date.now();
    await k.request('POST', `${GROUP}/sandboxprofiles`, extra);
    const withExtra = [...installed, installedEntry(extra)];
    await withDeadline(
      pool(nodeNames, concurrency, (n) => report(n, withExtra, false)),
      1_800_000,
      `the simulated agents' report updates on ${nodes} nodes`,
    );
    const reportedMs = Date.now() - t;
    await pollUntil(() => allReady([extra.metadata.name]), {
      timeoutMs: 1_800_000,
      intervalMs: 100,
      what: `profile ${extra.metadata.name} is Ready`,
    });
    const applyToReady = (Date.now() - t) / 1000;
    progress(
      `apply -> Ready on ${nodes} nodes: ${applyToReady.toFixed(1)} s (of which the simulated agents' ${nodes} ` +
        `report updates ${(reportedMs / 1000).toFixed(1)} s)`,
    );

    // --- the pod storm ----------------------------------------------------------------------------------------------
    const nsNames = Array.from({ length: namespaces }, (_, i) => `scale-${i}`);
    for (const [i, ns] of nsNames.entries()) {
      await createNamespace(ctx, ns, { 'podfence.dev/profile': objs[i]!.metadata.name });
    }
    for (const ns of nsNames) {
      await pollUntil(async () => (await k.request('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`), true), {
        timeoutMs: 300_000,
        intervalMs: 250,
        what: `ServiceAccount default in ${ns}`,
      });
    }
    const metricName = 'controller_runtime_webhook_latency_seconds';
    const before = parseHistogram((await opsGet(whOps, '/metrics')).text, metricName);
    const rss = { controller: 0, webhook: 0 };
    const sample = () => {
      // a process gone mid-run (crash, or a signal from outside) is reported by name, not as a missing /proc file
      for (const [name, proc] of [
        ['controller', controller],
        ['webhook', webhook],
      ] as const) {
        if (!proc.isRunning()) throw new Error(`podfence ${name} exited during the run:\n${logTail(proc.logPath)}`);
        rss[name] = Math.max(rss[name], rssBytesFromStatus(status(proc.pid)));
      }
    };
    let sampleError: unknown;
    const sampleSafely = () => {
      try {
        sample();
      } catch (err) {
        sampleError ??= err;
      }
    };
    const sampler = setInterval(sampleSafely, 500);
    progress(`creating ${pods} pods in ${namespaces} opted-in namespaces, ${concurrency} at a time`);
    const createMs: number[] = [];
    const t0 = Date.now();
    let done = 0;
    let retries = 0;
    const podBody = (i: number) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${i}`, labels: { app: 'scale' } },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'registry.invalid/scale/app:v1',
            command: ['/app/server', '--port', '8080'],
            volumeMounts: [{ name: 'cfg', mountPath: '/etc/app', readOnly: true }],
          },
        ],
        volumes: [{ name: 'cfg', configMap: { name: 'cfg', optional: true } }],
        tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }],
      },
    });
    type Created = { metadata?: { annotations?: Record<string, string> } };
    await withDeadline(
      pool(
        Array.from({ length: pods }, (_, i) => i),
        concurrency,
        async (i) => {
          // a dead controller or webhook ends the storm at once, by name
          if (sampleError) throw sampleError;
          const ns = nsNames[i % namespaces]!;
          const { body, ms } = await retrying(
            async (n) => {
              try {
                return await k.request<Created>('POST', `/api/v1/namespaces/${ns}/pods`, podBody(i));
              } catch (err) {
                // a retry after a create the apiserver stored but whose answer was lost: read what it stored
                if (n > 1 && /HTTP 409/.test(String(err))) {
                  return k.request<Created>('GET', `/api/v1/namespaces/${ns}/pods/pod-${i}`);
                }
                throw err;
              }
            },
            {
              attempts: 3,
              backoffMs: 1000,
              retryable: transientCreateFailure,
              onRetry: (err) => {
                retries++;
                progress(`pod-${i}: retrying after ${String(err).slice(0, 200)}`);
              },
            },
          );
          if (!body.metadata?.annotations?.['podfence.dev/applied']) throw new Error(`pod-${i} was not sandboxed`);
          createMs.push(ms);
          if (++done % 1000 === 0) progress(`${done} pods created (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
        },
      ),
      stormMinutes * 60_000,
      () => `the pod storm (${done} of ${pods} created; --storm-minutes ${stormMinutes})`,
    );
    if (sampleError) throw sampleError;
    const stormSeconds = (Date.now() - t0) / 1000;
    const after = parseHistogram((await opsGet(whOps, '/metrics')).text, metricName);
    const admissionP99 = histogramQuantile(bucketDelta(after, before), 0.99) * 1000;
    const admissionP50 = histogramQuantile(bucketDelta(after, before), 0.5) * 1000;

    // pods running on the fake nodes (scheduled by kube-scheduler onto labelled nodes, started by kwok)
    // (polled every 5 s: each poll lists up to 10,000 pods, which is load on the apiserver the run measures beside)
    let running = 0;
    await pollUntil(
      async (note) => {
        if (sampleError) throw new Fatal(String(sampleError));
        const list = await k.request<{ items: unknown[] }>(
          'GET',
          '/api/v1/pods?labelSelector=app%3Dscale&fieldSelector=status.phase%3DRunning',
        );
        running = list.body.items.length;
        note(`${running}/${pods} Running`);
        return running === pods;
      },
      { timeoutMs: runningWaitSeconds * 1000, intervalMs: 5000, what: `all ${pods} pods Running` },
    ).catch((err: Error) => {
      if (err instanceof Fatal) throw err;
      progress(`not all pods Running: ${err.message}`);
    });
    progress(`${running}/${pods} pods Running`);
    sample();

    // --- idle -------------------------------------------------------------------------------------------------------
    // settled: the controller's reconcile counter unchanged for 10 s (the last pod updates handled)
    const reconciles = async () =>
      (await opsGet(ctlOps, '/metrics')).text
        .split('\n')
        .filter((l) => l.startsWith('controller_runtime_reconcile_total{'))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    const settleMs = await untilQuiet(reconciles, {
      quietMs: 10_000,
      timeoutMs: 180_000,
      intervalMs: 1000,
      what: 'the controller stops reconciling after the storm',
    }).catch((err: Error) => {
      progress(`${err.message}; measuring idle anyway`);
      return NaN;
    });
    progress(`controller settled ${(settleMs / 1000).toFixed(0)} s after the pods were Running`);
    const c0 = cpuTicks(controller.pid);
    const w0 = cpuTicks(webhook.pid);
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const idleCtl = ((cpuTicks(controller.pid) - c0) * 10) / (idleSeconds * 1000); // ticks (10 ms) -> share of a core
    const idleWh = ((cpuTicks(webhook.pid) - w0) * 10) / (idleSeconds * 1000);
    sample();
    clearInterval(sampler);
    const now = {
      controller: rssBytesFromStatus(status(controller.pid)),
      webhook: rssBytesFromStatus(status(webhook.pid)),
    };
    const peak = { controller: hwm(controller.pid), webhook: hwm(webhook.pid) };
    const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
    const ctlMetrics = (await opsGet(ctlOps, '/metrics')).text;
    const heapUsed = gauge(ctlMetrics, 'nodejs_heap_size_used_bytes');

    const s = summarize(createMs);
    const out = [
      `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0]!.toFixed(1)} at the end`,
      `${nodes} kwok nodes, ${profiles + 1} SandboxProfiles, ${pods} pods in ${namespaces} opted-in namespaces ` +
        `(${concurrency} concurrent creates)`,
      "node reports: SIMULATED. No node agent runs on a kwok node; this benchmark writes each node's " +
        'SandboxNodeReport as the agent would after writing its files, so apply->Ready includes those simulated writes.',
      '',
      '| measure | value |',
      '|---|---:|',
      `| profile apply -> Ready on all ${nodes} nodes (s) | ${applyToReady.toFixed(1)} |`,
      `| of which the simulated agents' ${nodes} report updates (s) | ${(reportedMs / 1000).toFixed(1)} |`,
      `| pod storm: ${pods} creates (s) / creates per s | ${stormSeconds.toFixed(0)} / ${(pods / stormSeconds).toFixed(0)} |`,
      `| admission (webhook histogram) p50 / p99 (ms) | ${admissionP50.toFixed(1)} / ${admissionP99.toFixed(1)} |`,
      `| pod create, client-observed p50 / p99 (ms) | ${s.p50.toFixed(1)} / ${percentile(createMs, 99).toFixed(1)} |`,
      `| pod creates retried (transient failure) | ${retries} |`,
      `| pods Running on the fake nodes | ${running} / ${pods} |`,
      `| controller RSS: max sampled / peak (VmHWM) / now (MiB) | ${(rss.controller / MiB).toFixed(0)} / ${(peak.controller / MiB).toFixed(0)} / ${(now.controller / MiB).toFixed(0)} |`,
      `| webhook RSS: max sampled / peak (VmHWM) / now (MiB) | ${(rss.webhook / MiB).toFixed(0)} / ${(peak.webhook / MiB).toFixed(0)} / ${(now.webhook / MiB).toFixed(0)} |`,
      `| controller V8 heap used at the end (MiB) | ${(heapUsed / MiB).toFixed(0)} |`,
      `| controller CPU while idle (${idleSeconds} s, after settling) | ${(idleCtl * 100).toFixed(1)}% of a core |`,
      `| webhook CPU while idle (${idleSeconds} s) | ${(idleWh * 100).toFixed(1)}% of a core |`,
      '',
      scaleLastLine({
        nodes,
        pods,
        controllerMiB: peak.controller / MiB,
        webhookMiB: peak.webhook / MiB,
        applyToReadySeconds: applyToReady,
        admissionP99Ms: admissionP99,
      }),
    ];
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    k.close();
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await cluster.stop();
    if (existsSync(dir) && !process.env.PODFENCE_KEEP_CLUSTER_DIR) {
      // logs stay for a failed run's post-mortem only when asked
    }
  }
}

await main();
process.exit(0);
