import fc from 'fast-check';
import { validateProfile, formatErrors } from '../../../src/profile/index.js';
import { documentedSpec } from '../../fixtures/documented-profile.js';

const profile = (spec: unknown, name = 'web') => ({
  apiVersion: 'podfence.dev/v1alpha1',
  kind: 'SandboxProfile',
  metadata: { name },
  spec,
});

/** The errors of an invalid spec, or fails. */
function errorsOf(obj: unknown) {
  const r = validateProfile(obj);
  if (r.ok) throw new Error('accepted an invalid profile');
  return r.errors;
}

describe('validateProfile', () => {
  test('accepts the documented example and an empty spec', () => {
    const r = validateProfile(profile(documentedSpec()));
    expect(r.ok ? [] : r.errors).toEqual([]);
    expect(validateProfile(profile({})).ok).toBe(true);
    expect(validateProfile(profile(undefined)).ok).toBe(true);
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Mutate = (s: any) => void;
  test.each<[string, Mutate, string, RegExp]>([
    [
      'relative read-only path',
      (s) => (s.landlock.readOnly = ['/etc', '/usr', 'lib']),
      'spec.landlock.readOnly[2]',
      /absolute path/,
    ],
    ['.. in a path', (s) => (s.landlock.readWrite = ['/tmp/../etc']), 'spec.landlock.readWrite[0]', /'\.\.'/],
    ['port 0', (s) => (s.landlock.tcp.bind = [0]), 'spec.landlock.tcp.bind[0]', /1-65535/],
    ['port 65536', (s) => (s.landlock.tcp.connect = [443, 65536]), 'spec.landlock.tcp.connect[1]', /1-65535/],
    ['string port', (s) => (s.landlock.tcp.connect = ['443']), 'spec.landlock.tcp.connect[0]', /1-65535/],
    [
      'unknown capability',
      (s) => (s.capabilities.keep = ['NET_BIND_SERVICE', 'CAP_FLY']),
      'spec.capabilities.keep[1]',
      /one of: .*NET_ADMIN/,
    ],
    ['duplicate capability', (s) => (s.capabilities.keep = ['CHOWN', 'CHOWN']), 'spec.capabilities.keep', /repeat/],
    [
      'unknown syscall',
      (s) => (s.seccomp.allow = ['read', 'not_a_syscall']),
      'spec.seccomp.allow[1]',
      /unknown syscall name "not_a_syscall"/,
    ],
    ['always-denied allowed', (s) => (s.seccomp.allow = ['mount']), 'spec.seccomp.allow[0]', /always denied/],
    [
      'always-denied in an allow rule',
      (s) => (s.seccomp.rules = [{ names: ['read', 'bpf'], action: 'allow' }]),
      'spec.seccomp.rules[0].names[1]',
      /always denied/,
    ],
    [
      'always-denied in a log rule',
      (s) => (s.seccomp.rules = [{ names: ['ptrace'], action: 'log' }]),
      'spec.seccomp.rules[0].names[0]',
      /always denied/,
    ],
    ['clone3 allowed', (s) => (s.seccomp.allow = ['clone3']), 'spec.seccomp.allow[0]', /ENOSYS/],
    [
      'wrapper syscall denied',
      (s) => (s.seccomp.deny = ['read', 'landlock_restrict_self']),
      'spec.seccomp.deny[1]',
      /podfence-init/,
    ],
    [
      'x86-only syscall on aarch64 only',
      (s) => {
        s.seccomp.architectures = ['aarch64'];
        s.seccomp.allow = ['arch_prctl'];
      },
      'spec.seccomp.allow[0]',
      /not a syscall on aarch64/,
    ],
    [
      'MASKED_EQ without valueTwo',
      (s) =>
        (s.seccomp.rules = [{ names: ['clone'], action: 'errno', args: [{ index: 0, op: 'MASKED_EQ', value: 1 }] }]),
      'spec.seccomp.rules[0].args[0].valueTwo',
      /required/,
    ],
    ['argument index 6', (s) => (s.seccomp.rules[0].args[0].index = 6), 'spec.seccomp.rules[0].args[0].index', /0-5/],
    ['unknown mode', (s) => (s.mode = 'sometimes'), 'spec.mode', /enforce, audit/],
    ['unknown preset', (s) => (s.preset = 'web'), 'spec.preset', /computation/],
    ['unknown scope', (s) => (s.landlock.scope = ['ipc']), 'spec.landlock.scope[0]', /signal/],
    ['root user', (s) => (s.user.runAsUser = 0), 'spec.user.runAsUser', />= 1/],
    ['misspelt field', (s) => (s.landlock.readonly = ['/etc']), 'spec.landlock', /unknown field "readonly"/],
    ['errno 0', (s) => (s.seccomp.errno = 0), 'spec.seccomp.errno', /1-4095/],
    ['bad override name', (s) => (s.allowOverrideTo = ['Batch']), 'spec.allowOverrideTo[0]', /DNS label/],
  ])('rejects %s naming the field', (_what, mutate, path, message) => {
    const spec = documentedSpec();
    mutate(spec);
    const errors = errorsOf(profile(spec));
    expect(errors).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  test('the always-denied set may be listed in deny (it is denied anyway)', () => {
    expect(validateProfile(profile({ seccomp: { deny: ['unshare', 'mount'] } })).ok).toBe(true);
  });

  test('names: at most 40 characters, DNS label', () => {
    expect(errorsOf(profile({}, 'x'.repeat(41)))).toContainEqual({
      path: 'metadata.name',
      message: expect.stringMatching(/40/),
    });
    expect(errorsOf(profile({}, 'Web'))).toContainEqual({
      path: 'metadata.name',
      message: expect.stringMatching(/DNS label/),
    });
    expect(validateProfile(profile({}, 'x'.repeat(40))).ok).toBe(true);
  });

  test('wrong kind or apiVersion, missing metadata', () => {
    const errors = errorsOf({ apiVersion: 'v1', kind: 'Pod', spec: {} });
    expect(errors.map((e) => e.path).sort()).toEqual(['apiVersion', 'kind', 'metadata']);
    expect(formatErrors(errors)).toMatch(/apiVersion: must be podfence.dev\/v1alpha1/);
  });

  test('non-objects are rejected, never thrown on', () => {
    for (const bad of [null, 42, 'x', [], { spec: 'x' }]) expect(validateProfile(bad).ok).toBe(false);
  });

  test('property: any JSON value is answered with ok or field errors, never an exception', () => {
    const specArb = fc.oneof(
      fc.jsonValue(),
      fc.record({ seccomp: fc.jsonValue(), landlock: fc.jsonValue() }, { requiredKeys: [] }),
    );
    fc.assert(
      fc.property(specArb, (spec) => {
        const r = validateProfile(profile(spec));
        if (!r.ok) for (const e of r.errors) expect(typeof e.path === 'string' && e.message.length > 0).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
