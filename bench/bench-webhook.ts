// podfence's real webhook server as the benchmarks run it (bench/webhook.ts, bench/peers/podfence-serve.ts): the
// bench SandboxProfile compiled as the controller would, a fresh CA and a serving certificate for 127.0.0.1, the
// real createWebhookServer (TLS, AdmissionReview handling, mutation, JSONPatch, metrics) listening on loopback.
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { createCA, issueServingCert } from '../src/certs/issue.js';
import { profileInfoOf } from '../src/webhook/lookups.js';
import { createWebhookServer } from '../src/webhook/server.js';
import type { HandlerDeps } from '../src/webhook/admission.js';

/** The profile every webhook benchmark sandboxes its pod with (the peers' policies are its equivalent). */
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

export interface BenchWebhookOptions {
  log: Logger;
  /** Which namespaces the profile applies to (stands in for the namespace informer: a lookup either way). */
  optedIn(namespace: string): boolean;
  resolveEntrypoints: HandlerDeps['resolveEntrypoints'];
  excludedNamespaces?: string[];
}

/** Serve the webhook on 127.0.0.1 (a free port); `caBundle` is the CA, base64, as a webhook configuration wants. */
export async function serveBenchWebhook(o: BenchWebhookOptions) {
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
  const registry = new Registry();
  const server = createWebhookServer({
    cert: leaf.cert,
    key: leaf.key,
    registry,
    log: o.log,
    deps: {
      lookups: {
        namespaceProfile: (ns) => (o.optedIn(ns) ? 'bench' : undefined),
        profile: (name) => (name === 'bench' ? lookup : undefined),
      },
      policy: { onWeakening: 'deny', onUnresolvedEntrypoint: 'deny', initImage: 'localhost/podfence/init:dev' },
      resolveEntrypoints: o.resolveEntrypoints,
      excludedNamespaces: o.excludedNamespaces ?? [],
    },
  });
  const port = await server.listen(0, '127.0.0.1');
  return { port, caBundle: Buffer.from(ca.cert).toString('base64'), registry, close: () => server.close() };
}
