import type { V1PodSpec } from '@kubernetes/client-node';
import { hostEscapes, HOST_ESCAPES, unsupportedPod } from '../../../../src/webhook/mutation/escapes.js';
import { profileInfo } from '../fixtures.js';

const none = { network: false, pid: false, ipc: false, hostPath: false };
const spec: V1PodSpec = {
  containers: [],
  hostNetwork: true,
  hostPID: true,
  hostIPC: true,
  volumes: [
    { name: 'h', hostPath: { path: '/' } },
    { name: 'e', emptyDir: {} },
  ],
};

describe('escapes', () => {
  test('every host escape is refused, naming the allowHost field', () => {
    expect(hostEscapes(spec, spec.volumes!, profileInfo('web', { allowHost: none }))).toEqual([
      'hostNetwork: true is not allowed: SandboxProfile "web" does not set spec.allowHost.network',
      'hostPID: true is not allowed: SandboxProfile "web" does not set spec.allowHost.pid',
      'hostIPC: true is not allowed: SandboxProfile "web" does not set spec.allowHost.ipc',
      'hostPath volume "h" is not allowed: SandboxProfile "web" does not set spec.allowHost.hostPath',
    ]);
  });

  test.each(HOST_ESCAPES.map((e) => e.allowedBy))('allowHost.%s allows exactly that escape', (field) => {
    const out = hostEscapes(spec, spec.volumes!, profileInfo('web', { allowHost: { ...none, [field]: true } }));
    expect(out).toHaveLength(3);
    expect(out.join()).not.toContain(`spec.allowHost.${field}`);
  });

  test('a pod without escapes gives nothing', () => {
    expect(hostEscapes({ containers: [], hostNetwork: false }, [], profileInfo('web'))).toEqual([]);
  });

  test('Windows pods cannot be sandboxed; others can', () => {
    expect(unsupportedPod({ containers: [], os: { name: 'windows' } })).toMatch(/Windows pods/);
    expect(unsupportedPod({ containers: [], os: { name: 'linux' } })).toBeUndefined();
    expect(unsupportedPod({ containers: [] })).toBeUndefined();
  });
});
