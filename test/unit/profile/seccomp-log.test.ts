import fc from 'fast-check';
import { optionUnits } from '../../../src/model/admission-params.js';
import {
  compileLandlockArgs,
  compileSeccomp,
  validateProfile,
  type SandboxProfile,
} from '../../../src/profile/index.js';
import type { OciSeccomp } from '../../../src/profile/seccomp.js';
import { LOG_ABOVE, refusedBy, seccompLogValue, toRanges } from '../../../src/profile/seccomp-log.js';
import { AARCH64_NUMBERS, X86_64_NUMBERS } from '../../../src/profile/syscall-numbers.js';
import {
  ALL_SYSCALLS,
  ALWAYS_ALLOWED_SET,
  ALWAYS_DENIED_SET,
  SYSCALLS_BY_ARCH,
} from '../../../src/profile/syscalls.js';

// The wrapper's logging filter (`--seccomp-log`) must refuse, with the profile's errno, exactly what the profile's
// own filter refuses unconditionally with that errno: refusing more would break workloads (the kernel keeps the
// lowest action of all filters), another errno would change results.

const NUMBERS = { x86_64: X86_64_NUMBERS, aarch64: AARCH64_NUMBERS } as const;
const ARCHES = ['x86_64', 'aarch64'] as const;

function profile(spec: unknown, name = 'web'): SandboxProfile {
  const v = validateProfile({ apiVersion: 'podfence.dev/v1alpha1', kind: 'SandboxProfile', metadata: { name }, spec });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.profile;
}
const oci = (p: SandboxProfile) => JSON.parse(compileSeccomp(p).json) as OciSeccomp;
const archesOf = (p: SandboxProfile) => p.spec?.seccomp?.architectures ?? [...ARCHES];
const valueOf = (p: SandboxProfile) => seccompLogValue(oci(p), archesOf(p));

/**
 * Independent of the implementation: the numbers up to `max` the OCI profile refuses with its default errno
 * whatever the arguments (no entry at all, or only unconditional ERRNO entries with that errno; numbers naming
 * no syscall meet the default action).
 */
function ociRefuses(s: OciSeccomp, arch: (typeof ARCHES)[number], max: number): number[] {
  const e = s.defaultErrnoRet ?? 1;
  const out: number[] = [];
  for (let nr = 0; nr <= max; nr++) {
    const name = NUMBERS[arch][nr];
    const entries = name === undefined ? [] : s.syscalls.filter((r) => r.names.includes(name));
    if (entries.every((r) => r.action === 'SCMP_ACT_ERRNO' && (r.errnoRet ?? 1) === e && !r.args?.length)) out.push(nr);
  }
  return out;
}

describe('--seccomp-log (the wrapper logging the profile errno refusals)', () => {
  test('every syscall the profile tables know has a number on that architecture, and the reverse', () => {
    // A name without its number would be refused by the logging filter while the profile allows it.
    for (const arch of ARCHES) {
      const named = Object.values(NUMBERS[arch]);
      expect(new Set(named).size).toBe(named.length);
      expect([...SYSCALLS_BY_ARCH[arch]].filter((n) => !named.includes(n))).toEqual([]);
      expect(named.filter((n) => !SYSCALLS_BY_ARCH[arch].has(n))).toEqual([]);
    }
    expect(X86_64_NUMBERS[63]).toBe('uname');
    expect(AARCH64_NUMBERS[160]).toBe('uname');
    expect(X86_64_NUMBERS[LOG_ABOVE]).toBe('clone3');
    expect(AARCH64_NUMBERS[LOG_ABOVE]).toBe('clone3');
  });

  test('ranges: ascending, adjacent merged', () => {
    expect(toRanges([5, 1, 2, 3, 9, 8, 3])).toBe('1-3,5,8-9');
    expect(toRanges([])).toBe('');
  });

  test('a denied syscall is refused with the errno, allowed and conditional ones pass, newer numbers pass', () => {
    const p = profile({ preset: 'network-server', seccomp: { deny: ['uname'] } });
    const v = valueOf(p)!;
    expect(v).toMatch(/^1:aarch64=[0-9,-]+-4294967295:x86_64=[0-9,-]+-4294967295$/);
    const x = refusedBy(v, 'x86_64', 4096);
    expect(x.errno).toBe(1);
    expect(x.refused).toContain(63); // uname
    expect(x.refused).toContain(165); // mount: always denied
    for (const nr of [0, 1, 41, 56, 9, 10, 317]) expect(x.refused).not.toContain(nr); // read write socket clone mmap mprotect seccomp
    expect(x.refused).not.toContain(LOG_ABOVE); // clone3: ENOSYS, not the default errno
    expect(x.refused.filter((n) => n > LOG_ABOVE)).toEqual([]); // runc's ENOSYS for syscalls newer than the profile
    expect(refusedBy(v, 'aarch64').refused).toContain(160);
    // What the wrapper gets, and what the validating policy expects: one unit.
    const args = compileLandlockArgs(p);
    expect(args.slice(-2)).toEqual(['--seccomp-log', v]);
    expect(optionUnits(args)).toContain(`--seccomp-log ${v}`);
  });

  test('no option: kill or log default, audit mode, a profile refusing seccomp; one arch only; custom errno', () => {
    expect(valueOf(profile({ seccomp: { defaultAction: 'kill' } }))).toBeUndefined();
    expect(valueOf(profile({ seccomp: { defaultAction: 'log' } }))).toBeUndefined();
    expect(compileLandlockArgs(profile({ mode: 'audit' }))).toEqual([]);
    const noSeccomp = profile({ seccomp: { deny: ['seccomp'] } });
    expect(valueOf(noSeccomp)).toBeUndefined();
    expect(compileLandlockArgs(noSeccomp)).not.toContain('--seccomp-log');
    expect(valueOf(profile({ seccomp: { architectures: ['aarch64'] } }))).toMatch(/^1:aarch64=[^:]+$/);
    const e13 = valueOf(profile({ seccomp: { errno: 13, deny: ['uname'] } }))!;
    expect(refusedBy(e13, 'x86_64')).toMatchObject({ errno: 13 });
    expect(refusedBy(e13, 'x86_64').refused).toContain(63);
    // A user rule refusing with another errno, or with conditions: the profile's filter alone decides.
    const rules = valueOf(
      profile({
        seccomp: {
          rules: [
            { names: ['uname'], action: 'errno', errno: 13 },
            { names: ['getcwd'], action: 'errno', args: [{ index: 1, op: 'GT', value: 4096 }] },
            { names: ['chdir'], action: 'kill' },
            { names: ['fchdir'], action: 'log' },
          ],
        },
      }),
    )!;
    const refused = refusedBy(rules, 'x86_64').refused;
    for (const nr of [63, 79, 80, 81]) expect(refused).not.toContain(nr);
  });

  test('property: the option refuses exactly what the profile refuses unconditionally with its errno', () => {
    const presets = ['computation', 'network-server', 'file-processor', 'none'] as const;
    // allow/deny lists the validation accepts (it refuses allowing the always-denied set or denying the wrapper's)
    // (and names of both architectures: a profile for one may not name the other's only syscalls)
    const listed = fc.constantFrom(
      ...ALL_SYSCALLS.filter(
        (n) =>
          !ALWAYS_DENIED_SET.has(n) &&
          !ALWAYS_ALLOWED_SET.has(n) &&
          SYSCALLS_BY_ARCH.x86_64.has(n) &&
          SYSCALLS_BY_ARCH.aarch64.has(n),
      ),
    );
    const rule = fc
      .record({
        names: fc.uniqueArray(listed, { minLength: 1, maxLength: 3 }),
        action: fc.constantFrom('allow', 'errno', 'errno', 'kill', 'log'),
        errno: fc.constantFrom(undefined, 1, 13, 38),
        args: fc.constantFrom(undefined, [{ index: 0, op: 'EQ', value: 3 }]),
      })
      .map((r) => ({ ...r, errno: r.action === 'errno' ? r.errno : undefined }));
    let checked = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...presets),
        fc.uniqueArray(listed, { maxLength: 15 }),
        fc.uniqueArray(fc.oneof({ arbitrary: listed, weight: 40 }, { arbitrary: fc.constant('seccomp'), weight: 1 }), {
          maxLength: 15,
        }),
        fc.array(rule, { maxLength: 4 }),
        fc.constantFrom('errno', 'errno', 'errno', 'kill', 'log'),
        fc.constantFrom(1, 13, 38),
        fc.constantFrom<('x86_64' | 'aarch64')[]>(
          ['x86_64', 'aarch64'],
          ['x86_64', 'aarch64'],
          ['x86_64'],
          ['aarch64'],
        ),
        (preset, allow, deny, rules, defaultAction, errno, architectures) => {
          const cleaned = rules.map((r) => Object.fromEntries(Object.entries(r).filter(([, x]) => x !== undefined)));
          const v = validateProfile({
            apiVersion: 'podfence.dev/v1alpha1',
            kind: 'SandboxProfile',
            metadata: { name: 'p' },
            spec: { preset, seccomp: { allow, deny, rules: cleaned, defaultAction, errno, architectures } },
          });
          if (!v.ok) return;
          let s: OciSeccomp;
          try {
            s = oci(v.profile);
          } catch {
            return; // a rule podfence cannot compile exactly: refused at validation time in practice
          }
          const value = seccompLogValue(s, architectures);
          const refusesSeccomp = ociRefuses(s, 'x86_64', 400).includes(317);
          if (defaultAction !== 'errno' || refusesSeccomp) {
            expect(value).toBeUndefined();
            return;
          }
          expect(value).toBeDefined();
          for (const arch of ARCHES) {
            const r = refusedBy(value!, arch, LOG_ABOVE + 300);
            if (!architectures.includes(arch)) {
              expect(r.refused).toEqual([]);
              continue;
            }
            expect(r.errno).toBe(errno);
            expect(r.refused).toEqual(ociRefuses(s, arch, LOG_ABOVE));
          }
          checked++;
        },
      ),
      { numRuns: 150 },
    );
    expect(checked).toBeGreaterThan(60);
  });
});
