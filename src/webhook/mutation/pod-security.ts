import type { V1PodSecurityContext, V1PodSpec } from '@kubernetes/client-node';
import type { ProfileInfo, WebhookPolicy } from '../types.js';
import type { Findings } from './findings.js';
import { fixWeakenings, weakenings } from './weakenings.js';

// Step: the pod-level securityContext: the profile's user, non-root and Localhost seccomp over what the pod wrote
// (weakenings found first), and the profile's sysctls merged in.

export interface PodSecurity extends Findings {
  securityContext: V1PodSecurityContext;
}

export function podSecurity(spec: V1PodSpec, profile: ProfileInfo, policy: WebhookPolicy['onWeakening']): PodSecurity {
  const sc: V1PodSecurityContext = { ...(spec.securityContext ?? {}) };
  const findings = weakenings(sc, profile, 'pod securityContext', policy);
  fixWeakenings(sc, profile);
  const { sysctls: profileSysctls, ...profilePodSc } = profile.podSecurityContext;
  Object.assign(sc, profilePodSc, {
    runAsNonRoot: true,
    seccompProfile: { type: 'Localhost', localhostProfile: profile.seccomp.localhostProfile },
  });
  // The profile's sysctls (the unprivileged-port start standing in for a kept NET_BIND_SERVICE) are merged by
  // name into the pod's own; the kubelet refuses namespaced net sysctls on hostNetwork pods, so none there.
  if (profileSysctls?.length && !spec.hostNetwork) {
    const names = new Set(profileSysctls.map((s) => s.name));
    sc.sysctls = [...(sc.sysctls ?? []).filter((s) => !names.has(s.name)), ...profileSysctls];
  }
  return { securityContext: sc, ...findings };
}
