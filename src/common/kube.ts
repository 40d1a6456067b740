import { KubeConfig } from '@kubernetes/client-node';

/** Kubeconfig from `--kubeconfig`, `$KUBECONFIG`, in-cluster service account, or ~/.kube/config, in that order. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}
