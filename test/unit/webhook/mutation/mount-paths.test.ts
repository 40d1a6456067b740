import { canonical, mountPathDenials, mountPathProblem } from '../../../../src/webhook/mutation/mount-paths.js';

describe('mount paths (they go into the wrapper options, where the kubelet expands $(VAR))', () => {
  test('canonical absolute paths pass; anything else is refused with the reason', () => {
    for (const ok of ['/data', '/var/run/secrets/kubernetes.io/serviceaccount', '/a.b/..c/d..']) {
      expect([ok, mountPathProblem(ok)]).toEqual([ok, undefined]);
    }
    expect(mountPathProblem('data')).toMatch(/absolute/);
    expect(mountPathProblem('/$(ROOT)')).toMatch(/"\$\("/);
    expect(mountPathProblem('/data/$(X)/y')).toMatch(/"\$\("/);
    expect(mountPathProblem('/')).toMatch(/whole container/);
    expect(mountPathProblem('//podfence')).toMatch(/canonical \(\/podfence\)/);
    expect(mountPathProblem('/./podfence/x')).toMatch(/canonical \(\/podfence\/x\)/);
    expect(mountPathProblem('/data/../podfence')).toMatch(/canonical \(\/podfence\)/);
    expect(mountPathProblem('/data/')).toMatch(/canonical \(\/data\)/);
    expect(canonical('//a/./b/../c/')).toBe('/a/c');
  });

  test('denials name the field and the container', () => {
    expect(
      mountPathDenials(
        [
          { name: 'ok', mountPath: '/ok' },
          { name: 'bad', mountPath: '//podfence' },
        ],
        'spec.containers[2]',
        'container "app"',
      ),
    ).toEqual([
      'spec.containers[2].volumeMounts[1].mountPath (container "app", "//podfence"): must be canonical (/podfence): ' +
        'no "//", ".", ".." or trailing "/"',
    ]);
  });
});
