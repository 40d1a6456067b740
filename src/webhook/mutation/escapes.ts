import type { V1PodSpec, V1Volume } from '@kubernetes/client-node';
import type { ProfileInfo } from '../types.js';

// Step: ways out of the sandbox through the pod spec that no securityContext closes. Each is refused unless the
// profile allows it explicitly (spec.allowHost.<field>). A new host escape is one more entry in HOST_ESCAPES.

type AllowHostField = keyof ProfileInfo['allowHost'];

interface HostEscape {
  /** The spec.allowHost field that allows it. */
  allowedBy: AllowHostField;
  /** What of this pod uses the escape, as the user wrote it (empty: none). */
  found(spec: V1PodSpec, volumes: V1Volume[]): string[];
}

export const HOST_ESCAPES: readonly HostEscape[] = [
  { allowedBy: 'network', found: (s) => (s.hostNetwork ? ['hostNetwork: true'] : []) },
  { allowedBy: 'pid', found: (s) => (s.hostPID ? ['hostPID: true'] : []) },
  { allowedBy: 'ipc', found: (s) => (s.hostIPC ? ['hostIPC: true'] : []) },
  {
    // A port on the node's own addresses, outside the pod's network namespace.
    allowedBy: 'network',
    found: (s) =>
      [...(s.initContainers ?? []), ...(s.containers ?? [])].flatMap((c) =>
        (c.ports ?? [])
          .filter((p) => p.hostPort !== undefined && p.hostPort !== 0)
          .map((p) => `hostPort ${p.hostPort} (container "${c.name}")`),
      ),
  },
  {
    allowedBy: 'hostPath',
    found: (_s, volumes) => volumes.filter((v) => v.hostPath).map((v) => `hostPath volume "${v.name}"`),
  },
];

/** A pod podfence cannot sandbox at all (checked before anything else). */
export function unsupportedPod(spec: V1PodSpec): string | undefined {
  if (spec.os?.name === 'windows') {
    return 'podfence cannot sandbox Windows pods (spec.os.name: windows) in an opted-in namespace';
  }
  return undefined;
}

/** Denials for the host escapes the pod uses and its profile does not allow (`volumes`: the pod's own). */
export function hostEscapes(spec: V1PodSpec, volumes: V1Volume[], profile: ProfileInfo): string[] {
  return HOST_ESCAPES.flatMap((e) =>
    profile.allowHost[e.allowedBy]
      ? []
      : e
          .found(spec, volumes)
          .map(
            (what) =>
              `${what} is not allowed: SandboxProfile "${profile.name}" does not set spec.allowHost.${e.allowedBy}`,
          ),
  );
}
