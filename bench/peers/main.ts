// `npm run bench:peers`: podfence side by side with Kyverno, Gatekeeper and Pepr, each running its
// podfence-equivalent policy against the same test control plane (test/cluster/harness.ts).
//
//   npm run bench:peers -- [--rounds 3] [--seconds 8] [--rates 50,200] [--connections 8] [--pairs 40]
//                          [--only podfence,pepr,gatekeeper,kyverno] [--diagnose 20]
//
// `kyverno` is its MutatingPolicy (`kyverno-mpol`, the type Kyverno 1.19 recommends); `kyverno-cpol` (ClusterPolicy)
// instead, in a run of its own: one Kyverno process serves one policy type here (see startKyverno).
//
// (a) Direct: the same AdmissionReview (the bench pod as the apiserver hands it over) POSTed to each server,
//     servers pinned to CPU 0, this driver (autocannon) pinned to CPU 1; fixed rates on 2 connections and
//     unthrottled: CPU per admission from /proc/<pid>/stat (utime+stime), p50/p99 (autocannon, whole ms).
// (b) Through the apiserver: pod creates in the peer's namespace (its webhook called) and in a namespace no webhook
//     matches, alternating one by one, on one keep-alive connection: p50/p99 and their ratio.
// Rounds interleave the peers (rotated order each round) so machine noise hits all alike. Last line:
//   peers: podfence <ms> ms/admission, best peer <name> <ms> ms, ratio <r>
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { arg, progressFor, startBenchCluster } from '../context.js';
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { breakdownDelta, breakdownOf, msPerCreate, sumCount, type Breakdown } from './apiserver-metrics.js';
import { kubeRequester, podApi } from './kube-client.js';
import { probeNotReady } from './probe.js';
import { connectionsTo, cpuTicks } from './procfs.js';
import { benchPod, podCreateReview, reviewOutcome } from './review.js';
import { alternatingPairs, interleave } from './schedule.js';
import { webhooksForPodCreate, type WebhookConfiguration } from './selectors.js';
import {
  createNamespace,
  kubectl,
  nsOf,
  PEER_LABEL,
  startGatekeeper,
  startKyverno,
  startPepr,
  startPodfence,
  type Peer,
  type Running,
} from './servers.js';
import { cpuMsPerRequest, fmt, median, peersLastLine, summarize } from './stats.js';

const progress = progressFor('peers');

interface DirectRun {
  peer: string;
  round: number;
  mode: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  cpuMs: number;
  bad: number;
}

async function main(): Promise<void> {
  const rounds = Number(arg('rounds', '3'));
  const seconds = Number(arg('seconds', '8'));
  const rates = arg('rates', '50,200').split(',').map(Number);
  const connections = Number(arg('connections', '8'));
  const pairs = Number(arg('pairs', '40'));
  const only = arg('only', 'podfence,pepr,gatekeeper,kyverno').split(',');
  const unknown = only.filter(
    (p) => !['podfence', 'pepr', 'gatekeeper', 'kyverno', 'kyverno-mpol', 'kyverno-cpol'].includes(p),
  );
  if (unknown.length) throw new Error(`--only: unknown peer(s) ${unknown.join(', ')}`);
  if (only.filter((p) => p.startsWith('kyverno')).length > 1) {
    throw new Error(
      '--only: one Kyverno policy type per run (kyverno = kyverno-mpol, or kyverno-cpol): see startKyverno',
    );
  }

  // 1. the peers, built once into ~/.cache/podfence/peers; the control plane
  const wanted = only.filter((p) => p !== 'podfence').map((p) => (p.startsWith('kyverno') ? 'kyverno' : p));
  const { ctx, cluster } = await startBenchCluster('peers', wanted.length ? wanted : ['kwok']);
  const running: Running[] = [];
  try {
    const names = ['none', 'podfence', 'podfence-vap', 'pepr', 'gatekeeper', 'kyverno-cpol', 'kyverno-mpol'];
    for (const n of names) {
      await createNamespace(ctx, nsOf(n), {
        [PEER_LABEL]: n,
        ...(n === 'podfence-vap' ? { 'podfence.dev/profile': 'bench' } : {}),
      });
    }
    const starters: Record<string, () => Promise<Running>> = {
      podfence: () => startPodfence(ctx, true),
      gatekeeper: () => startGatekeeper(ctx),
      kyverno: () => startKyverno(ctx, 'mpol'),
      'kyverno-mpol': () => startKyverno(ctx, 'mpol'),
      'kyverno-cpol': () => startKyverno(ctx, 'cpol'),
      pepr: () => startPepr(ctx),
    };
    for (const name of only) {
      progress(`starting ${name} (pinned to CPU 0)`);
      running.push(await starters[name]!());
    }
    const peers: Peer[] = running.flatMap((r) => r.peers);
    const api = await podApi(cluster.kubeConfig);

    // 2. every peer's webhook is live, reaches only its own namespace, and sandboxes the pod
    const configs: WebhookConfiguration[] = [];
    for (const kind of ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations']) {
      configs.push(
        ...(JSON.parse(await kubectl(ctx, ['get', kind, '-o', 'json'])) as { items: WebhookConfiguration[] }).items,
      );
    }
    const routing: string[] = [];
    for (const n of names) {
      if (n !== 'none' && !peers.some((p) => p.name === n) && !(n === 'podfence-vap' && only.includes('podfence')))
        continue;
      const hooks = webhooksForPodCreate(configs, { [PEER_LABEL]: n, 'kubernetes.io/metadata.name': nsOf(n) });
      routing.push(`${nsOf(n)}: ${hooks.join(', ') || '(no webhook)'}`);
      if (n === 'none' ? hooks.length !== 0 : hooks.length !== 1) {
        throw new Error(`webhook routing is not one-to-one: ${nsOf(n)} reaches ${hooks.join(', ') || 'nothing'}`);
      }
    }
    progress(`logs and scrapes in ${ctx.dir}`);
    progress(`webhooks a pod create reaches:\n  ${routing.join('\n  ')}`);
    const sandboxed = (p: {
      metadata?: { annotations?: Record<string, string> };
      spec?: { containers?: { command?: string[] }[] };
    }) =>
      Boolean(p.metadata?.annotations?.['podfence.dev/applied']) &&
      (p.spec?.containers ?? []).every((c) => c.command?.[0] === '/podfence/podfence-init');
    const measuredNs = [...peers.map((p) => p.name), ...(only.includes('podfence') ? ['podfence-vap'] : [])];
    for (const n of [...measuredNs, 'none']) {
      // Retried while the namespace lacks its ServiceAccount or the peer does not serve its webhook yet (probe.ts);
      // any other refusal ends the run at once.
      let pod: Awaited<ReturnType<typeof api.create>>['pod'] | undefined;
      for (const deadline = Date.now() + 180_000; !pod;) {
        try {
          pod = (await api.create(nsOf(n), benchPod('probe'), true)).pod;
        } catch (err) {
          if (!probeNotReady(String(err)) || Date.now() > deadline) {
            throw new Error(`the probe pod create in ${nsOf(n)} failed: ${String(err).slice(0, 600)}`);
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      if (sandboxed(pod!) !== (n !== 'none'))
        throw new Error(`dry-run pod in ${nsOf(n)}: sandboxed=${sandboxed(pod!)}`);
    }
    // The pod as the apiserver hands it to a webhook: defaulted, with the ServiceAccount token volume.
    const { pod: asAdmitted } = await api.create(nsOf('none'), benchPod('bench'), true);
    delete (asAdmitted as { status?: unknown }).status;

    // 3. direct AdmissionReviews
    const { default: autocannon } = await import('autocannon');
    const bodies = new Map(peers.map((p) => [p.name, podCreateReview(asAdmitted, p.namespace)]));
    const answers: string[] = [];
    for (const p of peers) {
      const r = await postOnce(p.url, bodies.get(p.name)!);
      const o = reviewOutcome(r);
      answers.push(
        `${p.name}: allowed=${o.allowed}, ${o.ops} patch ops, ${o.patchBytes} base64 bytes${o.message ? `, ${o.message}` : ''}`,
      );
      if (!o.allowed || o.ops === 0) throw new Error(`${p.name} did not mutate the direct review: ${answers.at(-1)}`);
      await autocannon({
        url: p.url,
        method: 'POST',
        body: bodies.get(p.name)!,
        headers: { 'content-type': 'application/json' },
        connections: 2,
        duration: 3,
      });
    }
    progress(`direct answers:\n  ${answers.join('\n  ')}`);
    const modes = [
      ...rates.map((rate) => ({ label: `${rate}/s`, connections: 2, overallRate: rate })),
      { label: 'unthrottled', connections, overallRate: undefined as number | undefined },
    ];
    const direct: DirectRun[] = [];
    const load0 = loadavg()[0]!;
    for (const { round, item: p } of interleave(peers, rounds)) {
      for (const m of modes) {
        const pid = p.pid();
        const before = cpuTicks(pid);
        const r = await autocannon({
          url: p.url,
          method: 'POST',
          body: bodies.get(p.name)!,
          headers: { 'content-type': 'application/json' },
          connections: m.connections,
          duration: seconds,
          ...(m.overallRate ? { overallRate: m.overallRate } : {}),
        });
        let cpuMs = NaN; // NaN when the process went away during the run (Pepr's dev mode restarting its module)
        try {
          if (pid === p.pid()) cpuMs = cpuMsPerRequest(before, cpuTicks(pid), r.requests.total);
        } catch {
          progress(`${p.name}: its process went away during the run; its CPU time is not counted`);
        }
        direct.push({
          peer: p.name,
          round,
          mode: m.label,
          reqPerSec: r.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          cpuMs,
          bad: r.errors + r.non2xx,
        });
        progress(
          `round ${round + 1}/${rounds} ${p.name} ${m.label}: ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, CPU ${cpuMs.toFixed(3)} ms/req`,
        );
      }
    }
    const load1 = loadavg()[0]!;

    // 4. pod creates through the apiserver, with each webhook vs none, alternating
    const viaApi = [...measuredNs];
    const creates: Record<string, { with: number[]; without: number[] }> = {};
    let seq = 0;
    for (const { round, item: n } of interleave(viaApi, rounds)) {
      const c = (creates[n] ??= { with: [], without: [] });
      for (const [i, order] of alternatingPairs(pairs + (round === 0 ? 5 : 0)).entries()) {
        for (const side of order) {
          const ns = side === 'with' ? nsOf(n) : nsOf('none');
          const { pod, ms } = await api.create(ns, benchPod(`p-${seq++}`));
          if (sandboxed(pod) !== (side === 'with'))
            throw new Error(`pod ${pod.metadata?.name} in ${ns}: wrong mutation`);
          if (round > 0 || i >= 5) c[side].push(ms); // 5 warm-up pairs per peer
        }
      }
      progress(`round ${round + 1}/${rounds} ${n}: ${pairs} pod-create pairs`);
    }

    // 4b. where the time goes: blocks of creates with one webhook, then with none, the apiserver's own histograms
    // (and podfence's handler histogram) scraped around each block, on a separate connection.
    const diagN = Number(arg('diagnose', '20'));
    const metricsApi = await kubeRequester(cluster.kubeConfig);
    const diag: {
      ns: string;
      side: 'with' | 'without';
      d: Breakdown;
      clientMs: number[];
      conns: number;
      handlerMs: number;
    }[] = [];
    for (const n of diagN > 0 ? viaApi : []) {
      const peer = peers.find((p) => p.name === (n === 'podfence-vap' ? 'podfence' : n))!;
      const port = Number(new URL(peer.url).port);
      for (const side of ['without', 'with'] as const) {
        const ns = side === 'with' ? nsOf(n) : nsOf('none');
        const handler = async () =>
          peer.metricsUrl
            ? sumCount(await httpText(peer.metricsUrl), 'controller_runtime_webhook_latency_seconds')
            : undefined;
        const h0 = await handler();
        const b0 = breakdownOf(await metricsApi.getText('/metrics'));
        const conns = new Set<number>(connectionsTo(port));
        const clientMs: number[] = [];
        for (let i = 0; i < diagN; i++) {
          const { pod, ms } = await api.create(ns, benchPod(`d-${seq++}`));
          if (sandboxed(pod) !== (side === 'with'))
            throw new Error(`pod ${pod.metadata?.name} in ${ns}: wrong mutation`);
          clientMs.push(ms);
          if (i === diagN - 1) writeFileSync(join(ctx.dir, `pod-${n}-${side}.json`), JSON.stringify(pod, null, 1));
          for (const c of connectionsTo(port)) conns.add(c);
        }
        const scrape = await metricsApi.getText('/metrics');
        const d = breakdownDelta(breakdownOf(scrape), b0);
        // kept for a closer look: the last scrape and the pod as stored
        writeFileSync(join(ctx.dir, `apiserver-metrics-${n}-${side}.txt`), scrape);
        const h1 = await handler();
        diag.push({
          ns: n,
          side,
          d,
          clientMs,
          conns: side === 'with' ? conns.size : NaN,
          handlerMs: h0 && h1 ? ((h1.sum - h0.sum) * 1000) / diagN : NaN,
        });
      }
      progress(`breakdown ${n}: ${diagN} creates with its webhook, ${diagN} without`);
    }
    metricsApi.close();
    api.close();

    // 5. report
    const out: string[] = [];
    const cpuModel = cpus()[0]?.model ?? '?';
    out.push(
      `machine: ${cpus().length} CPUs (${cpuModel}), load average ${load0.toFixed(1)} -> ${load1.toFixed(1)} during (a)`,
    );
    out.push(`direct answers: ${answers.join('; ')}`);
    out.push(
      '',
      `(a) the same AdmissionReview POSTed to each server on CPU 0, ${rounds} rounds x ${seconds} s per mode, medians over rounds`,
      '',
    );
    out.push(
      `| server | ${modes.map((m) => `${m.label}: req/s, p50/p99 ms`).join(' | ')} | CPU per admission (ms), unthrottled | admissions/s per core | errors |`,
    );
    out.push(`|---|${modes.map(() => '---:').join('|')}|---:|---:|---:|`);
    const cpuOf: Record<string, number> = {};
    for (const p of peers) {
      const runs = direct.filter((d) => d.peer === p.name);
      const cells = modes.map((m) => {
        const rs = runs.filter((d) => d.mode === m.label);
        return `${fmt(median(rs.map((d) => d.reqPerSec)))}, ${fmt(median(rs.map((d) => d.p50)))}/${fmt(median(rs.map((d) => d.p99)))}`;
      });
      const cpu = median(runs.filter((d) => d.mode === 'unthrottled' && Number.isFinite(d.cpuMs)).map((d) => d.cpuMs));
      cpuOf[p.name] = cpu;
      out.push(
        `| ${p.name} | ${cells.join(' | ')} | ${cpu.toFixed(3)} | ${(1000 / cpu).toFixed(0)} | ${runs.reduce((a, d) => a + d.bad, 0)} |`,
      );
    }
    out.push(
      '',
      `CPU per admission at every mode and round (ms): ${peers
        .map(
          (p) =>
            `${p.name} ${direct
              .filter((d) => d.peer === p.name)
              .map((d) => d.cpuMs.toFixed(2))
              .join('/')}`,
        )
        .join('; ')}`,
    );
    out.push(
      '',
      `(b) pod creates through kube-apiserver, ${pairs * rounds} alternating pairs per webhook (with / without)`,
      '',
    );
    out.push('| webhook | with: p50 / p99 (ms) | without: p50 / p99 (ms) | ratio p50 | ratio p99 |');
    out.push('|---|---:|---:|---:|---:|');
    for (const n of viaApi) {
      const w = summarize(creates[n]!.with);
      const wo = summarize(creates[n]!.without);
      out.push(
        `| ${n} | ${fmt(w.p50)} / ${fmt(w.p99)} | ${fmt(wo.p50)} / ${fmt(wo.p99)} | ${(w.p50 / wo.p50).toFixed(2)} | ${(w.p99 / wo.p99).toFixed(2)} |`,
      );
    }
    if (diag.length) {
      const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
      out.push(
        '',
        `(b2) where a create's time goes: ${diagN} creates per block, apiserver histograms (ms per create, means)`,
        '',
        '| webhook | block | client | apiserver POST /pods | of it webhook calls (calls/create) | webhook handler itself | mutating step | validating step (of it the ValidatingAdmissionPolicy plugin) | etcd create | apiserver connections to the webhook |',
        '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      );
      for (const x of diag) {
        const per = (k: Parameters<typeof msPerCreate>[1]) => msPerCreate(x.d, k, diagN);
        out.push(
          `| ${x.ns} | ${x.side} | ${f(x.clientMs.reduce((a, b) => a + b, 0) / diagN)} | ${f(per('request'))} | ${f(per('webhookAdmit'))} (${f(x.d.webhookAdmit.count / diagN)}) | ${f(x.handlerMs)} | ${f(per('admitStep'))} | ${f(per('validateStep'))} (${f(per('vapCheck'))}) | ${f(per('etcdCreate'))} | ${Number.isFinite(x.conns) ? x.conns : '-'} |`,
        );
      }
    }
    out.push('');
    const others = peers.filter((p) => p.name !== 'podfence').map((p) => ({ name: p.name, ms: cpuOf[p.name]! }));
    out.push(peersLastLine(cpuOf['podfence'] ?? NaN, others));
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    for (const r of running.reverse()) await r.stop().catch(() => undefined);
    await cluster.stop();
  }
}

function httpText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d));
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });
}

async function postOnce(url: string, body: string): Promise<string> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' }, rejectUnauthorized: false },
      (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d));
        res.on('end', () => resolve(b));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

if (!process.env.PODFENCE_BENCH_PINNED) {
  // The driver (load generator, pod creates) runs on CPU 1, away from the servers on CPU 0.
  const c = spawn('taskset', ['-c', '1', process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, PODFENCE_BENCH_PINNED: '1' },
  });
  const [code] = (await once(c, 'exit')) as [number];
  process.exit(code);
} else {
  await main();
  process.exit(0);
}
