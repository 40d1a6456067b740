import type { V1Pod } from '@kubernetes/client-node';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { mutate, parseReview, type HandlerDeps } from '../../../src/webhook/admission.js';
import { profileInfoOf } from '../../../src/webhook/lookups.js';
import type { ProfileInfo, ProfileLookup } from '../../../src/webhook/types.js';
import { profileInfo } from './fixtures.js';

const pod = (over: Partial<V1Pod> = {}): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'shop' },
  spec: { containers: [{ name: 'app', image: 'r.io/app:1' }] },
  ...over,
});

const request = (object: unknown, over: object = {}) => ({
  uid: 'u1',
  kind: { group: '', version: 'v1', kind: 'Pod' },
  operation: 'CREATE',
  namespace: 'shop',
  object,
  ...over,
});

/** A plain ProfileInfo, or an error, as the lookups return it. */
const lookup = (p: ProfileInfo | { error: string } | undefined): ProfileLookup | undefined =>
  p === undefined ? undefined : 'error' in p ? { ok: false, error: p.error } : { ok: true, profile: p };

function deps(
  over: Partial<HandlerDeps> = {},
  profiles: Record<string, ProfileInfo | { error: string }> = {},
): HandlerDeps & {
  resolved: string[];
} {
  const resolved: string[] = [];
  return {
    resolved,
    lookups: {
      namespaceProfile: (ns) => ({ shop: 'web', ops: 'web' })[ns],
      profile: (n) =>
        lookup(({ web: profileInfo('web'), ...profiles } as Record<string, ProfileInfo | { error: string }>)[n]),
    },
    policy: { onWeakening: 'deny', onUnresolvedEntrypoint: 'deny', initImage: 'init:dev' },
    resolveEntrypoints: async (p) => {
      resolved.push(p.metadata?.name ?? '');
      return { app: { ok: true, entrypoint: ['/entry'], cmd: ['run'] } };
    },
    excludedNamespaces: ['podfence-system', 'kube-system'],
    ...over,
  };
}

const patchOf = (b64: string | undefined) => JSON.parse(Buffer.from(b64 ?? '', 'base64').toString()) as Operation[];

test('CREATE in an opted-in namespace: a JSONPatch that yields the sandboxed pod', async () => {
  const d = deps();
  const res = await mutate(request(pod()), d);
  expect(res).toMatchObject({ uid: 'u1', allowed: true, patchType: 'JSONPatch' });
  const out = jsonpatch.applyPatch(pod(), patchOf(res.patch), true, false).newDocument;
  expect(out.spec!.containers[0]!.command!.slice(-3)).toEqual(['--', '/entry', 'run']);
  expect(out.metadata!.annotations!['podfence.dev/applied']).toBe('web@v-web');
  expect(d.resolved).toEqual(['p']);
  // The patch of an already mutated pod is empty.
  const again = await mutate(request(out), d);
  expect(again).toEqual({ uid: 'u1', allowed: true });
});

test('namespaces not opted in, excluded namespaces and other operations pass untouched', async () => {
  expect(await mutate(request(pod(), { namespace: 'other' }), deps())).toEqual({ uid: 'u1', allowed: true });
  const excluded = deps({ lookups: { namespaceProfile: () => 'web', profile: () => lookup(profileInfo('web')) } });
  expect(await mutate(request(pod(), { namespace: 'kube-system' }), excluded)).toEqual({ uid: 'u1', allowed: true });
  expect(await mutate(request(pod(), { operation: 'UPDATE' }), deps())).toEqual({ uid: 'u1', allowed: true });
  expect(await mutate(request(pod(), { operation: 'DELETE' }), deps())).toEqual({ uid: 'u1', allowed: true });
});

test('ephemeral containers (UPDATE pods/ephemeralcontainers) get the security context, registry not asked', async () => {
  const d = deps();
  const created = jsonpatch.applyPatch(
    pod(),
    patchOf((await mutate(request(pod()), d)).patch),
    true,
    false,
  ).newDocument;
  created.spec!.ephemeralContainers = [{ name: 'dbg', image: 'busybox', securityContext: { privileged: true } }];
  const denied = await mutate(request(created, { operation: 'UPDATE', subResource: 'ephemeralcontainers' }), d);
  expect(denied.allowed).toBe(false);
  expect(denied.status?.message).toMatch(/container "dbg" securityContext: privileged: true would weaken/);
  created.spec!.ephemeralContainers = [{ name: 'dbg', image: 'busybox' }];
  const res = await mutate(request(created, { operation: 'UPDATE', subResource: 'ephemeralcontainers' }), d);
  const ops = patchOf(res.patch);
  expect(ops.every((op) => op.path.startsWith('/spec/ephemeralContainers/0/'))).toBe(true);
  expect(ops.length).toBeGreaterThan(0);
  expect(d.resolved).toEqual(['p']);
});

test('denials carry a 403 and the reason; an invalid namespace profile denies', async () => {
  const res = await mutate(
    request(pod({ spec: { hostPID: true, containers: [{ name: 'a', command: ['x'] }] } })),
    deps(),
  );
  expect(res).toMatchObject({ allowed: false, status: { code: 403, reason: 'Forbidden' } });
  expect(res.status!.message).toMatch(/^podfence: hostPID: true is not allowed/);
  const bad = await mutate(request(pod()), deps({}, { web: { error: 'spec.mode: invalid' } }));
  expect(bad.status!.message).toBe('podfence: SandboxProfile "web" is invalid: spec.mode: invalid');
});

test('wrong kinds and broken objects get 400 answers, not exceptions', async () => {
  expect(
    await mutate(request({}, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }), deps()),
  ).toMatchObject({
    allowed: false,
    status: { code: 400 },
  });
  expect(await mutate(request({ metadata: {} }), deps())).toMatchObject({ allowed: false, status: { code: 400 } });
  expect(await mutate(request(undefined), deps())).toMatchObject({ allowed: false, status: { code: 400 } });
});

test('parseReview rejects everything that is not an admission.k8s.io/v1 review', () => {
  for (const body of [null, 'x', [], {}, { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview' }]) {
    expect(() => parseReview(body)).toThrow();
  }
  expect(() =>
    parseReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: '' } }),
  ).toThrow(/uid/);
  expect(parseReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: request(pod()) }).uid).toBe(
    'u1',
  );
});

test('warnings are deduplicated and kept under the apiserver limit', async () => {
  const web = profileInfo('web', {
    ready: false,
    seccomp: { hash: 'f'.repeat(16), localhostProfile: 'podfence/' + 'x'.repeat(300), fileName: 'x', json: '{}' },
  });
  const res = await mutate(request(pod()), deps({}, { web }));
  expect(res.warnings!.length).toBe(1);
  expect(res.warnings![0]!.length).toBeLessThanOrEqual(250);
});

describe('profile-info with the real compiler', () => {
  const obj = {
    apiVersion: 'podfence.dev/v1alpha1',
    kind: 'SandboxProfile',
    metadata: { name: 'web', generation: 2 },
    spec: {
      capabilities: { keep: ['NET_BIND_SERVICE'] },
      allowOverrideTo: ['batch'],
      allowHost: { network: true },
      landlock: { readOnly: ['/etc'], trustVolumes: true },
    },
  };
  test('fields, seccomp path and wrapper options come from src/profile', () => {
    const r = profileInfoOf(obj);
    if (!r.ok) throw new Error(r.error);
    const info = r.profile;
    expect(info.seccomp.localhostProfile).toBe(`podfence/web-${info.seccomp.hash}.json`);
    expect(info.keepCapabilities).toEqual(['NET_BIND_SERVICE']);
    expect(info.allowOverrideTo).toEqual(['batch']);
    expect(info.allowHost).toEqual({ network: true, pid: false, ipc: false, hostPath: false });
    expect(info.trustVolumes).toBe(true);
    expect(info.podSecurityContext).toMatchObject({ runAsUser: 65534, runAsGroup: 65534 });
    const args = info.landlockArgs({ readOnly: ['/cfg'], readWrite: [] });
    expect(args.join(' ')).toContain('--volume-ro /cfg');
    expect(args.join(' ')).toContain('--exec /podfence');
    expect(info.ready).toBe(false);
  });
  test('Ready only when the Ready condition is for this generation and this compiled hash', () => {
    const info = (r: ProfileLookup): ProfileInfo => {
      if (!r.ok) throw new Error(r.error);
      return r.profile;
    };
    const hash = info(profileInfoOf(obj)).seccomp.hash;
    const withStatus = (observedGeneration: number, h: string) =>
      profileInfoOf({
        ...obj,
        status: { hash: h, conditions: [{ type: 'Ready', status: 'True', observedGeneration }] },
      });
    expect(info(withStatus(2, hash)).ready).toBe(true);
    expect(info(withStatus(1, hash)).ready).toBe(false);
    expect(info(withStatus(2, '0'.repeat(16))).ready).toBe(false);
  });
  test('invalid profiles give field-named errors', () => {
    const r = profileInfoOf({ ...obj, spec: { mode: 'sometimes' } });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/spec\.mode/);
  });
});
