// podfence's webhook server for the peer benchmark, in its own process (started pinned to one CPU): the real
// createWebhookServer (express over TLS, AdmissionReview handling, mutation, JSONPatch, metrics) with the bench
// profile compiled from its SandboxProfile, the real entrypoint resolver (never called: the bench pod sets
// `command` in every container, since the peers cannot resolve image entrypoints), and the production logger at its
// default level (LOG_LEVEL, default info: one line per admission, as deployed) writing to stdout (a file here).
// Namespace -> profile comes from a fixed map instead of the informer (both are a Map lookup per request).
// Writes {port, caBundle} to $PODFENCE_BENCH_READY_FILE once it serves.
import { once } from 'node:events';
import { renameSync, writeFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { createCA, issueServingCert } from '../../src/certs/issue.js';
import { createLogger } from '../../src/common/log.js';
import { RegistryClient } from '../../src/registry/client.js';
import { entrypointResolver } from '../../src/webhook/image-entrypoints.js';
import { profileInfoOf } from '../../src/webhook/lookups.js';
import { createWebhookServer } from '../../src/webhook/server.js';

export const BENCH_PROFILE = {
  apiVersion: 'podfence.dev/v1alpha1',
  kind: 'SandboxProfile',
  metadata: { name: 'bench' },
  spec: {
    preset: 'network-server',
    capabilities: { keep: ['NET_BIND_SERVICE'] },
    landlock: {
      readOnly: ['/etc', '/usr/share'],
      readWrite: ['/tmp'],
      trustVolumes: true,
      tcp: { bind: [8080], connect: [443] },
    },
  },
};

async function main(readyFile: string): Promise<void> {
  const namespaces = new Set((process.env.PODFENCE_BENCH_NAMESPACES ?? 'bench-podfence').split(','));
  const info = profileInfoOf(BENCH_PROFILE);
  if (!info.ok) throw new Error(info.error);
  const lookup = { ok: true as const, profile: { ...info.profile, ready: true } };
  const ca = await createCA('bench-ca', 1);
  const leaf = await issueServingCert(ca, {
    commonName: 'bench',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    days: 1,
  });
  const server = createWebhookServer({
    cert: leaf.cert,
    key: leaf.key,
    registry: new Registry(),
    log: createLogger('webhook'),
    deps: {
      lookups: {
        namespaceProfile: (ns) => (namespaces.has(ns) ? 'bench' : undefined),
        profile: (name) => (name === 'bench' ? lookup : undefined),
      },
      policy: { onWeakening: 'deny', onUnresolvedEntrypoint: 'deny', initImage: 'localhost/podfence/init:dev' },
      resolveEntrypoints: entrypointResolver(new RegistryClient({}), async () => []),
      excludedNamespaces: ['kube-system'],
    },
  });
  const port = await server.listen(0, '127.0.0.1');
  const ready = JSON.stringify({ port, caBundle: Buffer.from(ca.cert).toString('base64') });
  writeFileSync(`${readyFile}.tmp`, ready);
  renameSync(`${readyFile}.tmp`, readyFile);
  await once(process, 'SIGTERM');
  await server.close();
  process.exit(0);
}

const readyFile = process.env.PODFENCE_BENCH_READY_FILE;
if (!readyFile) throw new Error('PODFENCE_BENCH_READY_FILE must name the file to write {port, caBundle} to');
await main(readyFile);
