// The policy's parameters must describe exactly what the webhook's mutation writes: this compares the two for real
// profiles (the CEL side of the comparison runs in test/integration/admission-policy.test.ts).
import type { V1Pod } from '@kubernetes/client-node';
import { admissionParams, optionUnits, profileParams } from '../../../src/model/admission-params.js';
import { mutatePod } from '../../../src/webhook/mutation/mutate.js';
import { profileInfoOf } from '../../../src/webhook/lookups.js';
import type { ProfileInfo } from '../../../src/webhook/types.js';

const profile = (name: string, spec: object) => ({
  apiVersion: 'podfence.dev/v1alpha1',
  kind: 'SandboxProfile',
  metadata: { name },
  spec,
});

const web = profile('web', {
  preset: 'network-server',
  capabilities: { keep: ['NET_BIND_SERVICE'] },
  user: { runAsUser: 1000, runAsGroup: 2000, fsGroup: 3000 },
  landlock: { readOnly: ['/etc'], tcp: { bind: [80] }, scope: ['signal'] },
  allowOverrideTo: ['batch'],
  allowHost: { pid: true },
});

test('option units: a flag with its value, --deny-tcp alone', () => {
  expect(optionUnits(['--mode', 'enforce', '--deny-tcp', '--ro', '/a b'])).toEqual([
    '--mode enforce',
    '--deny-tcp',
    '--ro /a b',
  ]);
});

test('per-profile entries', () => {
  const p = profileParams(web);
  expect(p['web.seccomp']).toMatch(/^podfence\/web-[0-9a-f]{16}\.json$/);
  expect(p['web.keep']).toBe('NET_BIND_SERVICE');
  expect([p['web.runAsUser'], p['web.runAsGroup'], p['web.fsGroup']]).toEqual(['1000', '2000', '3000']);
  expect(p['web.overrides']).toBe('batch');
  expect(p['web.allowHost']).toBe('pid');
  expect(p['web.trustVolumes']).toBe('true');
  expect(p['web.wrapper']!.split('\n')).toEqual(
    expect.arrayContaining(['--mode enforce', '--ro /etc', '--exec /podfence', '--bind-tcp 80', '--deny-tcp']),
  );
  expect(profileParams(profile('audit', { mode: 'audit' }))['audit.wrapper']).toBe('');
  expect(profileParams(profile('bad', { preset: 'nope' }))).toEqual({});
});

test('global settings', () => {
  expect(admissionParams([], { initImage: 'i:1', onUnresolvedEntrypoint: 'deny' })).toEqual({
    initImage: 'i:1',
    unwrapped: 'denied',
  });
  expect(admissionParams([], { initImage: 'i:1', onUnresolvedEntrypoint: 'skip-landlock' }).unwrapped).toBe('allowed');
});

test("the mutation's wrapper options are the profile's units plus the container's own volume mounts", () => {
  const info = profileInfoOf(web);
  if (!info.ok) throw new Error(info.error);
  const profiles: Record<string, ProfileInfo> = { web: info.profile };
  const pod: V1Pod = {
    spec: {
      containers: [
        {
          name: 'app',
          image: 'x',
          command: ['/app'],
          volumeMounts: [
            { name: 'data', mountPath: '/data' },
            { name: 'cfg', mountPath: '/cfg', readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: 'data', emptyDir: {} },
        { name: 'cfg', configMap: { name: 'c' } },
      ],
    },
  };
  const out = mutatePod(pod, {
    namespaceProfile: 'web',
    profiles,
    entrypoints: {},
    policy: { onWeakening: 'deny', onUnresolvedEntrypoint: 'deny', initImage: 'i' },
  });
  if (!out.ok) throw new Error(out.denied);
  const cmd = out.pod.spec!.containers[0]!.command!;
  const units = optionUnits(cmd.slice(1, cmd.indexOf('--')));
  const expected = profileParams(web)['web.wrapper']!.split('\n');
  expect(new Set(units)).toEqual(new Set([...expected, '--volume-rw /data', '--volume-ro /cfg']));
  const sc = out.pod.spec!.containers[0]!.securityContext!;
  expect(sc.seccompProfile!.localhostProfile).toBe(profileParams(web)['web.seccomp']);
  expect([sc.runAsUser, sc.runAsGroup, out.pod.spec!.securityContext!.fsGroup]).toEqual([1000, 2000, 3000]);
  expect(out.pod.metadata!.annotations!['podfence.dev/applied']).toBe(`web@${profileParams(web)['web.version']}`);
});
