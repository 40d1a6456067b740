import { INIT_DIR } from '../common/constants.js';
import { resolveProfile, type ResolvedProfile } from './resolve.js';
import type { SandboxProfile } from './schema.js';

export interface LandlockExtra {
  /** Volume mount directories the webhook grants read-only (trustVolumes). */
  readOnly?: string[];
  /** Volume mount directories the webhook grants read-write. */
  readWrite?: string[];
}

const uniqSorted = (...lists: (readonly string[] | undefined)[]): string[] =>
  [...new Set(lists.flatMap((l) => l ?? []))].filter((p) => p.startsWith('/')).sort();

/** podfence-init options (before `--`) for a resolved profile. */
export function landlockArgsFor(r: ResolvedProfile, extra: LandlockExtra = {}): string[] {
  // audit: Landlock is not applied at all, and the webhook does not wrap.
  if (r.mode === 'audit') return [];
  const ll = r.landlock;
  const args = ['--mode', ll.mode, '--missing', ll.missingPaths];
  for (const p of uniqSorted(ll.readOnly, extra.readOnly)) args.push('--ro', p);
  for (const p of uniqSorted(ll.readWrite, extra.readWrite)) args.push('--rw', p);
  // The wrapper's own directory: always executable.
  for (const p of uniqSorted(ll.execute, [INIT_DIR])) args.push('--exec', p);
  if (ll.tcp) {
    for (const port of ll.tcp.bind) args.push('--bind-tcp', String(port));
    for (const port of ll.tcp.connect) args.push('--connect-tcp', String(port));
    // Restrict TCP even when no port is listed (tcp: {} means "no TCP at all").
    args.push('--deny-tcp');
  }
  for (const s of ll.scope) args.push('--scope', s);
  return args;
}

/** The `podfence-init` options that go before `--` (empty in audit mode). */
export function compileLandlockArgs(profile: SandboxProfile, extra?: LandlockExtra): string[] {
  return landlockArgsFor(resolveProfile(profile), extra);
}
