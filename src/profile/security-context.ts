import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';
import { canonicalJson, shortHash } from './hash.js';
import { resolveProfile, type ResolvedProfile } from './resolve.js';
import type { SandboxProfile } from './schema.js';

export interface SecurityContexts {
  pod: V1PodSecurityContext;
  container: V1SecurityContext;
}

/** Pod and container securityContext fields of a profile, without seccomp (the webhook adds Localhost + path). */
export function securityContextFor(profile: SandboxProfile): SecurityContexts {
  const r: ResolvedProfile = resolveProfile(profile);
  const { runAsUser, runAsGroup, fsGroup } = r.user;
  return {
    pod: { runAsUser, runAsGroup, runAsNonRoot: true, ...(fsGroup !== undefined ? { fsGroup } : {}) },
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
  return shortHash(canonicalJson(resolveProfile(profile)));
}
