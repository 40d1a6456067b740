// podfence installed the way users install it: `helm install` of charts/podfence into a cluster with a real node,
// with the images users get: built from the repository's Dockerfiles (scripts/build-images.sh, both architectures),
// pushed to a registry on loopback and pulled from it by the node's containerd. Shared by the demo (stack.ts with
// install: 'chart') and the chart's node test (test/chart/install-node.test.ts). The probe and busybox images of
// test/images are test fixtures (umoci), imported into the node directly.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { CHART_DIR, helm } from '../chart/helm.js';
import type { ClusterOptions } from '../cluster/harness.js';
import { waitFor } from '../cluster/net.js';
import { repoRoot } from '../cluster/repo-root.js';
import { startRegistry, type LoopbackRegistry } from '../e2e/registry.js';
import type { NodeLayout } from './config.js';
import { hostIP, type TestNode } from './node.js';

const run = promisify(execFile);

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

/** OCI archives (each a multi-architecture index, tag `version` inside) of the images the chart ships. */
export interface ShippedImages {
  operator: string;
  init: string;
  version: string;
}

/**
 * Builds the operator and helper images from their Dockerfiles for amd64 and arm64 (scripts/build-images.sh, the
 * same build as `npm run images`), into the cache outside the checkout (PODFENCE_IMAGES_DIR names another
 * directory); reused while their inputs are unchanged.
 */
export function buildShippedImages(): Promise<ShippedImages> {
  const root = repoRoot();
  const out =
    process.env.PODFENCE_IMAGES_DIR ??
    join(process.env.PODFENCE_CACHE ?? join(homedir(), '.cache', 'podfence'), 'images', 'shipped');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(root, 'scripts', 'build-images.sh'), '--out', out], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const archives = Object.fromEntries(
        stdout
          .trim()
          .split('\n')
          .map((l) => l.split(' ') as [string, string]),
      );
      if (code === 0 && archives.operator && archives.init) {
        const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
        resolve({ operator: archives.operator, init: archives.init, version });
      } else reject(new Error(`scripts/build-images.sh failed (exit ${code})`));
    });
  });
}

/** Where the chart's images are pulled from: `<registry>/podfence/{operator,init}:<tag>`. */
export interface ChartImages {
  registry: string;
  tag: string;
}

/**
 * Starts a plain-HTTP registry on loopback (Debian's docker-registry) under `dir` and pushes both images into it,
 * every architecture (skopeo copy --all): what a user does with their own registry (docs/install.md). The node
 * must list `registry.hostPort` among its insecure registries to pull from it.
 */
export async function startChartRegistry(
  dir: string,
  images: ShippedImages,
): Promise<{ registry: LoopbackRegistry; images: ChartImages }> {
  const registry = await startRegistry(dir);
  try {
    for (const [name, archive] of [
      ['operator', images.operator],
      ['init', images.init],
    ] as const) {
      await run('skopeo', [
        'copy',
        '--quiet',
        '--all',
        '--dest-tls-verify=false',
        `oci-archive:${archive}:${images.version}`,
        `docker://${registry.hostPort}/podfence/${name}:${images.version}`,
      ]);
    }
  } catch (err) {
    await registry.stop();
    throw err;
  }
  return { registry, images: { registry: registry.hostPort, tag: images.version } };
}

/**
 * The values this machine needs on top of the chart's defaults: the images in the loopback registry, the node's
 * kubelet directory, and the apiserver's address for podfence's pods (no kube-proxy, so no working `kubernetes`
 * Service IP).
 */
export function chartValues(node: TestNode, apiserverUrl: string, images: ChartImages): string[] {
  const env = JSON.stringify([
    { name: 'KUBERNETES_SERVICE_HOST', value: hostIP() },
    { name: 'KUBERNETES_SERVICE_PORT', value: new URL(apiserverUrl).port },
  ]);
  return [
    '--set',
    `image.operator.repository=${images.registry}/podfence/operator,image.operator.tag=${images.tag}`,
    '--set',
    `image.init.repository=${images.registry}/podfence/init,image.init.tag=${images.tag}`,
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
  images: ChartImages;
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
    ...chartValues(o.node, o.apiserverUrl, o.images),
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
