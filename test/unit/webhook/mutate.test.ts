import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { INIT_BINARY } from '../../../src/common/constants.js';
import { mutatePod } from '../../../src/webhook/mutation/mutate.js';
import type { MutationResult } from '../../../src/webhook/types.js';
import { context, profileInfo } from './fixtures.js';

function pod(
  containers: V1Container[],
  spec: Partial<V1Pod['spec']> = {},
  annotations?: Record<string, string>,
): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'shop', ...(annotations ? { annotations } : {}) },
    spec: { containers, ...spec },
  };
}

function ok(r: MutationResult<V1Pod>): { pod: V1Pod; warnings: string[] } {
  if (!r.ok) throw new Error(`unexpectedly denied: ${r.denied}`);
  return r;
}
function denied(r: MutationResult<V1Pod>): string {
  if (r.ok) throw new Error('unexpectedly admitted');
  return r.denied;
}

const app = (over: Partial<V1Container> = {}): V1Container => ({
  name: 'app',
  image: 'reg/app:1',
  command: ['/bin/app'],
  ...over,
});

describe('mutatePod', () => {
  test('sandboxes the pod, every container and adds the wrapper, init container, volume, affinity, annotation', () => {
    const { pod: out, warnings } = ok(
      mutatePod(pod([app({ args: ['--port', '80'] })], { initContainers: [app({ name: 'setup' })] }), context()),
    );
    expect(warnings).toEqual([]);
    const spec = out.spec!;
    expect(spec.securityContext).toEqual({
      runAsUser: 65534,
      runAsGroup: 65534,
      runAsNonRoot: true,
      seccompProfile: { type: 'Localhost', localhostProfile: profileInfo('web').seccomp.localhostProfile },
    });
    expect(spec.initContainers!.map((c) => c.name)).toEqual(['podfence-init', 'setup']);
    expect(spec.initContainers![0]!.command).toEqual(['/podfence-init', 'install', '/podfence']);
    expect(spec.initContainers![0]!.image).toBe('localhost/podfence/init:dev');
    expect(spec.volumes).toEqual([{ name: 'podfence-init', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } }]);
    const c = spec.containers[0]!;
    expect(c.command).toEqual([INIT_BINARY, '--ro', '/etc', '--exec', '/podfence', '--', '/bin/app', '--port', '80']);
    expect(c.args).toBeUndefined();
    expect(c.volumeMounts).toEqual([{ name: 'podfence-init', mountPath: '/podfence', readOnly: true }]);
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      privileged: false,
      runAsNonRoot: true,
      runAsUser: 65534,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'Localhost' },
    });
    expect(spec.initContainers![1]!.command![0]).toBe(INIT_BINARY);
    expect(spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: `seccomp.podfence.dev/${profileInfo('web').seccomp.hash}`, operator: 'Exists' }] },
    ]);
    expect(out.metadata?.annotations?.['podfence.dev/applied']).toBe('web@v-web');
  });

  test('image entrypoint: ENTRYPOINT + CMD, args replace CMD, $ escaped as $$', () => {
    const ctx = context({
      entrypoints: {
        a: { ok: true, entrypoint: ['/entry', '$HOME'], cmd: ['serve', '$(X)'] },
        b: { ok: true, entrypoint: ['/entry'], cmd: ['serve'] },
        c: { ok: true, entrypoint: [], cmd: ['/bin/sh', '-c', 'echo $1'] },
      },
    });
    const containers = [
      { name: 'a', image: 'x' },
      { name: 'b', image: 'x', args: ['other', '$(VAR)'] },
      { name: 'c', image: 'x' },
    ];
    const { pod: out } = ok(mutatePod(pod(containers), ctx));
    const after = (n: number) => {
      const cmd = out.spec!.containers[n]!.command!;
      return cmd.slice(cmd.indexOf('--') + 1);
    };
    expect(after(0)).toEqual(['/entry', '$$HOME', 'serve', '$$(X)']);
    expect(after(1)).toEqual(['/entry', 'other', '$(VAR)']);
    expect(after(2)).toEqual(['/bin/sh', '-c', 'echo $$1']);
  });

  test('unresolved entrypoint: denied with a message to set command, or admitted without Landlock', () => {
    const ctx = context({ entrypoints: { app: { ok: false, error: 'HTTP 401' } } });
    const p = pod([{ name: 'app', image: 'private/app:1' }]);
    expect(denied(mutatePod(p, ctx))).toMatch(
      /could not read the entrypoint of image "private\/app:1" \(HTTP 401\); set "command"/,
    );
    const skip = ok(mutatePod(p, { ...ctx, policy: { ...ctx.policy, onUnresolvedEntrypoint: 'skip-landlock' } }));
    expect(skip.pod.spec!.containers[0]!.command).toBeUndefined();
    expect(skip.pod.spec!.containers[0]!.securityContext?.capabilities).toEqual({ drop: ['ALL'] });
    expect(skip.pod.spec!.initContainers).toBeUndefined();
    expect(skip.pod.metadata!.annotations!['podfence.dev/landlock-skipped']).toBe('app');
    expect(skip.warnings.join()).toMatch(/WITHOUT Landlock/);
  });

  test('an image with neither ENTRYPOINT nor CMD is denied', () => {
    const ctx = context({ entrypoints: { app: { ok: true, entrypoint: [], cmd: [] } } });
    expect(denied(mutatePod(pod([{ name: 'app', image: 'x' }]), ctx))).toMatch(/neither ENTRYPOINT nor CMD/);
  });

  test.each([
    [
      { hostNetwork: true },
      /hostNetwork: true is not allowed: SandboxProfile "web" does not set spec.allowHost.network/,
    ],
    [{ hostPID: true }, /hostPID: true is not allowed.*allowHost.pid/],
    [{ hostIPC: true }, /hostIPC: true is not allowed.*allowHost.ipc/],
    [{ volumes: [{ name: 'h', hostPath: { path: '/' } }] }, /hostPath volume "h" is not allowed.*allowHost.hostPath/],
  ])('escape %j is denied unless the profile allows it', (spec, message) => {
    expect(denied(mutatePod(pod([app()], spec), context()))).toMatch(message);
    const allowing = profileInfo('web', { allowHost: { network: true, pid: true, ipc: true, hostPath: true } });
    ok(mutatePod(pod([app()], spec), context({ profiles: { web: allowing } })));
  });

  test.each(['/podfence', '/podfence/x', '/', '/podfence/'])('a volume mounted at %s is denied', (mountPath) => {
    const p = pod([app({ volumeMounts: [{ name: 'v', mountPath }] })], { volumes: [{ name: 'v', emptyDir: {} }] });
    expect(denied(mutatePod(p, context()))).toMatch(/over podfence's \/podfence/);
  });

  test.each([
    [{ privileged: true }, 'privileged: true'],
    [{ allowPrivilegeEscalation: true }, 'allowPrivilegeEscalation: true'],
    [{ runAsUser: 0 }, 'runAsUser: 0'],
    [{ runAsNonRoot: false }, 'runAsNonRoot: false'],
    [{ seccompProfile: { type: 'Unconfined' } }, 'seccompProfile: Unconfined'],
    [{ capabilities: { add: ['SYS_ADMIN'] } }, 'capabilities.add: [SYS_ADMIN]'],
  ])('container setting %j weakens the profile: denied, or overwritten by policy', (sc, text) => {
    const p = pod([app({ securityContext: sc })]);
    const msg = denied(mutatePod(p, context()));
    expect(msg).toContain(`container "app" securityContext: ${text}`);
    expect(msg).toContain('would weaken SandboxProfile "web"');
    const ctx = context();
    const r = ok(mutatePod(p, { ...ctx, policy: { ...ctx.policy, onWeakening: 'overwrite' } }));
    expect(r.warnings.join()).toContain('overwritten by podfence');
    expect(r.pod.spec!.containers[0]!.securityContext).toMatchObject({
      privileged: false,
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      runAsUser: 65534,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'Localhost' },
    });
  });

  test('pod-level runAsUser 0 is a weakening; kept capabilities may be added', () => {
    expect(denied(mutatePod(pod([app()], { securityContext: { runAsUser: 0 } }), context()))).toMatch(
      /pod securityContext: runAsUser: 0/,
    );
    const web = profileInfo('web', { keepCapabilities: ['NET_BIND_SERVICE'] });
    const r = ok(
      mutatePod(
        pod([app({ securityContext: { capabilities: { add: ['CAP_NET_BIND_SERVICE'] } } })]),
        context({ profiles: { web } }),
      ),
    );
    expect(r.pod.spec!.containers[0]!.securityContext!.capabilities).toEqual({
      drop: ['ALL'],
      add: ['NET_BIND_SERVICE'],
    });
  });

  test("the profile's sysctls merge by name into the pod's own, and are left out on hostNetwork pods", () => {
    const port = { name: 'net.ipv4.ip_unprivileged_port_start', value: '0' };
    const web = profileInfo('web', {
      podSecurityContext: { runAsUser: 65534, runAsGroup: 65534, sysctls: [port] },
      allowHost: { network: true, pid: false, ipc: false, hostPath: false },
    });
    const own = [
      { name: 'net.ipv4.ip_unprivileged_port_start', value: '1024' },
      { name: 'kernel.shm_rmid_forced', value: '1' },
    ];
    const r = ok(mutatePod(pod([app()], { securityContext: { sysctls: own } }), context({ profiles: { web } })));
    expect(r.pod.spec!.securityContext!.sysctls).toEqual([own[1], port]);
    const again = ok(mutatePod(r.pod, context({ profiles: { web } })));
    expect(again.pod).toEqual(r.pod);
    const host = ok(mutatePod(pod([app()], { hostNetwork: true }), context({ profiles: { web } })));
    expect(host.pod.spec!.securityContext!.sysctls).toBeUndefined();
  });

  test('profile overrides only to profiles the namespace profile allows', () => {
    const batch = profileInfo('batch');
    const web = profileInfo('web', { allowOverrideTo: ['batch'] });
    const p = pod([app(), app({ name: 'side' })], {}, { 'podfence.dev/profile.side': 'batch' });
    const r = ok(mutatePod(p, context({ profiles: { web, batch } })));
    expect(r.pod.spec!.containers[1]!.securityContext!.seccompProfile!.localhostProfile).toBe(
      batch.seccomp.localhostProfile,
    );
    expect(r.pod.spec!.containers[0]!.securityContext!.seccompProfile!.localhostProfile).toBe(
      web.seccomp.localhostProfile,
    );
    const terms = r.pod.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
    expect(terms[0]!.matchExpressions!.map((e) => e.key).sort()).toEqual(
      [web.seccomp.hash, batch.seccomp.hash].map((h) => `seccomp.podfence.dev/${h}`).sort(),
    );
    const podLevel = ok(
      mutatePod(pod([app()], {}, { 'podfence.dev/profile': 'batch' }), context({ profiles: { web, batch } })),
    );
    expect(podLevel.pod.metadata!.annotations!['podfence.dev/applied']).toBe('batch@v-batch');

    const msg = denied(
      mutatePod(pod([app()], {}, { 'podfence.dev/profile': 'other' }), context({ profiles: { web, batch } })),
    );
    expect(msg).toMatch(
      /asks for SandboxProfile "other", but the namespace's profile "web" does not list it in spec.allowOverrideTo \(allowed: batch\)/,
    );
    expect(denied(mutatePod(pod([app()]), context({ profiles: {} })))).toMatch(
      /SandboxProfile "web" .* does not exist/,
    );
  });

  test('existing node affinity terms each get the requirement ANDed in', () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
            { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] },
          ],
        },
      },
    };
    const r = ok(mutatePod(pod([app()], { affinity }), context()));
    const terms = r.pod.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
    const key = `seccomp.podfence.dev/${profileInfo('web').seccomp.hash}`;
    expect(terms[0]!.matchExpressions).toEqual([
      { key: 'zone', operator: 'In', values: ['a'] },
      { key, operator: 'Exists' },
    ]);
    expect(terms[1]).toEqual({
      matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }],
      matchExpressions: [{ key, operator: 'Exists' }],
    });
  });

  test('volumes are granted on their mount directory, read-only or read-write as mounted', () => {
    const p = pod([
      app({
        volumeMounts: [
          { name: 'cfg', mountPath: '/etc/app', readOnly: true },
          { name: 'data', mountPath: '/data' },
        ],
      }),
    ]);
    const cmd = ok(mutatePod(p, context())).pod.spec!.containers[0]!.command!;
    expect(cmd.join(' ')).toContain('--ro /etc/app --rw /data --exec');
    const untrusting = profileInfo('web', { trustVolumes: false });
    const cmd2 = ok(mutatePod(p, context({ profiles: { web: untrusting } }))).pod.spec!.containers[0]!.command!;
    expect(cmd2.join(' ')).not.toContain('/data');
  });

  test('audit mode: security context but no wrapper, and an earlier wrapper is taken off', () => {
    const audit = profileInfo('web', { mode: 'audit', landlockArgs: () => [] });
    const wrapped = ok(mutatePod(pod([app()]), context())).pod;
    const r = ok(mutatePod(wrapped, context({ profiles: { web: audit } })));
    expect(r.pod.spec!.containers[0]!.command).toEqual(['/bin/app']);
    expect(r.pod.spec!.initContainers).toBeUndefined();
    expect(r.pod.spec!.volumes).toBeUndefined();
    expect(r.pod.spec!.containers[0]!.volumeMounts).toBeUndefined();
    const fresh = ok(mutatePod(pod([app()]), context({ profiles: { web: audit } }))).pod;
    expect(fresh.spec!.initContainers).toBeUndefined();
    expect(fresh.spec!.containers[0]!.command).toEqual(['/bin/app']);
    expect(fresh.metadata!.annotations!['podfence.dev/landlock-skipped']).toBe('app');
  });

  test('warnings: profile not Ready; exec probes wrapped; ephemeral containers get the security context only', () => {
    const web = profileInfo('web', { ready: false });
    const p = pod([app({ livenessProbe: { exec: { command: ['true'] } } })], {
      ephemeralContainers: [{ name: 'debug', image: 'busybox', command: ['sh'] }],
    });
    const r = ok(mutatePod(p, context({ profiles: { web } })));
    expect(r.warnings.join('\n')).toMatch(/"web" is not Ready: the pod stays Pending/);
    expect(r.warnings.join('\n')).not.toMatch(/exec probes/);
    expect(r.pod.spec!.containers[0]!.livenessProbe!.exec!.command![0]).toBe(INIT_BINARY);
    const eph = r.pod.spec!.ephemeralContainers![0]!;
    expect(eph.command).toEqual(['sh']);
    expect(eph.securityContext).toMatchObject({ capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false });
  });

  test('reserved names and Windows pods are refused', () => {
    expect(denied(mutatePod(pod([app()], { initContainers: [app({ name: 'podfence-init' })] }), context()))).toMatch(
      /reserved/,
    );
    expect(
      denied(mutatePod(pod([app()], { volumes: [{ name: 'podfence-init', configMap: { name: 'x' } }] }), context())),
    ).toMatch(/reserved/);
    expect(denied(mutatePod(pod([app()], { os: { name: 'windows' } }), context()))).toMatch(/Windows/);
  });

  test('re-invocation is a no-op', () => {
    const first = ok(mutatePod(pod([app({ args: ['a'] })], { initContainers: [app({ name: 'i' })] }), context())).pod;
    expect(ok(mutatePod(first, context())).pod).toEqual(first);
  });
});
