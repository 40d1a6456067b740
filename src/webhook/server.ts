import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { BadRequest, mutate, parseReview, reviewOf, type AdmissionResponse, type HandlerDeps } from './admission.js';

export interface WebhookServerOptions {
  deps: HandlerDeps;
  cert: string | Buffer;
  key: string | Buffer;
  registry: Registry;
  log: Logger;
  /** Largest accepted request body (the apiserver caps objects at ~3 MiB; reviews carry two of them). */
  maxBodyBytes?: number;
}

export interface WebhookServer {
  listen(port: number, host?: string): Promise<number>;
  /** Swaps the serving certificate without dropping connections (rotation, cert-dir reload). */
  setCertificate(cert: string | Buffer, key: string | Buffer): void;
  close(): Promise<void>;
}

/** Metrics named like controller-runtime's, so existing dashboards work. */
function metrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'controller_runtime_webhook_requests_total',
      help: 'Admission requests by HTTP code and webhook path',
      labelNames: ['code', 'webhook'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'controller_runtime_webhook_latency_seconds',
      help: 'Time to answer an admission request',
      labelNames: ['webhook'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    results: new Counter({
      name: 'podfence_webhook_admissions_total',
      help: 'Admission decisions: allowed (untouched), mutated, denied, error',
      labelNames: ['webhook', 'result'],
      registers: [registry],
    }),
  };
}

/** express 5 over HTTPS: POST /mutate. Bad bodies get a 400, never a crash; handler bugs fail closed. */
export function createWebhookServer(opts: WebhookServerOptions): WebhookServer {
  const m = metrics(opts.registry);
  const log = opts.log;
  const app = express();
  app.disable('x-powered-by');
  // No ETag: nobody revalidates an AdmissionReview answer, and hashing each ~10 KB answer costs CPU per admission.
  app.disable('etag');
  app.use(express.json({ limit: opts.maxBodyBytes ?? 8 * 1024 * 1024, type: () => true }));

  app.post('/mutate', async (req: Request, res: Response) => {
    const end = m.latency.startTimer({ webhook: '/mutate' });
    let code = 200;
    try {
      let review;
      try {
        review = parseReview(req.body);
      } catch (err) {
        if (!(err instanceof BadRequest)) throw err;
        code = 400;
        m.results.inc({ webhook: '/mutate', result: 'error' });
        res.status(400).type('text/plain').send(`${err.message}\n`);
        return;
      }
      let response: AdmissionResponse;
      try {
        response = await mutate(review, opts.deps);
      } catch (err) {
        log.error({ err, uid: review.uid }, 'mutation failed');
        response = {
          uid: review.uid,
          allowed: false,
          status: { code: 500, message: `podfence: internal error while sandboxing the pod: ${String(err)}` },
        };
      }
      const result = !response.allowed
        ? response.status?.code === 403
          ? 'denied'
          : 'error'
        : response.patch
          ? 'mutated'
          : 'allowed';
      m.results.inc({ webhook: '/mutate', result });
      log.info(
        {
          uid: review.uid,
          namespace: review.namespace,
          name: (review.object as { metadata?: { name?: string; generateName?: string } } | undefined)?.metadata?.name,
          operation: review.operation,
          result,
          ...(response.allowed ? {} : { reason: response.status?.message }),
        },
        'admission',
      );
      res.json(reviewOf(response));
    } finally {
      m.requests.inc({ code: String(code), webhook: '/mutate' });
      end();
    }
  });

  // Body parser failures (malformed JSON, too large, bad encoding) and unknown routes.
  app.use((err: { status?: number; message?: string }, req: Request, res: Response, _next: NextFunction) => {
    const code = err.status && err.status >= 400 && err.status < 500 ? err.status : 400;
    m.requests.inc({ code: String(code), webhook: req.path });
    res
      .status(code)
      .type('text/plain')
      .send(`${err.message ?? 'bad request'}\n`);
  });
  app.use((req: Request, res: Response) => {
    res.status(404).type('text/plain').send('not found\n');
  });

  const server = https.createServer({ cert: opts.cert, key: opts.key, minVersion: 'TLSv1.2' }, app);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return {
    listen: (port, host = '0.0.0.0') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    setCertificate: (cert, key) => server.setSecureContext({ cert, key, minVersion: 'TLSv1.2' }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
