import type { V1Container, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { APPLIED_ANNOTATION, INIT_BINARY, SECCOMP_SUBDIR } from '../../common/constants.js';
import type { CgroupIds } from './cgroup.js';
import type { Denial } from './denial.js';

/** A denial tied to the pod (and, when known, the container) it happened in. */
export interface PodDenial extends Denial {
  namespace: string;
  pod: string;
  podUid: string;
  container?: string;
  /** The SandboxProfile that refused it. */
  profile: string;
}

export type Attribution = { denial: PodDenial } | { drop: string };

const LOCALHOST = new RegExp(`^${SECCOMP_SUBDIR}/(.+)-[0-9a-f]{16}\\.json$`);

/**
 * Keeps only podfence's denials: from a pod the webhook sandboxed (`podfence.dev/applied`), and for Landlock from
 * a container podfence wraps (a workload may use Landlock itself; its denials are not ours to report). `pod` is
 * the pod whose UID the process's cgroup names, undefined when no pod on this node has it. Pure.
 */
export function attribute(d: Denial, ids: CgroupIds, pod: V1Pod | undefined): Attribution {
  if (!ids.podUid) return { drop: 'not in a pod' };
  if (!pod || pod.metadata?.uid !== ids.podUid) return { drop: 'pod not known on this node' };
  const applied = pod.metadata?.annotations?.[APPLIED_ANNOTATION];
  if (!applied) return { drop: 'pod not sandboxed by podfence' };
  const container = ids.containerId ? containerById(pod, ids.containerId) : undefined;
  const spec = container ? specOf(pod, container) : undefined;
  if (d.layer === 'landlock' && spec && spec.command?.[0] !== INIT_BINARY) {
    return { drop: `container ${container} is not wrapped by podfence` };
  }
  const localhost =
    spec?.securityContext?.seccompProfile?.localhostProfile ??
    pod.spec?.securityContext?.seccompProfile?.localhostProfile;
  const profile = LOCALHOST.exec(localhost ?? '')?.[1] ?? applied.split('@')[0]!;
  return {
    denial: {
      ...d,
      namespace: pod.metadata!.namespace ?? '',
      pod: pod.metadata!.name ?? '',
      podUid: ids.podUid,
      ...(container ? { container } : {}),
      profile,
    },
  };
}

function containerById(pod: V1Pod, id: string): string | undefined {
  const all: V1ContainerStatus[] = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.ephemeralContainerStatuses ?? []),
  ];
  return all.find((s) => s.containerID?.replace(/^[a-z-]+:\/\//, '') === id)?.name;
}

function specOf(pod: V1Pod, name: string): V1Container | undefined {
  const s = pod.spec;
  return [
    ...(s?.containers ?? []),
    ...(s?.initContainers ?? []),
    ...((s?.ephemeralContainers ?? []) as V1Container[]),
  ].find((c) => c.name === name);
}
