import { desiredSeccompLabels, seccompLabelPatch } from '../../../src/controller/node-labels.js';

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
