// Small network helpers for the harness: free ports, an HTTPS GET with client certificates, polling.
import { request } from 'node:https';
import { createServer } from 'node:net';

/** A currently free TCP port on `host` (the kernel picks it; the tiny race until reuse is acceptable in tests). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** The URL clients use: the bind address, unless it is the wildcard (then the advertised one, or loopback). */
export function apiserverUrlFor(bind: string, advertise: string | undefined, port: number): string {
  const host = bind === '0.0.0.0' ? (advertise ?? '127.0.0.1') : bind;
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export interface TlsClientOptions {
  ca?: string;
  cert?: string;
  key?: string;
  /** Skip server verification (only for probing our own self-signed loopback components). */
  insecure?: boolean;
}

/** GET over HTTPS; connection errors are reported as status 0 so polling loops can retry. */
export function httpsGet(
  url: string,
  tls: TlsClientOptions,
  timeoutMs = 5000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'GET',
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        rejectUnauthorized: !tls.insecure,
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', () => resolve({ status: 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.end();
  });
}

/** Polls `check` (errors count as "not yet") until it returns true, or throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  let lastError = '';
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting until ${what}${lastError ? ` (last error: ${lastError})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
}
