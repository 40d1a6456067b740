// Where the pinned upstream binaries are: the same place `build-binaries.sh` puts them (both read paths.sh).
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';

export type BinaryName =
  | 'etcd'
  | 'etcdctl'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubelet'
  | 'kube-proxy'
  | 'kubectl';

/** paths.sh is the single place the versions are pinned. */
function pinned(variable: string): string {
  // From the checkout, not next to this file: it may run from a transpiled copy (see load-harness.js).
  const srcDir = join(repoRoot(), 'test', 'cluster');
  const text = readFileSync(join(srcDir, 'paths.sh'), 'utf8');
  const m = new RegExp(`^${variable}=(\\S+)`, 'm').exec(text);
  if (!m?.[1]) throw new Error(`${variable} not found in ${srcDir}/paths.sh`);
  return m[1];
}

export const K8S_VERSION = pinned('PODFENCE_K8S_VERSION');
export const ETCD_VERSION = pinned('PODFENCE_ETCD_VERSION');

export function cacheRoot(): string {
  return process.env.PODFENCE_CACHE || join(homedir(), '.cache', 'podfence');
}

/** `$PODFENCE_K8S_BIN` if set, else `<cache>/k8s-<version>/bin`. */
export function binDir(): string {
  return process.env.PODFENCE_K8S_BIN || join(cacheRoot(), `k8s-${K8S_VERSION}`, 'bin');
}

/** Absolute path of a binary; throws with the command to run when it has not been built. */
export function binary(name: BinaryName): string {
  const path = join(binDir(), name);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `${path} is missing: build the pinned Kubernetes ${K8S_VERSION} / etcd ${ETCD_VERSION} binaries first with ` +
        '`npm run cluster:build` (about 7 minutes on 2 cores the first time, under a second afterwards)',
    );
  }
  return path;
}
