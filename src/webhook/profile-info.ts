import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';
import type { ProfileInfo } from './types.js';

/** A SandboxProfile object as far as the webhook reads it (the zod type in src/profile is the full truth). */
export interface ProfileObject {
  metadata?: { name?: string; generation?: number };
  spec?: unknown;
  status?: unknown;
}

/**
 * The subset of `src/profile/index.ts` the webhook uses, passed in rather than imported so the pure webhook
 * modules and their tests do not depend on the compiler (the CLI wires the real module in).
 */
export interface ProfileApi<P extends ProfileObject = ProfileObject> {
  validateProfile(obj: unknown): { ok: true; profile: P } | { ok: false; errors: { path: string; message: string }[] };
  resolveProfile(profile: P): unknown;
  compileSeccomp(profile: P): { hash: string; localhostProfile: string };
  compileLandlockArgs(profile: P, extra?: { readOnly?: string[]; readWrite?: string[] }): string[];
  /** Same result from an already resolved profile (saves re-resolving per container). */
  landlockArgsFor?(resolved: unknown, extra?: { readOnly?: string[]; readWrite?: string[] }): string[];
  securityContextFor(profile: P): { pod: V1PodSecurityContext; container: V1SecurityContext };
  profileVersion(profile: P): string;
}

interface SpecView {
  mode?: string;
  capabilities?: { keep?: string[] };
  allowOverrideTo?: string[];
  allowHost?: { network?: boolean; pid?: boolean; ipc?: boolean; hostPath?: boolean };
  landlock?: { trustVolumes?: boolean };
}

function specOf(x: unknown): SpecView {
  if (!x || typeof x !== 'object') return {};
  const o = x as { spec?: unknown };
  return (o.spec && typeof o.spec === 'object' ? o.spec : o) as SpecView;
}

/** Compiles a SandboxProfile object into what the mutation needs; invalid profiles give their errors. */
export function toProfileInfo<P extends ProfileObject>(
  obj: unknown,
  api: ProfileApi<P>,
): { ok: true; info: ProfileInfo } | { ok: false; error: string } {
  const v = api.validateProfile(obj);
  if (!v.ok) return { ok: false, error: v.errors.map((e) => `${e.path}: ${e.message}`).join('; ') };
  const profile = v.profile;
  // Defaults as resolved by src/profile, falling back to the written spec.
  const resolvedProfile = api.resolveProfile(profile);
  const resolved = specOf(resolvedProfile);
  const written = specOf(profile);
  const pick = <K extends keyof SpecView>(k: K): SpecView[K] => resolved[k] ?? written[k];
  const seccomp = api.compileSeccomp(profile);
  const sc = api.securityContextFor(profile);
  const allowHost = pick('allowHost') ?? {};
  const status = ((obj as ProfileObject).status ?? {}) as {
    hash?: string;
    conditions?: { type?: string; status?: string; observedGeneration?: number }[];
  };
  const readyCond = status.conditions?.find((c) => c.type === 'Ready');
  const generation = (obj as ProfileObject).metadata?.generation;
  const ready =
    readyCond?.status === 'True' &&
    (generation === undefined ||
      readyCond.observedGeneration === undefined ||
      readyCond.observedGeneration === generation) &&
    (status.hash === undefined || status.hash === seccomp.hash);
  return {
    ok: true,
    info: {
      name: profile.metadata?.name ?? '',
      version: api.profileVersion(profile),
      mode: pick('mode') === 'audit' ? 'audit' : 'enforce',
      seccomp: { localhostProfile: seccomp.localhostProfile, hash: seccomp.hash },
      ready,
      podSecurityContext: sc.pod,
      containerSecurityContext: sc.container,
      keepCapabilities: (pick('capabilities')?.keep ?? []).map((c) => c.toUpperCase().replace(/^CAP_/, '')),
      allowOverrideTo: pick('allowOverrideTo') ?? [],
      allowHost: {
        network: allowHost.network === true,
        pid: allowHost.pid === true,
        ipc: allowHost.ipc === true,
        hostPath: allowHost.hostPath === true,
      },
      trustVolumes: (resolved.landlock?.trustVolumes ?? written.landlock?.trustVolumes) === true,
      landlockArgs: memo((extra) =>
        api.landlockArgsFor ? api.landlockArgsFor(resolvedProfile, extra) : api.compileLandlockArgs(profile, extra),
      ),
    },
  };
}

/**
 * Wrapper options per set of granted volume directories, remembered: pods of one workload share their mounts, and
 * compiling the options is the largest part of a mutation's cost. Bounded; cleared when full.
 */
function memo(
  fn: (extra: { readOnly: string[]; readWrite: string[] }) => string[],
): (extra: { readOnly: string[]; readWrite: string[] }) => string[] {
  const cache = new Map<string, string[]>();
  return (extra) => {
    const key = `${extra.readOnly.join('\0')}\n${extra.readWrite.join('\0')}`;
    let hit = cache.get(key);
    if (!hit) {
      if (cache.size >= 512) cache.clear();
      hit = fn(extra);
      cache.set(key, hit);
    }
    return [...hit];
  };
}
