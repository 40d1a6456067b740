import { namespaceProfile, pickProfile } from '../../../../src/webhook/mutation/pick-profiles.js';
import { context, profileInfo } from '../fixtures.js';

const web = profileInfo('web', { allowOverrideTo: ['batch', 'gone'] });
const profiles = { web, batch: profileInfo('batch'), other: profileInfo('other') };

describe('pick profiles', () => {
  test("the namespace's profile, or a denial naming the label when it does not exist", () => {
    const ctx = context();
    expect(namespaceProfile(ctx)).toEqual({ ok: true, profile: ctx.profiles.web });
    expect(namespaceProfile(context({ namespaceProfile: 'nope' }))).toEqual({
      ok: false,
      denial: 'SandboxProfile "nope" (namespace label podfence.dev/profile) does not exist',
    });
  });

  test("no annotation, or the namespace's own name: the namespace's profile", () => {
    expect(pickProfile(undefined, 'x', web, profiles)).toEqual({ ok: true, profile: web });
    expect(pickProfile('web', 'x', web, profiles)).toEqual({ ok: true, profile: web });
  });

  test('an override listed in allowOverrideTo', () => {
    expect(pickProfile('batch', 'x', web, profiles)).toEqual({ ok: true, profile: profiles.batch });
  });

  test('an override not listed is refused, naming what is allowed', () => {
    const r = pickProfile('other', 'annotation for container "a"', web, profiles);
    expect(r).toEqual({
      ok: false,
      denial:
        'annotation for container "a" asks for SandboxProfile "other", but the namespace\'s profile "web" does not ' +
        'list it in spec.allowOverrideTo (allowed: batch, gone)',
    });
    const none = pickProfile('other', 'x', profileInfo('web'), profiles);
    expect(!none.ok && none.denial).toMatch(/\(allowed: none\)$/);
  });

  test('a listed override that does not exist is refused', () => {
    expect(pickProfile('gone', 'x', web, profiles)).toEqual({
      ok: false,
      denial: 'x asks for SandboxProfile "gone", which does not exist',
    });
  });
});
