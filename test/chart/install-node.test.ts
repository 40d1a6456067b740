// The chart installed for real: a control plane with controllers, a real node (kubelet + containerd + runc,
// test/node), the operator and helper images built from their Dockerfiles (scripts/build-images.sh) and pulled by
// the node from a registry on loopback, `helm install --wait` (the helpers are test/node/stack-chart.ts, shared with the demo), and then, from inside pods, that the chart-installed podfence sandboxes an
// opted-in namespace (and only it); `helm upgrade` with a changed value keeps it working; `helm uninstall` leaves
// only what docs/install.md says stays.
// Needs root (the node). Uses its own node layout (directories, bridge, pod CIDR, ports) so it never touches the
// e2e suite's node. PODFENCE_CHART_NODE=0 skips it (say so when reporting).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type TestCluster } from '../cluster/harness.js';
import { startNode, type TestNode } from '../node/node.js';
import { DEFAULT_LAYOUT, type NodeLayout } from '../node/config.js';
import {
  buildShippedImages,
  bypassProxyFor,
  chartClusterOptions,
  chartValues,
  startChartRegistry,
  waitPodfencePodsReady,
  type ChartImages,
} from '../node/stack-chart.js';
import type { LoopbackRegistry } from '../e2e/registry.js';
import { CHART_DIR, helm, type RunResult } from './helm.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const LAYOUT: NodeLayout = {
  ...DEFAULT_LAYOUT,
  dataDir: '/var/lib/podfence-chart-e2e',
  runDir: '/run/podfence-chart-e2e',
  nodeName: 'podfence-chart-node',
  bridge: 'pfchart0',
  podCIDR: '10.244.78.0/24',
  cgroupRoot: '/podfence-chart-e2e',
  kubeletPort: 12250,
  kubeletHealthzPort: 12248,
};
// cleanup.sh reads the bridge and cgroup root from the environment (node.ts passes the directories).
process.env.PODFENCE_NODE_BRIDGE = LAYOUT.bridge;
process.env.PODFENCE_NODE_CGROUP_ROOT = LAYOUT.cgroupRoot.replace(/^\//, '');
bypassProxyFor(LAYOUT);

const enabled = process.env.PODFENCE_CHART_NODE !== '0' && process.getuid?.() === 0;
const d = enabled ? describe : describe.skip;

const NS = 'podfence-system';
const REL = 'podfence';
let cluster: TestCluster;
let node: TestNode;
let registry: LoopbackRegistry | undefined;
let images: ChartImages;

function kubectl(args: string[], input?: string): RunResult {
  try {
    const stdout = execFileSync(join(cluster.binDir, 'kubectl'), ['--kubeconfig', cluster.kubeconfigPath, ...args], {
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    });
    return { status: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { status: e.status ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}
function kubectlOk(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const getJson = <T = Any>(args: string[]): T => JSON.parse(kubectlOk([...args, '-o', 'json'])) as T;
function helmOk(args: string[]): string {
  const r = helm([...args, '--kubeconfig', cluster.kubeconfigPath]);
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} failed:\n${r.stderr}\n${diagnostics()}`);
  return r.stdout;
}
function diagnostics(): string {
  const pods = kubectl(['get', 'pods', '-A', '-o', 'wide']).stdout;
  const events = kubectl(['get', 'events', '-A', '--sort-by=.lastTimestamp']).stdout.split('\n').slice(-30).join('\n');
  const logs = ['controller', 'webhook', 'node-agent']
    .map(
      (c) =>
        `--- ${c}\n${kubectl(['logs', '-n', NS, '-l', `app.kubernetes.io/component=${c}`, '--tail=20', '--all-containers']).stdout}`,
    )
    .join('\n');
  return `${pods}\n${events}\n${logs}`;
}
async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${diagnostics()}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Runs the e2e probe in a pod of `namespace` and returns its CHECK lines by name. */
async function probe(namespace: string, name: string, checks: string[]): Promise<Record<string, string>> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'probe',
          image: 'localhost/podfence/probe:dev',
          imagePullPolicy: 'Never',
          command: ['/bin/probe', ...checks],
        },
      ],
    },
  };
  kubectlOk(['create', '-f', '-'], JSON.stringify(pod));
  const phase = await waitFor(`pod ${namespace}/${name} to finish`, () => {
    const p = getJson(['get', 'pod', name, '-n', namespace]).status?.phase as string | undefined;
    return p === 'Succeeded' || p === 'Failed' ? p : undefined;
  });
  const out = kubectl(['logs', name, '-n', namespace, '-c', 'probe']).stdout;
  if (phase !== 'Succeeded' && !out.includes('CHECK ')) {
    const status = JSON.stringify(getJson(['get', 'pod', name, '-n', namespace]).status, null, 1);
    const init = kubectl(['logs', name, '-n', namespace, '-c', 'podfence-init']).stdout;
    throw new Error(`pod ${namespace}/${name} ${phase}:\n${status}\ninit container log:\n${init}\nprobe log:\n${out}`);
  }
  return Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.startsWith('CHECK '))
      .map((l) => [/name=(\S+)/.exec(l)![1]!, l]),
  );
}

d('chart installed on a real node', () => {
  beforeAll(async () => {
    // The images users get, from the Dockerfiles (a cold build takes minutes; cached while unchanged).
    const shipped = buildShippedImages();
    shipped.catch(() => undefined); // awaited below
    cluster = await startCluster({ withControllers: true, ...chartClusterOptions() });
    const chart = await startChartRegistry(join(cluster.dir, 'registry'), await shipped);
    registry = chart.registry;
    images = chart.images;
    node = await startNode(cluster, { layout: LAYOUT, insecureRegistries: [images.registry] });
    const local = (await node.ctr(['images', 'ls', '-q'])).split('\n');
    expect(local).toContain('localhost/podfence/probe:dev'); // a test fixture, imported
    // The shipped images are not on the node yet: the kubelet pulls them through the registry.
    expect(local.filter((i) => i.startsWith(images.registry))).toEqual([]);
  }, 1_800_000);

  afterAll(async () => {
    await node?.stop();
    await registry?.stop();
    await cluster?.stop();
  }, 120_000);

  /** The values this machine needs: the registry's images, the node's kubelet dir, the apiserver's address (no kube-proxy). */
  const localValues = () => chartValues(node, cluster.apiserverUrl, images);

  /** `helm upgrade --wait` of the release with this machine's values and `--set <values>`. */
  const helmUpgrade = (values: string) =>
    helmOk(['upgrade', REL, CHART_DIR, '-n', NS, '--wait', '--timeout', '5m', ...localValues(), '--set', values]);

  // The chart's default helperDelivery is csi: the agent runs as root (it bind-mounts the wrapper for pods).
  const agentUid = 0;

  test('helm install --wait: every podfence pod runs and is ready', async () => {
    helmOk(['install', REL, CHART_DIR, '-n', NS, '--create-namespace', '--wait', '--timeout', '5m', ...localValues()]);
    // helm --wait counts a DaemonSet ready within its maxUnavailable (1 of 1 here): wait for the agent too.
    const ready = await waitPodfencePodsReady(cluster.kubeConfig, NS).catch((err: Error) => {
      throw new Error(`${err.message}\n${diagnostics()}`);
    });
    expect(ready.sort()).toEqual([
      ['controller', true],
      ['controller', true],
      ['node-agent', true],
      ['webhook', true],
      ['webhook', true],
    ]);
    // Every podfence container runs an image the node pulled from the registry (the Dockerfiles' builds).
    const pods = getJson<{ items: Any[] }>(['get', 'pods', '-n', NS]).items;
    const statuses = pods.flatMap((p) => [
      ...(p.status.initContainerStatuses ?? []),
      ...(p.status.containerStatuses ?? []),
    ]) as Any[];
    expect(statuses.length).toBeGreaterThanOrEqual(5);
    for (const c of statuses) {
      expect(c.image).toMatch(new RegExp(`^${images.registry}/podfence/(operator|init):${images.tag}$`));
      expect(c.imageID).toMatch(new RegExp(`^${images.registry}/podfence/(operator|init)@sha256:[0-9a-f]{64}$`));
    }
    const pulled = (await node.ctr(['images', 'ls', '-q'])).split('\n');
    expect(pulled).toEqual(
      expect.arrayContaining([
        `${images.registry}/podfence/operator:${images.tag}`,
        `${images.registry}/podfence/init:${images.tag}`,
      ]),
    );
  }, 400_000);

  test('the presets become Ready: the in-cluster controller and node agent installed them on the node', async () => {
    const profiles = await waitFor('presets Ready', () => {
      const items = getJson<{ items: Any[] }>(['get', 'sandboxprofiles']).items;
      const ready = items.filter((p) =>
        p.status?.conditions?.some((c: Any) => c.type === 'Ready' && c.status === 'True'),
      );
      return ready.length === 3 ? ready : undefined;
    });
    const dir = join(node.kubeletRoot, 'seccomp', 'podfence');
    for (const p of profiles) {
      const file = join(node.kubeletRoot, 'seccomp', p.status.seccompProfilePath);
      expect(existsSync(file)).toBe(true);
      // Written by the agent: root in csi mode (the default; it mounts), else the non-root agent the CHOWN-only
      // init step handed the directory to.
      expect(statSync(file).uid).toBe(agentUid);
    }
    expect(statSync(dir).uid).toBe(agentUid);
    expect(readdirSync(dir).length).toBeGreaterThanOrEqual(3);
  }, 180_000);

  test('a pod in an opted-in namespace runs sandboxed; the same pod elsewhere does not', async () => {
    kubectlOk(['create', 'namespace', 'shop']);
    kubectlOk(['label', 'namespace', 'shop', 'podfence.dev/profile=network-server']);
    kubectlOk(['create', 'namespace', 'plain']);
    const checks = ['id', 'status', 'unshare'];
    const boxed = await probe('shop', 'boxed', checks);
    const control = await probe('plain', 'control', checks);
    const pod = getJson(['get', 'pod', 'boxed', '-n', 'shop']);
    expect(pod.metadata.annotations['podfence.dev/applied']).toMatch(/^network-server@[0-9a-f]+$/);
    expect(boxed.id).toContain('uid=65534');
    expect(boxed.status).toMatch(/nonewprivs=1 seccomp=2 capeff=0000000000000000/);
    expect(boxed.unshare).toContain('result=denied');
    expect(control.id).toContain('uid=0');
    expect(control.status).toContain('seccomp=0');
    expect(control.unshare).toContain('result=ok');
  }, 300_000);

  test('helm upgrade with a changed value: the cluster follows and sandboxing keeps working', async () => {
    helmUpgrade('logLevel=debug,webhook.timeoutSeconds=15');
    expect(getJson(['get', 'mutatingwebhookconfiguration', 'podfence']).webhooks[0].timeoutSeconds).toBe(15);
    const env = getJson(['get', 'deployment', 'podfence-webhook', '-n', NS]).spec.template.spec.containers[0]
      .env as Any[];
    expect(env).toEqual(expect.arrayContaining([{ name: 'LOG_LEVEL', value: 'debug' }]));
    // New webhook pods serve with the certificate the old ones stored (the caBundle still matches).
    const again = await probe('shop', 'boxed-after-upgrade', ['id']);
    expect(again.id).toContain('uid=65534');
  }, 400_000);

  test('nodeAgent.denials.enabled: the chart-installed agent reports a sandboxed pod refusals as PodfenceDenied Events', async () => {
    // The e2e denials suite runs the agent as a host process; this is the DaemonSet the chart renders (host PID and
    // network, CAP_AUDIT_READ/CONTROL, the image's audit-tap). The agent switches the kernel's audit on
    // (enableAudit); the test puts it back as it found it.
    const auditWas = /^enabled (\d)/m.exec(execFileSync('auditctl', ['-s'], { encoding: 'utf8' }))?.[1];
    try {
      helmUpgrade('nodeAgent.denials.enabled=true,nodeAgent.denials.enableAudit=true');
      await waitPodfencePodsReady(cluster.kubeConfig, NS).catch((err: Error) => {
        throw new Error(`${err.message}\n${diagnostics()}`);
      });
      const agent = getJson<{ items: Any[] }>([
        'get',
        'pods',
        '-n',
        NS,
        '-l',
        'app.kubernetes.io/component=node-agent',
      ]).items;
      expect(agent.map((p) => [p.spec.hostPID, p.spec.hostNetwork])).toEqual([[true, true]]);

      // The agent ties a record to its pod through /proc/<pid>/cgroup, read when the record arrives; a process
      // reaped at once (the probe's forked checks) can be gone by then: Landlock falls back to the domain's
      // creator, seccomp has nothing to fall back to (docs/denials.md). So the denied syscall comes from a process
      // that stays findable: `busybox unshare` (refused by the profile's filter, logged through the wrapper's
      // --seccomp-log filter) started in the background of a shell that then execs sleep, which never reaps it.
      // /srv/ro is mode 0777 in the probe image: only Landlock refuses creating a file there.
      const script = (name: string) =>
        `/bin/probe write:/srv/ro/${name} unshare; echo DONE; /bin/busybox unshare -U /bin/true & ` +
        'exec /bin/busybox sleep 3600';
      const shellPod = (namespace: string, name: string) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'probe',
              image: 'localhost/podfence/probe:dev',
              imagePullPolicy: 'Never',
              command: ['/bin/busybox', 'sh', '-c', script(name)],
            },
          ],
        },
      });
      kubectlOk(['create', '-f', '-'], JSON.stringify(shellPod('shop', 'offender')));
      kubectlOk(['create', '-f', '-'], JSON.stringify(shellPod('plain', 'offender')));
      const logOf = (ns: string) => kubectl(['logs', 'offender', '-n', ns, '-c', 'probe']).stdout;
      await waitFor('both offenders done', () => logOf('shop').includes('DONE') && logOf('plain').includes('DONE'));
      expect(logOf('shop')).toMatch(/CHECK name=write:\/srv\/ro\/offender result=denied errno=EACCES/);
      expect(logOf('shop')).toMatch(/CHECK name=unshare result=denied errno=EPERM/);
      expect(logOf('plain')).toMatch(/CHECK name=write:\/srv\/ro\/offender result=ok/);
      expect(logOf('plain')).toMatch(/CHECK name=unshare result=ok/);

      const denied = (ns: string) =>
        getJson<{ items: Any[] }>(['get', 'events', '-n', ns, '--field-selector', 'reason=PodfenceDenied']).items;
      const wanted = ['landlock: create in /srv/ro denied', 'seccomp: syscall unshare denied'];
      const events = await waitFor('a PodfenceDenied Event per layer in shop', () => {
        const evs = wanted.map((w) => denied('shop').find((e) => e.message?.startsWith(w)));
        return evs.every(Boolean) ? (evs as Any[]) : undefined;
      });
      for (const [i, layer] of ['landlock', 'seccomp'].entries()) {
        expect(events[i]).toMatchObject({ type: 'Warning', involvedObject: { kind: 'Pod', name: 'offender' } });
        expect(events[i]!.metadata.annotations).toMatchObject({
          'podfence.dev/denial-layer': layer,
          'podfence.dev/denial-profile': 'network-server',
        });
      }
      // The unsandboxed control's write went through, so it has nothing to report.
      expect(denied('plain')).toEqual([]);
    } finally {
      kubectl(['delete', 'pod', 'offender', '-n', 'plain', '--wait=false']);
      if (auditWas === '0') execFileSync('auditctl', ['-e', '0']);
    }
  }, 600_000);

  test('helm uninstall leaves only what docs/install.md says stays', async () => {
    // docs/install.md: sandboxed pods go first; the chart's pre-delete hook then deletes the presets while the
    // controller still runs to release their in-use finalizers.
    kubectlOk(['delete', 'pod', '--all', '-n', 'shop', '--wait']);
    helmOk(['uninstall', REL, '-n', NS, '--wait', '--timeout', '3m']);
    const sel = `app.kubernetes.io/instance=${REL}`;
    const left = [
      ...getJson<{ items: Any[] }>([
        'get',
        'deployments,daemonsets,services,secrets,serviceaccounts,roles,rolebindings,pdb',
        '-n',
        NS,
        '-l',
        sel,
      ]).items,
      ...getJson<{ items: Any[] }>([
        'get',
        'clusterroles,clusterrolebindings,mutatingwebhookconfigurations,validatingadmissionpolicies,validatingadmissionpolicybindings,sandboxprofiles',
        '-l',
        sel,
      ]).items,
    ];
    expect(left.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    expect(kubectl(['get', 'crd', 'sandboxprofiles.podfence.dev']).status).toBe(0);
    // New pods in the formerly opted-in namespace are admitted as if podfence had never been there (once the
    // apiserver's admission caches have seen the policy's deletion: they lag the API by a moment).
    const after = ['run', 'after', '-n', 'shop', '--image=localhost/podfence/busybox:dev', '--restart=Never'];
    await waitFor('a pod admitted after uninstall', () => kubectl([...after, '--dry-run=server']).status === 0, 30_000);
  }, 240_000);
});
