// Self-contained kubeconfig files (certificates embedded), so they can be copied or mounted anywhere.
import { stringify } from 'yaml';

export interface KubeconfigParams {
  server: string;
  caPem: string;
  user: string;
  certPem: string;
  keyPem: string;
  cluster?: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function kubeconfigYaml(p: KubeconfigParams): string {
  const cluster = p.cluster ?? 'podfence-test';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: p.server, 'certificate-authority-data': b64(p.caPem) } }],
    users: [{ name: p.user, user: { 'client-certificate-data': b64(p.certPem), 'client-key-data': b64(p.keyPem) } }],
    contexts: [{ name: cluster, context: { cluster, user: p.user } }],
    'current-context': cluster,
  });
}
