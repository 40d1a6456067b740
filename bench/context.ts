// The start-up bench:peers and bench:scale share: build (or find in ~/.cache/podfence/peers) the peers they need,
// start a test control plane (etcd, kube-apiserver, controller-manager, scheduler; test/cluster/harness.ts) and a
// working directory, and hand back the context their server starters take.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ctx, PeerPaths } from './peers/servers.js';

/** The checkout: this file runs from dist/bench/. */
export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.env.PODFENCE_CLUSTER_SRC ??= join(repo, 'test', 'cluster');

export const progressFor = (bench: string) => (msg: string) =>
  process.stderr.write(`[bench:${bench}] ${new Date().toISOString().slice(11, 19)} ${msg}\n`);

/** `--name value` from the command line, or `def`. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

export async function startBenchCluster(bench: string, peers: string[]) {
  const progress = progressFor(bench);
  const built = execFileSync('bash', [join(repo, 'bench', 'peers', 'build-peers.sh'), ...peers], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const paths = JSON.parse(built.trim().split('\n').pop()!) as PeerPaths;
  const { startCluster } = await import('../test/cluster/harness.js');
  progress('starting a test control plane (etcd, kube-apiserver, controller-manager, scheduler)');
  const cluster = await startCluster({ withControllers: true });
  const ctx: Ctx = {
    repo,
    dir: mkdtempSync(join(tmpdir(), `podfence-bench-${bench}-`)),
    kubeconfig: cluster.kubeconfigPath,
    kubectl: join(cluster.binDir, 'kubectl'),
    paths,
    progress,
  };
  return { ctx, cluster, progress };
}
