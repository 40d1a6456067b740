// Plain ProfileInfo objects for the pure mutation tests (the compiled parts are stand-ins: the mutation only
// copies them, src/profile's own tests cover the compiler).
import type { MutationContext, ProfileInfo } from '../../../src/webhook/types.js';

export function profileInfo(name: string, over: Partial<ProfileInfo> = {}): ProfileInfo {
  const hash = (name + '0123456789abcdef').slice(0, 16).replace(/[^0-9a-f]/g, 'a');
  return {
    name,
    version: `v-${name}`,
    mode: 'enforce',
    seccomp: {
      localhostProfile: `podfence/${name}-${hash}.json`,
      hash,
      fileName: `${name}-${hash}.json`,
      json: '{}\n',
    },
    requiredLandlockAbi: 1,
    ready: true,
    podSecurityContext: { runAsUser: 65534, runAsGroup: 65534 },
    containerSecurityContext: {},
    keepCapabilities: [],
    allowOverrideTo: [],
    allowHost: { network: false, pid: false, ipc: false, hostPath: false },
    trustVolumes: true,
    landlockArgs: ({ readOnly, readWrite }) => [
      '--ro',
      '/etc',
      ...readOnly.flatMap((p) => ['--ro', p]),
      ...readWrite.flatMap((p) => ['--rw', p]),
      '--exec',
      '/podfence',
    ],
    ...over,
  };
}

export function context(over: Partial<MutationContext> = {}): MutationContext {
  return {
    namespaceProfile: 'web',
    profiles: { web: profileInfo('web') },
    entrypoints: {},
    policy: { onWeakening: 'deny', onUnresolvedEntrypoint: 'deny', initImage: 'localhost/podfence/init:dev' },
    ...over,
  };
}
