import { PROFILE_LABEL } from '../../common/constants.js';
import type { MutationContext, ProfileInfo } from '../types.js';

// Step: which profile for the pod and for each container. The namespace's profile, unless an annotation asks for
// another one that the namespace's profile lists in spec.allowOverrideTo.

export type Pick = { ok: true; profile: ProfileInfo } | { ok: false; denial: string };

/** The namespace's profile, or why the pod is refused without it. */
export function namespaceProfile(ctx: MutationContext): Pick {
  const p = ctx.profiles[ctx.namespaceProfile];
  if (!p) {
    return {
      ok: false,
      denial: `SandboxProfile "${ctx.namespaceProfile}" (namespace label ${PROFILE_LABEL}) does not exist`,
    };
  }
  return { ok: true, profile: p };
}

/** The profile an annotation value asks for (`requested`, undefined: none), named `where` in messages. */
export function pickProfile(
  requested: string | undefined,
  where: string,
  nsProfile: ProfileInfo,
  profiles: MutationContext['profiles'],
): Pick {
  if (requested === undefined || requested === nsProfile.name) return { ok: true, profile: nsProfile };
  if (!nsProfile.allowOverrideTo.includes(requested)) {
    return {
      ok: false,
      denial:
        `${where} asks for SandboxProfile "${requested}", but the namespace's profile "${nsProfile.name}" does ` +
        `not list it in spec.allowOverrideTo (allowed: ${nsProfile.allowOverrideTo.join(', ') || 'none'})`,
    };
  }
  const p = profiles[requested];
  if (!p) return { ok: false, denial: `${where} asks for SandboxProfile "${requested}", which does not exist` };
  return { ok: true, profile: p };
}
