import { API_VERSION, PROFILE_KIND } from '../../../src/common/constants.js';
import { ProfileRequirements } from '../../../src/controller/requirements.js';
import { slimNode } from '../../../src/controller/slim-node.js';
import { CompiledProfiles } from '../../../src/model/compiled-profiles.js';
import type { ProfileObject } from '../../../src/model/objects.js';

const profile = (spec: unknown): ProfileObject =>
  ({ apiVersion: API_VERSION, kind: PROFILE_KIND, metadata: { name: 'web' }, spec }) as ProfileObject;

describe('ProfileRequirements', () => {
  test("says when a profile's version changes, not when only something else does", () => {
    const reqs = new ProfileRequirements(new CompiledProfiles());
    expect(reqs.set(profile({ preset: 'network-server' }))).toBe(true);
    const first = reqs.all().get('web');
    expect(first?.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(reqs.set(profile({ preset: 'network-server' }))).toBe(false);
    expect(reqs.set(profile({ preset: 'network-server', seccomp: { errno: 13 } }))).toBe(true);
    expect(reqs.all().get('web')?.hash).not.toBe(first?.hash);
    expect(reqs.set(profile({ preset: 'no-such-preset' }))).toBe(true); // invalid: no requirement any more
    expect(reqs.all().has('web')).toBe(false);
    expect(reqs.set(profile({ preset: 'no-such-preset' }))).toBe(false);
    expect(reqs.delete('web')).toBe(false);
  });
});

describe('slimNode', () => {
  test('keeps what the controller reads and drops status and managedFields', () => {
    const slim = slimNode({
      metadata: {
        name: 'n1',
        uid: 'u',
        resourceVersion: '9',
        labels: { a: 'b' },
        managedFields: [{ manager: 'kubelet' }],
        annotations: { big: 'x'.repeat(1000) },
      },
      spec: { podCIDR: '10.0.0.0/24' },
      status: { images: [{ names: ['img'], sizeBytes: 1 }] },
    });
    expect(slim).toEqual({
      metadata: { name: 'n1', uid: 'u', resourceVersion: '9', labels: { a: 'b' }, deletionTimestamp: undefined },
    });
  });
});
