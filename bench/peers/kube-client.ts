// A minimal keep-alive HTTPS client for timing pod creates: one persistent connection to kube-apiserver, so the
// measured time is the apiserver's (admission, webhooks, storage), not TLS handshakes of the client.
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface PodApi {
  /** POSTs a pod; resolves with the created object and the client-observed milliseconds. */
  create(namespace: string, pod: object, dryRun?: boolean): Promise<{ pod: PodLike; ms: number }>;
  close(): void;
}

export interface PodLike {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { containers?: { name: string; command?: string[] }[] };
}

export async function podApi(kc: KubeConfig): Promise<PodApi> {
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const server = new URL(kc.getCurrentCluster()!.server);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: opts.ca, cert: opts.cert, key: opts.key });
  const create = (namespace: string, pod: object, dryRun = false) =>
    new Promise<{ pod: PodLike; ms: number }>((resolve, reject) => {
      const body = JSON.stringify(pod);
      const t0 = process.hrtime.bigint();
      const req = https.request(
        {
          agent,
          host: server.hostname,
          port: server.port,
          method: 'POST',
          path: `/api/v1/namespaces/${namespace}/pods${dryRun ? '?dryRun=All' : ''}`,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 201 && res.statusCode !== 200) {
              reject(new Error(`pod create in ${namespace}: HTTP ${res.statusCode}: ${text.slice(0, 500)}`));
              return;
            }
            resolve({ pod: JSON.parse(text) as PodLike, ms });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { create, close: () => agent.destroy() };
}
