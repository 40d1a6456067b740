import type { V1Container, V1SecurityContext } from '@kubernetes/client-node';
import type { ProfileInfo, WebhookPolicy } from '../types.js';
import type { Findings } from './findings.js';
import { fixWeakenings, weakenings } from './weakenings.js';

// Step: one container's securityContext: the profile's capabilities, user and Localhost seccomp, no privilege
// escalation, not privileged, non-root, over what the container wrote (weakenings found first).

export interface ContainerSecurity extends Findings {
  securityContext: V1SecurityContext;
}

export function containerSecurity(
  c: Pick<V1Container, 'securityContext'>,
  profile: ProfileInfo,
  where: string,
  policy: WebhookPolicy['onWeakening'],
): ContainerSecurity {
  const sc: V1SecurityContext = { ...(c.securityContext ?? {}) };
  const findings = weakenings(sc, profile, `${where} securityContext`, policy);
  fixWeakenings(sc, profile);
  if (sc.procMount === 'Unmasked') delete sc.procMount;
  Object.assign(sc, profile.containerSecurityContext, {
    allowPrivilegeEscalation: false,
    privileged: false,
    runAsNonRoot: true,
    capabilities: {
      drop: ['ALL'],
      ...(profile.keepCapabilities.length ? { add: [...profile.keepCapabilities] } : {}),
    },
    seccompProfile: { type: 'Localhost', localhostProfile: profile.seccomp.localhostProfile },
  });
  for (const k of ['runAsUser', 'runAsGroup'] as const) {
    const v = profile.podSecurityContext[k];
    if (v !== undefined) sc[k] = v;
  }
  return { securityContext: sc, ...findings };
}
