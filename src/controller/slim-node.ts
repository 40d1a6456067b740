import type { V1Namespace, V1Node } from '@kubernetes/client-node';

/**
 * Only the Node fields the controller reads (name, labels, version): a 1,000-node cache then holds names and
 * labels, not every node's status, images and managedFields.
 */
export function slimNode(node: V1Node): V1Node {
  const m = node.metadata;
  return {
    metadata: {
      name: m?.name,
      uid: m?.uid,
      resourceVersion: m?.resourceVersion,
      deletionTimestamp: m?.deletionTimestamp,
      labels: m?.labels,
    },
  };
}

/** A namespace as the controller reads it: name and labels (whether it opted in to podfence). */
export function slimNamespace(ns: V1Namespace): V1Namespace {
  return {
    metadata: {
      name: ns.metadata?.name,
      labels: ns.metadata?.labels,
      resourceVersion: ns.metadata?.resourceVersion,
    },
  };
}
