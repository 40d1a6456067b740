import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';

/**
 * Everything the pure mutation needs to know about one SandboxProfile, already compiled. Built from a
 * `SandboxProfile` by `profile-info.ts` (the only webhook module that calls `src/profile`), so the mutation itself
 * can be tested with plain objects.
 */
export interface ProfileInfo {
  name: string;
  /** `profileVersion(profile)`: recorded in the applied annotation. */
  version: string;
  mode: 'enforce' | 'audit';
  /** `podfence/<name>-<hash>.json` and its hash (node label `seccomp.podfence.dev/<hash>`). */
  seccomp: { localhostProfile: string; hash: string };
  /** The profile's Ready condition; when false the pod waits Pending for the node label (and gets a warning). */
  ready: boolean;
  /** From `securityContextFor`, without seccomp. */
  podSecurityContext: V1PodSecurityContext;
  containerSecurityContext: V1SecurityContext;
  keepCapabilities: string[];
  allowOverrideTo: string[];
  allowHost: { network: boolean; pid: boolean; ipc: boolean; hostPath: boolean };
  trustVolumes: boolean;
  /** `compileLandlockArgs(profile, extra)`: the wrapper options before `--` (empty in audit mode). */
  landlockArgs(extra: { readOnly: string[]; readWrite: string[] }): string[];
}

/** The image's ENTRYPOINT and CMD as found in its config (undefined entries: not set). */
export interface ImageEntrypoint {
  entrypoint: string[];
  cmd: string[];
}

/** Per container name: the image's entrypoint, or an error message when it could not be resolved. */
export type ResolvedEntrypoints = Record<string, ImageEntrypoint | { error: string }>;

export interface WebhookPolicy {
  /** A pod setting that would weaken the profile: refuse the pod (default) or overwrite it with a warning. */
  onWeakening: 'deny' | 'overwrite';
  /** Image entrypoint unknown: refuse the pod (default) or admit the container without Landlock, with a warning. */
  onUnresolvedEntrypoint: 'deny' | 'skip-landlock';
  /** The podfence helper image (`/podfence-init install /podfence`). */
  initImage: string;
  /** imagePullPolicy of the init container. */
  initImagePullPolicy?: string;
}

export interface MutationContext {
  /** Profile named by the namespace label. */
  namespaceProfile: string;
  /** Every profile the pod may end up with, by name (missing: not found). */
  profiles: Record<string, ProfileInfo | undefined>;
  entrypoints: ResolvedEntrypoints;
  policy: WebhookPolicy;
}

export type MutationResult<P> = { pod: P; warnings: string[] } | { denied: string };
