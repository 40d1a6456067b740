import type { V1Affinity, V1NodeSelectorTerm } from '@kubernetes/client-node';
import { NODE_SECCOMP_LABEL_PREFIX } from '../../common/constants.js';
import type { ProfileInfo } from '../types.js';

// Step: schedule the pod only on nodes that have every compiled seccomp file it references (node label
// `seccomp.podfence.dev/<hash>`, set by the controller from the node agents' reports), and say so when a
// profile is not Ready yet (the pod then waits Pending).

/** The node label keys a pod using these profiles requires. */
export function seccompLabelKeys(used: Iterable<ProfileInfo>): string[] {
  return [...used].map((p) => NODE_SECCOMP_LABEL_PREFIX + p.seccomp.hash);
}

/** The affinity with `<key> Exists` ANDed into every required nodeSelectorTerm (one is created if none). */
export function requireNodeLabels(affinity: V1Affinity | undefined, keys: string[]): V1Affinity | undefined {
  if (!keys.length) return affinity;
  const out = structuredClone(affinity ?? {});
  const nodeAffinity = (out.nodeAffinity ??= {});
  const required = (nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution ??= { nodeSelectorTerms: [] });
  if (required.nodeSelectorTerms.length === 0) required.nodeSelectorTerms.push({ matchExpressions: [] });
  for (const term of required.nodeSelectorTerms as V1NodeSelectorTerm[]) {
    term.matchExpressions ??= [];
    for (const key of keys) {
      if (!term.matchExpressions.some((e) => e.key === key && e.operator === 'Exists')) {
        term.matchExpressions.push({ key, operator: 'Exists' });
      }
    }
  }
  return out;
}

export function notReadyWarnings(used: Iterable<ProfileInfo>): string[] {
  return [...used]
    .filter((p) => !p.ready)
    .map(
      (p) =>
        `SandboxProfile "${p.name}" is not Ready: the pod stays Pending until its seccomp profile is installed ` +
        `on a node (node label ${NODE_SECCOMP_LABEL_PREFIX}${p.seccomp.hash})`,
    );
}
