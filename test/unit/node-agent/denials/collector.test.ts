import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Emission } from '../../../../src/node-agent/denials/aggregate.js';
import { DenialCollector } from '../../../../src/node-agent/denials/collector.js';

const UID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const CID = 'c'.repeat(64);
const CG = `12:pids:/kubepods/besteffort/pod${UID}/${CID}|0::/`;
const pod: V1Pod = {
  metadata: { name: 'app-1', namespace: 'shop', uid: UID, annotations: { 'podfence.dev/applied': 'web@1' } },
  spec: { containers: [{ name: 'app', image: 'x', command: ['/podfence/podfence-init', '--', '/app'] }] },
  status: {
    containerStatuses: [
      { name: 'app', containerID: `containerd://${CID}`, image: 'x', imageID: 'x', ready: true, restartCount: 0 },
    ],
  },
};

/** The pipeline from audit-tap lines to Events, with no tap, no apiserver and a hand-driven clock. */
function setup() {
  let now = 1_000;
  const events: Emission[] = [];
  const registry = new Registry();
  const c = new DenialCollector({
    tap: '/nonexistent',
    podByUid: async (uid) => (uid === UID ? pod : undefined),
    writeEvent: async (e) => void events.push(e),
    log: pino({ level: 'silent' }),
    registry,
    procRoot: '/nonexistent-proc',
    now: () => now,
  });
  // Waits for a condition (the pipeline is async: a file read for the host process), with a generous deadline.
  const until = async (cond: () => boolean) => {
    const end = Date.now() + 10_000;
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  };
  return { c, events, registry, until, tick: (ms: number) => (now += ms) };
}

const ll = (serial: number, path: string, cg = CG) => [
  `type=1423 audit(1.000:${serial}): domain=1f blockers=fs.write_file path="${path}" dev="vda" ino=1`,
  `type=1300 audit(1.000:${serial}): arch=c000003e syscall=257 success=no exit=-13 ppid=1 pid=42 comm="app" exe="/app" pf_cgroup=${cg}`,
  `type=1320 audit(1.000:${serial}): `,
];

/** A Landlock event of a forked child that was gone before the tap read its cgroup (no pf_cgroup). */
const gone = (serial: number, extra: { domain?: string; parent?: string; creator?: string; blocker?: string }) => [
  `type=1423 audit(1.000:${serial}): domain=${extra.domain ?? '1f'} blockers=${extra.blocker ?? 'net.connect_tcp daddr=10.0.0.1 dest=9090'}`,
  ...(extra.creator !== undefined
    ? [
        `type=1424 audit(1.000:${serial}): domain=${extra.domain ?? '1f'} status=allocated mode=enforcing pid=7 uid=0 exe="/podfence/podfence-init" comm="probe"${extra.creator ? ` pf_cgroup=${extra.creator}` : ''}`,
      ]
    : []),
  `type=1300 audit(1.000:${serial}): arch=c000003e syscall=42 success=no exit=-13 ppid=7 pid=${1000 + serial} comm="probe" exe="/bin/probe"${extra.parent ? ` pf_pcgroup=${extra.parent}` : ''}`,
  `type=1320 audit(1.000:${serial}): `,
];
const SHIM = '0::/system.slice/containerd.service';

describe('DenialCollector', () => {
  test("a pod's denials become one Event per key and a counter; a host process's become nothing", async () => {
    const { c, events, registry, until } = setup();
    for (let i = 0; i < 100; i++) for (const l of ll(i, '/etc/app.conf')) c.handleLine(l);
    for (const l of ll(200, '/etc/host', '0::/system.slice/sshd.service')) c.handleLine(l);
    c.handleLine('not an audit line');
    await until(() => events.length > 0 && c.dropped.size > 0);
    expect(events.map((e) => [e.denial.pod, e.denial.container, e.denial.object, e.count])).toEqual([
      ['app-1', 'app', '/etc/app.conf', 1],
    ]);
    const metric = await registry.getSingleMetricAsString('podfence_denials_total');
    expect(metric).toMatch(/podfence_denials_total\{namespace="shop",profile="web",layer="landlock"\} 100/);
    expect(c.dropped.get('not in a pod')).toBe(1);
  });

  test("a Landlock denial whose process was gone: tied to the pod through its parent, its domain's creator, or an earlier denial of the domain", async () => {
    const { c, events, registry, until } = setup();
    // The parent is in the pod.
    for (const l of gone(1, { domain: 'a1', parent: CG })) c.handleLine(l);
    // The parent is the runtime's shim (outside every pod): the domain's creator (podfence-init) names the pod.
    for (const l of gone(2, { domain: 'b2', parent: SHIM, creator: CG, blocker: 'fs.make_reg path="/srv"' }))
      c.handleLine(l);
    // The creator's cgroup could not be read either; the parent's names the pod, and the domain is remembered ...
    for (const l of gone(3, { domain: 'd4', parent: CG, creator: '', blocker: 'fs.make_reg path="/data"' }))
      c.handleLine(l);
    // ... for a later denial of it where nothing could be read.
    for (const l of gone(4, { domain: 'd4', blocker: 'fs.write_file path="/etc/x"' })) c.handleLine(l);
    await until(() => events.length >= 4);
    expect(events.map((e) => [e.denial.pod, e.denial.container, e.denial.operation, e.denial.object])).toEqual([
      ['app-1', 'app', 'connect', 'tcp 9090'],
      ['app-1', 'app', 'create', '/srv'],
      ['app-1', 'app', 'create', '/data'],
      ['app-1', 'app', 'write', '/etc/x'],
    ]);
    expect(await registry.getSingleMetricAsString('podfence_denials_total')).toMatch(/layer="landlock"\} 4/);
  });

  test('what cannot be tied to a pod is dropped and counted by reason: a gone seccomp caller, a host process', async () => {
    const { c, registry, until } = setup();
    // seccomp records name no parent and no domain: a caller gone before the tap read its cgroup is lost.
    c.handleLine(
      'type=1326 audit(1.000:50): pid=4242 comm="probe" exe="/bin/probe" sig=0 arch=c000003e syscall=63 code=0x7ffc0000',
    );
    // (A lone seccomp record ends after a quiet time on the agent's timer; an EOE ends it here.)
    c.handleLine('type=1320 audit(1.000:50): ');
    // A Landlock denial of a process that was gone, with neither parent nor domain in a pod.
    for (const l of gone(51, { domain: 'c3', parent: SHIM })) c.handleLine(l);
    // The actor's own cgroup decides when the tap read it: a host process, whatever its parent.
    for (const l of ll(52, '/etc/host', SHIM)) c.handleLine(l);
    await until(() => [...c.dropped.values()].reduce((a, b) => a + b, 0) >= 3);
    expect(Object.fromEntries(c.dropped)).toEqual({
      'process gone before its cgroup was read': 2,
      'not in a pod': 1,
    });
    const metric = await registry.getSingleMetricAsString('podfence_denials_dropped_total');
    expect(metric).toMatch(/\{layer="seccomp",reason="process gone before its cgroup was read"\} 1/);
    expect(metric).toMatch(/\{layer="landlock",reason="process gone before its cgroup was read"\} 1/);
    expect(metric).toMatch(/\{layer="landlock",reason="not in a pod"\} 1/);
  });
});
