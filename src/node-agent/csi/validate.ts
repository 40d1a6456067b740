import { isAbsolute, normalize, sep } from 'node:path';

/**
 * Checks of the kubelet's requests, pure: what the plugin accepts is decided here, with an error naming the
 * field. The pod author controls `volumeAttributes` (they reach us in `volume_context`) and `readOnly`; the kubelet
 * controls the target path and, with `podInfoOnMount: true` in the CSIDriver, the `csi.storage.k8s.io/*` keys
 * (it overwrites any the pod author wrote).
 */

/** gRPC status codes used by the plugin (grpc/doc/statuscodes.md). */
export const Code = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

export class CsiError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** What the generated loader gives us for a NodePublishVolumeRequest (keepCase, oneofs). */
export interface PublishRequest {
  volume_id?: string;
  target_path?: string;
  staging_target_path?: string;
  readonly?: boolean;
  volume_capability?: {
    access_type?: string;
    block?: unknown;
    mount?: { fs_type?: string; mount_flags?: string[]; volume_mount_group?: string } | null;
  } | null;
  volume_context?: Record<string, string>;
  secrets?: Record<string, string>;
}

export interface UnpublishRequest {
  volume_id?: string;
  target_path?: string;
}

const POD_INFO_PREFIX = 'csi.storage.k8s.io/';
export const EPHEMERAL_KEY = `${POD_INFO_PREFIX}ephemeral`;

/** A target path the kubelet could have sent: absolute, already normal, strictly inside the pods directory. */
export function checkTargetPath(target: string | undefined, podsDir: string): string {
  if (!target) throw new CsiError(Code.INVALID_ARGUMENT, 'target_path is required');
  if (!isAbsolute(target) || normalize(target) !== target || target.endsWith(sep)) {
    throw new CsiError(Code.INVALID_ARGUMENT, `target_path ${JSON.stringify(target)} is not a normal absolute path`);
  }
  const root = podsDir.endsWith(sep) ? podsDir : podsDir + sep;
  if (!target.startsWith(root)) {
    throw new CsiError(
      Code.INVALID_ARGUMENT,
      `target_path ${JSON.stringify(target)} is not inside the kubelet's pods directory ${podsDir}`,
    );
  }
  return target;
}

export function checkVolumeId(id: string | undefined): string {
  if (!id) throw new CsiError(Code.INVALID_ARGUMENT, 'volume_id is required');
  return id;
}

export interface PublishPlan {
  volumeId: string;
  targetPath: string;
  podUid?: string;
}

/**
 * Only an inline ephemeral, read-only, filesystem volume with no attributes of the pod author's is served: the
 * volume is the same helper for everyone, so there is nothing for a pod to choose.
 */
export function checkPublish(req: PublishRequest, podsDir: string): PublishPlan {
  const volumeId = checkVolumeId(req.volume_id);
  const targetPath = checkTargetPath(req.target_path, podsDir);
  const cap = req.volume_capability;
  if (!cap) throw new CsiError(Code.INVALID_ARGUMENT, 'volume_capability is required');
  if (cap.block || cap.access_type === 'block') {
    throw new CsiError(Code.INVALID_ARGUMENT, 'volume_capability.block: only filesystem (mount) volumes are served');
  }
  if (!cap.mount) throw new CsiError(Code.INVALID_ARGUMENT, 'volume_capability.mount is required');
  if (req.staging_target_path) {
    throw new CsiError(Code.INVALID_ARGUMENT, 'staging_target_path: this driver has no staging step');
  }
  const ctx = req.volume_context ?? {};
  if (ctx[EPHEMERAL_KEY] !== 'true') {
    throw new CsiError(
      Code.INVALID_ARGUMENT,
      `volume_context[${EPHEMERAL_KEY}] must be "true": only inline ephemeral volumes are served ` +
        '(the CSIDriver needs podInfoOnMount: true)',
    );
  }
  const foreign = Object.keys(ctx).filter((k) => !k.startsWith(POD_INFO_PREFIX));
  if (foreign.length > 0) {
    throw new CsiError(
      Code.INVALID_ARGUMENT,
      `volume_context: volumeAttributes are not accepted (got ${foreign.map((k) => JSON.stringify(k)).join(', ')})`,
    );
  }
  if (req.readonly !== true) {
    throw new CsiError(Code.INVALID_ARGUMENT, 'readonly must be true (csi.readOnly: true in the pod volume)');
  }
  return { volumeId, targetPath, podUid: ctx[`${POD_INFO_PREFIX}pod.uid`] };
}

export function checkUnpublish(req: UnpublishRequest, podsDir: string): { volumeId: string; targetPath: string } {
  return { volumeId: checkVolumeId(req.volume_id), targetPath: checkTargetPath(req.target_path, podsDir) };
}
