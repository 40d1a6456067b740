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
  /**
   * Takes the setting out (policy overwrite), for what the profile's own values written afterwards do not
   * replace. Without it, the mutation's Object.assign of the profile's context overwrites the field.
   */
  fix?(sc: AnySecurityContext, profile: ProfileInfo): void;
}

/** SELinux types that are unconfined or as good as (container_t and friends are the confined ones). */
const UNCONFINED_SELINUX_TYPES = new Set(['spc_t', 'unconfined_t', 'container_runtime_t', 'kernel_t', 'init_t']);
const profileGid = (p: ProfileInfo, k: 'runAsGroup' | 'fsGroup') => p.podSecurityContext[k];

export const WEAKENINGS: readonly Weakening[] = [
  { found: (sc) => (sc.privileged === true ? 'privileged: true' : undefined) },
  { found: (sc) => (sc.allowPrivilegeEscalation === true ? 'allowPrivilegeEscalation: true' : undefined) },
  { found: (sc) => (sc.runAsUser === 0 ? 'runAsUser: 0' : undefined) },
  { found: (sc) => (sc.runAsNonRoot === false ? 'runAsNonRoot: false' : undefined) },
  { found: (sc) => (sc.seccompProfile?.type === 'Unconfined' ? 'seccompProfile: Unconfined' : undefined) },
  { found: (sc) => (sc.procMount === 'Unmasked' ? 'procMount: Unmasked' : undefined) },
  {
    found: (sc) => (sc.windowsOptions?.hostProcess ? 'windowsOptions.hostProcess: true' : undefined),
    fix: (sc) => {
      if (sc.windowsOptions) delete sc.windowsOptions.hostProcess;
    },
  },
  {
    found: (sc, p) => {
      const extra = (sc.capabilities?.add ?? []).filter((c) => !p.keepCapabilities.includes(normCap(c)));
      return extra.length ? `capabilities.add: [${extra.join(', ')}] beyond the profile's keep list` : undefined;
    },
  },
  // Group 0 owns the node's container-runtime socket and much of an image: reachable through any hostPath or
  // volume a profile allows.
  {
    found: (sc, p) => (sc.runAsGroup === 0 && profileGid(p, 'runAsGroup') !== 0 ? 'runAsGroup: 0' : undefined),
  },
  {
    found: (sc, p) => (sc.fsGroup === 0 && profileGid(p, 'fsGroup') !== 0 ? 'fsGroup: 0' : undefined),
    fix: (sc, p) => {
      if (profileGid(p, 'fsGroup') === undefined) delete sc.fsGroup;
    },
  },
  {
    found: (sc) => (sc.supplementalGroups?.includes(0) ? 'supplementalGroups: [0]' : undefined),
    fix: (sc) => {
      sc.supplementalGroups = sc.supplementalGroups?.filter((g) => g !== 0);
      if (!sc.supplementalGroups?.length) delete sc.supplementalGroups;
    },
  },
  {
    found: (sc) => (sc.appArmorProfile?.type === 'Unconfined' ? 'appArmorProfile: Unconfined' : undefined),
    fix: (sc) => delete sc.appArmorProfile,
  },
  {
    found: (sc) => {
      const t = sc.seLinuxOptions?.type;
      return t && UNCONFINED_SELINUX_TYPES.has(t) ? `seLinuxOptions.type: ${t}` : undefined;
    },
    fix: (sc) => {
      if (sc.seLinuxOptions) delete sc.seLinuxOptions.type;
    },
  },
  // Sysctls are namespaced to the pod, and the kubelet admits only safe ones, but two of those open what the
  // profile closes: low ports without NET_BIND_SERVICE, and ICMP sockets. Others (shm_rmid_forced, keepalive...)
  // stay the pod's; a sysctl the profile sets replaces the pod's by name anyway.
  {
    found: (sc, p) => {
      const weak = weakSysctls(sc, p);
      return weak.length ? `sysctls: [${weak.map((x) => `${x.name}=${x.value}`).join(', ')}]` : undefined;
    },
    fix: (sc, p) => {
      const weak = new Set(weakSysctls(sc, p));
      sc.sysctls = sc.sysctls?.filter((x) => !weak.has(x));
      if (!sc.sysctls?.length) delete sc.sysctls;
    },
  },
];

/** The pod's sysctls that open low ports or ICMP sockets, when the profile does not set them itself. */
function weakSysctls(sc: AnySecurityContext, p: ProfileInfo) {
  const own = new Set((p.podSecurityContext.sysctls ?? []).map((x) => x.name));
  return (sc.sysctls ?? []).filter(
    (x) =>
      !own.has(x.name) &&
      ((x.name === 'net.ipv4.ip_unprivileged_port_start' && !(Number(x.value) >= 1024)) ||
        x.name === 'net.ipv4.ping_group_range'),
  );
}

/** Takes out what weakens the profile and the profile's own values would not replace (policy overwrite). */
export function fixWeakenings(sc: AnySecurityContext, profile: ProfileInfo): void {
  for (const w of WEAKENINGS) if (w.fix && w.found(sc, profile) !== undefined) w.fix(sc, profile);
}

/** AppArmor's annotation form (before the appArmorProfile field): `unconfined` for a container. */
const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

/** The pod's annotations without unconfined AppArmor ones, and the findings about them. */
export function annotationWeakenings(
  annotations: Record<string, string>,
  profile: ProfileInfo,
  policy: WebhookPolicy['onWeakening'],
): Findings & { annotations: Record<string, string> } {
  const bad = Object.keys(annotations).filter(
    (k) => k.startsWith(APPARMOR_ANNOTATION) && annotations[k] === 'unconfined',
  );
  if (!bad.length) return { annotations, denials: [], warnings: [] };
  const msg = `annotations ${bad.map((k) => `${k}: unconfined`).join(', ')} would weaken SandboxProfile "${profile.name}"`;
  const kept = Object.fromEntries(Object.entries(annotations).filter(([k]) => !bad.includes(k)));
  if (policy === 'deny') return { annotations, denials: [msg], warnings: [] };
  return { annotations: kept, denials: [], warnings: [`${msg}; removed by podfence`] };
}

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
