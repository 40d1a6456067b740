import { INIT_DIR } from '../common/constants.js';
import { resolveProfile, type ResolvedProfile } from './resolve.js';
import type { SandboxProfile } from './schema.js';
import { seccompFor } from './seccomp.js';
import { seccompLogValue } from './seccomp-log.js';

export interface LandlockExtra {
  /** Volume mount directories the webhook grants read-only (trustVolumes): `--volume-ro`. */
  readOnly?: string[];
  /** Volume mount directories the webhook grants read-write: `--volume-rw`. */
  readWrite?: string[];
}

const uniqSorted = (...lists: (readonly string[] | undefined)[]): string[] =>
  [...new Set(lists.flatMap((l) => l ?? []))].filter((p) => p.startsWith('/')).sort();

const logValues = new WeakMap<ResolvedProfile, string | undefined>();
/** `--seccomp-log`'s value for a resolved profile (src/profile/seccomp-log.ts), computed once per profile. */
function seccompLogOf(r: ResolvedProfile): string | undefined {
  if (!logValues.has(r)) logValues.set(r, seccompLogValue(seccompFor(r), r.seccomp.architectures));
  return logValues.get(r);
}

/** podfence-init options (before `--`) for a resolved profile. */
export function landlockArgsFor(r: ResolvedProfile, extra: LandlockExtra = {}): string[] {
  // audit: Landlock is not applied at all, and the webhook does not wrap.
  if (r.mode === 'audit') return [];
  const ll = r.landlock;
  const args = ['--mode', ll.mode, '--missing', ll.missingPaths];
  // The author's paths, the preset's and baseline's (optional: silent when missing), and the volumes (granted by
  // the wrapper only as the root of a mount): podfence-init trusts what it finds at each accordingly.
  const paths = (flag: string, all: readonly string[], optional: readonly string[]) => {
    for (const p of uniqSorted(all)) args.push(optional.includes(p) ? `--optional-${flag}` : `--${flag}`, p);
  };
  paths('ro', ll.readOnly, ll.optional.readOnly);
  paths('rw', ll.readWrite, ll.optional.readWrite);
  // The wrapper's own directory: always executable.
  paths('exec', [...ll.execute, INIT_DIR], ll.optional.execute);
  for (const p of uniqSorted(extra.readOnly)) args.push('--volume-ro', p);
  for (const p of uniqSorted(extra.readWrite)) args.push('--volume-rw', p);
  if (ll.tcp) {
    for (const port of ll.tcp.bind) args.push('--bind-tcp', String(port));
    for (const port of ll.tcp.connect) args.push('--connect-tcp', String(port));
    // Restrict TCP even when no port is listed (tcp: {} means "no TCP at all").
    args.push('--deny-tcp');
  }
  for (const s of ll.scope) args.push('--scope', s);
  // The profile's errno refusals, logged by the kernel (the wrapper's second seccomp filter).
  const log = seccompLogOf(r);
  if (log !== undefined) args.push('--seccomp-log', log);
  return args;
}

/** The `podfence-init` options that go before `--` (empty in audit mode). */
export function compileLandlockArgs(profile: SandboxProfile, extra?: LandlockExtra): string[] {
  return landlockArgsFor(resolveProfile(profile), extra);
}
