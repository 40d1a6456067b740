// `npm run cluster:up` (via up.sh): starts a control plane with controllers in the given directory, detached so it
// outlives this command, applies crds/*.yaml, and prints how to use it. `npm run cluster:down` stops it.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadClusterModule } from './load-harness.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node up.js <cluster dir>');
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { startCluster } = await loadClusterModule('harness');
const { applyManifestFiles, waitForCRDsEstablished } = await loadClusterModule('manifests');

const t0 = Date.now();
const cluster = await startCluster({ withControllers: true, dir, detach: true });
let crdFiles = [];
try {
  crdFiles = readdirSync(join(root, 'crds'))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(root, 'crds', f));
} catch {
  // No crds/ yet.
}
if (crdFiles.length > 0) {
  const applied = await applyManifestFiles(cluster.kubeConfig, crdFiles);
  await waitForCRDsEstablished(
    cluster.kubeConfig,
    applied.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name),
  );
}
console.error(`[cluster:up] up in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${cluster.apiserverUrl}`);
console.error(`[cluster:up] directory ${dir} (logs in ${join(dir, 'logs')}); stop with: npm run cluster:down`);
console.error(`[cluster:up] kubectl ${cluster.binDir}/kubectl matches the cluster's version`);
console.log(`export KUBECONFIG=${cluster.kubeconfigPath}`);
process.exit(0);
