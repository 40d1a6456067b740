import { parse } from 'yaml';
import { renderSuggestion } from '../../../src/cli/suggest.js';
import { denialFromEvent, suggestChanges, type RecordedDenial } from '../../../src/cli/suggest-changes.js';
import type { SandboxProfile } from '../../../src/profile/schema.js';
import { validateProfile } from '../../../src/profile/validate.js';

const profile: SandboxProfile = {
  apiVersion: 'podfence.dev/v1alpha1',
  kind: 'SandboxProfile',
  metadata: { name: 'web' },
  spec: {
    preset: 'network-server',
    seccomp: { deny: ['uname', 'sync'] },
    landlock: { readOnly: ['/etc'], readWrite: ['/tmp'], execute: ['/bin'], tcp: { connect: [8080] } },
  },
};
const d = (layer: string, operation: string, object: string, count = 1, prof = 'web'): RecordedDenial => ({
  layer,
  outcome: 'denied',
  operation,
  object,
  profile: prof,
  count,
});

describe('suggestChanges', () => {
  test('each denial lands in the list that grants it; the rest of the spec is kept', () => {
    const s = suggestChanges(profile, [
      d('landlock', 'write', '/etc/app.conf', 3),
      d('landlock', 'create', '/var/cache'),
      d('landlock', 'read', '/data/secret.txt'),
      d('landlock', 'execute', '/opt/tool/bin'),
      d('landlock', 'connect', 'tcp 9090', 10_000),
      d('landlock', 'bind', 'tcp 80'),
      d('seccomp', 'syscall', 'uname'),
      d('seccomp', 'syscall', 'sysinfo'),
    ]);
    expect(s.spec.landlock).toEqual({
      readOnly: ['/data/secret.txt', '/etc'],
      readWrite: ['/etc/app.conf', '/tmp', '/var/cache'],
      execute: ['/bin', '/opt/tool/bin'],
      tcp: { connect: [8080, 9090], bind: [80] },
    });
    expect(s.spec.seccomp).toEqual({ deny: ['sync'], allow: ['sysinfo'] });
    expect(s.spec.preset).toBe('network-server');
    expect(s.changes.find((c) => c.value === 9090)?.because).toBe('connect tcp 9090 (10000 denials)');
    expect(s.changes.find((c) => c.value === '/etc/app.conf')?.dangerous).toMatch(/system directory/);
    // The input is not changed, and the result is a valid profile.
    expect(profile.spec!.landlock!.readWrite).toEqual(['/tmp']);
    expect(validateProfile({ ...profile, spec: s.spec })).toMatchObject({ ok: true });
  });

  test('taking the last syscall out of deny leaves no empty seccomp object (it would apply as null)', () => {
    const only = { ...profile, spec: { preset: 'network-server' as const, seccomp: { deny: ['uname'] } } };
    const s = suggestChanges(only, [d('seccomp', 'syscall', 'uname')]);
    expect(s.spec).toEqual({ preset: 'network-server' });
    expect(validateProfile({ ...only, spec: s.spec })).toMatchObject({ ok: true });
  });

  test('dangerous widenings are flagged: a write to /, a namespace syscall', () => {
    const s = suggestChanges(profile, [d('landlock', 'create', '/'), d('seccomp', 'syscall', 'clone3')]);
    expect(s.changes.map((c) => [c.field, c.value, !!c.dangerous])).toEqual([
      ['landlock.readWrite', '/', true],
      ['seccomp.allow', 'clone3', true],
    ]);
    expect(s.changes[0]!.dangerous).toMatch(/whole filesystem/);
    const plain = suggestChanges(profile, [d('landlock', 'write', '/srv/data/x')]);
    expect(plain.changes[0]!.dangerous).toBeUndefined();
  });

  test("what no profile can allow is a note, not a change; other profiles' denials are ignored", () => {
    const s = suggestChanges(profile, [
      d('seccomp', 'syscall', 'unshare'),
      d('seccomp', 'syscall', '#999 (x86_64)'),
      d('landlock', 'signal', 'pid 1 (init)'),
      d('landlock', 'write', '/etc/x', 1, 'other'),
    ]);
    expect(s.changes).toEqual([]);
    expect(s.notes).toHaveLength(3);
    expect(s.notes.join('\n')).toMatch(/unshare: podfence always denies it/);
    expect(s.spec).toEqual(profile.spec);
  });

  test('repeats of one denial (several Events, several pods) are one change with the sum of counts', () => {
    const s = suggestChanges(profile, [d('landlock', 'write', '/srv/a', 2), d('landlock', 'write', '/srv/a', 5)]);
    expect(s.changes).toEqual([{ field: 'landlock.readWrite', value: '/srv/a', because: 'write /srv/a (7 denials)' }]);
  });
});

describe('events and output', () => {
  test("a PodfenceDenied Event's annotations give the denial; an Event without them gives none", () => {
    const ev = {
      metadata: {
        annotations: {
          'podfence.dev/denial-layer': 'landlock',
          'podfence.dev/denial-outcome': 'denied',
          'podfence.dev/denial-operation': 'write',
          'podfence.dev/denial-object': '/etc/app.conf',
          'podfence.dev/denial-profile': 'web',
          'podfence.dev/denial-container': 'app',
        },
      },
      involvedObject: { kind: 'Pod', name: 'app-1' },
      count: 4,
    };
    expect(denialFromEvent(ev)).toEqual({
      layer: 'landlock',
      outcome: 'denied',
      operation: 'write',
      object: '/etc/app.conf',
      profile: 'web',
      container: 'app',
      pod: 'app-1',
      count: 4,
    });
    expect(denialFromEvent({ involvedObject: {}, metadata: {} })).toBeUndefined();
  });

  test('the YAML is an applicable SandboxProfile; changes, warnings and notes are comments', () => {
    const s = suggestChanges(profile, [d('landlock', 'create', '/'), d('seccomp', 'syscall', 'unshare')]);
    const text = renderSuggestion(s, 'pod/app-1 in shop', 2);
    expect(text).toMatch(/^# podfence suggest: 2 recorded denial\(s\) of profile web in pod\/app-1 in shop$/m);
    expect(text).toMatch(/^# WARNING: landlock.readWrite \/: grants write to the whole filesystem/m);
    expect(text).toMatch(/^# NOTE: syscall unshare/m);
    const obj = parse(text) as SandboxProfile;
    expect(obj).toMatchObject({
      apiVersion: 'podfence.dev/v1alpha1',
      kind: 'SandboxProfile',
      metadata: { name: 'web' },
    });
    expect(obj.spec?.landlock?.readWrite).toEqual(['/', '/tmp']);
  });
});
