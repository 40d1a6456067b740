import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { INIT_BINARY, NODE_CSI_READY_LABEL } from '../../../../src/common/constants.js';
import { mutatePod } from '../../../../src/webhook/mutation/mutate.js';
import type { MutationResult } from '../../../../src/webhook/types.js';
import { context } from '../fixtures.js';

const csi = (over = {}) => {
  const c = context(over);
  return { ...c, policy: { ...c.policy, helperDelivery: 'csi' as const } };
};
const pod = (containers: V1Container[], spec: Partial<V1Pod['spec']> = {}): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'shop' },
  spec: { containers, ...spec },
});
const app: V1Container = { name: 'app', image: 'registry.example/app:1', command: ['/app'] };
const ok = (r: MutationResult<V1Pod>) => {
  if (!r.ok) throw new Error(`unexpectedly denied: ${r.denied}`);
  return r.pod;
};
const requiredKeys = (p: V1Pod) =>
  p.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms.flatMap((t) =>
    (t.matchExpressions ?? []).map((e) => e.key),
  );

describe('csi delivery', () => {
  test('a read-only podfence.dev volume at /podfence, no init container, scheduled on CSI-ready nodes only', () => {
    const out = ok(mutatePod(pod([app]), csi()));
    expect(out.spec!.initContainers).toBeUndefined();
    expect(out.spec!.volumes).toEqual([{ name: 'podfence-init', csi: { driver: 'podfence.dev', readOnly: true } }]);
    expect(out.spec!.containers[0]!.volumeMounts).toEqual([
      { name: 'podfence-init', mountPath: '/podfence', readOnly: true },
    ]);
    expect(out.spec!.containers[0]!.command![0]).toBe(INIT_BINARY);
    expect(requiredKeys(out)).toContain(NODE_CSI_READY_LABEL);
  });

  test('init mode keeps the init container and emptyDir and needs no CSI label', () => {
    const c = context();
    const out = ok(mutatePod(pod([app]), { ...c, policy: { ...c.policy, helperDelivery: 'init' } }));
    expect(out.spec!.initContainers?.map((x) => x.name)).toEqual(['podfence-init']);
    expect(out.spec!.volumes?.[0]?.emptyDir).toBeDefined();
    expect(requiredKeys(out)).not.toContain(NODE_CSI_READY_LABEL);
  });

  test('re-invocation is a no-op, also across a switch from init to csi', () => {
    const once = ok(mutatePod(pod([app]), csi()));
    expect(ok(mutatePod(once, csi()))).toEqual(once);
    const asInit = ok(mutatePod(pod([app]), context()));
    const switched = ok(mutatePod(asInit, csi()));
    expect(switched.spec!.initContainers).toBeUndefined();
    expect(switched.spec!.volumes).toEqual(once.spec!.volumes);
  });

  test("a pod's own volume named podfence-init (another driver, writable, attributes) is refused", () => {
    for (const csiSource of [
      { driver: 'evil.example', readOnly: true },
      { driver: 'podfence.dev', readOnly: false },
      { driver: 'podfence.dev', readOnly: true, volumeAttributes: { x: 'y' } },
    ]) {
      const r = mutatePod(pod([app], { volumes: [{ name: 'podfence-init', csi: csiSource }] }), csi());
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.denied).toMatch(/volume name "podfence-init" is reserved/);
    }
  });
});
