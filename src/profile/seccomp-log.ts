import type { Architecture } from './schema.js';
import type { OciSeccomp } from './seccomp.js';
import { AARCH64_NUMBERS, X86_64_NUMBERS } from './syscall-numbers.js';

// podfence-init's `--seccomp-log` value: a second seccomp filter, loaded with SECCOMP_FILTER_FLAG_LOG just before
// the workload's execve, that makes the kernel log the profile's errno refusals (runc 1.1 cannot load the profile
// itself with that flag). The kernel runs every filter, newest first, keeps the lowest action and, on a tie, the
// newest filter's return value and log flag. So this filter must refuse, with the profile's errno, only what the
// profile's own filter refuses unconditionally with that errno, and return ALLOW (defer to the profile) for the
// rest: then it changes no result and widens nothing. Value: `ERRNO:ARCH=RANGES[:ARCH=RANGES]`, RANGES being the
// syscall numbers that pass (init-helper/src/seclog.h).

const EPERM = 1;
const MAX_NR = 4294967295;

/** Syscall name -> number, per architecture (the inverse of the audit tables). */
export const SYSCALL_NUMBERS: Readonly<Record<Architecture, ReadonlyMap<string, number>>> = {
  x86_64: new Map(Object.entries(X86_64_NUMBERS).map(([n, name]) => [name, Number(n)])),
  aarch64: new Map(Object.entries(AARCH64_NUMBERS).map(([n, name]) => [name, Number(n)])),
};

/**
 * Numbers above this pass whatever the profile says. runc prepends to the profile's filter a stub returning ENOSYS
 * (not the profile's errno) for every number above the highest one the profile names that its libseccomp knows, so
 * that programs fall back from syscalls newer than the profile; an errno from this filter would replace that ENOSYS.
 * Every compiled profile names clone3 (435, refused with ENOSYS), which every libseccomp runc 1.1 builds with knows,
 * so that stub never starts below it. Refusals above it are not logged.
 */
export const LOG_ABOVE = 435;

/**
 * Names the profile's filter may let through (or decide otherwise than refusing with `errno`): every name of every
 * entry except unconditional refusals with that errno.
 */
export function passingNames(oci: OciSeccomp, errno: number): Set<string> {
  const pass = new Set<string>();
  for (const s of oci.syscalls) {
    const refusedAlike = s.action === 'SCMP_ACT_ERRNO' && (s.errnoRet ?? EPERM) === errno && !s.args?.length;
    if (!refusedAlike) for (const n of s.names) pass.add(n);
  }
  return pass;
}

/** Numbers as ascending `a-b` / `a` ranges, adjacent ones merged. */
export function toRanges(numbers: readonly number[]): string {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const n of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && n === last[1] + 1) last[1] = n;
    else ranges.push([n, n]);
  }
  return ranges.map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}-${hi}`)).join(',');
}

/**
 * The option's value for a compiled OCI profile, or undefined when there is nothing to log this way: the default
 * is not an errno (kill and log actions are logged by the kernel anyway; audit mode logs instead of refusing), or
 * the profile refuses `seccomp` itself (the wrapper could not load the filter).
 */
export function seccompLogValue(oci: OciSeccomp, architectures: readonly Architecture[]): string | undefined {
  if (oci.defaultAction !== 'SCMP_ACT_ERRNO') return undefined;
  const errno = oci.defaultErrnoRet ?? EPERM;
  const pass = passingNames(oci, errno);
  if (!pass.has('seccomp')) return undefined;
  const parts = [...new Set(architectures)].sort().map((arch) => {
    const numbers = SYSCALL_NUMBERS[arch];
    const nrs: number[] = [];
    for (const name of pass) {
      const nr = numbers.get(name);
      if (nr !== undefined && nr <= LOG_ABOVE) nrs.push(nr);
    }
    // Everything above LOG_ABOVE passes: one range up to the largest number (negative numbers included).
    const ranges = toRanges([...nrs, LOG_ABOVE + 1]).replace(
      /(^|,)(\d+)(?:-(\d+))?$/,
      (_m, sep: string, lo: string) => `${sep}${lo}-${MAX_NR}`,
    );
    return `${arch}=${ranges}`;
  });
  return parts.length ? `${errno}:${parts.join(':')}` : undefined;
}

/** Decode a value (for tests and `podfence compile`): errno and, per architecture, the numbers refused up to max. */
export function refusedBy(
  value: string,
  arch: Architecture,
  max = LOG_ABOVE + 64,
): { errno: number; refused: number[] } {
  const [errno, ...parts] = value.split(':');
  const part = parts.find((p) => p.startsWith(`${arch}=`));
  const passes = (nr: number) =>
    part !== undefined &&
    part
      .slice(arch.length + 1)
      .split(',')
      .some((r) => {
        const [lo, hi = lo] = r.split('-').map(Number);
        return nr >= lo! && nr <= hi!;
      });
  const refused: number[] = [];
  if (part !== undefined) for (let nr = 0; nr <= max; nr++) if (!passes(nr)) refused.push(nr);
  return { errno: Number(errno), refused };
}
