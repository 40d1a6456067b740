// podfence's webhook as a host process: a serving certificate for 127.0.0.1 from the cluster CA (the chart's
// cert-manager mode: the process reads tls.crt/tls.key from a directory), and the mutating webhook
// configuration registered by URL (the apiserver calls https://127.0.0.1:<port>/mutate), with the same rules,
// namespace selector and failure policy as the chart's webhook-configurations.yaml (the webhook serves /mutate only).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, type KubeConfig, type V1MutatingWebhook } from '@kubernetes/client-node';
import { PROFILE_LABEL } from '../../src/common/constants.js';
import { startProcess, type ManagedProcess } from '../cluster/processes.js';

export const WEBHOOK_CONFIG_NAME = 'podfence-e2e';
export const INIT_IMAGE = 'localhost/podfence/init:dev';
/** The operator's namespace (never mutated); the host processes need none of its objects. */
export const OPERATOR_NAMESPACE = 'podfence-system';

export interface WebhookStartOptions {
  cli: string;
  kubeconfigPath: string;
  /** Directory for logs, pid file and the certificate. */
  dir: string;
  detach: boolean;
  /** Issues a serving certificate from the cluster CA. */
  issueCert(opts: { commonName: string; usage: 'server'; ipAddresses: string[]; dnsNames: string[] }): Promise<{
    certPem: string;
    keyPem: string;
  }>;
  caCertPath: string;
  insecureRegistries: string[];
  freePort(): Promise<number>;
}

export interface WebhookHandle {
  process: ManagedProcess;
  port: number;
  opsPort: number;
  caPem: string;
}

export async function startWebhook(o: WebhookStartOptions): Promise<WebhookHandle> {
  const certDir = join(o.dir, 'webhook-tls');
  mkdirSync(certDir, { recursive: true });
  const cert = await o.issueCert({
    commonName: 'podfence-webhook',
    usage: 'server',
    ipAddresses: ['127.0.0.1'],
    dnsNames: ['localhost'],
  });
  const caPem = readFileSync(o.caCertPath, 'utf8');
  writeFileSync(join(certDir, 'tls.crt'), cert.certPem);
  writeFileSync(join(certDir, 'tls.key'), cert.keyPem, { mode: 0o600 });
  writeFileSync(join(certDir, 'ca.crt'), caPem);
  const port = await o.freePort();
  const opsPort = await o.freePort();
  const proc = startProcess({
    name: 'podfence-webhook',
    command: process.execPath,
    args: [
      o.cli,
      'webhook',
      '--kubeconfig',
      o.kubeconfigPath,
      '--port',
      String(port),
      '--ops-port',
      String(opsPort),
      `--namespace=${OPERATOR_NAMESPACE}`,
      `--cert-dir=${certDir}`,
      `--init-image=${INIT_IMAGE}`,
      '--init-image-pull-policy=IfNotPresent',
      ...o.insecureRegistries.map((r) => `--insecure-registry=${r}`),
    ],
    dir: o.dir,
    tiedToParent: !o.detach,
  });
  return { process: proc, port, opsPort, caPem };
}

/** The namespaces podfence never touches (as the chart's default `excludedNamespaces`). */
const EXCLUDED = ['kube-system', 'kube-public', 'kube-node-lease', 'podfence-system'];

function webhookFor(name: string, path: string, h: WebhookHandle): V1MutatingWebhook {
  return {
    name,
    clientConfig: { url: `https://127.0.0.1:${h.port}${path}`, caBundle: Buffer.from(h.caPem).toString('base64') },
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    matchPolicy: 'Equivalent',
    failurePolicy: 'Fail',
    timeoutSeconds: 10,
    namespaceSelector: {
      matchExpressions: [
        { key: PROFILE_LABEL, operator: 'Exists' },
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: EXCLUDED },
      ],
    },
    rules: [
      { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' },
      {
        apiGroups: [''],
        apiVersions: ['v1'],
        operations: ['UPDATE'],
        resources: ['pods/ephemeralcontainers'],
        scope: 'Namespaced',
      },
    ],
  };
}

/** Registers the mutating webhook configuration pointing at the host process. */
export async function registerWebhook(kc: KubeConfig, h: WebhookHandle): Promise<void> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const mutating = { ...webhookFor('pods.podfence.dev', '/mutate', h), reinvocationPolicy: 'IfNeeded' };
  await api.createMutatingWebhookConfiguration({
    body: { metadata: { name: WEBHOOK_CONFIG_NAME }, webhooks: [mutating] },
  });
}
