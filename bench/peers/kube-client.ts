// A minimal keep-alive HTTPS client for the benchmarks: persistent connections to kube-apiserver, so a timed
// request measures the apiserver (admission, webhooks, storage), not the client's TLS handshakes.
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface PodLike {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { containers?: { name: string; command?: string[] }[] };
}

export interface KubeRequester {
  /** Sends a request; resolves with the parsed answer and the client-observed milliseconds, rejects on non-2xx. */
  request<T = unknown>(
    method: string,
    path: string,
    body?: object,
    contentType?: string,
  ): Promise<{ body: T; ms: number }>;
  /** GET returning the body as text (e.g. /metrics). */
  getText(path: string): Promise<string>;
  close(): void;
}

export async function kubeRequester(kc: KubeConfig, maxSockets = 1): Promise<KubeRequester> {
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const server = new URL(kc.getCurrentCluster()!.server);
  const agent = new https.Agent({ keepAlive: true, maxSockets, ca: opts.ca, cert: opts.cert, key: opts.key });
  const request = <T>(method: string, path: string, body?: object, contentType = 'application/json') =>
    new Promise<{ body: T; ms: number }>((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const t0 = process.hrtime.bigint();
      const req = https.request(
        {
          agent,
          host: server.hostname,
          port: server.port,
          method,
          path,
          headers: data === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(data) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            const text = Buffer.concat(chunks).toString();
            if (!res.statusCode || res.statusCode >= 300) {
              reject(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 500)}`));
              return;
            }
            resolve({ body: JSON.parse(text) as T, ms });
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  const getText = (path: string) =>
    new Promise<string>((resolve, reject) => {
      https
        .get({ agent, host: server.hostname, port: server.port, path }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200) reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
            else resolve(text);
          });
        })
        .on('error', reject);
    });
  return { request, getText, close: () => agent.destroy() };
}

export interface PodApi {
  /** POSTs a pod; resolves with the created object and the client-observed milliseconds. */
  create(namespace: string, pod: object, dryRun?: boolean): Promise<{ pod: PodLike; ms: number }>;
  close(): void;
}

export async function podApi(kc: KubeConfig): Promise<PodApi> {
  const k = await kubeRequester(kc);
  return {
    async create(namespace, pod, dryRun = false) {
      const path = `/api/v1/namespaces/${namespace}/pods${dryRun ? '?dryRun=All' : ''}`;
      const { body, ms } = await k.request<PodLike>('POST', path, pod);
      return { pod: body, ms };
    },
    close: k.close,
  };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
