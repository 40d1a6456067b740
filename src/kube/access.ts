import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

// How a process reaches the apiserver: a base URL, one keep-alive agent (TLS material set once) and the headers of
// each request (a bearer token re-read from its file, since projected service-account tokens rotate).
// `@kubernetes/client-node` costs ~55 MiB of RSS just to import (its 2,500 generated models load with its
// KubeConfig), about a third of the controller's 150 MiB budget, and makes a fresh agent (a fresh TLS handshake)
// for every request. The controller therefore talks to the apiserver through this and rest.ts only; a client-node
// KubeConfig (tests, or a kubeconfig this loader does not handle) is adapted by `accessFromKubeConfig`.

export interface KubeAccess {
  /** e.g. `https://10.0.0.1:443`, without a trailing slash. */
  readonly server: string;
  readonly agent: http.Agent;
  /** Headers for the next request (Authorization, Impersonate-User). */
  headers(): Promise<Record<string, string>>;
}

/** Either a KubeAccess or anything shaped like client-node's KubeConfig (only its instance methods are used). */
export type KubeConnection = KubeAccess | Pick<KubeConfig, 'getCurrentCluster' | 'applyToHTTPSOptions'>;

const cache = new WeakMap<object, KubeAccess>();

/** The KubeAccess of `conn` (one per KubeConfig object, so all its users share one agent). */
export function toAccess(conn: KubeConnection): KubeAccess {
  if ('server' in conn && 'agent' in conn) return conn;
  let access = cache.get(conn);
  if (!access) cache.set(conn, (access = accessFromKubeConfig(conn)));
  return access;
}

function agentFor(server: string, tls: https.AgentOptions): http.Agent {
  const common = { keepAlive: true, maxSockets: 32, maxFreeSockets: 4 };
  return server.startsWith('http:') ? new http.Agent(common) : new https.Agent({ ...common, ...tls });
}

/** Adapts a client-node KubeConfig: its TLS material once, its auth headers per request (exec plugins, tokens). */
export function accessFromKubeConfig(kc: Pick<KubeConfig, 'getCurrentCluster' | 'applyToHTTPSOptions'>): KubeAccess {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig: no current cluster');
  const server = cluster.server.replace(/\/+$/, '');
  const tls: https.AgentOptions = {};
  // applyToHTTPSOptions is async only for its auth providers; the TLS fields are filled synchronously first.
  void kc.applyToHTTPSOptions(tls as never).catch(() => undefined);
  const agent = agentFor(server, {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    servername: tls.servername,
    ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
  });
  return {
    server,
    agent,
    async headers() {
      const opts: { headers?: Record<string, string>; auth?: string } = {};
      await kc.applyToHTTPSOptions(opts as never);
      const h = { ...(opts.headers ?? {}) };
      if (opts.auth) h.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      return h;
    },
  };
}

// --- the loader ------------------------------------------------------------------------------------------------

interface RawKubeconfig {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  clusters?: {
    name: string;
    cluster?: {
      server?: string;
      'certificate-authority'?: string;
      'certificate-authority-data'?: string;
      'insecure-skip-tls-verify'?: boolean;
      'tls-server-name'?: string;
      'proxy-url'?: string;
    };
  }[];
  users?: { name: string; user?: Record<string, unknown> }[];
}

/** User fields this loader handles; anything else (exec, auth-provider, basic auth...) goes to client-node. */
const SIMPLE_USER_FIELDS = new Set([
  'token',
  'tokenFile',
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'as',
]);

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * A KubeAccess from a kubeconfig's text, or `undefined` when it uses something only client-node handles (exec or
 * auth-provider users, basic auth, a proxy): the caller then falls back to client-node. Relative file paths are
 * resolved against `baseDir`. Errors name the field.
 */
export function accessFromKubeconfigText(
  text: string,
  parse: (text: string) => unknown,
  baseDir: string,
): KubeAccess | undefined {
  const doc = (parse(text) ?? {}) as RawKubeconfig;
  const ctxName = doc['current-context'];
  if (!ctxName) throw new Error('kubeconfig: current-context is not set');
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new Error(`kubeconfig: contexts: no context named "${ctxName}"`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`kubeconfig: clusters: no cluster "${ctx.cluster}" with a server`);
  const user = (doc.users?.find((u) => u.name === ctx.user)?.user ?? {}) as Record<string, string | undefined>;
  if (cluster['proxy-url'] || Object.keys(user).some((k) => !SIMPLE_USER_FIELDS.has(k))) return undefined;
  const file = (p: string) => readFileSync(p.startsWith('/') ? p : `${baseDir}/${p}`);
  const data = (b64: string) => Buffer.from(b64, 'base64');
  const pick = (path: string | undefined, b64: string | undefined) => (path ? file(path) : b64 ? data(b64) : undefined);
  const server = cluster.server.replace(/\/+$/, '');
  const agent = agentFor(server, {
    ca: pick(cluster['certificate-authority'], cluster['certificate-authority-data']),
    cert: pick(user['client-certificate'], user['client-certificate-data']),
    key: pick(user['client-key'], user['client-key-data']),
    ...(cluster['tls-server-name'] ? { servername: cluster['tls-server-name'] } : {}),
    ...(cluster['insecure-skip-tls-verify'] ? { rejectUnauthorized: false } : {}),
  });
  const tokenFile = user.tokenFile;
  return {
    server,
    agent,
    headers: () => {
      const h: Record<string, string> = {};
      const token = tokenFile ? file(tokenFile).toString('utf8').trim() : user.token;
      if (token) h.Authorization = `Bearer ${token}`;
      if (user.as) h['Impersonate-User'] = user.as;
      return Promise.resolve(h);
    },
  };
}

/** In-cluster: the service account's token (re-read each request: it rotates) and CA. */
export function inClusterAccess(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubeAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('in-cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT not set');
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    server,
    agent: agentFor(server, { ca: readFileSync(`${dir}/ca.crt`) }),
    headers: () => Promise.resolve({ Authorization: `Bearer ${readFileSync(`${dir}/token`, 'utf8').trim()}` }),
  };
}
