import type { KubernetesObject } from '@kubernetes/client-node';
import type { NodeReportStatus, SandboxProfileStatus } from '../profile/index.js';

// The podfence API objects as the apiserver serves them. Field types come from the zod schemas in src/profile
// (the single source of truth, also behind the CRDs); only the envelope is Kubernetes'.

/** A SandboxProfile as served; its spec is validated (compileProfileObject) before anything reads it. */
export interface ProfileObject extends KubernetesObject {
  spec?: unknown;
  status?: ProfileStatus;
}

export type ProfileStatus = SandboxProfileStatus;
export type Condition = NonNullable<ProfileStatus['conditions']>[number];
export type ConditionStatus = Condition['status'];

/** A SandboxNodeReport: one per node, written by that node's agent. */
export interface NodeReportObject extends KubernetesObject {
  status?: NodeReportStatus;
}

export type { NodeReportStatus };
export type InstalledFile = NonNullable<NodeReportStatus['installed']>[number];
