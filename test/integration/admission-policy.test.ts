// The sandbox-required ValidatingAdmissionPolicy (deploy/webhook/validating-policy.yaml) on the real apiserver, with
// the webhook bypassed: pods the real webhook mutated (in a namespace where it runs) are copied into a namespace
// only the policy watches. Untouched copies are admitted; copies with one thing changed that an attacker with
// namespace rights would change (issue #14: another profile's seccomp file, gid 0, host namespaces, their own
// /podfence, weaker wrapper options, ...) are refused, and so are UPDATEs and ephemeral containers that undo what
// podfence set. The policy's parameters are published by the controller's ParamsPublisher.
import { jest } from '@jest/globals';
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type V1Container,
  type V1EphemeralContainer,
  type V1Pod,
} from '@kubernetes/client-node';
import { errorText } from '../cluster/manifests.js';
import { retryOnConflict } from '../cluster/retry.js';
import {
  deleteNamespace,
  sharedClusterHasControllers,
  sharedKubeConfig,
  uniqueName,
  uniqueNamespace,
} from '../cluster/shared.js';
import { policyTypeCheckWarnings, startAdmission, type AdmissionSetup } from './admission-setup.js';

jest.setTimeout(180_000);

const kc = sharedKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const id = uniqueName('pfvap');
const TEST_LABEL = 'podfence-test/admission-policy';
const web = `${id}-web`;
const batch = `${id}-batch`;
const loose = `${id}-loose`;
const audit = `${id}-audit`;
let params: Record<string, string>;

let setup: AdmissionSetup | undefined;
let operatorNs: string;
let mutated: string; // the webhook and the policy run here
let bare: string; // only the policy: the webhook is "bypassed"
let auditNs: string; // the webhook and the policy, namespace profile in audit mode
let looseFile: string;

const profile = (name: string, spec: object) => ({
  apiVersion: 'podfence.dev/v1alpha1',
  kind: 'SandboxProfile',
  metadata: { name },
  spec,
});

/** What the webhook makes of `spec` in the `mutated` namespace (a dry run), ready to be created elsewhere. */
async function sandboxed(spec: V1Pod['spec'], annotations: Record<string, string> = {}, ns = mutated): Promise<V1Pod> {
  const out = await core.createNamespacedPod({
    namespace: ns,
    body: { metadata: { name: uniqueName('src'), annotations }, spec },
    dryRun: 'All',
  });
  expect(out.metadata?.annotations?.['podfence.dev/applied']).toBeDefined();
  return {
    metadata: { name: uniqueName('copy'), annotations: out.metadata!.annotations, labels: out.metadata!.labels },
    spec: out.spec,
  };
}

const appSpec = (): V1Pod['spec'] => ({
  initContainers: [{ name: 'setup', image: 'r.invalid/setup:1', command: ['/setup'] }],
  containers: [
    {
      name: 'app',
      image: 'r.invalid/app:1',
      command: ['/bin/app'],
      args: ['--port', '80'],
      volumeMounts: [
        { name: 'data', mountPath: '/data' },
        { name: 'cfg', mountPath: '/cfg', readOnly: true },
      ],
      // Started by the kubelet beside the command: the webhook wraps each exec one, the policy checks it.
      livenessProbe: { exec: { command: ['/bin/health'] } },
      readinessProbe: { httpGet: { path: '/ready', port: 80 } },
      lifecycle: {
        postStart: { exec: { command: ['/bin/warm', 'up'] } },
        preStop: { exec: { command: ['/bin/drain'] } },
      },
    },
    {
      name: 'job',
      image: 'r.invalid/job:1',
      command: ['/bin/job'],
      startupProbe: { exec: { command: ['/bin/started'] } },
    },
  ],
  volumes: [
    { name: 'data', emptyDir: {} },
    { name: 'cfg', configMap: { name: 'cfg' } },
  ],
});
const appAnnotations = () => ({ 'podfence.dev/profile.job': batch });

async function refusal(namespace: string, body: V1Pod): Promise<string> {
  const err = await core.createNamespacedPod({ namespace, body }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!err) throw new Error(`pod ${body.metadata?.name} was admitted`);
  return errorText(err);
}

const app = (p: V1Pod) => p.spec!.containers.find((c) => c.name === 'app')!;
const job = (p: V1Pod) => p.spec!.containers.find((c) => c.name === 'job')!;
const installer = (p: V1Pod) => p.spec!.initContainers!.find((c) => c.name === 'podfence-init')!;
const allContainers = (p: V1Pod): V1Container[] => [...p.spec!.containers, ...(p.spec!.initContainers ?? [])];
/** The wrapper options of a container (between the wrapper and `--`). */
const setOptions = (c: V1Container, edit: (o: string[]) => string[]) => {
  const cmd = c.command!;
  const sep = cmd.indexOf('--');
  c.command = [cmd[0]!, ...edit(cmd.slice(1, sep)), ...cmd.slice(sep)];
};

beforeAll(async () => {
  operatorNs = await uniqueNamespace('pf-vap-operator');
  mutated = await uniqueNamespace('pf-vap-mutated', { [TEST_LABEL]: id, 'podfence.dev/profile': web });
  bare = await uniqueNamespace('pf-vap-bare', { [`${TEST_LABEL}-bare`]: id, 'podfence.dev/profile': web });
  auditNs = await uniqueNamespace('pf-vap-audit', { [TEST_LABEL]: id, 'podfence.dev/profile': audit });
  for (const body of [
    profile(web, {
      preset: 'network-server',
      capabilities: { keep: ['NET_BIND_SERVICE'] },
      landlock: { readOnly: ['/etc'], readWrite: ['/tmp'], trustVolumes: true, tcp: { bind: [80] } },
      allowOverrideTo: [batch],
    }),
    profile(batch, { preset: 'computation' }),
    profile(loose, { preset: 'none', allowHost: { network: true, pid: true, ipc: true, hostPath: true } }),
    profile(audit, { preset: 'computation', mode: 'audit' }),
  ]) {
    await custom.createClusterCustomObject({
      group: 'podfence.dev',
      version: 'v1alpha1',
      plural: 'sandboxprofiles',
      body,
    });
  }
  // The policy watches both namespaces; the mutating webhook only `mutated`. In force once a mutated pod is
  // admitted where only the policy runs and a plain one is refused there.
  let last = '';
  setup = await startAdmission({
    kc,
    id,
    label: TEST_LABEL,
    operatorNs,
    profiles: [web, batch, loose, audit],
    policyOnly: ['bare'],
    inForce: async () => {
      const ok = await sandboxed(appSpec(), appAnnotations())
        .then((pod) => core.createNamespacedPod({ namespace: bare, body: pod, dryRun: 'All' }))
        .then(
          () => true,
          (e: unknown) => ((last = `mutated pod: ${errorText(e)}`), false),
        );
      const refused = await core
        .createNamespacedPod({
          namespace: bare,
          body: { metadata: { name: uniqueName('plain') }, spec: appSpec() },
          dryRun: 'All',
        })
        .then(
          () => ((last = 'plain pod admitted'), false),
          () => true,
        );
      if (!(ok && refused) && last) throw new Error(last);
      return ok && refused;
    },
  });
  params = setup.params;
  looseFile = params[`${loose}.seccomp`]!;
});

afterAll(async () => {
  await setup?.stop();
  for (const name of [web, batch, loose, audit]) {
    await custom
      .deleteClusterCustomObject({ group: 'podfence.dev', version: 'v1alpha1', plural: 'sandboxprofiles', name })
      .catch(() => undefined);
  }
  for (const ns of [mutated, bare, auditNs, operatorNs]) if (ns) await deleteNamespace(ns);
});

// The apiserver's type checking of policies runs in kube-controller-manager.
(sharedClusterHasControllers() ? test : test.skip)('the policy type-checks without warnings', async () => {
  expect(await policyTypeCheckWarnings(admission, setup!.vapName)).toEqual([]);
});

test('pods the webhook really mutated are admitted without it (init-container and CSI delivery)', async () => {
  const pod = await sandboxed(appSpec(), appAnnotations());
  // The mutation granted the volumes (trustVolumes) and the override container runs with its own profile.
  expect(app(pod).command!.join(' ')).toContain('--volume-rw /data');
  expect(app(pod).command!.join(' ')).toContain('--volume-ro /cfg');
  // Exec probes and hooks come back behind each container's own wrapper; other probes are left alone.
  const prefix = (c: V1Container) => c.command!.slice(0, c.command!.indexOf('--') + 1);
  expect(app(pod).livenessProbe!.exec!.command).toEqual([...prefix(app(pod)), '/bin/health']);
  expect(app(pod).lifecycle!.postStart!.exec!.command).toEqual([...prefix(app(pod)), '/bin/warm', 'up']);
  expect(app(pod).lifecycle!.preStop!.exec!.command).toEqual([...prefix(app(pod)), '/bin/drain']);
  expect(job(pod).startupProbe!.exec!.command).toEqual([...prefix(job(pod)), '/bin/started']);
  expect(prefix(job(pod))).not.toEqual(prefix(app(pod)));
  const created = await core.createNamespacedPod({ namespace: bare, body: pod });
  expect(created.metadata!.annotations!['podfence.dev/applied']).toBe(
    pod.metadata!.annotations!['podfence.dev/applied'],
  );

  // The CSI engineer's delivery: podfence's read-only CSI volume instead of the installer and its emptyDir.
  const csi = await sandboxed(appSpec(), appAnnotations());
  csi.spec!.initContainers = csi.spec!.initContainers!.filter((c) => c.name !== 'podfence-init');
  csi.spec!.volumes = csi.spec!.volumes!.map((v) =>
    v.name === 'podfence-init' ? { name: v.name, csi: { driver: 'podfence.dev', readOnly: true } } : v,
  );
  await core.createNamespacedPod({ namespace: bare, body: csi });

  // A plain pod, never mutated, is refused.
  const text = await refusal(bare, { metadata: { name: uniqueName('plain') }, spec: appSpec() });
  expect(text).toMatch(/ValidatingAdmissionPolicy .* denied request: podfence: pod was not sandboxed by podfence/);
});

test('audit profile: the webhook leaves containers unwrapped and the policy admits that only there', async () => {
  // In audit mode seccomp logs and there is no wrapper: the webhook and the policy agree on that pod.
  const spec = { containers: [{ name: 'a', image: 'x', command: ['/a'] }] };
  const created = await core.createNamespacedPod({
    namespace: auditNs,
    body: { metadata: { name: uniqueName('audit') }, spec },
  });
  expect(created.spec!.containers[0]!.command).toEqual(['/a']);
  expect(created.metadata!.annotations!['podfence.dev/landlock-skipped']).toBe('a');
  // Copied into a namespace whose profile enforces Landlock, the same pod is refused.
  const copy: V1Pod = {
    metadata: { name: uniqueName('copy'), annotations: created.metadata!.annotations },
    spec: created.spec,
  };
  delete copy.spec!.nodeName;
  expect(await refusal(bare, copy)).toMatch(/podfence: pod was not sandboxed by podfence for SandboxProfile/);
});

type Tamper = [string, (p: V1Pod) => void, RegExp];
const tampers: Tamper[] = [
  [
    'its own ConfigMap as /podfence',
    (p) => {
      p.spec!.volumes = p.spec!.volumes!.map((v) =>
        v.name === 'podfence-init' ? { name: 'podfence-init', configMap: { name: 'mine' } } : v,
      );
    },
    /wrapper's volume podfence-init must be podfence's own/,
  ],
  [
    'its own emptyDir under another name at /podfence',
    (p) => {
      p.spec!.volumes!.push({ name: 'tools', emptyDir: {} });
      for (const c of allContainers(p)) {
        for (const m of c.volumeMounts ?? [])
          if (m.name === 'podfence-init' && c.name !== 'podfence-init') m.name = 'tools';
      }
    },
    /over \/podfence|do not run behind/,
  ],
  [
    "another profile's seccomp file",
    (p) => {
      p.spec!.securityContext!.seccompProfile!.localhostProfile = looseFile;
      for (const c of allContainers(p)) c.securityContext!.seccompProfile!.localhostProfile = looseFile;
    },
    /compiled seccomp file of their SandboxProfile/,
  ],
  [
    'a container without seccomp',
    (p) => {
      app(p).securityContext!.seccompProfile = { type: 'Unconfined' };
    },
    /compiled seccomp file/,
  ],
  [
    'runAsGroup 0',
    (p) => {
      p.spec!.securityContext!.runAsGroup = 0;
      for (const c of allContainers(p)) c.securityContext!.runAsGroup = 0;
    },
    /user and group/,
  ],
  [
    'supplementalGroups [0]',
    (p) => {
      p.spec!.securityContext!.supplementalGroups = [0];
    },
    /group 0/,
  ],
  [
    'fsGroup 0',
    (p) => {
      p.spec!.securityContext!.fsGroup = 0;
    },
    /group 0/,
  ],
  [
    'another user',
    (p) => {
      app(p).securityContext!.runAsUser = 1000;
    },
    /user and group/,
  ],
  [
    'hostNetwork',
    (p) => {
      p.spec!.hostNetwork = true;
      delete p.spec!.securityContext!.sysctls; // the apiserver refuses net sysctls with hostNetwork
    },
    /allowHost/,
  ],
  ['hostPID', (p) => void (p.spec!.hostPID = true), /allowHost/],
  ['hostIPC', (p) => void (p.spec!.hostIPC = true), /allowHost/],
  [
    'a hostPath volume',
    (p) => {
      p.spec!.volumes!.push({ name: 'root', hostPath: { path: '/' } });
    },
    /allowHost/,
  ],
  [
    'an extra capability',
    (p) => {
      app(p).securityContext!.capabilities!.add = ['NET_BIND_SERVICE', 'SYS_ADMIN'];
    },
    /capabilities beyond/,
  ],
  [
    'capabilities not dropped',
    (p) => {
      app(p).securityContext!.capabilities = { add: ['NET_BIND_SERVICE'] };
    },
    /capabilities/,
  ],
  [
    'privilege escalation',
    (p) => {
      app(p).securityContext!.allowPrivilegeEscalation = true;
    },
    /allowPrivilegeEscalation/,
  ],
  [
    'wrapper in best-effort mode',
    (p) => setOptions(app(p), (o) => o.map((t) => (t === 'enforce' ? 'best-effort' : t))),
    /do not run behind the Landlock wrapper/,
  ],
  [
    'wrapper with an extra --rw /',
    (p) => setOptions(app(p), (o) => [...o, '--rw', '/']),
    /do not run behind the Landlock wrapper/,
  ],
  [
    'wrapper with --rw=/ (the other syntax)',
    (p) => setOptions(app(p), (o) => [...o, '--rw=/']),
    /do not run behind the Landlock wrapper/,
  ],
  [
    "wrapper without one of the profile's rules",
    (p) =>
      setOptions(app(p), (o) => {
        const i = o.indexOf('--deny-tcp');
        return [...o.slice(0, i), ...o.slice(i + 1)];
      }),
    /do not run behind the Landlock wrapper/,
  ],
  [
    'wrapper without its --seccomp-log (the profile refusals would go unlogged)',
    (p) =>
      setOptions(app(p), (o) => {
        const i = o.indexOf('--seccomp-log');
        if (i < 0) throw new Error('the profile compiles to no --seccomp-log');
        return [...o.slice(0, i), ...o.slice(i + 2)];
      }),
    /do not run behind the Landlock wrapper/,
  ],
  [
    'wrapper with another --seccomp-log value',
    (p) => setOptions(app(p), (o) => o.map((t, i) => (o[i - 1] === '--seccomp-log' ? t.replace(/^1:/, '13:') : t))),
    /do not run behind the Landlock wrapper/,
  ],
  [
    'wrapper option values shifted',
    (p) => setOptions(app(p), (o) => ['--ro', ...o]),
    /do not run behind the Landlock wrapper/,
  ],
  [
    'no wrapper',
    (p) => {
      app(p).command = ['/bin/app'];
    },
    /do not run behind the Landlock wrapper/,
  ],
  [
    'no wrapper, declared skipped',
    (p) => {
      app(p).command = ['/bin/app'];
      p.metadata!.annotations!['podfence.dev/landlock-skipped'] = 'app';
    },
    /do not run behind the Landlock wrapper/,
  ],
  [
    'an exec liveness probe left unwrapped',
    (p) => {
      app(p).livenessProbe!.exec!.command = ['/bin/health'];
    },
    /exec probes or exec lifecycle hooks of container\(s\) app do not run behind/,
  ],
  [
    'a postStart exec hook left unwrapped',
    (p) => {
      app(p).lifecycle!.postStart!.exec!.command = ['/bin/warm', 'up'];
    },
    /exec probes or exec lifecycle hooks of container\(s\) app do not run behind/,
  ],
  [
    'a preStop exec hook behind a best-effort wrapper',
    (p) => {
      const e = app(p).lifecycle!.preStop!.exec!;
      e.command = e.command!.map((t) => (t === 'enforce' ? 'best-effort' : t));
    },
    /exec probes or exec lifecycle hooks of container\(s\) app do not run behind/,
  ],
  [
    "an exec startup probe behind another container's wrapper options",
    (p) => {
      const cmd = app(p).command!;
      job(p).startupProbe!.exec!.command = [...cmd.slice(0, cmd.indexOf('--') + 1), '/bin/started'];
    },
    /exec probes or exec lifecycle hooks of container\(s\) job do not run behind/,
  ],
  [
    "the image's own /podfence/podfence-init (podfence's volume not mounted)",
    (p) => {
      app(p).volumeMounts = app(p).volumeMounts!.filter((m) => m.name !== 'podfence-init');
    },
    /do not run behind the Landlock wrapper/,
  ],
  [
    "podfence's volume mounted read-write",
    (p) => {
      app(p).volumeMounts = app(p).volumeMounts!.map((m) =>
        m.name === 'podfence-init' ? { ...m, readOnly: false } : m,
      );
    },
    /mount podfence's volume other than read-only/,
  ],
  [
    'a volume over //podfence',
    (p) => {
      app(p).volumeMounts!.push({ name: 'data', mountPath: '//podfence/podfence-init', subPath: 'x' });
    },
    /mount podfence's volume other than read-only/,
  ],
  [
    'another installer image',
    (p) => {
      installer(p).image = 'r.invalid/evil:1';
    },
    /wrapper's volume podfence-init must be podfence's own/,
  ],
  [
    'installer with LD_PRELOAD',
    (p) => {
      installer(p).env = [{ name: 'LD_PRELOAD', value: '/podfence/x.so' }];
    },
    /wrapper's volume podfence-init must be podfence's own/,
  ],
  [
    "a volume over the installer's own binary",
    (p) => {
      installer(p).volumeMounts!.push({ name: 'data', mountPath: '/podfence-init', subPath: 'evil' });
    },
    /wrapper's volume podfence-init must be podfence's own/,
  ],
  [
    'a CSI volume of another driver',
    (p) => {
      p.spec!.initContainers = p.spec!.initContainers!.filter((c) => c.name !== 'podfence-init');
      p.spec!.volumes = p.spec!.volumes!.map((v) =>
        v.name === 'podfence-init' ? { name: v.name, csi: { driver: 'evil.example', readOnly: true } } : v,
      );
    },
    /wrapper's volume podfence-init must be podfence's own/,
  ],
  [
    "podfence's CSI volume writable",
    (p) => {
      p.spec!.initContainers = p.spec!.initContainers!.filter((c) => c.name !== 'podfence-init');
      p.spec!.volumes = p.spec!.volumes!.map((v) =>
        v.name === 'podfence-init' ? { name: v.name, csi: { driver: 'podfence.dev' } } : v,
      );
    },
    /wrapper's volume podfence-init must be podfence's own/,
  ],
  [
    'a profile the namespace does not allow',
    (p) => {
      p.metadata!.annotations![`podfence.dev/profile.app`] = loose;
      app(p).securityContext!.seccompProfile!.localhostProfile = looseFile;
    },
    /ask for a SandboxProfile the namespace does not allow/,
  ],
  [
    'an applied annotation of another version',
    (p) => {
      p.metadata!.annotations!['podfence.dev/applied'] = `${web}@0000000000000000`;
    },
    /was not sandboxed by podfence/,
  ],
];

test.each(tampers)('a hand-written pod that looks mutated is refused: %s', async (_what, tamper, message) => {
  const pod = await sandboxed(appSpec(), appAnnotations());
  tamper(pod);
  const text = await refusal(bare, pod);
  expect(text).toMatch(/ValidatingAdmissionPolicy .* denied request: podfence: /);
  expect(text).toMatch(message);
});

async function admittedPod(): Promise<V1Pod> {
  const pod = await sandboxed(appSpec(), appAnnotations());
  return core.createNamespacedPod({ namespace: bare, body: pod });
}

async function updateRefusal(change: () => Promise<unknown>): Promise<string> {
  const err = await change().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!err) throw new Error('the update was admitted');
  return errorText(err);
}

const jsonPatch = (name: string, body: object[]) => core.patchNamespacedPod({ name, namespace: bare, body });

test("UPDATE: podfence's installer image and annotations cannot change; other updates can", async () => {
  const pod = await admittedPod();
  const name = pod.metadata!.name!;
  const idx = pod.spec!.initContainers!.findIndex((c) => c.name === 'podfence-init');
  expect(
    await updateRefusal(() =>
      jsonPatch(name, [{ op: 'replace', path: `/spec/initContainers/${idx}/image`, value: 'r.invalid/evil:1' }]),
    ),
  ).toMatch(/installer init container of a sandboxed pod cannot change/);
  for (const patch of [
    { op: 'remove', path: '/metadata/annotations/podfence.dev~1applied' },
    { op: 'replace', path: '/metadata/annotations/podfence.dev~1profile.job', value: web },
    { op: 'add', path: '/metadata/annotations/podfence.dev~1landlock-skipped', value: 'app' },
  ]) {
    expect(await updateRefusal(() => jsonPatch(name, [patch]))).toMatch(/podfence.dev\/ annotations .* cannot change/);
  }
  // The tenant's own images, labels and annotations stay theirs.
  const appIdx = pod.spec!.containers.findIndex((c) => c.name === 'app');
  await jsonPatch(name, [
    { op: 'replace', path: `/spec/containers/${appIdx}/image`, value: 'r.invalid/app:2' },
    { op: 'add', path: '/metadata/labels', value: { tier: 'web' } },
    { op: 'add', path: '/metadata/annotations/team', value: 'a' },
  ]);
});

test('ephemeral containers: sandboxed ones are admitted; a writable wrapper volume, privilege or another seccomp file are not', async () => {
  const pod = await admittedPod();
  const name = pod.metadata!.name!;
  const sc = structuredClone(app(pod).securityContext!);
  // Read-modify-replace, retried on 409 Conflict as a controller would (the kubelet-less cluster's own controllers
  // write the pod too): a refusal by the policy is not a conflict and comes straight through.
  const add = (eph: V1EphemeralContainer) =>
    retryOnConflict(async () => {
      const current = await core.readNamespacedPod({ name, namespace: bare });
      current.spec!.ephemeralContainers = [...(current.spec!.ephemeralContainers ?? []), eph];
      return core.replaceNamespacedPodEphemeralcontainers({ name, namespace: bare, body: current });
    });
  const debug = (n: string, extra: Partial<V1EphemeralContainer> = {}): V1EphemeralContainer => ({
    name: n,
    image: 'r.invalid/debug:1',
    command: ['sh'],
    securityContext: structuredClone(sc),
    ...extra,
  });
  // `kubectl debug` as the webhook would have sandboxed it, even reading the wrapper: admitted.
  await add(debug('dbg-ok', { volumeMounts: [{ name: 'podfence-init', mountPath: '/podfence', readOnly: true }] }));

  expect(
    await updateRefusal(() =>
      add(debug('dbg-rw', { volumeMounts: [{ name: 'podfence-init', mountPath: '/podfence' }] })),
    ),
  ).toMatch(/dbg-rw mount podfence's volume other than read-only/);
  expect(
    await updateRefusal(() => add(debug('dbg-over', { volumeMounts: [{ name: 'data', mountPath: '/podfence' }] }))),
  ).toMatch(/dbg-over mount podfence's volume other than read-only at \/podfence, or another volume over/);
  expect(
    await updateRefusal(() =>
      add(
        debug('dbg-priv', {
          securityContext: { ...structuredClone(sc), privileged: true, allowPrivilegeEscalation: true },
        }),
      ),
    ),
  ).toMatch(/dbg-priv lack allowPrivilegeEscalation/);
  expect(
    await updateRefusal(() =>
      add(
        debug('dbg-seccomp', {
          securityContext: {
            ...structuredClone(sc),
            seccompProfile: { type: 'Localhost', localhostProfile: looseFile },
          },
        }),
      ),
    ),
  ).toMatch(/compiled seccomp file/);
});
