import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';
import type { ProfileInfo, WebhookPolicy } from '../types.js';
import type { Findings } from './findings.js';

// Settings a pod author wrote that would weaken the profile, in pod and container securityContexts: denied, or
// overwritten (policy) with a warning. The mutation then writes the profile's values over them. Values the
// mutation itself writes never count, which keeps re-invocation a no-op. A new weakening is one more entry here.

export type AnySecurityContext = V1SecurityContext & V1PodSecurityContext;

interface Weakening {
  /** How the finding reads, or undefined when this context does not weaken the profile this way. */
  found(sc: AnySecurityContext, profile: ProfileInfo): string | undefined;
}

export const WEAKENINGS: readonly Weakening[] = [
  { found: (sc) => (sc.privileged === true ? 'privileged: true' : undefined) },
  { found: (sc) => (sc.allowPrivilegeEscalation === true ? 'allowPrivilegeEscalation: true' : undefined) },
  { found: (sc) => (sc.runAsUser === 0 ? 'runAsUser: 0' : undefined) },
  { found: (sc) => (sc.runAsNonRoot === false ? 'runAsNonRoot: false' : undefined) },
  { found: (sc) => (sc.seccompProfile?.type === 'Unconfined' ? 'seccompProfile: Unconfined' : undefined) },
  { found: (sc) => (sc.procMount === 'Unmasked' ? 'procMount: Unmasked' : undefined) },
  { found: (sc) => (sc.windowsOptions?.hostProcess ? 'windowsOptions.hostProcess: true' : undefined) },
  {
    found: (sc, p) => {
      const extra = (sc.capabilities?.add ?? []).filter((c) => !p.keepCapabilities.includes(normCap(c)));
      return extra.length ? `capabilities.add: [${extra.join(', ')}] beyond the profile's keep list` : undefined;
    },
  },
];

/** The findings for one securityContext (`where` names it in messages). */
export function weakenings(
  sc: AnySecurityContext,
  profile: ProfileInfo,
  where: string,
  policy: WebhookPolicy['onWeakening'],
): Findings {
  const found = WEAKENINGS.map((w) => w.found(sc, profile)).filter((f): f is string => f !== undefined);
  if (found.length === 0) {
    const user = profile.podSecurityContext.runAsUser;
    if (sc.runAsUser !== undefined && user !== undefined && sc.runAsUser !== user) {
      return { denials: [], warnings: [`${where}: runAsUser ${sc.runAsUser} replaced by the profile's ${user}`] };
    }
    return { denials: [], warnings: [] };
  }
  const msg = `${where}: ${found.join(', ')} would weaken SandboxProfile "${profile.name}"`;
  if (policy === 'deny') return { denials: [msg], warnings: [] };
  return { denials: [], warnings: [`${msg}; overwritten by podfence`] };
}

function normCap(c: string): string {
  const u = c.toUpperCase();
  return u.startsWith('CAP_') ? u.slice(4) : u;
}
