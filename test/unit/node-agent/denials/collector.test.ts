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
});
