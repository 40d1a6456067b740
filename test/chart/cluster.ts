// A real control plane for the chart tests (test/cluster/harness.ts) and a kubectl pointed at it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type ClusterOptions, type TestCluster } from '../cluster/harness.js';
import type { RunResult } from './helm.js';

export interface ChartCluster {
  cluster: TestCluster;
  /** Runs the pinned kubectl against the cluster; never throws. */
  kubectl(args: string[], input?: string): RunResult;
  /** Like kubectl() but throws with kubectl's stderr on failure; returns stdout. */
  kubectlOk(args: string[], input?: string): string;
  /** kubectl ... -o json, parsed. */
  getJson<T = Record<string, unknown>>(args: string[]): T;
  stop(): Promise<void>;
}

export async function startChartCluster(opts: ClusterOptions = {}): Promise<ChartCluster> {
  const cluster = await startCluster(opts);
  const kubectl = (args: string[], input?: string): RunResult => {
    // A fresh discovery cache per call: kubectl's cache would not see CRDs (and their kinds) installed since.
    const cacheDir = mkdtempSync(join(cluster.dir, 'kubectl-cache-'));
    const r = spawnSync(
      join(cluster.binDir, 'kubectl'),
      ['--kubeconfig', cluster.kubeconfigPath, '--cache-dir', cacheDir, ...args],
      {
        encoding: 'utf8',
        input,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const kubectlOk = (args: string[], input?: string): string => {
    const r = kubectl(args, input);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  };
  return {
    cluster,
    kubectl,
    kubectlOk,
    getJson: <T>(args: string[]) => JSON.parse(kubectlOk([...args, '-o', 'json'])) as T,
    stop: () => cluster.stop(),
  };
}
