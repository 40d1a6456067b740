// What integration tests use of the shared cluster that jest's global setup started (see jest-global-setup.js):
// its kubeconfig, and a fresh namespace per test so tests do not see each other's objects.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { waitFor } from './net.js';

/** Path of the shared cluster's admin kubeconfig. */
export function sharedKubeconfigPath(): string {
  const path = process.env.PODFENCE_TEST_KUBECONFIG;
  if (!path) {
    throw new Error(
      'PODFENCE_TEST_KUBECONFIG is not set: integration tests run under the jest "integration" project ' +
        '(npm run test:integration), whose global setup starts the test cluster',
    );
  }
  return path;
}

export function sharedKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(sharedKubeconfigPath());
  return kc;
}

/** Whether the shared cluster runs kube-controller-manager and kube-scheduler. */
export function sharedClusterHasControllers(): boolean {
  return process.env.PODFENCE_TEST_CONTROLLERS === '1';
}

/** `<prefix>-<random>`, a valid DNS label. */
export function uniqueName(prefix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50);
  return `${clean || 'test'}-${randomBytes(4).toString('hex')}`;
}

/**
 * Creates a fresh namespace and returns its name. With controllers it also waits for the namespace's `default`
 * ServiceAccount, without which the ServiceAccount admission plugin rejects pods.
 */
export async function uniqueNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const core = sharedKubeConfig().makeApiClient(CoreV1Api);
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name, labels: { 'podfence.dev/test': 'true', ...labels } } } });
  if (sharedClusterHasControllers()) {
    await waitFor(
      async () => {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
        return true;
      },
      30_000,
      `ServiceAccount ${name}/default exists`,
    );
  }
  return name;
}

/** Deletes a namespace made by uniqueNamespace (without controllers it stays Terminating, which is harmless). */
export async function deleteNamespace(name: string): Promise<void> {
  const core = sharedKubeConfig().makeApiClient(CoreV1Api);
  await core.deleteNamespace({ name }).catch(() => undefined);
}
