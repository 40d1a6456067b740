import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { PodLookup } from '../../../../src/node-agent/denials/pod-lookup.js';

const UID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const CID = 'c'.repeat(64);
const slim: V1Pod = { metadata: { name: 'app-1', namespace: 'shop', uid: UID } };
const withStatus = (ids: string[]): V1Pod => ({
  ...slim,
  status: {
    containerStatuses: ids.map((id) => ({
      name: 'app',
      containerID: `containerd://${id}`,
      image: 'x',
      imageID: 'x',
      ready: true,
      restartCount: 0,
    })),
  },
});

/** An apiserver whose pod status lists the container from the `listedFrom`-th GET on. */
function setup(listedFrom: number) {
  let gets = 0;
  const sleeps: number[] = [];
  const core = {
    readNamespacedPod: async () => (++gets >= listedFrom ? withStatus([CID]) : withStatus([])),
  } as unknown as CoreV1Api;
  const lookup = new PodLookup(() => [slim], core, {
    now: () => 0,
    statusWaits: 5,
    statusWaitMs: 500,
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { lookup, sleeps, gets: () => gets };
}

describe('PodLookup', () => {
  test('a container the kubelet has not reported yet: GETs again until the status lists it', async () => {
    const { lookup, sleeps, gets } = setup(3);
    const pod = await lookup.byUid(UID, CID);
    expect(pod?.status?.containerStatuses?.[0]?.containerID).toBe(`containerd://${CID}`);
    expect(gets()).toBe(3);
    expect(sleeps).toEqual([500, 500]);
    // Known now: no further GET.
    await lookup.byUid(UID, CID);
    expect(gets()).toBe(3);
  });

  test('a container the status never lists: a bounded wait, once; then the pod without it', async () => {
    const { lookup, sleeps, gets } = setup(Infinity);
    const pod = await lookup.byUid(UID, 'd'.repeat(64));
    expect(pod?.metadata?.uid).toBe(UID);
    expect(sleeps).toHaveLength(5);
    expect(gets()).toBe(6);
    await lookup.byUid(UID, 'd'.repeat(64));
    expect(sleeps).toHaveLength(5);
  });

  test('a pod not on this node: undefined, no GET', async () => {
    const { lookup, gets } = setup(1);
    expect(await lookup.byUid('another-uid', CID)).toBeUndefined();
    expect(gets()).toBe(0);
  });
});
