// jest global setup of the integration project: starts one shared test cluster for the whole run (tests run in
// band), applies the CRDs from crds/*.yaml, and hands the kubeconfig to tests in PODFENCE_TEST_KUBECONFIG
// (test/cluster/shared.ts reads it). With PODFENCE_TEST_KUBECONFIG already set, that cluster is used instead
// (e.g. one started by `npm run cluster:up`), and left running.
// PODFENCE_TEST_CONTROLLERS=0 starts the cluster without kube-controller-manager and kube-scheduler.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadClusterModule } from './load-harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export default async function globalSetup() {
  const { startCluster } = await loadClusterModule('harness');
  const { applyManifestFiles, waitForCRDsEstablished } = await loadClusterModule('manifests');
  const { KubeConfig } = await import('@kubernetes/client-node');
  const t0 = Date.now();
  let kc;
  if (process.env.PODFENCE_TEST_KUBECONFIG) {
    kc = new KubeConfig();
    kc.loadFromFile(process.env.PODFENCE_TEST_KUBECONFIG);
    process.env.PODFENCE_TEST_CONTROLLERS ??= '1';
    console.log(`\n[cluster] using the running cluster of ${process.env.PODFENCE_TEST_KUBECONFIG}`);
  } else {
    const withControllers = process.env.PODFENCE_TEST_CONTROLLERS !== '0';
    const cluster = await startCluster({ withControllers });
    globalThis.__podfenceTestCluster = cluster;
    kc = cluster.kubeConfig;
    process.env.PODFENCE_TEST_KUBECONFIG = cluster.kubeconfigPath;
    process.env.PODFENCE_TEST_CONTROLLERS = withControllers ? '1' : '0';
    console.log(
      `\n[cluster] ${withControllers ? 'control plane with controllers' : 'etcd + kube-apiserver'} up in ` +
        `${((Date.now() - t0) / 1000).toFixed(1)} s at ${cluster.apiserverUrl} (dir ${cluster.dir})`,
    );
  }
  const crdDir = join(root, 'crds');
  let files = [];
  try {
    files = readdirSync(crdDir)
      .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
      .map((f) => join(crdDir, f));
  } catch {
    // No crds/ yet.
  }
  if (files.length > 0) {
    const applied = await applyManifestFiles(kc, files);
    const crds = applied.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name);
    await waitForCRDsEstablished(kc, crds);
    console.log(`[cluster] CRDs established: ${crds.join(', ')}`);
  }
}
