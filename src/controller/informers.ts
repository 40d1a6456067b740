import type { V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, NODE_REPORT_PLURAL, PROFILE_LABEL, PROFILE_PLURAL, VERSION } from '../common/constants.js';
import type { KubeConnection } from '../kube/access.js';
import { ResilientInformer } from '../kube/informer.js';
import { KubeRest } from '../kube/rest.js';
import type { InformerOverrides } from '../model/informers.js';
import type { NodeReportObject, ProfileObject } from '../model/objects.js';
import { slimPod } from '../model/pod-usage.js';
import { slimNamespace, slimNode } from './slim-node.js';

// The controller's five caches, listed page by page through src/kube/rest.ts (not client-node: see
// src/kube/access.ts) and slimmed as each object arrives, so a relist of 10,000 pods never holds them whole.

type Slim<T> = (o: T) => T;

function informer<T extends { metadata?: { name?: string } }>(
  kc: KubeConnection,
  rest: KubeRest,
  name: string,
  path: string,
  opts: {
    log?: Logger;
    overrides?: InformerOverrides;
    transform?: Slim<T>;
    labelSelector?: string;
    metadataOnly?: boolean;
  },
): ResilientInformer<T> {
  const transform = opts.transform ?? ((o: T) => o);
  return new ResilientInformer<T>({
    kubeConfig: kc,
    log: opts.log,
    ...opts.overrides,
    name,
    path,
    ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
    list: (s) => rest.list<T>(path, s, transform, { metadataOnly: opts.metadataOnly }),
    transform,
    metadataOnly: opts.metadataOnly,
  });
}

export function controllerInformers(
  kc: KubeConnection,
  checkReport: Slim<NodeReportObject>,
  log?: Logger,
  overrides?: InformerOverrides,
) {
  const rest = new KubeRest(kc);
  const crd = (plural: string) => `/apis/${GROUP}/${VERSION}/${plural}`;
  return {
    profiles: informer<ProfileObject>(kc, rest, 'sandboxprofiles', crd(PROFILE_PLURAL), { log, overrides }),
    reports: informer<NodeReportObject>(kc, rest, 'sandboxnodereports', crd(NODE_REPORT_PLURAL), {
      log,
      overrides,
      transform: checkReport,
    }),
    // Metadata only: a kwok Node is ~13 KB of JSON (status, images, managedFields), its metadata a fraction, and
    // every heartbeat is a watch event.
    nodes: informer<V1Node>(kc, rest, 'nodes', '/api/v1/nodes', {
      log,
      overrides,
      transform: slimNode,
      metadataOnly: true,
    }),
    // Annotations cannot be selected on: every pod is watched, and kept as slimPod keeps it.
    pods: informer<V1Pod>(kc, rest, 'pods', '/api/v1/pods', { log, overrides, transform: slimPod }),
    // Only namespaces opted in to podfence (label selector), as name and labels.
    namespaces: informer<V1Namespace>(kc, rest, 'namespaces', '/api/v1/namespaces', {
      log,
      overrides,
      transform: slimNamespace,
      labelSelector: PROFILE_LABEL,
    }),
  };
}
