import type { V1Pod } from '@kubernetes/client-node';
import { executePaths, writerOf } from '../../../../src/webhook/mutation/exec-volumes.js';
import { mutatePod } from '../../../../src/webhook/mutation/mutate.js';
import { context, profileInfo } from '../fixtures.js';

// A writable volume at, over or under a path the profile lets the container execute: refused at admission,
// naming the field. subPath and subPathExpr mounts of the same volume count as the volume.

const web = profileInfo('web', {
  landlockArgs: ({ readOnly, readWrite }) => [
    '--ro',
    '/etc',
    ...readOnly.flatMap((p) => ['--volume-ro', p]),
    ...readWrite.flatMap((p) => ['--volume-rw', p]),
    '--exec',
    '/bin',
    '--optional-exec',
    '/usr/lib',
    '--exec',
    '/podfence',
  ],
});
const ctx = context({ profiles: { web }, entrypoints: {} });

function pod(spec: Partial<NonNullable<V1Pod['spec']>>): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns' },
    spec: { containers: [{ name: 'app', image: 'img', command: ['/bin/app'] }], ...spec },
  };
}

function denial(p: V1Pod): string {
  const r = mutatePod(p, ctx);
  return r.ok ? 'admitted' : r.denied;
}

describe('writable volumes over execute paths (refused at admission)', () => {
  test('the execute paths come from the profile’s own options; /podfence has its own check', () => {
    expect(executePaths(web)).toEqual(['/bin', '/usr/lib']);
  });

  test('an emptyDir mounted writable under, at or over an execute path: refused, naming the field', () => {
    for (const mountPath of ['/bin/extra', '/bin', '/usr', '/usr/lib/x']) {
      const d = denial(
        pod({
          volumes: [{ name: 'x', emptyDir: {} }],
          containers: [{ name: 'app', image: 'img', command: ['/bin/app'], volumeMounts: [{ name: 'x', mountPath }] }],
        }),
      );
      expect([mountPath, d]).toEqual([
        mountPath,
        expect.stringMatching(
          /^spec\.containers\[0\]\.volumeMounts\[0\]\.mountPath \(container "app", ".*"\): volume "x" is writable \(mounted writable by container "app" at .*\) and lies at, over or under \/(bin|usr\/lib)/,
        ),
      ]);
    }
  });

  test('control: the same emptyDir beside the execute paths is admitted; read-only everywhere is admitted', () => {
    expect(
      denial(
        pod({
          volumes: [{ name: 'x', emptyDir: {} }],
          containers: [
            { name: 'app', image: 'img', command: ['/bin/app'], volumeMounts: [{ name: 'x', mountPath: '/binx' }] },
          ],
        }),
      ),
    ).toBe('admitted');
    expect(
      denial(
        pod({
          volumes: [{ name: 'x', emptyDir: {} }],
          containers: [
            {
              name: 'app',
              image: 'img',
              command: ['/bin/app'],
              volumeMounts: [{ name: 'x', mountPath: '/bin/extra', readOnly: true }],
            },
          ],
        }),
      ),
    ).toBe('admitted');
  });

  test('subPath / subPathExpr: a read-only mount at /bin/extra of a volume another mount writes is refused', () => {
    for (const sub of [{ subPath: 'bin' }, { subPathExpr: '$(POD_NAME)' }]) {
      const d = denial(
        pod({
          volumes: [{ name: 'x', emptyDir: {} }],
          containers: [
            {
              name: 'app',
              image: 'img',
              command: ['/bin/app'],
              volumeMounts: [
                { name: 'x', mountPath: '/bin/extra', readOnly: true, ...sub },
                { name: 'x', mountPath: '/work' },
              ],
            },
          ],
        }),
      );
      expect(d).toMatch(
        /spec\.containers\[0\]\.volumeMounts\[0\]\.mountPath .*volume "x" \(subPath(Expr "\$\(POD_NAME\)")?\) is writable \(mounted writable by container "app" at \/work\)/,
      );
    }
  });

  test('another container, a sidecar or an ephemeral container writing the volume counts; a plain init container does not', () => {
    const reader = {
      name: 'app',
      image: 'img',
      command: ['/bin/app'],
      volumeMounts: [{ name: 'x', mountPath: '/bin/extra', readOnly: true }],
    };
    const writer = { name: 'w', image: 'img', command: ['/bin/w'], volumeMounts: [{ name: 'x', mountPath: '/out' }] };
    const volumes = [{ name: 'x', emptyDir: {} }];
    expect(denial(pod({ volumes, containers: [reader, writer] }))).toMatch(/writable by container "w" at \/out/);
    expect(
      denial(pod({ volumes, containers: [reader], initContainers: [{ ...writer, restartPolicy: 'Always' }] })),
    ).toMatch(/writable by container "w"/);
    expect(denial(pod({ volumes, containers: [reader], ephemeralContainers: [writer] }))).toMatch(
      /writable by container "w"/,
    );
    expect(denial(pod({ volumes, containers: [reader], initContainers: [writer] }))).toBe('admitted');
  });

  test('volume kinds: read-only kinds pass, shared storage is writable from outside the pod even mounted read-only', () => {
    const at = (v: Record<string, unknown>) =>
      denial(
        pod({
          volumes: [{ name: 'x', ...v }],
          containers: [
            {
              name: 'app',
              image: 'img',
              command: ['/bin/app'],
              volumeMounts: [{ name: 'x', mountPath: '/bin/extra', readOnly: true }],
            },
          ],
        }),
      );
    expect(at({ configMap: { name: 'c' } })).toBe('admitted');
    expect(at({ secret: { secretName: 's' } })).toBe('admitted');
    expect(at({ projected: { sources: [] } })).toBe('admitted');
    expect(at({ persistentVolumeClaim: { claimName: 'c', readOnly: true } })).toMatch(
      /a persistentVolumeClaim volume, which writers outside the pod can change/,
    );
    expect(writerOf({ containers: [] }, undefined)).toBeUndefined();
  });

  test('audit mode (no wrapper, no execute rules) is not refused for it', () => {
    const audit = profileInfo('web', { mode: 'audit', landlockArgs: () => [] });
    const r = mutatePod(
      pod({
        volumes: [{ name: 'x', emptyDir: {} }],
        containers: [
          { name: 'app', image: 'img', command: ['/bin/app'], volumeMounts: [{ name: 'x', mountPath: '/bin' }] },
        ],
      }),
      context({ profiles: { web: audit } }),
    );
    expect(r.ok).toBe(true);
  });

  test('an ephemeral container may mount podfence’s own volume only read-only (it could replace the wrapper in init mode)', () => {
    const d = denial(
      pod({
        ephemeralContainers: [
          { name: 'dbg', image: 'img', volumeMounts: [{ name: 'podfence-init', mountPath: '/x' }] },
        ],
      }),
    );
    expect(d).toMatch(
      /spec\.ephemeralContainers\[0\]\.volumeMounts\[0\]\.name \(container "dbg"\): volume "podfence-init" is podfence's own: mount it readOnly/,
    );
    const readOnly = denial(
      pod({
        ephemeralContainers: [
          { name: 'dbg', image: 'img', volumeMounts: [{ name: 'podfence-init', mountPath: '/x', readOnly: true }] },
        ],
      }),
    );
    expect(readOnly).toBe('admitted');
  });
});
