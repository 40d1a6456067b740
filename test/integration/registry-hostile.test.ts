// The registry client against a hostile registry (a local HTTP server under the test's control): lookups only go
// to allowed registries and never to loopback/link-local/private addresses unless allowed (literal, resolved, or
// reached by a redirect or a token realm), the tenant's error never says what answered (the log does), memory and
// time stay bounded (response size, requests in flight, queue, cache entries, entrypoint size, time), and an answer
// fetched with one credential never serves another caller.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jest } from '@jest/globals';
import { RegistryClient, RegistryError } from '../../src/registry/client.js';

jest.setTimeout(120_000);

const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

interface Hostile {
  server: Server;
  host: string; // 127.0.0.1:port
  port: number;
  requests: string[];
  /** TCP connections accepted (TLS attempts on this plain server included). */
  connections: number;
  open: number;
  maxOpen: number;
  handle?: (req: IncomingMessage, res: ServerResponse) => boolean | void;
  image(repo: string, tag: string, config: object): void;
  close(): Promise<void>;
}

/** A registry that serves images put into it and lets each test take over any request (`handle`). */
async function hostile(): Promise<Hostile> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Buffer>();
  const h = { requests: [] as string[], connections: 0, open: 0, maxOpen: 0 } as Hostile;
  h.server = createServer((req, res) => {
    h.requests.push(req.url ?? '');
    h.open++;
    h.maxOpen = Math.max(h.maxOpen, h.open);
    res.on('close', () => h.open--);
    if (h.handle?.(req, res)) return;
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(req.url ?? '');
    const body = m ? (m[2] === 'blobs' ? blobs.get(m[3]!) : manifests.get(`${m[1]}:${m[3]}`)) : undefined;
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/vnd.oci.image.manifest.v1+json',
      'docker-content-digest': sha(body),
    });
    res.end(body);
  });
  h.image = (repo, tag, config) => {
    const cfg = Buffer.from(JSON.stringify(config));
    blobs.set(sha(cfg), cfg);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(cfg), size: cfg.length },
        layers: [],
      }),
    );
    manifests.set(`${repo}:${tag}`, manifest);
    manifests.set(`${repo}:${sha(manifest)}`, manifest);
  };
  h.server.on('connection', () => h.connections++);
  await new Promise<void>((r) => h.server.listen(0, '127.0.0.1', r));
  h.port = (h.server.address() as AddressInfo).port;
  h.host = `127.0.0.1:${h.port}`;
  h.close = () =>
    new Promise((r) => {
      h.server.closeAllConnections();
      h.server.close(() => r());
    });
  return h;
}

let reg: Hostile;
let other: Hostile; // an "internal" service a redirect or realm points at
beforeAll(async () => {
  [reg, other] = await Promise.all([hostile(), hostile()]);
  reg.image('app/web', 'v1', { config: { Entrypoint: ['/web'], Cmd: ['serve'] } });
  other.image('app/web', 'v1', { config: { Entrypoint: ['/internal'] } });
});
afterAll(async () => {
  await Promise.all([reg?.close(), other?.close()]);
});
beforeEach(() => {
  reg.handle = undefined;
  other.handle = undefined;
  reg.requests.length = 0;
  other.requests.length = 0;
  reg.connections = 0;
  other.connections = 0;
});

function logSink() {
  const lines: string[] = [];
  return { lines, log: { warn: (obj: object, msg: string) => void lines.push(`${msg} ${JSON.stringify(obj)}`) } };
}

async function failure(p: Promise<unknown>): Promise<RegistryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof RegistryError)) throw new Error(`expected a RegistryError, got ${String(err)}`);
  return err;
}

test('only allowed registries are read; an unlisted one is refused without a request', async () => {
  const client = new RegistryClient({ plainHttp: [reg.host], access: { registries: ['ghcr.io'] } });
  const err = await failure(client.resolve(`${reg.host}/app/web:v1`));
  expect(err.message).toMatch(/registry 127\.0\.0\.1:\d+ is not one the webhook may read .*allows: ghcr.io/);
  expect(reg.connections).toBe(0);
  // Control: listed, it is read.
  const allowed = new RegistryClient({ plainHttp: [reg.host], access: { registries: [reg.host] } });
  expect((await allowed.resolve(`${reg.host}/app/web:v1`)).entrypoint).toEqual(['/web']);
});

test('loopback is never contacted unless its network is allowed (literal address and resolved name)', async () => {
  const { lines, log } = logSink();
  // Any registry is allowed, but nothing names this one: HTTPS to a loopback address is refused before connecting.
  const client = new RegistryClient({ access: { registries: ['*'] }, log, timeoutMs: 5000 });
  for (const image of [`${reg.host}/app/web:v1`, `localhost:${reg.port}/app/web:v1`]) {
    const err = await failure(client.resolve(image));
    expect(err.message).toMatch(/the registry's answer could not be read \(details in the podfence webhook's log\)/);
    expect(err.message).not.toMatch(/127\.0\.0\.1|loopback|ECONNREFUSED|HTTP/);
  }
  expect(lines.join('\n')).toMatch(/127\.0\.0\.1 is a loopback, link-local, private or reserved address/);
  expect(lines.join('\n')).toMatch(/localhost resolves to 127\.0\.0\.1/);
  expect(reg.connections).toBe(0);
  // Control: with the network allowed, the same lookup reaches it (and fails on TLS: it speaks plain HTTP).
  const opened = new RegistryClient({ access: { registries: ['*'], cidrs: ['127.0.0.0/8'] }, timeoutMs: 5000 });
  await failure(opened.resolve(`${reg.host}/app/web:v1`));
  expect(reg.connections).toBeGreaterThan(0);
});

test('redirects: never to a loopback address nor from HTTPS-less origins to plain HTTP elsewhere', async () => {
  const { lines, log } = logSink();
  const client = new RegistryClient({ plainHttp: [reg.host], access: { registries: [reg.host] }, log });
  for (const location of [
    `https://localhost:${other.port}/v2/app/web/manifests/v1`,
    `https://127.0.0.2:${other.port}/v2/app/web/manifests/v1`,
    `https://[::1]:${other.port}/v2/app/web/manifests/v1`,
    `http://127.0.0.1:${other.port}/v2/app/web/manifests/v1`,
    `https://169.254.169.254/latest/meta-data/`,
  ]) {
    reg.handle = (req, res) => {
      res.writeHead(307, { location }).end();
      return true;
    };
    const err = await failure(client.resolve(`${reg.host}/app/web:v1`));
    expect([location, err.message]).toEqual([location, expect.stringContaining('could not be read')]);
    expect(err.message).not.toContain(String(other.port));
  }
  expect(other.connections).toBe(0);
  expect(lines.join('\n')).toMatch(/redirect to http: 127\.0\.0\.1:\d+ refused/);
  expect(lines.join('\n')).toMatch(/169\.254\.169\.254 is a loopback, link-local/);
  // Control: a redirect within the registry's own origin is followed.
  reg.handle = (req, res) => {
    if (req.url === '/v2/app/web/manifests/moved') {
      res.writeHead(307, { location: '/v2/app/web/manifests/v1' }).end();
      return true;
    }
    return false;
  };
  expect((await client.resolve(`${reg.host}/app/web:moved`)).entrypoint).toEqual(['/web']);
});

test('a token realm pointing at an internal address is not contacted', async () => {
  const client = new RegistryClient({ plainHttp: [reg.host], access: { registries: [reg.host] } });
  reg.handle = (req, res) => {
    res
      .writeHead(401, { 'www-authenticate': `Bearer realm="https://localhost:${other.port}/token",service="x"` })
      .end();
    return true;
  };
  const err = await failure(client.resolve(`${reg.host}/app/web:v1`));
  expect(err.message).toMatch(/could not be read/);
  expect(err.detail).toMatch(/localhost resolves to 127\.0\.0\.1/);
  expect(other.connections).toBe(0);
});

test('huge responses: a declared or streamed body beyond the bound is dropped, not buffered', async () => {
  const client = new RegistryClient({ plainHttp: [reg.host], maxBytes: 64 * 1024, timeoutMs: 20_000 });
  let sent = 0;
  reg.handle = (req, res) => {
    if (req.url?.includes('declared')) {
      res.writeHead(200, { 'content-length': String(1 << 30) });
      res.write(Buffer.alloc(1024));
      return true;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    // 64 MiB in 64 KiB chunks, as long as the client keeps reading.
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (sent < 64 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('error', () => undefined);
    pump();
    return true;
  };
  expect((await failure(client.resolve(`${reg.host}/app/declared:v1`))).detail).toMatch(/response of 1073741824 bytes/);
  const streamed = await failure(client.resolve(`${reg.host}/app/streamed:v1`));
  expect(streamed.detail).toMatch(/response larger than 65536 bytes/);
  // The client hung up: the server could not push anywhere near the 64 MiB (socket buffers aside).
  expect(sent).toBeLessThan(16 * 1024 * 1024);
});

test('slow responses: each lookup ends within its time bound; requests in flight and queued are bounded', async () => {
  const client = new RegistryClient({
    plainHttp: [reg.host],
    timeoutMs: 1500,
    maxConcurrent: 3,
    maxQueued: 10,
  });
  const drips: NodeJS.Timeout[] = [];
  reg.handle = (req, res) => {
    // One byte every 100 ms, forever.
    res.writeHead(200, { 'content-type': 'application/json' });
    drips.push(setInterval(() => res.write(' '), 100));
    return true;
  };
  const started = Date.now();
  const results = await Promise.allSettled(
    Array.from({ length: 40 }, (_, i) => client.resolve(`${reg.host}/slow/img${i}:v1`)),
  );
  for (const t of drips) clearInterval(t);
  const messages = results.map((r) => (r.status === 'rejected' ? String((r.reason as Error).message) : 'ok'));
  expect(messages.filter((m) => m === 'ok')).toEqual([]);
  expect(messages.filter((m) => /too many image lookups at once/.test(m)).length).toBe(40 - 3 - 10);
  expect(messages.filter((m) => /did not answer within 1500 ms/.test(m)).length).toBe(13);
  expect(client.stats.maxInFlight).toBe(3);
  expect(reg.requests.length).toBeLessThanOrEqual(3 + 10);
  // Only catches a client that waits forever; generous for a loaded machine.
  expect(Date.now() - started).toBeLessThan(60_000);
});

test('many tags: caches stay within their entry bound; an oversized entrypoint is refused, not cached', async () => {
  for (let i = 0; i < 300; i++) reg.image('many/tags', `t${i}`, { config: { Entrypoint: [`/t${i}`] } });
  const client = new RegistryClient({ plainHttp: [reg.host], cacheSize: 50 });
  for (let i = 0; i < 300; i++) {
    expect((await client.resolve(`${reg.host}/many/tags:t${i}`)).entrypoint).toEqual([`/t${i}`]);
  }
  expect(client.cacheEntries()).toEqual({ configs: 50, tags: 50, tokens: 0 });
  // The most recent ones are still served from the cache.
  const before = client.stats.requests;
  await client.resolve(`${reg.host}/many/tags:t299`);
  expect(client.stats.requests).toBe(before);

  reg.image('big/cmd', 'v1', { config: { Cmd: ['x'.repeat(100_000)] } });
  const err = await failure(client.resolve(`${reg.host}/big/cmd:v1`));
  expect(err.message).toMatch(/ENTRYPOINT and CMD are larger than 32768 bytes/);
});

test('a private answer never serves another credential: configs, tags and tokens are keyed by who fetched them', async () => {
  const alice = { username: 'alice', password: 'a-secret' };
  const mallory = { username: 'mallory', password: 'guess' };
  const basicOf = (c: { username: string; password: string }) =>
    'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');
  reg.image('team/private', 'v1', { config: { Entrypoint: ['/private'] } });
  reg.handle = (req, res) => {
    if (!req.url?.startsWith('/v2/team/private/')) return false;
    // Basic auth for alice only; everyone else 401.
    if (req.headers.authorization === basicOf(alice)) return false;
    res.writeHead(401, { 'www-authenticate': 'Basic realm="private"' }).end();
    return true;
  };
  const client = new RegistryClient({ plainHttp: [reg.host] });
  const image = `${reg.host}/team/private:v1`;
  expect((await client.resolve(image, [alice])).entrypoint).toEqual(['/private']);
  const fetched = client.stats.requests;
  // Anonymous and wrong credentials: not served from alice's cache entry, refused by the registry.
  expect((await failure(client.resolve(image))).message).toMatch(/registry refused access/);
  expect((await failure(client.resolve(image, [mallory]))).message).toMatch(/registry refused access/);
  expect(client.stats.requests).toBeGreaterThan(fetched);
  // Alice again: from the cache, no request.
  const before = client.stats.requests;
  expect((await client.resolve(image, async () => [alice])).entrypoint).toEqual(['/private']);
  expect(client.stats.requests).toBe(before);
  // A public image fetched anonymously serves everyone.
  await client.resolve(`${reg.host}/app/web:v1`);
  const n = client.stats.requests;
  await client.resolve(`${reg.host}/app/web:v1`, [mallory]);
  expect(client.stats.requests).toBe(n);
});
