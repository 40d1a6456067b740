import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { accessFromKubeconfigText, inClusterAccess, type KubeAccess } from '../../../src/kube/access.js';
import { isNotFound, shortError } from '../../../src/kube/errors.js';
import { KubeRest } from '../../../src/kube/rest.js';

// The controller's own apiserver client (no client-node) against a scripted HTTP server.

let server: http.Server;
let base: string;
let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;
let connections = 0;
const seen: { url: string; auth?: string; type?: string; accept?: string; body: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({
        url: req.url!,
        auth: req.headers.authorization,
        type: req.headers['content-type'],
        accept: req.headers.accept,
        body,
      });
      handler(req, res);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen.length = 0;
  connections = 0;
});

const access = (token?: string): KubeAccess => ({
  server: base,
  agent: new http.Agent({ keepAlive: true }),
  headers: () => Promise.resolve<Record<string, string>>(token ? { Authorization: `Bearer ${token}` } : {}),
});
const json = (res: http.ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

describe('KubeRest', () => {
  it('lists page by page (limit, continue), transforming each object as its page arrives', async () => {
    const pages: Record<string, { items: { n: number; big: string }[]; next?: string; rv: string }> = {
      '': {
        items: [
          { n: 1, big: 'x' },
          { n: 2, big: 'x' },
        ],
        next: 'c1',
        rv: '5',
      },
      c1: { items: [{ n: 3, big: 'x' }], rv: '7' },
    };
    handler = (req, res) => {
      const q = new URL(req.url!, base).searchParams;
      const p = pages[q.get('continue') ?? '']!;
      json(res, 200, { metadata: { resourceVersion: p.rv, continue: p.next }, items: p.items });
    };
    const rest = new KubeRest(access('t0k'));
    const out = await rest.list<{ n: number; big: string }, { n: number }>(
      '/api/v1/pods',
      { labelSelector: 'a=b' },
      (o) => ({ n: o.n }),
      { pageSize: 2 },
    );
    expect(out).toEqual({ metadata: { resourceVersion: '7' }, items: [{ n: 1 }, { n: 2 }, { n: 3 }] });
    expect(seen.map((s) => s.url)).toEqual([
      '/api/v1/pods?labelSelector=a%3Db&limit=2',
      '/api/v1/pods?labelSelector=a%3Db&limit=2&continue=c1',
    ]);
    expect(seen[0]!.auth).toBe('Bearer t0k');
  });

  it('asks for metadata only (PartialObjectMetadata) when told, for lists and watches', async () => {
    handler = (req, res) => {
      if (req.url!.includes('watch=true')) res.writeHead(200).end();
      else json(res, 200, { metadata: { resourceVersion: '1' }, items: [] });
    };
    const rest = new KubeRest(access());
    await rest.list('/api/v1/nodes', {}, undefined, { metadataOnly: true });
    await rest.list('/api/v1/pods');
    await new Promise<unknown>((resolve) => {
      void rest.watch('/api/v1/nodes', {}, () => undefined, resolve, { metadataOnly: true });
    });
    expect(seen.map((s) => s.accept)).toEqual([
      'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
      'application/json',
      'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
    ]);
    expect(seen[1]!.url).toBe('/api/v1/pods?limit=100');
  });

  it('reuses one keep-alive connection for consecutive requests', async () => {
    handler = (_req, res) => json(res, 200, {});
    const rest = new KubeRest(access());
    for (let i = 0; i < 5; i++) await rest.request('GET', '/api/v1/namespaces/default');
    expect(connections).toBe(1);
  });

  it('sends JSON patches by default and merge patches when asked', async () => {
    handler = (_req, res) => json(res, 200, {});
    const rest = new KubeRest(access());
    await rest.request('PATCH', '/x', { body: [{ op: 'add', path: '/a', value: 1 }] });
    await rest.request('PATCH', '/y', { body: { a: 1 }, contentType: 'application/merge-patch+json' });
    expect(seen.map((s) => s.type)).toEqual(['application/json-patch+json', 'application/merge-patch+json']);
    expect(JSON.parse(seen[1]!.body)).toEqual({ a: 1 });
  });

  it("fails with the HTTP status as code and the apiserver's message", async () => {
    handler = (_req, res) => json(res, 404, { kind: 'Status', message: 'nodes "n1" not found' });
    const err = await new KubeRest(access()).request('GET', '/api/v1/nodes/n1').catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect(shortError(err)).toBe('404 nodes "n1" not found');
  });

  it('parses watch events split across chunks, and reports the end once', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MODI');
      setTimeout(() => res.end('FIED","object":{"metadata":{"name":"b"}}}\n\n'), 20);
    };
    const events: string[] = [];
    let ends = 0;
    const ended = new Promise<unknown>((resolve) => {
      void new KubeRest(access()).watch(
        '/api/v1/pods',
        { resourceVersion: '3' },
        (type, obj) => events.push(`${type} ${(obj as { metadata: { name: string } }).metadata.name}`),
        (err) => {
          ends++;
          resolve(err);
        },
      );
    });
    expect(await ended).toBeUndefined();
    expect(events).toEqual(['ADDED a', 'MODIFIED b']);
    expect(seen[0]!.url).toBe('/api/v1/pods?resourceVersion=3&watch=true');
    await new Promise((r) => setTimeout(r, 50));
    expect(ends).toBe(1);
  });

  it('rejects a watch the apiserver refuses, with its status', async () => {
    handler = (_req, res) => json(res, 410, { kind: 'Status', code: 410, message: 'too old resource version' });
    const err = (await new KubeRest(access())
      .watch(
        '/api/v1/pods',
        {},
        () => undefined,
        () => undefined,
      )
      .catch((e: unknown) => e)) as { code: number };
    expect(err.code).toBe(410);
  });
});

describe('kubeconfig loading without client-node', () => {
  const doc = (user: object, cluster: object = {}) =>
    JSON.stringify({
      'current-context': 'x',
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      clusters: [{ name: 'c', cluster: { server: `${base}/`, ...cluster } }],
      users: [{ name: 'u', user }],
    });

  it('reads a token user, and re-reads a token file on every request (projected tokens rotate)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-access-'));
    const a = accessFromKubeconfigText(doc({ token: 'abc' }), parse, dir)!;
    expect(a.server).toBe(base);
    expect(await a.headers()).toEqual({ Authorization: 'Bearer abc' });
    writeFileSync(join(dir, 'tok'), 'one\n');
    const b = accessFromKubeconfigText(doc({ tokenFile: 'tok' }), parse, dir)!;
    expect(await b.headers()).toEqual({ Authorization: 'Bearer one' });
    writeFileSync(join(dir, 'tok'), 'two\n');
    expect(await b.headers()).toEqual({ Authorization: 'Bearer two' });
  });

  it('hands exec and auth-provider users and proxies to client-node (undefined)', () => {
    expect(accessFromKubeconfigText(doc({ exec: { command: 'x' } }), parse, '/')).toBeUndefined();
    expect(accessFromKubeconfigText(doc({ 'auth-provider': { name: 'oidc' } }), parse, '/')).toBeUndefined();
    expect(accessFromKubeconfigText(doc({}, { 'proxy-url': 'http://p' }), parse, '/')).toBeUndefined();
  });

  it('names what is missing', () => {
    expect(() => accessFromKubeconfigText('{}', parse, '/')).toThrow(/current-context/);
    expect(() => accessFromKubeconfigText(doc({}).replace('"name":"x"', '"name":"y"'), parse, '/')).toThrow(
      /no context named "x"/,
    );
    expect(() => inClusterAccess({})).toThrow(/KUBERNETES_SERVICE_HOST/);
  });

  it('in-cluster: the service account token, re-read per request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-sa-'));
    writeFileSync(join(dir, 'ca.crt'), '');
    writeFileSync(join(dir, 'token'), 't1');
    const a = inClusterAccess({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect(a.server).toBe('https://10.0.0.1:443');
    expect(await a.headers()).toEqual({ Authorization: 'Bearer t1' });
    writeFileSync(join(dir, 'token'), 't2');
    expect(await a.headers()).toEqual({ Authorization: 'Bearer t2' });
  });
});
