import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';
import { canonicalJson, shortHash } from './hash.js';
import { resolveProfile, type ResolvedProfile } from './resolve.js';
import type { SandboxProfile } from './schema.js';

export interface SecurityContexts {
  pod: V1PodSecurityContext;
  container: V1SecurityContext;
}

/**
 * A kept NET_BIND_SERVICE cannot reach a non-root process: containerd sets no ambient capabilities, so the
 * capability stays in the bounding set only and binding port 80 fails. The pod-level sysctl
 * `net.ipv4.ip_unprivileged_port_start` (a "safe", namespaced sysctl allowed by Pod Security `restricted`) gives
 * the same effect for the pod's own network namespace; Landlock's TCP bind rules still decide which ports.
 */
export const UNPRIVILEGED_PORT_SYSCTL = 'net.ipv4.ip_unprivileged_port_start';

/** Pod and container securityContext fields of a profile, without seccomp (the webhook adds Localhost + path). */
export function securityContextFor(profile: SandboxProfile): SecurityContexts {
  return securityContextsOf(resolveProfile(profile));
}

/** The same, from an already resolved profile. */
export function securityContextsOf(r: ResolvedProfile): SecurityContexts {
  const { runAsUser, runAsGroup, fsGroup } = r.user;
  return {
    pod: {
      runAsUser,
      runAsGroup,
      runAsNonRoot: true,
      ...(fsGroup !== undefined ? { fsGroup } : {}),
      ...(r.capabilities.keep.includes('NET_BIND_SERVICE')
        ? { sysctls: [{ name: UNPRIVILEGED_PORT_SYSCTL, value: '0' }] }
        : {}),
    },
    container: {
      runAsUser,
      runAsGroup,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'], ...(r.capabilities.keep.length ? { add: [...r.capabilities.keep] } : {}) },
    },
  };
}

/** Hash of the whole resolved profile (16 hex): the `podfence.dev/applied` annotation's version. */
export function profileVersion(profile: SandboxProfile): string {
  return versionOf(resolveProfile(profile));
}

/** The same, from an already resolved profile. */
export function versionOf(resolved: ResolvedProfile): string {
  return shortHash(canonicalJson(resolved));
}
