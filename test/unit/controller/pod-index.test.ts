import type { V1Pod } from '@kubernetes/client-node';
import { PodProfileIndex } from '../../../src/controller/pod-index.js';

const pod = (name: string, applied?: string, phase = 'Running'): V1Pod => ({
  metadata: { name, namespace: 'ns', annotations: applied ? { 'podfence.dev/applied': applied } : undefined },
  status: { phase },
});

const all = () => true;

describe('PodProfileIndex', () => {
  test('indexes pods by the profiles they use and reports which profiles changed', () => {
    const index = new PodProfileIndex();
    expect(index.update(pod('a', 'web@v1'))).toEqual(['web']);
    expect(index.update(pod('b', 'web@v1,batch@v2'))).toEqual(['web', 'batch']);
    expect(index.podsUsing('web', all).sort()).toEqual(['ns/a', 'ns/b']);
    expect(index.podsUsing('batch', all)).toEqual(['ns/b']);
    expect(index.podsUsing('none', all)).toEqual([]);
  });

  test('a pod that moves to another profile, finishes or is deleted leaves the old one', () => {
    const index = new PodProfileIndex();
    index.update(pod('a', 'web@v1'));
    expect(index.update(pod('a', 'batch@v1'))).toEqual(['web', 'batch']);
    expect(index.podsUsing('web', all)).toEqual([]);
    expect(index.update(pod('a', 'batch@v1', 'Succeeded'))).toEqual(['batch']);
    expect(index.podsUsing('batch', all)).toEqual([]);
    index.update(pod('b', 'web@v1'));
    expect(index.update(pod('b', 'web@v1'), true)).toEqual(['web']);
    expect(index.podsUsing('web', all)).toEqual([]);
  });

  test('only pods of opted-in namespaces count as using a profile', () => {
    const index = new PodProfileIndex();
    index.update(pod('a', 'web@v1'));
    index.update({ ...pod('b', 'web@v1'), metadata: { ...pod('b', 'web@v1').metadata, namespace: 'other' } });
    expect(index.podsUsing('web', (ns) => ns === 'ns')).toEqual(['ns/a']);
    expect(index.podsUsing('web', () => false)).toEqual([]);
  });

  test('pods without podfence profiles change nothing', () => {
    expect(new PodProfileIndex().update(pod('x'))).toEqual([]);
  });
});
