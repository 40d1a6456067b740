import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { accessFromKubeconfigText, inClusterAccess, SERVICE_ACCOUNT_DIR, toAccess, type KubeAccess } from './access.js';

/**
 * Apiserver access from `--kubeconfig`, `$KUBECONFIG`, the in-cluster service account, or ~/.kube/config, in that
 * order (as `loadKubeConfig`). Token and client-certificate kubeconfigs and in-cluster access are read here; anything
 * else (exec plugins, auth providers, several files in $KUBECONFIG) is handed to client-node, loaded only then.
 */
export async function loadKubeAccess(path?: string, env: NodeJS.ProcessEnv = process.env): Promise<KubeAccess> {
  const fallback = async (): Promise<KubeAccess> => {
    const { loadKubeConfig } = await import('../common/kube.js');
    return toAccess(loadKubeConfig(path));
  };
  const fromFile = (file: string) =>
    accessFromKubeconfigText(readFileSync(file, 'utf8'), parse, dirname(file)) ?? fallback();
  if (path) return fromFile(path);
  if (env.KUBECONFIG) return env.KUBECONFIG.includes(':') ? fallback() : fromFile(env.KUBECONFIG);
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT_DIR, 'token'))) return inClusterAccess(env);
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) return fromFile(home);
  return fallback();
}
