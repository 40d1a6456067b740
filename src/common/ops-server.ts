import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';

/** A named check; `/readyz` (or `/healthz`) fails while any of its checks returns a non-empty reason. */
export type Check = () => string | undefined;

export interface OpsServer {
  readonly registry: Registry;
  addReadinessCheck(name: string, check: Check): void;
  addLivenessCheck(name: string, check: Check): void;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

/** Plain-HTTP server for probes and Prometheus metrics, kept apart from the webhook's TLS port. */
export function createOpsServer(registry = new Registry()): OpsServer {
  collectDefaultMetrics({ register: registry });
  const ready = new Map<string, Check>();
  const live = new Map<string, Check>();

  const runChecks = (checks: Map<string, Check>) => {
    const failures: string[] = [];
    for (const [name, check] of checks) {
      let reason: string | undefined;
      try {
        reason = check();
      } catch (err) {
        reason = String(err);
      }
      if (reason) failures.push(`${name}: ${reason}`);
    }
    return failures;
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/readyz') {
      const failures = runChecks(path === '/healthz' ? live : ready);
      res.writeHead(failures.length ? 503 : 200, { 'content-type': 'text/plain' });
      res.end(failures.length ? failures.join('\n') + '\n' : 'ok\n');
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        },
        (err) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
      return;
    }
    res.writeHead(404);
    res.end('not found\n');
  });

  return {
    registry,
    addReadinessCheck: (name, check) => void ready.set(name, check),
    addLivenessCheck: (name, check) => void live.set(name, check),
    listen: (port, host = '0.0.0.0') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
