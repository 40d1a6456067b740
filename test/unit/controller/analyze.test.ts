import { AnalysisCache, analyzeProfile } from '../../../src/controller/analyze.js';
import type { ProfileObject } from '../../../src/controller/types.js';
import { compileSeccomp, validateProfile } from '../../../src/profile/index.js';

const profile = (spec: unknown, name = 'web'): ProfileObject => ({
  apiVersion: 'podfence.dev/v1alpha1',
  kind: 'SandboxProfile',
  metadata: { name },
  spec,
});

describe('analyzeProfile (with the real compiler of src/profile)', () => {
  it('gives the same path, hash and bytes as compileSeccomp', () => {
    const obj = profile({ preset: 'network-server' });
    const a = analyzeProfile(obj);
    const v = validateProfile(obj);
    if (!v.ok || !a.valid) throw new Error('expected a valid profile');
    const c = compileSeccomp(v.profile);
    expect(a).toMatchObject({ hash: c.hash, localhostProfile: c.localhostProfile, json: c.json, fileName: c.fileName });
  });

  it('reports field-named errors for an invalid spec', () => {
    const a = analyzeProfile(profile({ preset: 'no-such-preset' }));
    expect(a.valid).toBe(false);
    if (!a.valid) expect(a.errors.map((e) => e.path)).toContain('spec.preset');
  });

  it('derives the Landlock ABI an enforce profile needs from the resolved profile', () => {
    const abi = (spec: unknown) => {
      const a = analyzeProfile(profile(spec));
      if (!a.valid) throw new Error(JSON.stringify(a.errors));
      return a.requiredAbi;
    };
    expect(abi({ preset: 'computation' })).toBe(1);
    expect(abi({ preset: 'computation', landlock: { tcp: { bind: [8080] } } })).toBe(4);
    expect(abi({ preset: 'computation', landlock: { scope: ['signal'] } })).toBe(6);
    expect(abi({ preset: 'computation', mode: 'audit', landlock: { scope: ['signal'] } })).toBe(0);
    expect(abi({ preset: 'computation', landlock: { mode: 'best-effort', tcp: { bind: [1] } } })).toBe(0);
  });

  it('caches by spec: the same spec is not recompiled, a changed one is', () => {
    const cache = new AnalysisCache();
    const first = cache.get(profile({ preset: 'computation' }));
    expect(cache.get(profile({ preset: 'computation' }))).toBe(first);
    const changed = cache.get(profile({ preset: 'computation', seccomp: { deny: ['mkdir'] } }));
    expect(changed).not.toBe(first);
    if (first.valid && changed.valid) expect(changed.hash).not.toBe(first.hash);
  });
});
