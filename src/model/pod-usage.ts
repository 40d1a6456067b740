import type { V1Pod, V1SeccompProfile } from '@kubernetes/client-node';
import { APPLIED_ANNOTATION, SECCOMP_SUBDIR } from '../common/constants.js';

// Which podfence profiles (and seccomp files) a pod uses. Two sources, because either alone can be missing: the
// webhook's `podfence.dev/applied` annotation (`<profile>@<version>`, possibly one entry per container), and the
// `Localhost` seccomp paths under `podfence/` that the kubelet actually loads.

const FILE_RE = new RegExp(`^${SECCOMP_SUBDIR}/([a-z0-9]([-a-z0-9]*[a-z0-9])?)-([0-9a-f]{16})\\.json$`);
const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface SeccompFileRef {
  profile: string;
  hash: string;
  /** File name inside `<kubelet root>/seccomp/podfence/`. */
  file: string;
}

/** `podfence/<name>-<hash>.json` -> its parts; anything else -> undefined. */
export function parseLocalhostProfile(path: string | undefined): SeccompFileRef | undefined {
  const m = path ? FILE_RE.exec(path) : null;
  if (!m) return undefined;
  return { profile: m[1]!, hash: m[3]!, file: path!.slice(SECCOMP_SUBDIR.length + 1) };
}

/** Profile names from the applied annotation; tolerant of `a@v1`, `a@v1,b@v2` and `ctr=a@v1` forms. */
export function parseAppliedAnnotation(value: string | undefined): string[] {
  if (!value) return [];
  const names = new Set<string>();
  for (const token of value.split(/[\s,;]+/)) {
    const entry = token.includes('=') ? token.slice(token.indexOf('=') + 1) : token;
    const name = entry.split('@')[0] ?? '';
    if (NAME_RE.test(name)) names.add(name);
  }
  return [...names];
}

/** Every podfence seccomp file the pod's containers load. */
export function seccompFilesOfPod(pod: V1Pod): SeccompFileRef[] {
  const spec = pod.spec;
  const profiles: (V1SeccompProfile | undefined)[] = [spec?.securityContext?.seccompProfile];
  for (const c of [
    ...(spec?.initContainers ?? []),
    ...(spec?.containers ?? []),
    ...(spec?.ephemeralContainers ?? []),
  ]) {
    profiles.push(c.securityContext?.seccompProfile);
  }
  const byFile = new Map<string, SeccompFileRef>();
  for (const p of profiles) {
    if (p?.type !== 'Localhost') continue;
    const ref = parseLocalhostProfile(p.localhostProfile);
    if (ref) byFile.set(ref.file, ref);
  }
  return [...byFile.values()];
}

/** A pod that has finished holds nothing: its containers will not load a profile again. */
export function podIsActive(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/** Names of the profiles an active pod uses (empty for finished pods). */
export function profilesUsedByPod(pod: V1Pod): string[] {
  if (!podIsActive(pod)) return [];
  const names = new Set(parseAppliedAnnotation(pod.metadata?.annotations?.[APPLIED_ANNOTATION]));
  for (const ref of seccompFilesOfPod(pod)) names.add(ref.profile);
  return [...names];
}

export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** The namespace part of a podKey. */
export function namespaceOfKey(key: string): string {
  return key.slice(0, key.indexOf('/'));
}

/** Only the pod fields podfence reads: a cluster-wide pod cache stays small. */
export function slimPod(pod: V1Pod): V1Pod {
  const sc = (c: { name: string; securityContext?: { seccompProfile?: unknown } }) => ({
    name: c.name,
    securityContext: c.securityContext?.seccompProfile
      ? { seccompProfile: c.securityContext.seccompProfile }
      : undefined,
  });
  const applied = Object.entries(pod.metadata?.annotations ?? {}).filter(([k]) => k.startsWith('podfence.dev/'));
  return {
    metadata: {
      name: pod.metadata?.name,
      namespace: pod.metadata?.namespace,
      uid: pod.metadata?.uid,
      resourceVersion: pod.metadata?.resourceVersion,
      deletionTimestamp: pod.metadata?.deletionTimestamp,
      annotations: applied.length ? Object.fromEntries(applied) : undefined,
    },
    spec: {
      nodeName: pod.spec?.nodeName,
      securityContext: pod.spec?.securityContext?.seccompProfile
        ? { seccompProfile: pod.spec.securityContext.seccompProfile }
        : undefined,
      containers: (pod.spec?.containers ?? []).map(sc),
      initContainers: pod.spec?.initContainers?.map(sc),
      ephemeralContainers: pod.spec?.ephemeralContainers?.map(sc),
    } as V1Pod['spec'],
    status: { phase: pod.status?.phase },
  };
}
