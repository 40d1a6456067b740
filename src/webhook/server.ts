import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
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
  /**
   * The caller check: when set, reviews are answered only at `/mutate/<token>`, the path the webhook configuration
   * (readable by cluster admins only) gives the apiserver; anyone else gets the same 404 as for an unknown route and
   * learns nothing about any namespace. `reload` re-reads the token (rotated Secret) when a request does not match.
   */
  callerToken?: { get(): string; reload(): string };
}

function sameToken(given: string, want: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return want.length > 0 && a.length === b.length && timingSafeEqual(a, b);
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

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The request body as JSON: at most `limit` bytes, no content encoding; anything else is an HttpError (4xx). */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') return reject(new HttpError(415, `unsupported content encoding "${encoding}"`));
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limit) return reject(new HttpError(413, 'request entity too large'));
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new HttpError(413, 'request entity too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      failed = true;
      reject(new HttpError(400, err.message));
    });
    req.on('end', () => {
      if (failed) return;
      try {
        resolve(JSON.parse(Buffer.concat(chunks, size).toString('utf8')));
      } catch (err) {
        reject(new HttpError(400, `body is not JSON: ${(err as Error).message}`));
      }
    });
  });
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A bare node:https handler: POST /mutate (any query, e.g. the apiserver's `?timeout=10s`). Bad bodies get a 4xx,
 * never a crash; handler bugs fail closed. No framework: routing one path and parsing one JSON body by hand saves
 * about a tenth of each admission's CPU that express and body-parser took (docs/benchmarks.md).
 */
export function createWebhookServer(opts: WebhookServerOptions): WebhookServer {
  const m = metrics(opts.registry);
  const log = opts.log;
  const limit = opts.maxBodyBytes ?? 8 * 1024 * 1024;

  const callerOk = (given: string | undefined): boolean => {
    const t = opts.callerToken;
    if (!t) return given === undefined;
    if (given === undefined) return false;
    return sameToken(given, t.get()) || sameToken(given, t.reload());
  };

  const mutateRequest = async (req: IncomingMessage, res: ServerResponse, token: string | undefined) => {
    const end = m.latency.startTimer({ webhook: '/mutate' });
    let code = 200;
    try {
      if (!callerOk(token)) {
        code = 404;
        req.resume();
        sendText(res, 404, 'not found\n');
        return;
      }
      let review;
      try {
        review = parseReview(await readJson(req, limit));
      } catch (err) {
        if (!(err instanceof BadRequest) && !(err instanceof HttpError)) throw err;
        code = err instanceof HttpError ? err.status : 400;
        m.results.inc({ webhook: '/mutate', result: 'error' });
        // An unread body (too large, wrong encoding) must not be taken for the next request on this connection.
        if (!req.complete) res.setHeader('connection', 'close');
        sendText(res, code, `${err.message}\n`);
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
      const body = JSON.stringify(reviewOf(response));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } catch (err) {
      code = 500;
      log.error({ err }, 'admission request failed');
      if (!res.headersSent) sendText(res, 500, 'internal error\n');
      else res.destroy();
    } finally {
      m.requests.inc({ code: String(code), webhook: '/mutate' });
      end();
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    // /mutate, or /mutate/<token> (one path segment) when the caller check is on.
    const token = path.startsWith('/mutate/') ? path.slice('/mutate/'.length) : undefined;
    if (req.method === 'POST' && (path === '/mutate' || (token !== undefined && !token.includes('/')))) {
      void mutateRequest(req, res, token);
      return;
    }
    req.resume();
    sendText(res, 404, 'not found\n');
  };

  const server = https.createServer({ cert: opts.cert, key: opts.key, minVersion: 'TLSv1.2' }, handle);
  server.headersTimeout = 10_000;
  // Keep idle connections longer than the apiserver does (client-go: 90 s): a server that closes first races the
  // apiserver reusing the connection, and the admission fails with "broken pipe" (seen in bench:scale's pod storm
  // after a 5 s lull with Node's default of 5 s).
  server.keepAliveTimeout = 120_000;
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
