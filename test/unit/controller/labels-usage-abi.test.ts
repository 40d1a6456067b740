import type { V1Pod } from '@kubernetes/client-node';
import { requiredLandlockAbi } from '../../../src/profile/landlock-abi.js';
import { desiredSeccompLabels, seccompLabelPatch } from '../../../src/controller/node-labels.js';
import {
  parseAppliedAnnotation,
  parseLocalhostProfile,
  profilesUsedByPod,
  seccompFilesOfPod,
  slimPod,
} from '../../../src/model/pod-usage.js';

const H1 = '0123456789abcdef';
const H2 = '1111111111111111';
const H3 = '2222222222222222';

describe('node seccomp labels', () => {
  const report = {
    landlockABI: 3,
    installed: [
      { profile: 'web', hash: H1, file: `web-${H1}.json` },
      { profile: 'net', hash: H2, file: `net-${H2}.json` },
      { profile: 'net', hash: H3, file: `net-${H3}.json` },
    ],
  };

  it('labels every installed version except current versions the node cannot run', () => {
    const labels = desiredSeccompLabels(
      report,
      new Map([
        ['web', { hash: H1, requiredAbi: 1 }],
        ['net', { hash: H2, requiredAbi: 4 }],
      ]),
    );
    expect([...labels].sort()).toEqual([`seccomp.podfence.dev/${H1}`, `seccomp.podfence.dev/${H3}`]);
  });

  it('labels nothing without a report', () => {
    expect(desiredSeccompLabels(undefined, new Map()).size).toBe(0);
  });

  it('patches additions and removals of its own prefix only', () => {
    const patch = seccompLabelPatch(
      {
        'kubernetes.io/hostname': 'n1',
        [`seccomp.podfence.dev/${H2}`]: 'true',
        [`seccomp.podfence.dev/${H3}`]: 'true',
      },
      new Set([`seccomp.podfence.dev/${H1}`, `seccomp.podfence.dev/${H3}`]),
    );
    expect(patch).toEqual({ [`seccomp.podfence.dev/${H1}`]: 'true', [`seccomp.podfence.dev/${H2}`]: null });
    expect(seccompLabelPatch({ [`seccomp.podfence.dev/${H1}`]: 'true' }, new Set([`seccomp.podfence.dev/${H1}`]))).toBe(
      undefined,
    );
  });
});

describe('pod usage', () => {
  it('parses podfence localhost paths only', () => {
    expect(parseLocalhostProfile(`podfence/my-web-${H1}.json`)).toEqual({
      profile: 'my-web',
      hash: H1,
      file: `my-web-${H1}.json`,
    });
    expect(parseLocalhostProfile('operator/web.json')).toBeUndefined();
    expect(parseLocalhostProfile(`podfence/web-${H1}.json/../x`)).toBeUndefined();
    expect(parseLocalhostProfile(undefined)).toBeUndefined();
  });

  it('parses the applied annotation in its single and per-container forms', () => {
    expect(parseAppliedAnnotation('web@abc')).toEqual(['web']);
    expect(parseAppliedAnnotation('web@abc, app=batch@def')).toEqual(['web', 'batch']);
    expect(parseAppliedAnnotation('NOT VALID@x')).toEqual([]);
  });

  const pod: V1Pod = {
    metadata: { name: 'p', namespace: 'shop', annotations: { 'podfence.dev/applied': 'web@v1', other: 'x' } },
    spec: {
      nodeName: 'n1',
      securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: `podfence/web-${H1}.json` } },
      containers: [
        {
          name: 'a',
          securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: `podfence/batch-${H2}.json` } },
        },
        { name: 'b', securityContext: { seccompProfile: { type: 'RuntimeDefault' } } },
      ],
    },
    status: { phase: 'Running' },
  };

  it('collects profiles from the annotation and from every seccomp path', () => {
    expect(
      seccompFilesOfPod(pod)
        .map((r) => r.file)
        .sort(),
    ).toEqual([`batch-${H2}.json`, `web-${H1}.json`]);
    expect(profilesUsedByPod(pod).sort()).toEqual(['batch', 'web']);
  });

  it('finished pods use nothing', () => {
    expect(profilesUsedByPod({ ...pod, status: { phase: 'Succeeded' } })).toEqual([]);
  });

  it('slimPod keeps exactly what usage reads', () => {
    const slim = slimPod(pod);
    expect(profilesUsedByPod(slim).sort()).toEqual(['batch', 'web']);
    expect(slim.metadata?.annotations).toEqual({ 'podfence.dev/applied': 'web@v1' });
    expect(slim.spec?.nodeName).toBe('n1');
  });
});

describe('requiredLandlockAbi', () => {
  it('follows the features an enforce profile uses', () => {
    expect(requiredLandlockAbi({ mode: 'enforce', landlock: { mode: 'enforce', readOnly: ['/etc'] } })).toBe(1);
    expect(requiredLandlockAbi({ landlock: { readOnly: [], baseline: true, tcp: { bind: [80] } } })).toBe(4);
    expect(requiredLandlockAbi({ landlock: { tcp: { connect: [] }, scope: ['signal'] } })).toBe(6);
  });

  it('is 0 for audit mode, best-effort Landlock, or no Landlock', () => {
    expect(requiredLandlockAbi({ mode: 'audit', landlock: { scope: ['signal'] } })).toBe(0);
    expect(requiredLandlockAbi({ landlock: { mode: 'best-effort', tcp: { bind: [1] } } })).toBe(0);
    expect(requiredLandlockAbi({ landlock: null })).toBe(0);
    expect(requiredLandlockAbi({ landlock: { baseline: false } })).toBe(0);
  });
});
