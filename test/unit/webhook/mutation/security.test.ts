import { containerSecurity } from '../../../../src/webhook/mutation/container-security.js';
import { podSecurity } from '../../../../src/webhook/mutation/pod-security.js';
import { fixWeakenings, weakenings, WEAKENINGS } from '../../../../src/webhook/mutation/weakenings.js';
import { profileInfo } from '../fixtures.js';

const web = profileInfo('web', {
  keepCapabilities: ['NET_BIND_SERVICE'],
  podSecurityContext: {
    runAsUser: 65534,
    runAsGroup: 65534,
    runAsNonRoot: true,
    sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
  },
  containerSecurityContext: { runAsUser: 65534, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
});

describe('weakenings (one list, used for pod and container contexts)', () => {
  const all = {
    privileged: true,
    allowPrivilegeEscalation: true,
    runAsUser: 0,
    runAsNonRoot: false,
    seccompProfile: { type: 'Unconfined' },
    procMount: 'Unmasked',
    windowsOptions: { hostProcess: true },
    capabilities: { add: ['cap_net_bind_service', 'SYS_ADMIN'] },
    runAsGroup: 0,
    fsGroup: 0,
    supplementalGroups: [10, 0],
    appArmorProfile: { type: 'Unconfined' },
    seLinuxOptions: { type: 'spc_t', level: 's0:c1,c2' },
    sysctls: [
      { name: 'net.ipv4.ping_group_range', value: '0 2147483647' },
      { name: 'kernel.shm_rmid_forced', value: '1' },
    ],
  };

  test('every weakening is found, in one message; deny or overwrite by policy', () => {
    const msg =
      'ctx: privileged: true, allowPrivilegeEscalation: true, runAsUser: 0, runAsNonRoot: false, seccompProfile: ' +
      'Unconfined, procMount: Unmasked, windowsOptions.hostProcess: true, capabilities.add: [SYS_ADMIN] beyond ' +
      "the profile's keep list, runAsGroup: 0, fsGroup: 0, supplementalGroups: [0], appArmorProfile: Unconfined, " +
      'seLinuxOptions.type: spc_t, sysctls: [net.ipv4.ping_group_range=0 2147483647] would weaken SandboxProfile "web"';
    expect(weakenings(all, web, 'ctx', 'deny')).toEqual({ denials: [msg], warnings: [] });
    expect(weakenings(all, web, 'ctx', 'overwrite')).toEqual({
      denials: [],
      warnings: [`${msg}; overwritten by podfence`],
    });
    expect(WEAKENINGS.every((w) => w.found(all, web) !== undefined)).toBe(true);
    // Overwrite: what the profile's own values do not replace is taken out; nothing is found afterwards.
    const fixed = structuredClone(all) as typeof all & Record<string, unknown>;
    fixWeakenings(fixed, web);
    expect(fixed).toMatchObject({ supplementalGroups: [10], seLinuxOptions: { level: 's0:c1,c2' } });
    expect(fixed.fsGroup).toBeUndefined();
    expect(fixed.appArmorProfile).toBeUndefined();
    expect(fixed.sysctls).toEqual([{ name: 'kernel.shm_rmid_forced', value: '1' }]);
    const { privileged, allowPrivilegeEscalation, procMount, windowsOptions, capabilities, ...podLevel } = all;
    expect([privileged, allowPrivilegeEscalation, procMount, windowsOptions, capabilities]).toHaveLength(5);
    const pod = podSecurity({ containers: [], securityContext: structuredClone(podLevel) }, web, 'overwrite');
    expect(weakenings(pod.securityContext, web, 'pod', 'deny')).toEqual({ denials: [], warnings: [] });
    const ctr = containerSecurity({ securityContext: structuredClone(all) }, web, 'c', 'overwrite');
    expect(weakenings(ctr.securityContext, web, 'c', 'deny')).toEqual({ denials: [], warnings: [] });
  });

  test('harmless settings are no finding; another user id is replaced with a warning', () => {
    expect(weakenings({ runAsUser: 65534, readOnlyRootFilesystem: true }, web, 'ctx', 'deny')).toEqual({
      denials: [],
      warnings: [],
    });
    expect(weakenings({ runAsUser: 1000 }, web, 'ctx', 'deny')).toEqual({
      denials: [],
      warnings: ["ctx: runAsUser 1000 replaced by the profile's 65534"],
    });
  });
});

describe('pod security', () => {
  test("the profile's fields over the pod's, Localhost seccomp, sysctls merged by name", () => {
    const r = podSecurity(
      {
        containers: [],
        securityContext: { fsGroup: 7, sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '1024' }] },
      },
      web,
      'deny',
    );
    expect(r.denials).toEqual([]);
    expect(r.securityContext).toEqual({
      fsGroup: 7,
      runAsUser: 65534,
      runAsGroup: 65534,
      runAsNonRoot: true,
      seccompProfile: { type: 'Localhost', localhostProfile: web.seccomp.localhostProfile },
      sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
    });
  });

  test('no sysctls on hostNetwork pods; the input is not changed', () => {
    const spec = { containers: [], hostNetwork: true, securityContext: { runAsUser: 0 } };
    const r = podSecurity(spec, web, 'overwrite');
    expect(r.securityContext.sysctls).toBeUndefined();
    expect(r.securityContext.runAsUser).toBe(65534);
    expect(r.warnings[0]).toMatch(/^pod securityContext: runAsUser: 0 would weaken/);
    expect(spec.securityContext).toEqual({ runAsUser: 0 });
  });
});

describe('container security', () => {
  test('capabilities: all dropped but the kept ones; no escalation, not privileged, non-root, Localhost', () => {
    const r = containerSecurity(
      { securityContext: { readOnlyRootFilesystem: true, procMount: 'Unmasked', runAsUser: 5 } },
      web,
      'container "a"',
      'overwrite',
    );
    expect(r.securityContext).toEqual({
      readOnlyRootFilesystem: true,
      runAsUser: 65534,
      runAsGroup: 65534,
      allowPrivilegeEscalation: false,
      privileged: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
      seccompProfile: { type: 'Localhost', localhostProfile: web.seccomp.localhostProfile },
    });
    expect(r.warnings).toEqual([
      'container "a" securityContext: procMount: Unmasked would weaken SandboxProfile "web"; overwritten by podfence',
    ]);
  });

  test('a profile that keeps nothing adds nothing', () => {
    const r = containerSecurity({}, profileInfo('plain'), 'container "a"', 'deny');
    expect(r.securityContext.capabilities).toEqual({ drop: ['ALL'] });
    expect(r.denials).toEqual([]);
  });
});
