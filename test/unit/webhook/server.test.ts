// The HTTPS server on loopback: real TLS, real express; lookups are plain objects.
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { certMatches, createCA, issueServingCert, msUntilExpiry } from '../../../src/certs/issue.js';
import { createWebhookServer, type WebhookServer } from '../../../src/webhook/server.js';
import { profileInfo } from './fixtures.js';

let server: WebhookServer;
let port: number;
let caPem: string;
const registry = new Registry();

function post(
  path: string,
  body: string | Buffer | Buffer[],
  ca = caPem,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string; cert: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'POST',
        agent: false,
        ca,
        servername: 'podfence-webhook.ns.svc',
        headers: { 'content-type': 'application/json', ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        const cert = new X509Certificate((res.socket as import('node:tls').TLSSocket).getPeerCertificate().raw);
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), cert }));
      },
    );
    req.on('error', reject);
    // A list is sent chunk by chunk without a Content-Length (chunked encoding).
    if (Array.isArray(body)) {
      for (const chunk of body) req.write(chunk);
      req.end();
    } else req.end(body);
  });
}

const review = (object: unknown) =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'abc',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      operation: 'CREATE',
      namespace: 'shop',
      object,
    },
  });

beforeAll(async () => {
  const ca = await createCA('test-ca', 10);
  caPem = ca.cert;
  const leaf = await issueServingCert(ca, { commonName: 'w', dnsNames: ['podfence-webhook.ns.svc'], days: 5 });
  expect(certMatches(leaf.cert, ca.cert, 'podfence-webhook.ns.svc')).toBe(true);
  expect(certMatches(leaf.cert, ca.cert, 'other.ns.svc')).toBe(false);
  expect(msUntilExpiry(leaf.cert)).toBeGreaterThan(4.9 * 86_400_000);
  server = createWebhookServer({
    cert: leaf.cert,
    key: leaf.key,
    registry,
    log: pino({ level: 'silent' }),
    maxBodyBytes: 64 * 1024,
    deps: {
      lookups: {
        namespaceProfile: (ns) => (ns === 'shop' ? 'web' : undefined),
        profile: () => ({ ok: true, profile: profileInfo('web') }),
      },
      policy: { onWeakening: 'deny', onUnresolvedEntrypoint: 'deny', initImage: 'init:dev' },
      resolveEntrypoints: async (pod) => {
        if (pod.metadata?.name === 'boom') throw new Error('kaboom');
        return {};
      },
      excludedNamespaces: [],
    },
  });
  port = await server.listen(0, '127.0.0.1');
});
afterAll(() => server.close());

test('a valid review gets an AdmissionReview back with a patch', async () => {
  const res = await post(
    '/mutate',
    review({ metadata: { name: 'p' }, spec: { containers: [{ name: 'a', command: ['/a'] }] } }),
  );
  expect(res.status).toBe(200);
  const body = JSON.parse(res.body) as {
    apiVersion: string;
    kind: string;
    response: { uid: string; allowed: boolean; patch?: string };
  };
  expect(body).toMatchObject({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: 'abc', allowed: true },
  });
  expect(body.response.patch).toBeTruthy();
});

test('malformed, wrong-kind and oversized bodies get 4xx; the server keeps serving', async () => {
  expect((await post('/mutate', '{not json')).status).toBe(400);
  expect((await post('/mutate', JSON.stringify({ kind: 'Pod' }))).status).toBe(400);
  expect((await post('/mutate', '')).status).toBe(400);
  expect((await post('/mutate', Buffer.alloc(100 * 1024, 'a'))).status).toBe(413);
  expect((await post('/nope', '{}')).status).toBe(404);
  expect((await post('/mutate', review({ metadata: { name: 'p' }, spec: {} }))).body).toMatch(/"code":400/);
  // A failure inside the handler fails closed with an AdmissionResponse, not a crash.
  const boom = JSON.parse(
    (await post('/mutate', review({ metadata: { name: 'boom' }, spec: { containers: [{ name: 'a', image: 'x' }] } })))
      .body,
  ) as {
    response: { allowed: boolean; status: { code: number; message: string } };
  };
  expect(boom.response).toMatchObject({ allowed: false, status: { code: 500 } });
  expect(boom.response.status.message).toMatch(/kaboom/);
  expect((await post('/mutate', review({ metadata: { name: 'p' }, spec: { containers: [] } }))).status).toBe(200);
});

test("the apiserver's query string is accepted; other methods, encodings and oversized streams are refused", async () => {
  const valid = review({ metadata: { name: 'p' }, spec: { containers: [] } });
  expect((await post('/mutate?timeout=10s', valid)).status).toBe(200);
  expect((await post('/mutate', valid, caPem, { method: 'PUT' })).status).toBe(404);
  expect((await post('/mutate', valid, caPem, { headers: { 'content-encoding': 'gzip' } })).status).toBe(415);
  const chunks = Array.from({ length: 10 }, () => Buffer.alloc(10 * 1024, ' '));
  expect((await post('/mutate', chunks)).status).toBe(413);
  expect((await post('/mutate', [Buffer.from(valid.slice(0, 50)), Buffer.from(valid.slice(50))])).status).toBe(200);
});

test('an idle keep-alive connection stays open longer than a lull in admissions (the apiserver reuses it)', async () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: caPem });
  const valid = review({ metadata: { name: 'p' }, spec: { containers: [] } });
  const once = () =>
    new Promise<{ status: number; port: number | undefined }>((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port, path: '/mutate', method: 'POST', agent, servername: 'podfence-webhook.ns.svc' },
        (res) => {
          res.resume();
          const local = res.socket.localPort;
          res.on('end', () => resolve({ status: res.statusCode ?? 0, port: local }));
        },
      );
      req.on('error', reject);
      req.end(valid);
    });
  const first = await once();
  await new Promise((r) => setTimeout(r, 6000)); // longer than Node's default keepAliveTimeout (5 s)
  const second = await once();
  agent.destroy();
  expect([first.status, second.status]).toEqual([200, 200]);
  expect(second.port).toBe(first.port); // the same connection, reused
}, 30_000);

test('metrics: requests by code and a latency histogram', async () => {
  const text = await registry.metrics();
  expect(text).toMatch(/controller_runtime_webhook_requests_total\{code="200",webhook="\/mutate"\} \d+/);
  expect(text).toMatch(/controller_runtime_webhook_requests_total\{code="400",webhook="\/mutate"\} \d+/);
  expect(text).toMatch(/controller_runtime_webhook_latency_seconds_bucket\{le="0.005",webhook="\/mutate"\}/);
  expect(text).toMatch(/podfence_webhook_admissions_total\{webhook="\/mutate",result="mutated"\}/);
});

test('setCertificate swaps the served certificate without a restart', async () => {
  const ca2 = await createCA('second-ca', 10);
  const leaf2 = await issueServingCert(ca2, { commonName: 'w2', dnsNames: ['podfence-webhook.ns.svc'], days: 5 });
  server.setCertificate(leaf2.cert, leaf2.key);
  const res = await post('/mutate', review({ metadata: { name: 'p' }, spec: { containers: [] } }), ca2.cert);
  expect(res.status).toBe(200);
  expect(res.cert.subject).toContain('CN=w2');
  await expect(post('/mutate', '{}', caPem)).rejects.toThrow(/self-signed|unable to verify|certificate/i);
});
