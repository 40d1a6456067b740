import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { readFileSync } from 'node:fs';
import { keepCertsFresh, SelfManagedCerts, watchCertDir } from '../certs/manager.js';
import { RegistryClient, type RegistryClientOptions } from '../registry/client.js';
import { entrypointResolver, kubePullSecrets } from './image-entrypoints.js';
import { InformerLookups } from './lookups.js';
import { createWebhookServer } from './server.js';
import type { WebhookPolicy } from './types.js';

export type CertSource =
  | {
      kind: 'self-managed';
      secretName: string;
      serviceName: string;
      mutatingWebhooks: string[];
      ipAddresses?: string[];
      refreshMs?: number;
    }
  | { kind: 'dir'; dir: string }
  | { kind: 'static'; cert: string; key: string };

export interface WebhookOptions {
  kubeConfig: KubeConfig;
  /** The operator's namespace: never mutated, holds the certificate Secret. */
  namespace: string;
  log: Logger;
  metrics: Registry;
  policy: WebhookPolicy;
  registry?: RegistryClientOptions;
  certs: CertSource;
  port: number;
  host?: string;
  /** File holding the caller token (answer reviews only at /mutate/<token>); re-read when a request misses. */
  callerTokenFile?: string;
}

export interface RunningWebhook {
  port: number;
  lookups: InformerLookups;
  registryClient: RegistryClient;
  /** For /readyz: caches synced and serving. */
  health(): string | undefined;
  stop(): Promise<void>;
}

/** Wires informers, registry client, certificates and the HTTPS server together (CLI and tests). */
export async function startWebhook(o: WebhookOptions): Promise<RunningWebhook> {
  const lookups = new InformerLookups(o.kubeConfig, o.log);
  const registryClient = new RegistryClient({ log: o.log.child({ part: 'registry' }), ...o.registry });
  lookups.start();

  let cert: string;
  let key: string;
  let stopCerts = () => undefined as void;
  let onCert: (c: { cert: string; key: string }) => void = () => undefined;
  if (o.certs.kind === 'static') {
    ({ cert, key } = o.certs);
  } else if (o.certs.kind === 'dir') {
    const w = watchCertDir(o.certs.dir, (c) => onCert(c), o.log);
    ({ cert, key } = w.first);
    stopCerts = w.stop;
  } else {
    const manager = new SelfManagedCerts({
      kubeConfig: o.kubeConfig,
      namespace: o.namespace,
      secretName: o.certs.secretName,
      serviceName: o.certs.serviceName,
      mutatingWebhooks: o.certs.mutatingWebhooks,
      ipAddresses: o.certs.ipAddresses,
      log: o.log,
    });
    const k = keepCertsFresh(manager, (c) => onCert(c), o.certs.refreshMs ?? 3_600_000, o.log);
    ({ cert, key } = await k.first);
    stopCerts = k.stop;
  }

  const callerToken = o.callerTokenFile ? fileToken(o.callerTokenFile) : undefined;
  const server = createWebhookServer({
    cert,
    key,
    callerToken,
    registry: o.metrics,
    log: o.log,
    deps: {
      lookups,
      policy: o.policy,
      resolveEntrypoints: entrypointResolver(registryClient, kubePullSecrets(o.kubeConfig, o.log)),
      excludedNamespaces: [o.namespace, 'kube-system'],
    },
  });
  onCert = (c) => server.setCertificate(c.cert, c.key);
  // Serve only with warm caches: an empty cache would admit pods of opted-in namespaces untouched.
  await lookups.waitForSync();
  const port = await server.listen(o.port, o.host);
  o.log.info({ port }, 'webhook serving');
  return {
    port,
    lookups,
    registryClient,
    health: () => lookups.health(),
    async stop() {
      stopCerts();
      await server.close();
      await lookups.stop();
    },
  };
}

/** The caller token from a file (a mounted Secret), read once and again on demand; unreadable: "" (matches nothing). */
function fileToken(path: string): { get(): string; reload(): string } {
  const read = () => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return '';
    }
  };
  let current = read();
  if (!current) throw new Error(`caller token file ${path} is empty or unreadable`);
  return {
    get: () => current,
    reload: () => (current = read() || current),
  };
}
