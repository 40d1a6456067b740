import { podfenceAnnotations } from '../../../../src/webhook/mutation/annotations.js';
import { notReadyWarnings, requireNodeLabels, seccompLabelKeys } from '../../../../src/webhook/mutation/scheduling.js';
import { profileInfo } from '../fixtures.js';

describe('scheduling', () => {
  const web = profileInfo('web');
  const keys = seccompLabelKeys([web]);

  test('one node label per profile used', () => {
    expect(keys).toEqual([`seccomp.podfence.dev/${web.seccomp.hash}`]);
  });

  test('a required term is created when there is none', () => {
    expect(requireNodeLabels(undefined, keys)).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: keys[0], operator: 'Exists' }] }],
        },
      },
    });
  });

  test('every existing term gets the requirement ANDed in, once; the input is not changed', () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, {}],
        },
      },
    };
    const out = requireNodeLabels(affinity, keys)!;
    const terms = out.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
    expect(terms[0]!.matchExpressions).toEqual([
      { key: 'zone', operator: 'In', values: ['a'] },
      { key: keys[0], operator: 'Exists' },
    ]);
    expect(terms[1]!.matchExpressions).toEqual([{ key: keys[0], operator: 'Exists' }]);
    expect(requireNodeLabels(out, keys)).toEqual(out);
    expect(affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[1]).toEqual({});
  });

  test('a warning per profile that is not Ready', () => {
    expect(notReadyWarnings([web, profileInfo('b', { ready: false })])).toEqual([
      `SandboxProfile "b" is not Ready: the pod stays Pending until its seccomp profile is installed on a node ` +
        `(node label seccomp.podfence.dev/${profileInfo('b').seccomp.hash})`,
    ]);
  });
});

describe('annotations', () => {
  const web = profileInfo('web');
  test('the applied profile and version; the skipped containers, or none', () => {
    expect(podfenceAnnotations({ a: 'b' }, web, ['x', 'y'])).toEqual({
      a: 'b',
      'podfence.dev/applied': 'web@v-web',
      'podfence.dev/landlock-skipped': 'x,y',
    });
    expect(podfenceAnnotations({ 'podfence.dev/landlock-skipped': 'x' }, web, [])).toEqual({
      'podfence.dev/applied': 'web@v-web',
    });
  });
});
