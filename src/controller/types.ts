import type { KubernetesObject } from '@kubernetes/client-node';

/** A SandboxProfile as the API serves it; the spec is validated by src/profile before anything reads it. */
export interface ProfileObject extends KubernetesObject {
  spec?: unknown;
  status?: ProfileStatus;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';
export type ReadyReason = 'Installed' | 'Installing' | 'InvalidSpec' | 'NodeUnsupported' | 'Terminating';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface ProfileStatus {
  observedGeneration?: number;
  seccompProfilePath?: string;
  hash?: string;
  nodes?: { installed: number; total: number };
  pods?: number;
  blockingPods?: string[];
  conditions?: Condition[];
}

export interface InstalledFile {
  profile: string;
  hash: string;
  file: string;
}

/** The node agent's report (`SandboxNodeReport.status`), see docs/architecture.md. */
export interface NodeReportStatus {
  landlockABI?: number;
  kernel?: string;
  agentVersion?: string;
  installed?: InstalledFile[];
  updatedAt?: string;
}

export interface NodeReportObject extends KubernetesObject {
  status?: NodeReportStatus;
}

/** What the profile compiles to, or why it does not. Computed once per reconcile from src/profile. */
export type ProfileAnalysis =
  | { valid: false; errors: { path: string; message: string }[] }
  | { valid: true; hash: string; localhostProfile: string; requiredAbi: number };
