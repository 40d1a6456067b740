import type { V1PodSpec } from '@kubernetes/client-node';
import {
  deliver,
  deliveryInit,
  isDeliveryInit,
  mountsOverDelivery,
  takeOffDelivery,
} from '../../../../src/webhook/mutation/delivery.js';
import { context, profileInfo } from '../fixtures.js';

const web = profileInfo('web');
const policy = context().policy;
const ours = deliveryInit(web, policy);

describe('delivery', () => {
  test('the init container installs the wrapper as the profile user, nothing kept, Localhost seccomp', () => {
    expect(ours).toMatchObject({
      name: 'podfence-init',
      image: policy.initImage,
      command: ['/podfence-init', 'install', '/podfence'],
      volumeMounts: [
        { name: 'podfence-init', mountPath: '/podfence' },
        // Where the API token would go: the ServiceAccount plugin then leaves the installer alone (no second call).
        { name: 'podfence-init', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
      ],
      securityContext: {
        allowPrivilegeEscalation: false,
        privileged: false,
        runAsNonRoot: true,
        runAsUser: 65534,
        runAsGroup: 65534,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'Localhost', localhostProfile: web.seccomp.localhostProfile },
      },
    });
    expect(isDeliveryInit(ours)).toBe(true);
  });

  test("podfence's earlier pieces are taken off; look-alikes under reserved names are refused", () => {
    const spec: V1PodSpec = {
      containers: [],
      initContainers: [ours, { name: 'setup' }],
      volumes: [{ name: 'podfence-init', emptyDir: {} }, { name: 'data' }],
    };
    expect(takeOffDelivery(spec)).toEqual({
      initContainers: [{ name: 'setup' }],
      volumes: [{ name: 'data' }],
      denials: [],
    });
    const fake: V1PodSpec = {
      containers: [],
      initContainers: [{ name: 'podfence-init', command: ['/bin/sh'] }],
      volumes: [{ name: 'podfence-init', hostPath: { path: '/' } }],
    };
    expect(takeOffDelivery(fake).denials).toEqual([
      'init container name "podfence-init" is reserved for podfence',
      'volume name "podfence-init" is reserved for podfence',
    ]);
  });

  test("a container may not mount over or above podfence's directory", () => {
    const mounts = ['/podfence', '/podfence/', '/podfence/x', '/', '/pod', '/podfencer'].map((mountPath, i) => ({
      name: `v${i}`,
      mountPath,
    }));
    expect(mountsOverDelivery({ volumeMounts: mounts }, 'container "a"')).toEqual([
      `container "a" mounts volume "v0" at /podfence, over podfence's /podfence`,
      `container "a" mounts volume "v1" at /podfence/, over podfence's /podfence`,
      `container "a" mounts volume "v2" at /podfence/x, over podfence's /podfence`,
      `container "a" mounts volume "v3" at /, over podfence's /podfence`,
    ]);
    expect(mountsOverDelivery({ volumeMounts: [{ name: 'podfence-init', mountPath: '/podfence' }] }, 'x')).toEqual([]);
  });

  test('with a wrapped container: init container first, volume last', () => {
    const own = { initContainers: [{ name: 'setup' }], volumes: [{ name: 'data' }] };
    const d = deliver({ containers: [] }, own, true, web, policy);
    expect(d.initContainers!.map((c) => c.name)).toEqual(['podfence-init', 'setup']);
    expect(d.volumes).toEqual([
      { name: 'data' },
      { name: 'podfence-init', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
    ]);
  });

  test('without one: the pod keeps its own lists, and lists of only podfence pieces go', () => {
    const empty = { initContainers: [], volumes: [] };
    expect(deliver({ containers: [] }, empty, false, web, policy)).toEqual({
      initContainers: undefined,
      volumes: undefined,
    });
    expect(deliver({ containers: [], initContainers: [], volumes: [] }, empty, false, web, policy)).toEqual({
      initContainers: [],
      volumes: [],
    });
    const spec = { containers: [], initContainers: [ours], volumes: [{ name: 'podfence-init', emptyDir: {} }] };
    expect(deliver(spec, empty, false, web, policy)).toEqual({ initContainers: undefined, volumes: undefined });
  });
});
