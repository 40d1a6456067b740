import { CompiledProfiles } from '../../../src/model/compiled-profiles.js';
import type { ProfileObject } from '../../../src/model/objects.js';
import {
  compileLandlockArgs,
  compileProfile,
  compileProfileObject,
  compileSeccomp,
  profileVersion,
  PRESETS,
  resolveProfile,
  securityContextFor,
  validateProfile,
  type SandboxProfile,
} from '../../../src/profile/index.js';

const profile = (spec: unknown, name = 'web'): ProfileObject => ({
  apiVersion: 'podfence.dev/v1alpha1',
  kind: 'SandboxProfile',
  metadata: { name },
  spec,
});

const valid = (obj: ProfileObject): SandboxProfile => {
  const v = validateProfile(obj);
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.profile;
};

describe('compileProfile (the one compiled form every process reads)', () => {
  it('gives the same path, hash and bytes as compileSeccomp', () => {
    const obj = profile({ preset: 'network-server' });
    const r = compileProfileObject(obj);
    if (!r.ok) throw new Error('expected a valid profile');
    const c = compileSeccomp(valid(obj));
    expect(r.compiled.seccomp).toEqual({
      hash: c.hash,
      localhostProfile: c.localhostProfile,
      json: c.json,
      fileName: c.fileName,
    });
  });

  it.each([...PRESETS])('agrees with each single compiler for preset %s', (preset) => {
    const p = valid(
      profile({
        preset,
        allowOverrideTo: ['batch'],
        allowHost: { pid: true },
        landlock: { tcp: { bind: [8080] }, trustVolumes: false },
      }),
    );
    const c = compileProfile(p);
    const r = resolveProfile(p);
    const sc = securityContextFor(p);
    expect(c.name).toBe('web');
    expect(c.version).toBe(profileVersion(p));
    expect(c.mode).toBe(r.mode);
    expect(c.podSecurityContext).toEqual(sc.pod);
    expect(c.containerSecurityContext).toEqual(sc.container);
    expect(c.keepCapabilities).toEqual(r.capabilities.keep);
    expect(c.allowOverrideTo).toEqual(['batch']);
    expect(c.allowHost).toEqual({ network: false, pid: true, ipc: false, hostPath: false });
    expect(c.trustVolumes).toBe(false);
    const extra = { readOnly: ['/cfg'], readWrite: ['/data'] };
    expect(c.landlockArgs(extra)).toEqual(compileLandlockArgs(p, extra));
    // Remembered per mount set, and a copy each time (callers may change it).
    const again = c.landlockArgs({ readOnly: ['/cfg'], readWrite: ['/data'] });
    expect(again).toEqual(compileLandlockArgs(p, extra));
    again.push('x');
    expect(c.landlockArgs(extra)).toEqual(compileLandlockArgs(p, extra));
  });

  it('reports field-named errors for an invalid spec', () => {
    const r = compileProfileObject(profile({ preset: 'no-such-preset' }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toContain('spec.preset');
  });

  it('derives the Landlock ABI an enforce profile needs from the resolved profile', () => {
    const abi = (spec: unknown) => {
      const r = compileProfileObject(profile(spec));
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      return r.compiled.requiredLandlockAbi;
    };
    expect(abi({ preset: 'computation' })).toBe(1);
    expect(abi({ preset: 'computation', landlock: { tcp: { bind: [8080] } } })).toBe(4);
    expect(abi({ preset: 'computation', landlock: { scope: ['signal'] } })).toBe(6);
    expect(abi({ preset: 'computation', mode: 'audit', landlock: { scope: ['signal'] } })).toBe(0);
    expect(abi({ preset: 'computation', landlock: { mode: 'best-effort', tcp: { bind: [1] } } })).toBe(0);
  });

  it('caches by spec: the same spec is not recompiled, a changed one is', () => {
    const cache = new CompiledProfiles();
    const first = cache.get(profile({ preset: 'computation' }));
    expect(cache.get(profile({ preset: 'computation' }))).toBe(first);
    const changed = cache.get(profile({ preset: 'computation', seccomp: { deny: ['mkdir'] } }));
    expect(changed).not.toBe(first);
    if (first.ok && changed.ok) expect(changed.compiled.seccomp.hash).not.toBe(first.compiled.seccomp.hash);
    else throw new Error('expected valid profiles');
    cache.delete('web');
    expect(cache.get(profile({ preset: 'computation', seccomp: { deny: ['mkdir'] } }))).not.toBe(changed);
  });
});
