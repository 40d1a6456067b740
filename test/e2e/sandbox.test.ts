// End to end on a real node: kubelet, containerd and runc run the pods; podfence's controller, webhook and node
// agent run as host processes against the cluster. Every claim is checked from inside a running pod by the probe
// (test/e2e/probe.c), and each has a control: the very same pod spec in a namespace without the opt-in label,
// which must be able to do what the sandboxed pod cannot, so no assertion passes for a reason other than podfence.
// Needs root. PODFENCE_E2E=0 skips the suite (say so when reporting).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { APPLIED_ANNOTATION, INIT_BINARY, PROFILE_LABEL } from '../../src/common/constants.js';
import { applyManifestFiles } from '../cluster/manifests.js';
import { waitFor } from '../cluster/net.js';
import { startProcess, type ManagedProcess } from '../cluster/processes.js';
import { buildImages } from '../node/node.js';
import { createNamespace, createPod, probePod, waitForPodIP, waitForPodLog } from '../node/probe-pods.js';
import { startStack, type Stack } from '../node/stack.js';
import { ProbeResults, profileReady as ready, stackDiagnostics } from './probe-results.js';
import { startRegistry, type LoopbackRegistry } from './registry.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const enabled = process.getuid?.() === 0 && process.env.PODFENCE_E2E !== '0';
const d = enabled ? describe : describe.skip;

const NS = {
  control: 'e2e-control',
  sandboxed: 'e2e-sandboxed',
  nocap: 'e2e-nocap',
  audit: 'e2e-audit',
};
const PROFILES = { sandboxed: 'e2e-web', nocap: 'e2e-nocap', audit: 'e2e-audit' };
/** CapBnd with only CAP_NET_BIND_SERVICE (bit 10). */
const NET_BIND_SERVICE_ONLY = '0000000000000400';
const NO_CAPS = '0000000000000000';

/** The probe's checks; the server pod listens on 8080 (connect allowed) and 9090 (not allowed). */
const checksFor = (serverIP: string) => [
  'id',
  'status',
  'unshare',
  'mount',
  'uname',
  'read:/data/secret.txt',
  'read:/etc/motd',
  'write:/srv/ro/probe',
  'write:/tmp/probe',
  'exec:/opt/tool/busybox',
  'exec:/bin/busybox',
  `connect:${serverIP}:8080`,
  `connect:${serverIP}:9090`,
  'bind:9090',
  'bind:8080',
  'bind:80',
];

let stack: Stack;
let registry: LoopbackRegistry;
let workDir: string;
let kc: KubeConfig;
let serverIP = '';
let auditWasEnabled: string | undefined;
let auditStart = 0;
let auditReader: ManagedProcess | undefined;
/** Checks by pod, then by check name. */
const probes = new ProbeResults();
const { logs } = probes;
const admitted: Record<string, V1Pod> = {};

const check = (pod: string, name: string) => probes.check(pod, name);
const connectName = (port: number) => `connect:${serverIP}:${port}`;

/** Runs a pod to completion and records its checks. */
async function probe(key: string, namespace: string, pod: V1Pod): Promise<void> {
  admitted[key] = await createPod(kc, pod);
  probes.record(key, await waitForPodLog(kc, namespace, pod.metadata!.name!, 180_000));
}

const profileReady = (name: string) => ready(kc, name);

/** The auditctl status line `enabled N`, or undefined when auditctl is unavailable. */
async function auditEnabled(): Promise<string | undefined> {
  try {
    const { stdout } = await run('auditctl', ['-s']);
    return /^enabled (\d)/m.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Starts test/e2e/auditread.c (built here with gcc): it joins the audit netlink multicast group and writes every
 * audit record to its log. The kernel log is no good for this: kauditd's printk is rate-limited, and records are
 * dropped from it when other audit traffic is high.
 */
async function startAuditReader(dir: string): Promise<ManagedProcess> {
  const bin = join(dir, 'auditread');
  await run('gcc', ['-O2', '-Wall', '-o', bin, join(here, 'auditread.c')]);
  const proc = startProcess({ name: 'auditread', command: bin, args: [], dir, tiedToParent: true });
  await waitFor(
    async () => readFileSync(proc.logPath, 'utf8').includes('auditread: listening'),
    10_000,
    `auditread listens (log ${proc.logPath})`,
  );
  return proc;
}

const diagnostics = () => stackDiagnostics(stack);

d('podfence on a real node (kubelet + containerd + runc)', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    const say = (m: string) => process.stderr.write(`[e2e] ${m} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    workDir = mkdtempSync(join(tmpdir(), 'podfence-e2e-'));

    // The probe image, also pushed to a loopback registry for the pod that names no command.
    const archives = Object.fromEntries(await buildImages());
    registry = await startRegistry(join(workDir, 'registry'));
    const registryImage = await registry.push(archives['localhost/podfence/probe']!, 'podfence/probe');
    say(`registry on ${registry.hostPort} holds ${registryImage}`);

    stack = await startStack({
      insecureRegistries: [registry.hostPort],
      log: (m) => process.stderr.write(`[e2e] ${m}\n`),
    });
    kc = stack.cluster.kubeConfig;

    await applyManifestFiles(kc, [join(here, 'profiles.yaml')]);
    try {
      await waitFor(
        async () => (await Promise.all(Object.values(PROFILES).map(profileReady))).every(Boolean),
        90_000,
        'the e2e profiles are Ready (compiled and installed on the node)',
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${diagnostics()}`);
    }
    say('profiles Ready');

    await Promise.all([
      createNamespace(kc, NS.control),
      createNamespace(kc, NS.sandboxed, { [PROFILE_LABEL]: PROFILES.sandboxed }),
      createNamespace(kc, NS.nocap, { [PROFILE_LABEL]: PROFILES.nocap }),
      createNamespace(kc, NS.audit, { [PROFILE_LABEL]: PROFILES.audit }),
    ]);
    await createPod(kc, probePod({ namespace: NS.control, name: 'server', checks: ['serve:8080,9090'] }));
    serverIP = await waitForPodIP(kc, NS.control, 'server');
    say(`server pod at ${serverIP}`);

    // Seccomp's log action produces audit records only while auditing is on.
    auditWasEnabled = await auditEnabled();
    if (auditWasEnabled === '0') await run('auditctl', ['-e', '1']);
    auditReader = await startAuditReader(workDir);
    auditStart = Date.now() / 1000 - 1;

    const checks = checksFor(serverIP);
    try {
      await Promise.all([
        probe('control', NS.control, probePod({ namespace: NS.control, name: 'probe', checks })),
        probe('sandboxed', NS.sandboxed, probePod({ namespace: NS.sandboxed, name: 'probe', checks })),
        probe('nocap', NS.nocap, probePod({ namespace: NS.nocap, name: 'probe', checks })),
        probe(
          'audit',
          NS.audit,
          probePod({ namespace: NS.audit, name: 'probe', checks: ['id', 'status', 'unshare', 'mount'] }),
        ),
        // No `command`: the webhook must take the entrypoint from the image in the registry.
        probe(
          'entrypoint',
          NS.sandboxed,
          probePod({
            namespace: NS.sandboxed,
            name: 'entrypoint',
            image: registryImage,
            imagePullPolicy: 'IfNotPresent',
          }),
        ),
        probe(
          'entrypoint-control',
          NS.control,
          probePod({
            namespace: NS.control,
            name: 'entrypoint',
            image: registryImage,
            imagePullPolicy: 'IfNotPresent',
          }),
        ),
      ]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${diagnostics()}`);
    }
    say('all probe pods finished');
  }, 900_000);

  afterAll(async () => {
    if (auditWasEnabled === '0') await run('auditctl', ['-e', '0']).catch(() => undefined);
    await auditReader?.stop();
    await stack?.stop();
    await registry?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }, 180_000);

  test('the pods ran the probe to the end', () => {
    for (const key of ['control', 'sandboxed', 'nocap', 'audit', 'entrypoint', 'entrypoint-control']) {
      expect({ key, done: logs[key]?.includes('PROBE done') }).toEqual({ key, done: true });
    }
  });

  test('the sandboxed pod was rewritten by the webhook; the control pod was not', () => {
    const sb = admitted.sandboxed!;
    expect(sb.metadata?.annotations?.[APPLIED_ANNOTATION]).toMatch(new RegExp(`^${PROFILES.sandboxed}@`));
    expect(sb.spec?.containers[0]?.command?.[0]).toBe(INIT_BINARY);
    expect(
      sb.spec?.securityContext?.seccompProfile?.type ?? sb.spec?.containers[0]?.securityContext?.seccompProfile?.type,
    ).toBe('Localhost');
    const ctl = admitted.control!;
    expect(ctl.metadata?.annotations?.[APPLIED_ANNOTATION]).toBeUndefined();
    expect(ctl.spec?.containers[0]?.command?.[0]).toBe('/bin/probe');
  });

  test("the node agent wrote each profile's seccomp file into the real kubelet's seccomp directory", async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    for (const name of Object.values(PROFILES)) {
      const p = (await api.getClusterCustomObject({
        group: 'podfence.dev',
        version: 'v1alpha1',
        plural: 'sandboxprofiles',
        name,
      })) as { status?: { seccompProfilePath?: string } };
      const rel = p.status?.seccompProfilePath ?? '';
      expect(rel).toMatch(new RegExp(`^podfence/${name}-[0-9a-f]{16}\\.json$`));
      expect(existsSync(join(stack.node.paths.seccompDir, rel))).toBe(true);
    }
    // And the sandboxed pod references that very file.
    const sb = admitted.sandboxed!;
    const localhost =
      sb.spec?.securityContext?.seccompProfile?.localhostProfile ??
      sb.spec?.containers[0]?.securityContext?.seccompProfile?.localhostProfile;
    expect(localhost).toMatch(new RegExp(`^podfence/${PROFILES.sandboxed}-`));
  });

  test('identity: uid/gid 65534, NoNewPrivs 1, capabilities only the kept one, seccomp filter mode (control: root, unconfined)', () => {
    expect(check('sandboxed', 'id').fields).toMatchObject({ uid: '65534', gid: '65534', euid: '65534', egid: '65534' });
    expect(check('sandboxed', 'status').fields).toMatchObject({
      nonewprivs: '1',
      seccomp: '2',
      capeff: NO_CAPS,
      capprm: NO_CAPS,
      capbnd: NET_BIND_SERVICE_ONLY,
      capamb: NO_CAPS,
    });
    expect(check('nocap', 'status').fields).toMatchObject({ capbnd: NO_CAPS, capeff: NO_CAPS });
    expect(check('control', 'id').fields).toMatchObject({ uid: '0', gid: '0' });
    const ctl = check('control', 'status').fields;
    expect(ctl).toMatchObject({ nonewprivs: '0', seccomp: '0' });
    expect(ctl.capeff).not.toBe(NO_CAPS);
  });

  test('seccomp: denied syscalls fail with EPERM, an allowed one works (control: unshare works, mount gets past seccomp)', () => {
    expect(check('sandboxed', 'unshare')).toMatchObject({ result: 'denied', errno: 'EPERM' });
    expect(check('control', 'unshare')).toMatchObject({ result: 'ok' });
    // mount(2) on a missing path: the kernel says ENOENT when the call is let through, seccomp says EPERM.
    expect(check('sandboxed', 'mount')).toMatchObject({ result: 'denied', errno: 'EPERM' });
    expect(check('control', 'mount')).toMatchObject({ errno: 'ENOENT' });
    expect(check('sandboxed', 'uname')).toMatchObject({ result: 'ok' });
    expect(check('control', 'uname')).toMatchObject({ result: 'ok' });
  });

  test('Landlock: reading outside the allowed paths is EACCES; reading under a read-only path works', () => {
    expect(check('sandboxed', 'read:/data/secret.txt')).toMatchObject({ result: 'denied', errno: 'EACCES' });
    expect(check('control', 'read:/data/secret.txt')).toMatchObject({ result: 'ok' });
    expect(check('sandboxed', 'read:/etc/motd')).toMatchObject({ result: 'ok' });
  });

  test('Landlock: writing under a read-only path is denied, under a read-write path it works', () => {
    expect(check('sandboxed', 'write:/srv/ro/probe')).toMatchObject({ result: 'denied', errno: 'EACCES' });
    expect(check('control', 'write:/srv/ro/probe')).toMatchObject({ result: 'ok' });
    expect(check('sandboxed', 'write:/tmp/probe')).toMatchObject({ result: 'ok' });
    expect(check('control', 'write:/tmp/probe')).toMatchObject({ result: 'ok' });
  });

  test('Landlock: executing a binary outside the execute paths is denied; inside them it works', () => {
    expect(check('sandboxed', 'exec:/opt/tool/busybox')).toMatchObject({ result: 'denied', errno: 'EACCES' });
    expect(check('control', 'exec:/opt/tool/busybox')).toMatchObject({ result: 'ok' });
    expect(check('sandboxed', 'exec:/bin/busybox')).toMatchObject({ result: 'ok' });
  });

  test('Landlock TCP: connect to an allowed port (a server in another pod) works, to another port is denied', () => {
    expect(check('sandboxed', connectName(8080))).toMatchObject({ result: 'ok' });
    expect(check('sandboxed', connectName(9090))).toMatchObject({ result: 'denied', errno: 'EACCES' });
    expect(check('control', connectName(8080))).toMatchObject({ result: 'ok' });
    expect(check('control', connectName(9090))).toMatchObject({ result: 'ok' });
  });

  test('Landlock TCP: binding a port not allowed is denied, an allowed one works', () => {
    expect(check('sandboxed', 'bind:9090')).toMatchObject({ result: 'denied', errno: 'EACCES' });
    expect(check('control', 'bind:9090')).toMatchObject({ result: 'ok' });
    expect(check('sandboxed', 'bind:8080')).toMatchObject({ result: 'ok' });
  });

  test('port 80: binding works only when NET_BIND_SERVICE is kept', () => {
    const kept = check('sandboxed', 'bind:80');
    const caps = check('sandboxed', 'status').fields;
    if (kept.result !== 'ok' && caps.capeff === NO_CAPS && caps.capbnd === NET_BIND_SERVICE_ONLY) {
      // Say why, so the failure points at the fix rather than at the node.
      throw new Error(
        `bind:80 in the sandboxed pod: ${kept.line}\n` +
          'NET_BIND_SERVICE is kept only in the bounding set (CapBnd), not in CapEff: for a non-root user the ' +
          "runtime's capabilities are dropped at execve (containerd 1.6 sets no ambient capabilities), so the kept " +
          'capability cannot take effect. Checked by hand on this node: the pod sysctl ' +
          'net.ipv4.ip_unprivileged_port_start=0 (a safe, per-pod-netns sysctl) makes bind:80 work while Landlock ' +
          'still refuses ports outside the profile (bind:9090 stays EACCES).',
      );
    }
    expect(kept).toMatchObject({ result: 'ok' });
    expect(check('nocap', 'bind:80')).toMatchObject({ result: 'denied', errno: 'EACCES' });
    expect(check('control', 'bind:80')).toMatchObject({ result: 'ok' });
  });

  test('an image with no command in the pod: the entrypoint comes from the registry, is wrapped, and runs', () => {
    const pod = admitted.entrypoint!;
    expect(pod.spec?.containers[0]?.command?.[0]).toBe(INIT_BINARY);
    expect(pod.spec?.containers[0]?.command).toContain('/bin/probe');
    expect(check('entrypoint', 'id').fields).toMatchObject({ uid: '65534' });
    // The image's own cmd ran, under Landlock.
    expect(check('entrypoint', 'read:/data/secret.txt')).toMatchObject({ result: 'denied', errno: 'EACCES' });
    expect(check('entrypoint', 'read:/etc/motd')).toMatchObject({ result: 'ok' });
    expect(check('entrypoint-control', 'read:/data/secret.txt')).toMatchObject({ result: 'ok' });
  });

  test('audit mode: the denied syscall succeeds and the kernel logs it', async () => {
    expect(check('audit', 'status').fields).toMatchObject({ seccomp: '2', nonewprivs: '1' });
    expect(check('audit', 'unshare')).toMatchObject({ result: 'ok' });
    expect(check('audit', 'mount')).toMatchObject({ errno: 'ENOENT' });
    if (auditWasEnabled === undefined) {
      throw new Error(
        'auditctl is not available: cannot turn auditing on to see seccomp log records (apt-get install auditd)',
      );
    }
    // type=1326 (SECCOMP) ... comm="probe" ... syscall=272 (unshare) ... code=0x7ffc0000 (SECCOMP_RET_LOG)
    let found: string[] = [];
    await waitFor(
      async () => {
        found = readFileSync(auditReader!.logPath, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('type=1326 '))
          .filter((l) => {
            const ts = Number(/audit\((\d+\.\d+):/.exec(l)?.[1] ?? 0);
            return ts >= auditStart && /comm="probe"/.test(l) && /syscall=272\b/.test(l) && /code=0x7ffc0000/.test(l);
          });
        return found.length > 0;
      },
      15_000,
      'a seccomp audit record (type 1326, unshare, SECCOMP_RET_LOG, uid 65534) from the audit-mode pod',
    );
    expect(found.length).toBeGreaterThan(0);
  });
});
