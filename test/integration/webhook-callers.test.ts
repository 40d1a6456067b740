// Issue #14 item 4, the webhook's caller check: the webhook answers reviews only at /mutate/<token>, the path its
// webhook configuration gives the apiserver (readable by cluster admins only). Any other caller that reaches the
// port (a pod, with the NetworkPolicy off or unenforced) and forges an AdmissionReview for another namespace gets
// the same 404 as for an unknown route: it learns neither that namespace's profile name nor its settings. The real
// apiserver still has its pods sandboxed; the control shows what the same forged review learns with the token.
import { request } from 'node:https';
import { jest } from '@jest/globals';
import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { deleteNamespace, sharedKubeConfig, uniqueName, uniqueNamespace } from '../cluster/shared.js';
import { startAdmission, type AdmissionSetup } from './admission-setup.js';
import { createProfile, profileBody, PROFILES } from './profiles.js';

jest.setTimeout(180_000);

const kc = sharedKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const id = uniqueName('pfcall');
const TEST_LABEL = 'podfence-test/webhook-callers';
const secret = `${id}-secret`; // the victim namespace's profile: its name and settings are what a forger wants
const token = 'k3m9x2q7w1v8r4t6y0p5s2d9f3g7h1j4l8z6c0b5n2m';
let setup: AdmissionSetup | undefined;
let operatorNs: string;
let victim: string;

const podSpec = (): V1Pod['spec'] => ({
  containers: [{ name: 'app', image: 'r.invalid/app:1', command: ['/bin/app'] }],
});

/** A forged AdmissionReview: CREATE of a pod in `namespace`, as the apiserver would send it. */
const forged = (namespace: string) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: '00000000-0000-0000-0000-000000000001',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace,
    operation: 'CREATE',
    userInfo: { username: 'system:admin', groups: ['system:masters'] },
    object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace }, spec: podSpec() },
  },
});

/** POSTs `body` to the webhook's port as any TLS client could (no client certificate, server not verified). */
function post(path: string, body: object): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: setup!.webhook.port,
        path,
        method: 'POST',
        rejectUnauthorized: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** The answer as a forger would read it: the JSON body with the base64 patch decoded. */
const readable = (text: string) => {
  const patch = (JSON.parse(text) as { response?: { patch?: string } }).response?.patch;
  return text + (patch ? Buffer.from(patch, 'base64').toString('utf8') : '');
};

beforeAll(async () => {
  operatorNs = await uniqueNamespace('pf-call-operator');
  victim = await uniqueNamespace('pf-call-victim', { [TEST_LABEL]: id, 'podfence.dev/profile': secret });
  await createProfile(kc, profileBody(secret, { preset: 'computation', landlock: { readOnly: ['/srv/private'] } }));
  setup = await startAdmission({
    kc,
    id,
    label: TEST_LABEL,
    operatorNs,
    profiles: [secret],
    callerToken: token,
    inForce: async () => {
      const p = await core
        .createNamespacedPod({
          namespace: victim,
          body: { metadata: { name: uniqueName('probe') }, spec: podSpec() },
          dryRun: 'All',
        })
        .catch(() => undefined);
      return p?.metadata?.annotations?.['podfence.dev/applied'] !== undefined;
    },
  });
});

afterAll(async () => {
  await setup?.stop();
  await custom.deleteClusterCustomObject({ ...PROFILES, name: secret }).catch(() => undefined);
  for (const ns of [victim, operatorNs]) if (ns) await deleteNamespace(ns);
});

test('the apiserver, which knows the path, gets pods sandboxed', async () => {
  const pod = await core.createNamespacedPod({
    namespace: victim,
    body: { metadata: { name: uniqueName('real') }, spec: podSpec() },
    dryRun: 'All',
  });
  expect(pod.metadata!.annotations!['podfence.dev/applied']).toMatch(new RegExp(`^${secret}@`));
  expect(pod.spec!.containers[0]!.command!.join(' ')).toContain('--ro /srv/private');
});

test.each([
  ['the plain path', '/mutate'],
  ['a wrong token', '/mutate/not-the-token'],
  ['a token prefix', `/mutate/${token.slice(0, -1)}`],
  ['a longer token', `/mutate/${token}x`],
])('a forged review at %s learns nothing of another namespace', async (_what, path) => {
  const r = await post(path, forged(victim));
  expect(r).toEqual({ status: 404, text: 'not found\n' });
  // Same answer as for a namespace that does not exist and for a route that does not exist: nothing to tell apart.
  expect(await post(path, forged('no-such-namespace'))).toEqual(r);
  expect(await post('/no-such-route', forged(victim))).toEqual(r);
});

test('control: with the token, the same forged review would learn the profile and its settings', async () => {
  const r = await post(`/mutate/${token}`, forged(victim));
  expect(r.status).toBe(200);
  const seen = readable(r.text);
  expect(seen).toContain(secret);
  expect(seen).toContain('/srv/private');
});
