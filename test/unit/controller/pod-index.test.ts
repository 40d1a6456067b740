import type { V1Pod } from '@kubernetes/client-node';
import { PodProfileIndex } from '../../../src/controller/pod-index.js';

const pod = (name: string, applied?: string, phase = 'Running'): V1Pod => ({
  metadata: { name, namespace: 'ns', annotations: applied ? { 'podfence.dev/applied': applied } : undefined },
  status: { phase },
});

describe('PodProfileIndex', () => {
  test('indexes pods by the profiles they use and reports which profiles changed', () => {
    const index = new PodProfileIndex();
    expect(index.update(pod('a', 'web@v1'))).toEqual(['web']);
    expect(index.update(pod('b', 'web@v1,batch@v2'))).toEqual(['web', 'batch']);
    expect(index.podsUsing('web').sort()).toEqual(['ns/a', 'ns/b']);
    expect(index.podsUsing('batch')).toEqual(['ns/b']);
    expect(index.podsUsing('none')).toEqual([]);
  });

  test('a pod that moves to another profile, finishes or is deleted leaves the old one', () => {
    const index = new PodProfileIndex();
    index.update(pod('a', 'web@v1'));
    expect(index.update(pod('a', 'batch@v1'))).toEqual(['web', 'batch']);
    expect(index.podsUsing('web')).toEqual([]);
    expect(index.update(pod('a', 'batch@v1', 'Succeeded'))).toEqual(['batch']);
    expect(index.podsUsing('batch')).toEqual([]);
    index.update(pod('b', 'web@v1'));
    expect(index.update(pod('b', 'web@v1'), true)).toEqual(['web']);
    expect(index.podsUsing('web')).toEqual([]);
  });

  test('pods without podfence profiles change nothing', () => {
    expect(new PodProfileIndex().update(pod('x'))).toEqual([]);
  });
});
