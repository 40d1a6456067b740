import type { V1Pod } from '@kubernetes/client-node';
import {
  parseAppliedAnnotation,
  parseLocalhostProfile,
  profilesUsedByPod,
  seccompFilesOfPod,
  slimPod,
} from '../../../src/model/pod-usage.js';

const H1 = '0123456789abcdef';
const H2 = '1111111111111111';

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
