// The plumbing the podfence webhook relies on: the test cluster's kube-apiserver calls a webhook served from the
// host at `url: https://127.0.0.1:<port>/...`, verifying it against a CA the test generates; what the webhook
// answers (allow, deny with a message, a JSONPatch) is what the client sees.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AdmissionregistrationV1Api, CoreV1Api, type V1Namespace } from '@kubernetes/client-node';
import { errorText } from '../cluster/manifests.js';
import { createCA, issueCert } from '../cluster/pki.js';
import { sharedKubeConfig, uniqueName } from '../cluster/shared.js';

interface AdmissionReview {
  apiVersion: string;
  kind: string;
  request: { uid: string; operation: string; object: V1Namespace };
}

const kc = sharedKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
const id = uniqueName('wh');
const selectorLabel = 'podfence-test/webhook';
const seen: { path: string; namespace: string | undefined; uid: string }[] = [];
let server: Server;
let port: number;
let caBundle: string;

function respond(path: string, review: AdmissionReview): object {
  const ns = review.request.object;
  const response: Record<string, unknown> = { uid: review.request.uid, allowed: true };
  if (path === '/validate' && ns.metadata?.labels?.['podfence-test/deny'] === 'true') {
    response.allowed = false;
    response.status = { code: 403, message: `denied by test webhook ${id}` };
  }
  if (path === '/mutate') {
    const patch = [{ op: 'add', path: '/metadata/labels/podfence-test~1mutated', value: 'yes' }];
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
  }
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

function webhookFor(path: string, bundle: string, name: string) {
  return {
    name,
    clientConfig: { url: `https://127.0.0.1:${port}${path}`, caBundle: bundle },
    rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['namespaces'] }],
    objectSelector: { matchLabels: { [selectorLabel]: id } },
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    failurePolicy: 'Fail',
    timeoutSeconds: 5,
  };
}

function nsBody(labels: Record<string, string> = {}): V1Namespace {
  return { metadata: { name: uniqueName('wh-ns'), labels: { [selectorLabel]: id, ...labels } } };
}

beforeAll(async () => {
  const ca = await createCA('webhook-test-ca');
  const cert = await issueCert(ca, { commonName: 'webhook', usage: 'server', ipAddresses: ['127.0.0.1'] });
  caBundle = Buffer.from(ca.certPem).toString('base64');
  server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const review = JSON.parse(body) as AdmissionReview;
      const path = new URL(req.url ?? '/', 'https://x').pathname;
      seen.push({ path, namespace: review.request.object.metadata?.name, uid: review.request.uid });
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(respond(path, review)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  await admission.createMutatingWebhookConfiguration({
    body: { metadata: { name: `${id}-mutate` }, webhooks: [webhookFor('/mutate', caBundle, 'mutate.podfence.test')] },
  });
  await admission.createValidatingWebhookConfiguration({
    body: {
      metadata: { name: `${id}-validate` },
      webhooks: [webhookFor('/validate', caBundle, 'validate.podfence.test')],
    },
  });
  // The apiserver picks webhook configurations up asynchronously: wait until a dry run goes through both.
  const deadline = Date.now() + 60_000;
  for (;;) {
    seen.length = 0;
    await core.createNamespace({ body: nsBody(), dryRun: 'All' });
    if (seen.some((s) => s.path === '/mutate') && seen.some((s) => s.path === '/validate')) break;
    if (Date.now() > deadline) throw new Error('the apiserver never called the test webhooks');
    await new Promise((r) => setTimeout(r, 200));
  }
  seen.length = 0;
});

afterAll(async () => {
  await admission.deleteMutatingWebhookConfiguration({ name: `${id}-mutate` }).catch(() => undefined);
  await admission.deleteValidatingWebhookConfiguration({ name: `${id}-validate` }).catch(() => undefined);
  await admission.deleteValidatingWebhookConfiguration({ name: `${id}-untrusted` }).catch(() => undefined);
  await new Promise((r) => server.close(r));
});

test('the apiserver calls both webhooks over TLS and applies the mutation', async () => {
  const body = nsBody();
  const created = await core.createNamespace({ body });
  const name = body.metadata?.name;
  expect(created.metadata?.labels?.['podfence-test/mutated']).toBe('yes');
  expect(seen.filter((s) => s.namespace === name).map((s) => s.path)).toEqual(['/mutate', '/validate']);
  await core.deleteNamespace({ name: name ?? '' });
});

test('a denial reaches the client with the webhook message', async () => {
  const body = nsBody({ 'podfence-test/deny': 'true' });
  const err = await core.createNamespace({ body }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect((err as { code?: number }).code).toBe(403);
  expect(errorText(err)).toContain(`denied by test webhook ${id}`);
  await expect(core.readNamespace({ name: body.metadata?.name ?? '' })).rejects.toMatchObject({ code: 404 });
});

test('a webhook whose certificate the caBundle does not vouch for fails closed', async () => {
  const otherCa = await createCA('unrelated-ca');
  await admission.createValidatingWebhookConfiguration({
    body: {
      metadata: { name: `${id}-untrusted` },
      webhooks: [webhookFor('/validate', Buffer.from(otherCa.certPem).toString('base64'), 'untrusted.podfence.test')],
    },
  });
  // Until the apiserver sees the new configuration creates still pass: retry until the TLS failure shows.
  const deadline = Date.now() + 60_000;
  let message = '';
  while (Date.now() < deadline) {
    const err = await core.createNamespace({ body: nsBody(), dryRun: 'All' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (err) {
      message = errorText(err);
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(message).toMatch(
    /failed calling webhook "untrusted\.podfence\.test".*x509: certificate signed by unknown authority/s,
  );
});
