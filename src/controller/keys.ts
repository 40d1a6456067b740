import type { KubernetesObject } from '@kubernetes/client-node';

// Queue keys, one type per reconciler, so a node name can never be queued for the profile reconciler.

export type ProfileName = string & { readonly __kind: 'SandboxProfile' };
export type NodeName = string & { readonly __kind: 'Node' };

export const profileName = (o: KubernetesObject | string): ProfileName =>
  (typeof o === 'string' ? o : (o.metadata?.name ?? '')) as ProfileName;

/** A node, or its SandboxNodeReport (named after the node). */
export const nodeName = (o: KubernetesObject | string): NodeName =>
  (typeof o === 'string' ? o : (o.metadata?.name ?? '')) as NodeName;
