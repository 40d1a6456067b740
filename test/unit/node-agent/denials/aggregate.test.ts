import type { V1Pod } from '@kubernetes/client-node';
import { DenialAggregator, eventMessage, type AggregatorLimits } from '../../../../src/node-agent/denials/aggregate.js';
import { attribute, type PodDenial } from '../../../../src/node-agent/denials/attribute.js';
import type { Denial } from '../../../../src/node-agent/denials/denial.js';
import { TokenBucket } from '../../../../src/node-agent/denials/token-bucket.js';

const UID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const CID = 'c'.repeat(64);
const INIT_CID = 'd'.repeat(64);

function pod(annotations: Record<string, string> = { 'podfence.dev/applied': 'web@abc' }): V1Pod {
  return {
    metadata: { name: 'app-1', namespace: 'shop', uid: UID, annotations },
    spec: {
      securityContext: {
        seccompProfile: { type: 'Localhost', localhostProfile: 'podfence/web-0123456789abcdef.json' },
      },
      containers: [
        {
          name: 'app',
          image: 'x',
          command: ['/podfence/podfence-init', '--ro', '/etc', '--', '/app'],
          securityContext: {
            seccompProfile: { type: 'Localhost', localhostProfile: 'podfence/strict-fedcba9876543210.json' },
          },
        },
        { name: 'plain', image: 'x', command: ['/bin/own-landlock-tool'] },
      ],
    },
    status: {
      containerStatuses: [
        { name: 'app', containerID: `containerd://${CID}`, image: 'x', imageID: 'x', ready: true, restartCount: 0 },
        {
          name: 'plain',
          containerID: `containerd://${INIT_CID}`,
          image: 'x',
          imageID: 'x',
          ready: true,
          restartCount: 0,
        },
      ],
    },
  };
}

const write: Denial = {
  layer: 'landlock',
  outcome: 'denied',
  operation: 'write',
  object: '/etc/app.conf',
  detail: 'fs.write_file',
  pid: 42,
  exe: '/app',
  time: 1,
};
const unshare: Denial = { ...write, layer: 'seccomp', operation: 'syscall', object: 'unshare', detail: 'errno' };

describe('attribute', () => {
  test("a sandboxed pod's wrapped container: namespace, pod, container and that container's profile", () => {
    const r = attribute(write, { podUid: UID, containerId: CID }, pod());
    expect(r).toEqual({
      denial: { ...write, namespace: 'shop', pod: 'app-1', podUid: UID, container: 'app', profile: 'strict' },
    });
  });

  test("the pod's profile when the container is not known (yet): its seccomp file, then the annotation", () => {
    const r = attribute(unshare, { podUid: UID }, pod());
    expect('denial' in r && r.denial.profile).toBe('web');
    const p = pod();
    delete p.spec!.securityContext;
    const r2 = attribute(unshare, { podUid: UID, containerId: 'e'.repeat(64) }, p);
    expect('denial' in r2 && r2.denial).toMatchObject({ profile: 'web' });
    expect('denial' in r2 && r2.denial.container).toBeUndefined();
  });

  test("drops what is not podfence's", () => {
    expect(attribute(write, {}, pod())).toEqual({ drop: 'not in a pod' });
    expect(attribute(write, { podUid: UID }, undefined)).toEqual({ drop: 'pod not known on this node' });
    expect(attribute(write, { podUid: 'other' }, pod())).toEqual({ drop: 'pod not known on this node' });
    expect(attribute(write, { podUid: UID }, pod({}))).toEqual({ drop: 'pod not sandboxed by podfence' });
    // A container that runs its own Landlock sandbox: not podfence's denial.
    expect(attribute(write, { podUid: UID, containerId: INIT_CID }, pod())).toEqual({
      drop: 'container plain is not wrapped by podfence',
    });
    // seccomp in that container is still podfence's profile.
    expect('denial' in attribute(unshare, { podUid: UID, containerId: INIT_CID }, pod())).toBe(true);
  });
});

describe('TokenBucket', () => {
  test('burst, then one per interval; never more than the burst after a long idle', () => {
    const b = new TokenBucket(2, 1000, 0);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([true, true, false]);
    expect(b.waitMs(0)).toBe(1000);
    expect(b.take(999)).toBe(false);
    expect(b.take(1000)).toBe(true);
    expect(b.idle(1000)).toBe(false);
    expect(b.idle(1_000_000)).toBe(true);
    expect([b.take(1_000_000), b.take(1_000_000), b.take(1_000_000)]).toEqual([true, true, false]);
  });
});

const LIMITS: AggregatorLimits = { keyBurst: 1, keyEveryMs: 60_000, podBurst: 10, podEveryMs: 6_000, maxKeys: 100 };
const pd = (d: Denial, uid = UID): PodDenial => ({
  ...d,
  namespace: 'shop',
  pod: 'app-1',
  podUid: uid,
  profile: 'web',
});

describe('DenialAggregator', () => {
  test('10,000 identical denials in a loop: one Event at once, one with the rest a minute later', () => {
    const agg = new DenialAggregator(LIMITS);
    let now = 0;
    const emitted: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      now = i; // one per ms: 10 s of denials
      agg.add(pd(write), now);
      for (const e of agg.take(now)) emitted.push(e.count);
    }
    expect(emitted).toEqual([1]);
    expect(agg.nextDueMs(now)).toBe(60_000 - now);
    expect(agg.take(59_999)).toEqual([]);
    const [late] = agg.take(60_000);
    expect(late!.count).toBe(9_999);
    expect(agg.nextDueMs(60_000)).toBeUndefined();
  });

  test('a loop over 10,000 different paths: bounded by the pod bucket (and the key table), all counted', () => {
    const agg = new DenialAggregator(LIMITS);
    let events = 0;
    for (let i = 0; i < 10_000; i++) {
      agg.add(pd({ ...write, object: `/etc/f${i}` }), i);
      events += agg.take(i).length;
    }
    // 10 at once, then one per 6 s over the 10 s of the loop.
    expect(events).toBe(11);
    expect(agg.size).toBeLessThanOrEqual(100);
    expect(agg.overflow).toBeGreaterThan(0);
  });

  test('different pods and keys do not share a budget; a pod forgotten takes its pending counts with it', () => {
    const agg = new DenialAggregator(LIMITS);
    agg.add(pd(write), 0);
    agg.add(pd(unshare), 0);
    agg.add(pd(write, 'other-uid'), 0);
    expect(agg.take(0).map((e) => `${e.denial.podUid} ${e.denial.object}`)).toEqual([
      `${UID} /etc/app.conf`,
      `${UID} unshare`,
      'other-uid /etc/app.conf',
    ]);
    agg.add(pd(write), 1);
    agg.forgetPod(UID);
    expect(agg.take(1_000_000)).toEqual([]);
  });

  test('the message names the layer, the operation and its object first', () => {
    const agg = new DenialAggregator(LIMITS);
    agg.add({ ...pd(write), container: 'app' }, 0);
    expect(eventMessage(agg.take(0)[0]!.denial)).toBe(
      'landlock: write /etc/app.conf denied (container app, /app; profile web; fs.write_file)',
    );
    agg.add(pd({ ...unshare, outcome: 'logged', detail: 'log' }), 0);
    agg.add(pd({ ...unshare, outcome: 'logged', detail: 'log' }), 0);
    const [e] = agg.take(0);
    expect(e!.count).toBe(2);
    expect(eventMessage(e!.denial)).toBe(
      'seccomp: syscall unshare would be denied (audit mode: allowed) (/app; profile web; log)',
    );
  });
});
