import { DEFAULT_GID, DEFAULT_UID } from '../common/constants.js';
import { BASELINE, PRESET_CAPABILITIES, PRESET_LANDLOCK, PRESET_SECCOMP } from './presets.js';
import {
  ARCHITECTURES,
  SOCKET_KINDS,
  type Architecture,
  type Preset,
  type SandboxProfile,
  type SeccompRule,
  type SocketKind,
} from './schema.js';
import { ALWAYS_ALLOWED } from './syscalls.js';

/**
 * A profile with its preset, baseline and defaults merged: every later step (seccomp, Landlock options, security
 * context, version hash) reads only this form. Lists are sorted and unique, so equal meaning gives equal bytes.
 */
export interface ResolvedProfile {
  name: string;
  preset: Preset;
  mode: 'enforce' | 'audit';
  user: { runAsUser: number; runAsGroup: number; fsGroup?: number };
  capabilities: { keep: string[] };
  seccomp: {
    defaultAction: 'errno' | 'kill' | 'log';
    errno: number;
    architectures: Architecture[];
    /** Unconditionally allowed names. */
    allow: string[];
    /** Syscalls moby allows only with argument conditions; compiled as rules. */
    conditional: { clone: boolean; personality: boolean };
    /** Socket kinds `socket` may create (compiled as argument rules). */
    sockets: SocketKind[];
    /** Writable+executable memory and its kin allowed (JITs); refused otherwise. */
    allowJit: boolean;
    /** Refuse socket(..., IPPROTO_MPTCP): set when Landlock restricts TCP (MPTCP escapes its TCP rights). */
    refuseMptcp: boolean;
    rules: SeccompRule[];
  };
  landlock: {
    mode: 'enforce' | 'best-effort';
    baseline: boolean;
    readOnly: string[];
    readWrite: string[];
    execute: string[];
    /**
     * The paths above that only the preset or the baseline brings (not the author): the wrapper gets them as
     * --optional-* (silent when missing, never fatal under missingPaths: fail).
     */
    optional: { readOnly: string[]; readWrite: string[]; execute: string[] };
    tcp: { bind: number[]; connect: number[] } | null;
    scope: string[];
    missingPaths: 'skip' | 'fail';
    trustVolumes: boolean;
  };
  allowOverrideTo: string[];
  allowHost: { network: boolean; pid: boolean; ipc: boolean; hostPath: boolean };
}

const sorted = <T extends string | number>(...lists: (readonly T[] | undefined)[]): T[] =>
  [...new Set(lists.flatMap((l) => l ?? []))].sort((a, b) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0,
  );

const notIn = (list: string[], author: readonly string[] | undefined): string[] =>
  list.filter((p) => !(author ?? []).includes(p));

const CONDITIONAL = new Set(['socket', 'clone', 'clone3', 'personality']);

export function resolveProfile(profile: SandboxProfile): ResolvedProfile {
  const spec = profile.spec ?? {};
  const preset: Preset = spec.preset ?? 'none';
  const sc = spec.seccomp ?? {};
  const ll = spec.landlock ?? {};
  const architectures = ARCHITECTURES.filter((a) => (sc.architectures ?? ARCHITECTURES).includes(a));

  const deny = new Set(sc.deny ?? []);
  const base = PRESET_SECCOMP[preset];
  const allow = sorted(base.allow, sc.allow, ALWAYS_ALLOWED).filter(
    (n) => !CONDITIONAL.has(n) && (!deny.has(n) || ALWAYS_ALLOWED.includes(n)),
  );
  // `sockets` names the kinds; allowing `socket` explicitly means every kind, denying it means none.
  let sockets: SocketKind[] = sorted(sc.sockets ?? (sc.allow?.includes('socket') ? SOCKET_KINDS : base.sockets));
  if (deny.has('socket')) sockets = [];
  const tcp = ll.tcp ? { bind: sorted(ll.tcp.bind), connect: sorted(ll.tcp.connect) } : null;

  const baseline = ll.baseline ?? true;
  const presetLl = PRESET_LANDLOCK[preset];
  const loaders = architectures.flatMap((a) => BASELINE.loaders[a]);
  return {
    name: profile.metadata.name,
    preset,
    mode: spec.mode ?? 'enforce',
    user: {
      runAsUser: spec.user?.runAsUser ?? DEFAULT_UID,
      runAsGroup: spec.user?.runAsGroup ?? DEFAULT_GID,
      ...(spec.user?.fsGroup !== undefined ? { fsGroup: spec.user.fsGroup } : {}),
    },
    capabilities: { keep: sorted(spec.capabilities?.keep ?? PRESET_CAPABILITIES[preset]) },
    seccomp: {
      defaultAction: sc.defaultAction ?? 'errno',
      errno: sc.errno ?? 1,
      architectures,
      allow,
      conditional: { clone: !deny.has('clone'), personality: !deny.has('personality') },
      sockets,
      allowJit: sc.allowJit ?? false,
      refuseMptcp: tcp !== null && sockets.includes('tcp'),
      rules: sc.rules ?? [],
    },
    landlock: {
      mode: ll.mode ?? 'enforce',
      baseline,
      readOnly: sorted(presetLl.readOnly, baseline ? BASELINE.readOnly : [], ll.readOnly),
      readWrite: sorted(presetLl.readWrite, baseline ? BASELINE.readWrite : [], ll.readWrite),
      execute: sorted(presetLl.execute, baseline ? loaders : [], ll.execute),
      optional: {
        readOnly: notIn(sorted(presetLl.readOnly, baseline ? BASELINE.readOnly : []), ll.readOnly),
        readWrite: notIn(sorted(presetLl.readWrite, baseline ? BASELINE.readWrite : []), ll.readWrite),
        execute: notIn(sorted(presetLl.execute, baseline ? loaders : []), ll.execute),
      },
      tcp,
      scope: sorted(ll.scope),
      missingPaths: ll.missingPaths ?? 'skip',
      trustVolumes: ll.trustVolumes ?? true,
    },
    allowOverrideTo: sorted(spec.allowOverrideTo),
    allowHost: {
      network: spec.allowHost?.network ?? false,
      pid: spec.allowHost?.pid ?? false,
      ipc: spec.allowHost?.ipc ?? false,
      hostPath: spec.allowHost?.hostPath ?? false,
    },
  };
}
