import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';
import { landlockArgsFor, type LandlockExtra } from './landlock.js';
import { requiredLandlockAbi } from './landlock-abi.js';
import { resolveProfile, type ResolvedProfile } from './resolve.js';
import type { SandboxProfile } from './schema.js';
import { compileSeccomp, type CompiledSeccomp } from './seccomp.js';
import { securityContextsOf, versionOf } from './security-context.js';
import { validateProfile, type FieldError } from './validate.js';

// Every compiled form of one profile version, computed in one place: the controller (status, node labels), the
// node agent (seccomp files) and the webhook (pod mutation) all read this, so they cannot disagree.

export interface CompiledProfile {
  name: string;
  /** Hash of the whole resolved profile: the `podfence.dev/applied` annotation's version. */
  version: string;
  mode: 'enforce' | 'audit';
  /** The OCI seccomp file: bytes, hash (node label `seccomp.podfence.dev/<hash>`), file name, localhostProfile. */
  seccomp: CompiledSeccomp;
  /** Lowest Landlock ABI a node needs to start this profile's pods (0: none). */
  requiredLandlockAbi: number;
  /** Pod-level securityContext fields, without seccomp (the webhook adds Localhost + path). */
  podSecurityContext: V1PodSecurityContext;
  /** Container-level securityContext fields, without seccomp. */
  containerSecurityContext: V1SecurityContext;
  /** Capabilities kept (Kubernetes names, no CAP_ prefix). */
  keepCapabilities: string[];
  allowOverrideTo: string[];
  allowHost: { network: boolean; pid: boolean; ipc: boolean; hostPath: boolean };
  /** Grant each mounted volume's directory to Landlock as mounted. */
  trustVolumes: boolean;
  /** The podfence-init options before `--` for a set of granted volume directories (empty in audit mode). */
  landlockArgs(extra: { readOnly: string[]; readWrite: string[] }): string[];
}

export type CompileResult = { ok: true; compiled: CompiledProfile } | { ok: false; errors: FieldError[] };

/** Compile a validated profile into every form the processes use. */
export function compileProfile(profile: SandboxProfile): CompiledProfile {
  const resolved = resolveProfile(profile);
  const contexts = securityContextsOf(resolved);
  return {
    name: resolved.name,
    version: versionOf(resolved),
    mode: resolved.mode,
    seccomp: compileSeccomp(profile),
    requiredLandlockAbi: requiredLandlockAbi(resolved),
    podSecurityContext: contexts.pod,
    containerSecurityContext: contexts.container,
    keepCapabilities: [...resolved.capabilities.keep],
    allowOverrideTo: [...resolved.allowOverrideTo],
    allowHost: { ...resolved.allowHost },
    trustVolumes: resolved.landlock.trustVolumes,
    landlockArgs: memoPerMountSet(resolved),
  };
}

/** Validate an object as a SandboxProfile and compile it; never throws (a failure is the profile's error). */
export function compileProfileObject(obj: unknown): CompileResult {
  let validated;
  try {
    validated = validateProfile(obj);
  } catch (err) {
    return { ok: false, errors: [{ path: 'spec', message: `cannot validate: ${String(err)}` }] };
  }
  if (!validated.ok) return { ok: false, errors: validated.errors };
  try {
    return { ok: true, compiled: compileProfile(validated.profile) };
  } catch (err) {
    return { ok: false, errors: [{ path: 'spec', message: `cannot compile: ${String(err)}` }] };
  }
}

/**
 * Wrapper options per set of granted volume directories, remembered: pods of one workload share their mounts, and
 * compiling the options is the largest part of a mutation's cost. Bounded; cleared when full.
 */
function memoPerMountSet(resolved: ResolvedProfile): CompiledProfile['landlockArgs'] {
  const cache = new Map<string, string[]>();
  return (extra: Required<LandlockExtra>) => {
    const key = `${extra.readOnly.join('\0')}\n${extra.readWrite.join('\0')}`;
    let hit = cache.get(key);
    if (!hit) {
      if (cache.size >= 512) cache.clear();
      hit = landlockArgsFor(resolved, extra);
      cache.set(key, hit);
    }
    return [...hit];
  };
}
