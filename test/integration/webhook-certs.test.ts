// The self-managed PKI against the real apiserver: Secret creation, reuse, renewal before expiry, CA rotation
// with the previous CA kept in the caBundle, concurrent replicas, caBundle patching by configuration name.
import { X509Certificate } from 'node:crypto';
import { jest } from '@jest/globals';
import { AdmissionregistrationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { SelfManagedCerts } from '../../src/certs/manager.js';
import { deleteNamespace, sharedKubeConfig, uniqueName, uniqueNamespace } from '../cluster/shared.js';

jest.setTimeout(60_000);
const kc = sharedKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
const DAY = 86_400_000;
let ns: string;
const mwc = uniqueName('pf-certs');

const manager = () =>
  new SelfManagedCerts({
    kubeConfig: kc,
    namespace: ns,
    secretName: 'tls',
    serviceName: 'podfence-webhook',
    mutatingWebhooks: [mwc],
    caDays: 1000,
    certDays: 90,
  });

const pems = (bundle: string) => bundle.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];

beforeAll(async () => {
  ns = await uniqueNamespace('pf-certs');
  await admission.createMutatingWebhookConfiguration({
    body: {
      metadata: { name: mwc },
      webhooks: [
        {
          name: 'never.podfence.test',
          clientConfig: { url: 'https://127.0.0.1:1/never' },
          rules: [
            { apiGroups: ['none.podfence.test'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['nothing'] },
          ],
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          failurePolicy: 'Ignore',
        },
      ],
    },
  });
});
afterAll(async () => {
  await admission.deleteMutatingWebhookConfiguration({ name: mwc }).catch(() => undefined);
  await deleteNamespace(ns);
});

test('a Secret created empty (as the Helm chart does) is filled; its labels and annotations are kept', async () => {
  const meta = {
    labels: { 'app.kubernetes.io/managed-by': 'Helm' },
    annotations: { 'meta.helm.sh/release-name': 'pf' },
  };
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'helm-tls', ...meta }, type: 'Opaque' },
  });
  const m = new SelfManagedCerts({
    kubeConfig: kc,
    namespace: ns,
    secretName: 'helm-tls',
    serviceName: 's',
    mutatingWebhooks: [],
  });
  const c = await m.ensure();
  const secret = await core.readNamespacedSecret({ name: 'helm-tls', namespace: ns });
  expect(secret.metadata).toMatchObject(meta);
  expect(Buffer.from(secret.data!['tls.crt']!, 'base64').toString()).toBe(c.cert);
});

test('concurrent replicas end up with one certificate in one Secret', async () => {
  const [a, b] = await Promise.all([manager().ensure(), manager().ensure()]);
  const secret = await core.readNamespacedSecret({ name: 'tls', namespace: ns });
  const stored = Buffer.from(secret.data!['tls.crt']!, 'base64').toString();
  // One of them may have written first; the other either lost the race and re-read, or found it.
  expect([a.cert, b.cert]).toContain(stored);
  const again = await manager().ensure();
  expect(again.cert).toBe(stored);
  const cert = new X509Certificate(stored);
  expect(cert.subjectAltName).toContain(`DNS:podfence-webhook.${ns}.svc`);
  expect(cert.checkIssued(new X509Certificate(again.caBundle))).toBe(true);
});

test('caBundle is patched into the named configuration', async () => {
  const m = manager();
  const c = await m.ensure();
  await m.patchCaBundle(c.caBundle);
  const cfg = await admission.readMutatingWebhookConfiguration({ name: mwc });
  expect(Buffer.from(cfg.webhooks![0]!.clientConfig.caBundle!, 'base64').toString()).toBe(c.caBundle);
});

test('the serving certificate is renewed once two thirds of its life are gone; the CA stays', async () => {
  const before = await manager().ensure();
  const renewed = await manager().ensure(Date.now() + 70 * DAY);
  expect(renewed.cert).not.toBe(before.cert);
  expect(renewed.caBundle).toBe(before.caBundle);
});

test('a due CA is replaced and the previous one stays trusted until it expires', async () => {
  const before = await manager().ensure();
  const rotated = await manager().ensure(Date.now() + 700 * DAY);
  const bundle = pems(rotated.caBundle);
  expect(bundle).toHaveLength(2);
  expect(bundle[1]!.trim()).toBe(before.caBundle.trim());
  expect(new X509Certificate(rotated.cert).checkIssued(new X509Certificate(bundle[0]!))).toBe(true);
  // Past the old CA's expiry it is dropped.
  const later = await manager().ensure(Date.now() + 1001 * DAY);
  expect(pems(later.caBundle)).toHaveLength(1);
});
