import type { CompiledProfile } from '../profile/index.js';

/**
 * Everything the pure mutation needs to know about one SandboxProfile: its compiled forms, plus whether its
 * current version is Ready (when not, the pod waits Pending for the node label and gets a warning).
 */
export type ProfileInfo = CompiledProfile & { ready: boolean };

/** The image's ENTRYPOINT and CMD as found in its config (undefined entries: not set). */
export interface ImageEntrypoint {
  entrypoint: string[];
  cmd: string[];
}

/** Per container name: the image's entrypoint, or an error message when it could not be resolved. */
export type ResolvedEntrypoints = Record<string, ({ ok: true } & ImageEntrypoint) | { ok: false; error: string }>;

export interface WebhookPolicy {
  /** A pod setting that would weaken the profile: refuse the pod (default) or overwrite it with a warning. */
  onWeakening: 'deny' | 'overwrite';
  /** Image entrypoint unknown: refuse the pod (default) or admit the container without Landlock, with a warning. */
  onUnresolvedEntrypoint: 'deny' | 'skip-landlock';
  /** The podfence helper image (`/podfence-init install /podfence`). */
  initImage: string;
  /** imagePullPolicy of the init container. */
  initImagePullPolicy?: string;
  /**
   * How the wrapper reaches the pod: `csi`, a read-only inline volume of podfence's CSI driver (the CLI's and the
   * chart's default), or `init`, an init container copying it into an emptyDir (also when absent here).
   */
  helperDelivery?: 'csi' | 'init';
}

export interface MutationContext {
  /** Profile named by the namespace label. */
  namespaceProfile: string;
  /** Every profile the pod may end up with, by name (missing: not found). */
  profiles: Record<string, ProfileInfo | undefined>;
  entrypoints: ResolvedEntrypoints;
  policy: WebhookPolicy;
}

export type MutationResult<P> = { ok: true; pod: P; warnings: string[] } | { ok: false; denied: string };

/** A profile as the webhook looks it up: compiled, or why it is invalid. */
export type ProfileLookup = { ok: true; profile: ProfileInfo } | { ok: false; error: string };
