import type {
  V1Container,
  V1NodeSelectorTerm,
  V1Pod,
  V1PodSecurityContext,
  V1SecurityContext,
  V1Volume,
} from '@kubernetes/client-node';
import {
  APPLIED_ANNOTATION,
  CONTAINER_PROFILE_ANNOTATION_PREFIX,
  INIT_BINARY,
  INIT_CONTAINER_NAME,
  INIT_DIR,
  INIT_VOLUME_NAME,
  NODE_SECCOMP_LABEL_PREFIX,
  PROFILE_LABEL,
} from '../common/constants.js';
import { effectiveCommand } from './effective-command.js';
import { INIT_INSTALL_COMMAND, INIT_VOLUME_SIZE, LANDLOCK_SKIPPED_ANNOTATION } from './names.js';
import type { MutationContext, MutationResult, ProfileInfo } from './types.js';

/**
 * The pure core of the webhook: pod + context -> sandboxed pod (with warnings for kubectl) or a denial.
 *
 * Idempotent by construction rather than by a special case: podfence's own pieces (init container, volume, mounts,
 * wrapper prefix) are first taken off and then put back, and every security field is set to the profile's value,
 * so running it on its own output yields the same pod.
 */
export function mutatePod(input: V1Pod, ctx: MutationContext): MutationResult<V1Pod> {
  const pod = structuredClone(input);
  pod.metadata ??= {};
  pod.spec ??= { containers: [] };
  const spec = pod.spec;
  const annotations = pod.metadata.annotations ?? {};
  const denials: string[] = [];
  const warnings: string[] = [];

  if (spec.os?.name === 'windows') {
    return { denied: 'podfence cannot sandbox Windows pods (spec.os.name: windows) in an opted-in namespace' };
  }

  // Which profile for the pod and for each container; overrides only to profiles the namespace's profile allows.
  const nsProfile = ctx.profiles[ctx.namespaceProfile];
  if (!nsProfile) {
    return { denied: `SandboxProfile "${ctx.namespaceProfile}" (namespace label ${PROFILE_LABEL}) does not exist` };
  }
  const pick = (requested: string | undefined, where: string): ProfileInfo | undefined => {
    if (requested === undefined || requested === nsProfile.name) return nsProfile;
    if (!nsProfile.allowOverrideTo.includes(requested)) {
      denials.push(
        `${where} asks for SandboxProfile "${requested}", but the namespace's profile "${nsProfile.name}" does ` +
          `not list it in spec.allowOverrideTo (allowed: ${nsProfile.allowOverrideTo.join(', ') || 'none'})`,
      );
      return undefined;
    }
    const p = ctx.profiles[requested];
    if (!p) denials.push(`${where} asks for SandboxProfile "${requested}", which does not exist`);
    return p;
  };
  const podProfile = pick(annotations[PROFILE_LABEL], `annotation ${PROFILE_LABEL}`);
  if (!podProfile) return { denied: denials.join('; ') };

  // Take podfence's own pieces off (they are rebuilt below).
  const isOurInit = (c: V1Container) =>
    c.name === INIT_CONTAINER_NAME && JSON.stringify(c.command) === JSON.stringify(INIT_INSTALL_COMMAND);
  const foreignInit = (spec.initContainers ?? []).find((c) => c.name === INIT_CONTAINER_NAME && !isOurInit(c));
  if (foreignInit) denials.push(`init container name "${INIT_CONTAINER_NAME}" is reserved for podfence`);
  const initContainers = (spec.initContainers ?? []).filter((c) => !isOurInit(c));
  const volumes = (spec.volumes ?? []).filter((v) => !(v.name === INIT_VOLUME_NAME && v.emptyDir));
  if (volumes.some((v) => v.name === INIT_VOLUME_NAME)) {
    denials.push(`volume name "${INIT_VOLUME_NAME}" is reserved for podfence`);
  }

  // Escapes the profile must allow explicitly.
  const host = podProfile.allowHost;
  if (spec.hostNetwork && !host.network) denials.push(escape('hostNetwork: true', podProfile, 'network'));
  if (spec.hostPID && !host.pid) denials.push(escape('hostPID: true', podProfile, 'pid'));
  if (spec.hostIPC && !host.ipc) denials.push(escape('hostIPC: true', podProfile, 'ipc'));
  for (const v of volumes) {
    if (v.hostPath && !host.hostPath) denials.push(escape(`hostPath volume "${v.name}"`, podProfile, 'hostPath'));
  }

  // Pod-level security context.
  const podSc: V1PodSecurityContext = { ...(spec.securityContext ?? {}) };
  weakenings(podSc, podProfile, 'pod securityContext', denials, warnings, ctx.policy.onWeakening);
  const { sysctls: profileSysctls, ...profilePodSc } = podProfile.podSecurityContext;
  Object.assign(podSc, profilePodSc, {
    runAsNonRoot: true,
    seccompProfile: { type: 'Localhost', localhostProfile: podProfile.seccomp.localhostProfile },
  });
  // The profile's sysctls (the unprivileged-port start standing in for a kept NET_BIND_SERVICE) are merged by
  // name into the pod's own; the kubelet refuses namespaced net sysctls on hostNetwork pods, so none there.
  if (profileSysctls?.length && !spec.hostNetwork) {
    const names = new Set(profileSysctls.map((s) => s.name));
    podSc.sysctls = [...(podSc.sysctls ?? []).filter((s) => !names.has(s.name)), ...profileSysctls];
  }
  spec.securityContext = podSc;

  const used = new Map<string, ProfileInfo>([[podProfile.name, podProfile]]);
  const skipped: string[] = [];
  let wrapped = 0;
  const probeWarnings = new Set<string>();

  const sandbox = (c: V1Container, kind: 'initContainers' | 'containers' | 'ephemeralContainers') => {
    const where = `container "${c.name}"`;
    const profile = pick(annotations[CONTAINER_PROFILE_ANNOTATION_PREFIX + c.name], `annotation for ${where}`);
    if (!profile) return;
    used.set(profile.name, profile);

    for (const m of c.volumeMounts ?? []) {
      if (m.name !== INIT_VOLUME_NAME && isUnder(m.mountPath, INIT_DIR)) {
        denials.push(`${where} mounts volume "${m.name}" at ${m.mountPath}, over podfence's ${INIT_DIR}`);
      }
    }
    const sc: V1SecurityContext = { ...(c.securityContext ?? {}) };
    weakenings(sc, profile, `${where} securityContext`, denials, warnings, ctx.policy.onWeakening);
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
    c.securityContext = sc;

    const mounts = (c.volumeMounts ?? []).filter((m) => m.name !== INIT_VOLUME_NAME);
    const hadOurMount = mounts.length !== (c.volumeMounts ?? []).length;
    // Ephemeral containers (kubectl debug) get the security context but no wrapper: see docs/webhook.md.
    if (kind === 'ephemeralContainers') return;
    const extra = { readOnly: [] as string[], readWrite: [] as string[] };
    if (profile.trustVolumes) {
      for (const m of mounts) (m.readOnly ? extra.readOnly : extra.readWrite).push(m.mountPath);
    }
    const options = profile.landlockArgs({ readOnly: uniq(extra.readOnly), readWrite: uniq(extra.readWrite) });
    if (options.length === 0) {
      // Audit mode: no Landlock, no wrapper (recorded, so the validating policy expects none). Unwrap what an
      // earlier enforce-mode mutation may have left.
      skipped.push(c.name);
      const original = unwrap(c);
      if (original) {
        c.command = original;
        delete c.args;
      }
      if (hadOurMount) setMounts(c, mounts);
      return;
    }
    for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      if (p?.exec) probeWarnings.add(c.name);
    }
    const original = unwrap(c) ?? effectiveCommand(c, entrypointOf(ctx, c.name));
    if (!original) {
      const e = ctx.entrypoints[c.name];
      const why = e && 'error' in e ? e.error : 'not resolved';
      const msg =
        `${where}: podfence could not read the entrypoint of image "${c.image}" (${why}); set "command" ` +
        `in the container spec so podfence can put its Landlock wrapper in front of it`;
      if (ctx.policy.onUnresolvedEntrypoint === 'deny') denials.push(msg);
      else {
        warnings.push(`${msg}. Admitted WITHOUT Landlock (policy skip-landlock)`);
        skipped.push(c.name);
        if (hadOurMount) setMounts(c, mounts);
      }
      return;
    }
    if (original.length === 0) {
      denials.push(`${where}: image "${c.image}" has neither ENTRYPOINT nor CMD; set "command"`);
      return;
    }
    c.command = [INIT_BINARY, ...options, '--', ...original];
    delete c.args;
    c.volumeMounts = [...mounts, { name: INIT_VOLUME_NAME, mountPath: INIT_DIR, readOnly: true }];
    wrapped++;
  };

  for (const c of initContainers) sandbox(c, 'initContainers');
  for (const c of spec.containers ?? []) sandbox(c, 'containers');
  for (const c of spec.ephemeralContainers ?? []) sandbox(c as V1Container, 'ephemeralContainers');

  if (denials.length) return { denied: uniq(denials).join('; ') };

  if (wrapped > 0) {
    const init: V1Container = {
      name: INIT_CONTAINER_NAME,
      image: ctx.policy.initImage,
      command: [...INIT_INSTALL_COMMAND],
      ...(ctx.policy.initImagePullPolicy ? { imagePullPolicy: ctx.policy.initImagePullPolicy } : {}),
      volumeMounts: [{ name: INIT_VOLUME_NAME, mountPath: INIT_DIR }],
      resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
      securityContext: {
        ...podProfile.containerSecurityContext,
        allowPrivilegeEscalation: false,
        privileged: false,
        runAsNonRoot: true,
        ...(podProfile.podSecurityContext.runAsUser !== undefined
          ? { runAsUser: podProfile.podSecurityContext.runAsUser }
          : {}),
        ...(podProfile.podSecurityContext.runAsGroup !== undefined
          ? { runAsGroup: podProfile.podSecurityContext.runAsGroup }
          : {}),
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'Localhost', localhostProfile: podProfile.seccomp.localhostProfile },
      },
    };
    spec.initContainers = [init, ...initContainers];
    const volume: V1Volume = { name: INIT_VOLUME_NAME, emptyDir: { medium: 'Memory', sizeLimit: INIT_VOLUME_SIZE } };
    spec.volumes = [...volumes, volume];
  } else {
    // Only rewrite the lists when podfence's pieces were in them (an audit-mode re-invocation).
    if (initContainers.length !== (spec.initContainers ?? []).length) {
      if (initContainers.length) spec.initContainers = initContainers;
      else delete spec.initContainers;
    }
    if (volumes.length !== (spec.volumes ?? []).length) {
      if (volumes.length) spec.volumes = volumes;
      else delete spec.volumes;
    }
  }

  // Scheduling: only on nodes that have every compiled seccomp file this pod references.
  requireNodeLabels(
    pod,
    [...used.values()].map((p) => NODE_SECCOMP_LABEL_PREFIX + p.seccomp.hash),
  );
  for (const p of used.values()) {
    if (!p.ready) {
      warnings.push(
        `SandboxProfile "${p.name}" is not Ready: the pod stays Pending until its seccomp profile is installed ` +
          `on a node (node label ${NODE_SECCOMP_LABEL_PREFIX}${p.seccomp.hash})`,
      );
    }
  }
  if (probeWarnings.size) {
    warnings.push(
      `exec probes of ${[...probeWarnings].map((n) => `"${n}"`).join(', ')} (and kubectl exec) run without ` +
        `Landlock: seccomp, capabilities and the user still apply`,
    );
  }

  const newAnnotations: Record<string, string> = {
    ...annotations,
    [APPLIED_ANNOTATION]: `${podProfile.name}@${podProfile.version}`,
  };
  if (skipped.length) newAnnotations[LANDLOCK_SKIPPED_ANNOTATION] = skipped.join(',');
  else delete newAnnotations[LANDLOCK_SKIPPED_ANNOTATION];
  pod.metadata.annotations = newAnnotations;
  return { pod, warnings };
}

function setMounts(c: V1Container, mounts: V1Container['volumeMounts'] & object): void {
  if (mounts.length) c.volumeMounts = mounts;
  else delete c.volumeMounts;
}

function escape(what: string, p: ProfileInfo, field: string): string {
  return `${what} is not allowed: SandboxProfile "${p.name}" does not set spec.allowHost.${field}`;
}

/**
 * Settings a pod author wrote that would weaken the profile: denied, or overwritten (policy) with a warning.
 * Values the mutation itself writes never count, which keeps re-invocation a no-op.
 */
function weakenings(
  sc: V1SecurityContext & V1PodSecurityContext,
  p: ProfileInfo,
  where: string,
  denials: string[],
  warnings: string[],
  policy: 'deny' | 'overwrite',
): void {
  const found: string[] = [];
  if (sc.privileged === true) found.push('privileged: true');
  if (sc.allowPrivilegeEscalation === true) found.push('allowPrivilegeEscalation: true');
  if (sc.runAsUser === 0) found.push('runAsUser: 0');
  if (sc.runAsNonRoot === false) found.push('runAsNonRoot: false');
  if (sc.seccompProfile?.type === 'Unconfined') found.push('seccompProfile: Unconfined');
  if (sc.procMount === 'Unmasked') found.push('procMount: Unmasked');
  if (sc.windowsOptions?.hostProcess) found.push('windowsOptions.hostProcess: true');
  const extraCaps = (sc.capabilities?.add ?? []).filter((c) => !p.keepCapabilities.includes(normCap(c)));
  if (extraCaps.length) found.push(`capabilities.add: [${extraCaps.join(', ')}] beyond the profile's keep list`);
  if (found.length === 0) {
    const user = p.podSecurityContext.runAsUser;
    if (sc.runAsUser !== undefined && user !== undefined && sc.runAsUser !== user) {
      warnings.push(`${where}: runAsUser ${sc.runAsUser} replaced by the profile's ${user}`);
    }
    return;
  }
  const msg = `${where}: ${found.join(', ')} would weaken SandboxProfile "${p.name}"`;
  if (policy === 'deny') denials.push(msg);
  else warnings.push(`${msg}; overwritten by podfence`);
}

function normCap(c: string): string {
  const u = c.toUpperCase();
  return u.startsWith('CAP_') ? u.slice(4) : u;
}

/** The original command of a container podfence already wrapped (everything after the wrapper's `--`). */
function unwrap(c: V1Container): string[] | undefined {
  if (c.command?.[0] !== INIT_BINARY) return undefined;
  const sep = c.command.indexOf('--');
  if (sep < 0) return undefined;
  return [...c.command.slice(sep + 1), ...(c.args ?? [])];
}

function entrypointOf(ctx: MutationContext, name: string) {
  const e = ctx.entrypoints[name];
  return e && !('error' in e) ? e : undefined;
}

function isUnder(path: string, dir: string): boolean {
  const p = path.replace(/\/+$/, '') || '/';
  return p === dir || p.startsWith(dir + '/') || dir.startsWith(p === '/' ? '/' : p + '/');
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** ANDs `<key> Exists` into every required nodeSelectorTerm (creating one if there is none). */
export function requireNodeLabels(pod: V1Pod, keys: string[]): void {
  if (!keys.length || !pod.spec) return;
  const affinity = (pod.spec.affinity ??= {});
  const nodeAffinity = (affinity.nodeAffinity ??= {});
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
}
