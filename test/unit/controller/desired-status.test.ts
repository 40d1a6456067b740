import { IN_USE_FINALIZER } from '../../../src/common/constants.js';
import { desiredStatus, sameStatus, type Compilation, type NodeView } from '../../../src/controller/desired-status.js';
import type { ProfileObject } from '../../../src/model/objects.js';

const HASH = '0123456789abcdef';
const OLD = 'fedcba9876543210';
const now = new Date('2026-11-29T04:00:00Z');
const compiled = (hash: string, requiredLandlockAbi: number): Compilation => ({
  ok: true,
  compiled: { seccomp: { hash, localhostProfile: `podfence/web-${hash}.json` }, requiredLandlockAbi },
});
const valid = compiled(HASH, 4);

function profile(extra: Partial<ProfileObject['metadata']> = {}, status?: ProfileObject['status']): ProfileObject {
  return {
    metadata: { name: 'web', generation: 3, resourceVersion: '7', finalizers: [IN_USE_FINALIZER], ...extra },
    spec: {},
    status,
  };
}

const node = (name: string, abi: number | undefined, hashes: string[]): NodeView => ({
  name,
  report:
    abi === undefined && hashes.length === 0
      ? undefined
      : { landlockABI: abi, installed: hashes.map((h) => ({ profile: 'web', hash: h, file: `web-${h}.json` })) },
});

const ready = (d: ReturnType<typeof desiredStatus>) => d.status.conditions!.find((c) => c.type === 'Ready')!;

describe('desiredStatus', () => {
  it('is Installed when every node has the current version', () => {
    const d = desiredStatus({
      profile: profile(),
      compilation: valid,
      nodes: [node('n1', 7, [HASH]), node('n2', 4, [OLD, HASH])],
      pods: [],
      now,
    });
    expect(d.status).toMatchObject({
      observedGeneration: 3,
      seccompProfilePath: `podfence/web-${HASH}.json`,
      hash: HASH,
      nodes: { installed: 2, total: 2 },
      pods: 0,
    });
    expect(ready(d)).toMatchObject({ status: 'True', reason: 'Installed', observedGeneration: 3 });
    expect(d.finalizers).toBeUndefined();
    expect(d.events.map((e) => e.reason)).toEqual(['Compiled', 'Installed']);
  });

  it('is Installing while a node lacks the file or has not reported, and names the nodes', () => {
    const d = desiredStatus({
      profile: profile(),
      compilation: valid,
      nodes: [node('n1', 7, [HASH]), node('n2', 7, [OLD]), node('n3', undefined, [])],
      pods: [],
      now,
    });
    expect(d.status.nodes).toEqual({ installed: 1, total: 3 });
    expect(ready(d)).toMatchObject({ status: 'False', reason: 'Installing' });
    expect(ready(d).message).toContain('n2, n3');
  });

  it('is not Ready with no nodes at all', () => {
    const d = desiredStatus({ profile: profile(), compilation: valid, nodes: [], pods: [], now });
    expect(ready(d)).toMatchObject({ status: 'False', reason: 'Installing' });
  });

  it('is NodeUnsupported when a node reports a lower Landlock ABI than the profile needs', () => {
    const d = desiredStatus({
      profile: profile(),
      compilation: valid,
      nodes: [node('n1', 7, [HASH]), node('old-kernel', 3, [HASH])],
      pods: [],
      now,
    });
    expect(ready(d)).toMatchObject({ status: 'False', reason: 'NodeUnsupported' });
    expect(ready(d).message).toContain('old-kernel (ABI 3)');
    expect(d.events.find((e) => e.reason === 'NodeUnsupported')?.type).toBe('Warning');
  });

  it('does not treat ABI as a problem for profiles that need none', () => {
    const d = desiredStatus({
      profile: profile(),
      compilation: compiled(HASH, 0),
      nodes: [node('n1', 0, [HASH])],
      pods: [],
      now,
    });
    expect(ready(d).reason).toBe('Installed');
  });

  it('reports InvalidSpec with field paths and keeps the last installed path', () => {
    const d = desiredStatus({
      profile: profile({}, { seccompProfilePath: `podfence/web-${OLD}.json`, hash: OLD }),
      compilation: { ok: false, errors: [{ path: 'spec.landlock.readOnly[2]', message: 'must be absolute' }] },
      nodes: [node('n1', 7, [OLD])],
      pods: [],
      now,
    });
    expect(ready(d)).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(ready(d).message).toBe('spec.landlock.readOnly[2]: must be absolute');
    expect(d.status.seccompProfilePath).toBe(`podfence/web-${OLD}.json`);
    expect(d.events).toEqual([{ type: 'Warning', reason: 'InvalidSpec', message: ready(d).message }]);
  });

  it('adds the in-use finalizer, keeping others', () => {
    const d = desiredStatus({
      profile: profile({ finalizers: ['x/y'] }),
      compilation: valid,
      nodes: [],
      pods: [],
      now,
    });
    expect(d.finalizers).toEqual(['x/y', IN_USE_FINALIZER]);
  });

  it('blocks deletion while pods use the profile and lists them', () => {
    const d = desiredStatus({
      profile: profile({ deletionTimestamp: new Date() }),
      compilation: valid,
      nodes: [node('n1', 7, [HASH])],
      pods: ['shop/b', 'shop/a'],
      now,
    });
    expect(d.finalizers).toBeUndefined();
    expect(d.status.blockingPods).toEqual(['shop/a', 'shop/b']);
    expect(d.status.pods).toBe(2);
    expect(ready(d)).toMatchObject({ status: 'False', reason: 'Terminating' });
    expect(d.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'DeletionBlocked' }));
  });

  it('removes only its finalizer once no pod uses the profile', () => {
    const d = desiredStatus({
      profile: profile({ deletionTimestamp: new Date(), finalizers: ['other', IN_USE_FINALIZER] }),
      compilation: valid,
      nodes: [],
      pods: [],
      now,
    });
    expect(d.finalizers).toEqual(['other']);
    expect(d.status.blockingPods).toBeUndefined();
  });

  it('keeps lastTransitionTime while the Ready status does not change, and emits nothing new', () => {
    const input = { compilation: valid, nodes: [node('n1', 7, [HASH])], pods: [], now };
    const first = desiredStatus({ profile: profile(), ...input });
    const later = new Date(now.getTime() + 60_000);
    const second = desiredStatus({ profile: profile({}, first.status), ...input, now: later });
    expect(ready(second).lastTransitionTime).toBe('2026-11-29T04:00:00Z');
    expect(sameStatus(first.status, second.status)).toBe(true);
    expect(second.events).toEqual([]);
  });

  it('moves lastTransitionTime and emits Compiled when the version changes', () => {
    const installedOld = desiredStatus({
      profile: profile(),
      compilation: compiled(OLD, 4),
      nodes: [node('n1', 7, [OLD])],
      pods: [],
      now,
    });
    const later = new Date(now.getTime() + 60_000);
    const d = desiredStatus({
      profile: profile({ generation: 4 }, installedOld.status),
      compilation: valid,
      nodes: [node('n1', 7, [OLD])],
      pods: [],
      now: later,
    });
    expect(ready(d)).toMatchObject({ status: 'False', reason: 'Installing', observedGeneration: 4 });
    expect(ready(d).lastTransitionTime).toBe('2026-11-29T04:01:00Z');
    expect(d.events.map((e) => e.reason)).toEqual(['Compiled', 'Installing']);
  });

  it('compares statuses regardless of key order', () => {
    expect(sameStatus({ hash: 'a', pods: 1 }, { pods: 1, hash: 'a' })).toBe(true);
    expect(sameStatus({ hash: 'a', pods: 1 }, { pods: 2, hash: 'a' })).toBe(false);
    expect(sameStatus(undefined, {})).toBe(true);
  });
});
