import { NODE_CSI_READY_LABEL, NODE_SECCOMP_LABEL_PREFIX } from '../common/constants.js';
import type { NodeReportStatus } from '../model/objects.js';

// Node labels `seccomp.podfence.dev/<hash>: "true"`, one per compiled profile version present on the node. The
// webhook requires the label of the version it injects (node affinity), so a pod can only be scheduled where the
// file already is: never `CreateContainerError` for a missing profile (the Security Profiles Operator's #2356).
// A node whose Landlock ABI is below what a profile's current version needs is not labelled for it either, so
// such pods stay Pending with a clear reason instead of failing at start.
// And `csi.podfence.dev/ready: "true"` while the node agent reports its CSI driver ready: with CSI delivery the
// webhook requires it too, so no sandboxed pod lands where nobody can mount the wrapper.

export interface ProfileRequirement {
  hash: string;
  requiredAbi: number;
}

export function desiredSeccompLabels(
  report: NodeReportStatus | undefined,
  profiles: ReadonlyMap<string, ProfileRequirement>,
): Set<string> {
  const labels = new Set<string>();
  for (const f of report?.installed ?? []) {
    if (!/^[0-9a-f]{16}$/.test(f.hash)) continue;
    const current = profiles.get(f.profile);
    if (current && current.hash === f.hash && (report?.landlockABI ?? 0) < current.requiredAbi) continue;
    labels.add(NODE_SECCOMP_LABEL_PREFIX + f.hash);
  }
  if (report?.csi?.ready) labels.add(NODE_CSI_READY_LABEL);
  return labels;
}

/** Merge-patch body for `metadata.labels` (null removes), or undefined when the labels are already right. */
export function seccompLabelPatch(
  current: Record<string, string> | undefined,
  desired: Set<string>,
): Record<string, string | null> | undefined {
  const patch: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(current ?? {})) {
    const ours = key.startsWith(NODE_SECCOMP_LABEL_PREFIX) || key === NODE_CSI_READY_LABEL;
    if (ours && !desired.has(key)) patch[key] = null;
    else if (desired.has(key) && value !== 'true') patch[key] = 'true';
  }
  for (const key of desired) if (!(key in (current ?? {}))) patch[key] = 'true';
  return Object.keys(patch).length ? patch : undefined;
}
