// podfence's webhook server for the peer benchmark, in its own process (started pinned to one CPU): the real
// createWebhookServer (TLS, AdmissionReview handling, mutation, JSONPatch, metrics) with the bench
// profile compiled from its SandboxProfile, the real entrypoint resolver (never called: the bench pod sets
// `command` in every container, since the peers cannot resolve image entrypoints), and the production logger at its
// default level (LOG_LEVEL, default info: one line per admission, as deployed) writing to stdout (a file here).
// Namespace -> profile comes from a fixed map instead of the informer (both are a Map lookup per request).
// Writes {port, caBundle, metricsPort} to $PODFENCE_BENCH_READY_FILE once it serves.
import { once } from 'node:events';
import { renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../src/common/log.js';
import { RegistryClient } from '../../src/registry/client.js';
import { entrypointResolver } from '../../src/webhook/image-entrypoints.js';
import { serveBenchWebhook } from '../bench-webhook.js';

async function main(readyFile: string): Promise<void> {
  const namespaces = new Set((process.env.PODFENCE_BENCH_NAMESPACES ?? 'bench-podfence').split(','));
  const server = await serveBenchWebhook({
    log: createLogger('webhook'),
    optedIn: (ns) => namespaces.has(ns),
    resolveEntrypoints: entrypointResolver(new RegistryClient({}), async () => []),
    excludedNamespaces: ['kube-system'],
  });
  // Its own metrics (the handler's latency histogram) on loopback, so the benchmark can set the time the apiserver
  // waits for a call beside the time the handler took.
  const metrics = createServer((_req, res) => {
    void server.registry.metrics().then((text) => res.end(text));
  });
  await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', resolve));
  const metricsPort = (metrics.address() as AddressInfo).port;
  const ready = JSON.stringify({ port: server.port, caBundle: server.caBundle, metricsPort });
  writeFileSync(`${readyFile}.tmp`, ready);
  renameSync(`${readyFile}.tmp`, readyFile);
  await once(process, 'SIGTERM');
  metrics.close();
  await server.close();
  process.exit(0);
}

const readyFile = process.env.PODFENCE_BENCH_READY_FILE;
if (!readyFile) throw new Error('PODFENCE_BENCH_READY_FILE must name the file to write {port, caBundle} to');
await main(readyFile);
