import { CoreV1Api, type KubeConfig, type V1Namespace, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, NODE_REPORT_PLURAL, PROFILE_LABEL, PROFILE_PLURAL, VERSION } from '../common/constants.js';
import { ClusterObjects } from '../kube/cluster-objects.js';
import { ResilientInformer, type InformerOptions } from '../kube/informer.js';
import type { NodeReportObject, ProfileObject } from './objects.js';
import { slimPod } from './pod-usage.js';

// Caches of podfence's own API objects, built the same way by every process that watches them.

export type InformerOverrides = Partial<
  Pick<InformerOptions<never>, 'staleAfterMs' | 'watchTimeoutSeconds' | 'backoff'>
>;

export const PROFILE_RESOURCE = { group: GROUP, version: VERSION, plural: PROFILE_PLURAL };
export const NODE_REPORT_RESOURCE = { group: GROUP, version: VERSION, plural: NODE_REPORT_PLURAL };

/** All SandboxProfiles (cluster-scoped). */
export function profileInformer(
  kc: KubeConfig,
  log?: Logger,
  overrides?: InformerOverrides,
): ResilientInformer<ProfileObject> {
  const objects = new ClusterObjects(kc, PROFILE_RESOURCE);
  return new ResilientInformer<ProfileObject>({
    kubeConfig: kc,
    log,
    ...overrides,
    name: 'sandboxprofiles',
    path: `/apis/${GROUP}/${VERSION}/${PROFILE_PLURAL}`,
    list: (s) => objects.list<ProfileObject>(s),
  });
}

/** All SandboxNodeReports; `transform` checks each before it is cached. */
export function nodeReportInformer(
  kc: KubeConfig,
  transform: (r: NodeReportObject) => NodeReportObject,
  log?: Logger,
  overrides?: InformerOverrides,
): ResilientInformer<NodeReportObject> {
  const objects = new ClusterObjects(kc, NODE_REPORT_RESOURCE);
  return new ResilientInformer<NodeReportObject>({
    kubeConfig: kc,
    log,
    ...overrides,
    name: 'sandboxnodereports',
    path: `/apis/${GROUP}/${VERSION}/${NODE_REPORT_PLURAL}`,
    list: (s) => objects.list<NodeReportObject>(s),
    transform,
  });
}

/**
 * Pods, trimmed to what podfence reads (slimPod): annotations cannot be selected on, so every pod is watched (or
 * every pod of one node, with a field selector).
 */
export function podInformer(
  kc: KubeConfig,
  opts: { name: string; fieldSelector?: string; log?: Logger; overrides?: InformerOverrides },
): ResilientInformer<V1Pod> {
  const core = kc.makeApiClient(CoreV1Api);
  return new ResilientInformer<V1Pod>({
    kubeConfig: kc,
    log: opts.log,
    ...opts.overrides,
    name: opts.name,
    path: '/api/v1/pods',
    ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
    list: (s) => core.listPodForAllNamespaces(s),
    transform: slimPod,
  });
}

/** Namespaces opted in to podfence (label selector: only those are cached), trimmed to name and labels. */
export function optedInNamespaceInformer(
  kc: KubeConfig,
  log?: Logger,
  overrides?: InformerOverrides,
): ResilientInformer<V1Namespace> {
  const core = kc.makeApiClient(CoreV1Api);
  return new ResilientInformer<V1Namespace>({
    kubeConfig: kc,
    log,
    ...overrides,
    name: 'namespaces',
    path: '/api/v1/namespaces',
    labelSelector: PROFILE_LABEL,
    list: (s) => core.listNamespace(s),
    transform: (ns) => ({
      metadata: {
        name: ns.metadata?.name,
        labels: ns.metadata?.labels,
        resourceVersion: ns.metadata?.resourceVersion,
      },
    }),
  });
}
