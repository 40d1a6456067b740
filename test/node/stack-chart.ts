// podfence installed the way users install it: `helm install` of charts/podfence into a cluster with a real node,
// with the operator image built from this checkout (test/chart/build-operator-image.sh) and the init and probe
// images of test/images. Shared by the demo (stack.ts with install: 'chart') and the chart's node test
// (test/chart/install-node.test.ts).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { CHART_DIR, helm } from '../chart/helm.js';
import type { ClusterOptions } from '../cluster/harness.js';
import { waitFor } from '../cluster/net.js';
import { repoRoot } from '../cluster/repo-root.js';
import type { NodeLayout } from './config.js';
import { hostIP, type TestNode } from './node.js';

export const CHART_RELEASE = 'podfence';
export const CHART_NAMESPACE = 'podfence-system';

/**
 * Control-plane options for podfence running in pods: the apiserver listens where pods reach it, and calls the
 * webhook at its pod IP (aggregator routing: there is no kube-proxy on this machine).
 */
export function chartClusterOptions(): ClusterOptions {
  return {
    bindAddress: '0.0.0.0',
    advertiseAddress: hostIP(),
    apiserverArgs: ['--enable-aggregator-routing=true', '--kubelet-preferred-address-types=InternalIP'],
  };
}

/** The apiserver (started after this) calls the webhook at its pod IP: never through a proxy. */
export function bypassProxyFor(layout: NodeLayout): void {
  process.env.NO_PROXY = [process.env.NO_PROXY, layout.podCIDR, '.svc', '.cluster.local', hostIP()]
    .filter(Boolean)
    .join(',');
  process.env.no_proxy = process.env.NO_PROXY;
}

/** Builds (or reuses, when its inputs are unchanged) the operator image; returns its archive. */
export function buildOperatorImage(): Promise<string> {
  const script = join(repoRoot(), 'test', 'chart', 'build-operator-image.sh');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const archive = out.trim().split('\n').pop()?.split(' ')[1];
      if (code === 0 && archive) resolve(archive);
      else reject(new Error(`build-operator-image.sh failed (exit ${code})`));
    });
  });
}

/** Builds the operator image and imports it into the node's containerd as localhost/podfence/operator:dev. */
export async function installOperatorImage(node: TestNode, archive?: string): Promise<void> {
  await node.importImage(archive ?? (await buildOperatorImage()), 'podfence/operator');
}

/**
 * The values this machine needs on top of the chart's defaults: the local images, the node's kubelet directory,
 * and the apiserver's address for podfence's pods (no kube-proxy, so no working `kubernetes` Service IP).
 */
export function chartValues(node: TestNode, apiserverUrl: string): string[] {
  const env = JSON.stringify([
    { name: 'KUBERNETES_SERVICE_HOST', value: hostIP() },
    { name: 'KUBERNETES_SERVICE_PORT', value: new URL(apiserverUrl).port },
  ]);
  return [
    '--set',
    'image.operator.repository=localhost/podfence/operator,image.operator.tag=dev,image.operator.pullPolicy=Never',
    '--set',
    'image.init.repository=localhost/podfence/init,image.init.tag=dev,image.init.pullPolicy=Never',
    '--set',
    `kubeletRootDir=${node.kubeletRoot}`,
    '--set-json',
    `controller.extraEnv=${env}`,
    '--set-json',
    `webhook.extraEnv=${env}`,
    '--set-json',
    `nodeAgent.extraEnv=${env}`,
  ];
}

/** `helm install --wait` of charts/podfence; throws with helm's output when it fails. */
export function helmInstall(o: {
  kubeconfigPath: string;
  node: TestNode;
  apiserverUrl: string;
  release?: string;
  namespace?: string;
  extra?: string[];
}): string {
  const args = [
    'install',
    o.release ?? CHART_RELEASE,
    CHART_DIR,
    '-n',
    o.namespace ?? CHART_NAMESPACE,
    '--create-namespace',
    '--wait',
    '--timeout',
    '5m',
    ...chartValues(o.node, o.apiserverUrl),
    ...(o.extra ?? []),
    '--kubeconfig',
    o.kubeconfigPath,
  ];
  const r = helm(args);
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

const component = (p: V1Pod) => p.metadata?.labels?.['app.kubernetes.io/component'] ?? '?';
const isReady = (p: V1Pod) => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/**
 * Waits until every podfence pod of the release is Ready, the node agent included (`helm --wait` counts a
 * DaemonSet ready within its maxUnavailable: 1 of 1 here). Returns [component, Ready] pairs.
 */
export async function waitPodfencePodsReady(
  kc: KubeConfig,
  namespace = CHART_NAMESPACE,
  timeoutMs = 180_000,
): Promise<[string, boolean][]> {
  const core = kc.makeApiClient(CoreV1Api);
  let pods: V1Pod[] = [];
  const state = () => pods.map((p) => `${p.metadata?.name}: Ready=${isReady(p)}`).join(', ');
  await waitFor(
    async () => {
      pods = (await core.listNamespacedPod({ namespace })).items;
      const components = new Set(pods.map(component));
      return ['controller', 'webhook', 'node-agent'].every((c) => components.has(c)) && pods.every(isReady);
    },
    timeoutMs,
    `every podfence pod in ${namespace} is Ready`,
  ).catch((err: Error) => {
    throw new Error(`${err.message} (pods: ${state() || 'none'})`);
  });
  return pods.map((p) => [component(p), isReady(p)]);
}
