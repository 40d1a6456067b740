import { AuditEventAssembler } from '../../../../src/node-agent/denials/audit-events.js';
import { parseAuditLine, parseFields } from '../../../../src/node-agent/denials/audit-record.js';
import { parseCgroup } from '../../../../src/node-agent/denials/cgroup.js';
import { denialsOf, LandlockDomains, syscallName } from '../../../../src/node-agent/denials/denial.js';
import { AARCH64_NUMBERS, X86_64_NUMBERS } from '../../../../src/profile/syscall-numbers.js';
import { AARCH64_SYSCALLS, X86_64_SYSCALLS } from '../../../../src/profile/syscall-tables.js';

// Lines as audit-tap printed them on this machine's kernel (6.18, Landlock ABI 7).
const LANDLOCK_EVENT = [
  'type=1423 audit(1796123645.971:22): domain=1f823d576 blockers=fs.make_reg path="/tmp" dev="vda" ino=246947',
  'type=1424 audit(1796123645.971:22): domain=1f823d576 status=allocated mode=enforcing pid=13652 uid=0 exe="/work/deny" comm="deny"',
  'type=1300 audit(1796123645.971:22): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c items=0 ppid=13533 pid=13653 auid=4294967295 uid=0 comm="exe" exe="/work/deny" key=(null)',
  'type=1327 audit(1796123645.971:22): proctitle=2E2F6275696C642F74657374732F64656E79006C616E646C6F636B002F746D70',
  'type=1320 audit(1796123645.971:22): ',
];
const SECCOMP_ERRNO =
  'type=1326 audit(1796123645.975:24): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=13654 comm="deny" exe="/work/deny" sig=0 arch=c000003e syscall=272 compat=0 ip=0x7fa3f1da5829 code=0x50000';
const SECCOMP_LOG = SECCOMP_ERRNO.replace('code=0x50000', 'code=0x7ffc0000').replace(':24)', ':25)');

function events(lines: string[]) {
  const asm = new AuditEventAssembler(100);
  const out = lines.flatMap((l, i) => asm.add(parseAuditLine(l)!, i));
  return [...out, ...asm.expire(1_000_000)];
}

describe('audit records', () => {
  test('header, quoted, bare and hex-encoded fields', () => {
    const r = parseAuditLine(LANDLOCK_EVENT[0]!)!;
    expect(r).toMatchObject({ type: 1423, event: '1796123645.971:22', time: 1796123645.971 });
    expect(r.fields).toEqual({ domain: '1f823d576', blockers: 'fs.make_reg', path: '/tmp', dev: 'vda', ino: '246947' });
    // A path with a space is logged as hex, unquoted.
    expect(parseFields('blockers=fs.write_file path=2F6574632F6D7920617070 dev="vda"').path).toBe('/etc/my app');
    // Hex-looking values of other keys stay as they are.
    expect(parseFields('domain=1f823d576 ino=1234').domain).toBe('1f823d576');
    expect(parseAuditLine(LANDLOCK_EVENT[3]!)!.fields.proctitle).toBe('./build/tests/deny landlock /tmp');
  });

  test('malformed lines give undefined or partial fields, never an exception', () => {
    for (const bad of ['', 'garbage', 'type=x audit(1:2): a=b', 'type=1326 audit(1.2): x', 'type=1326 audit(1.2:3)']) {
      expect(parseAuditLine(bad)).toBeUndefined();
    }
    expect(parseFields('a="unterminated b=c')).toEqual({ a: 'unterminated b=c' });
    expect(parseFields('novalue =x a=1')).toMatchObject({ a: '1' });
  });

  test('records group into events at EOE, or after a quiet time without one', () => {
    const asm = new AuditEventAssembler(100);
    const recs = LANDLOCK_EVENT.map((l) => parseAuditLine(l)!);
    expect(recs.slice(0, 4).flatMap((r) => asm.add(r, 0))).toEqual([]);
    const [ev] = asm.add(recs[4]!, 1);
    expect(ev!.records.map((r) => r.type)).toEqual([1423, 1424, 1300, 1327]);
    expect(asm.pending).toBe(0);
    // A lone seccomp record: finished only once nothing came for 100 ms.
    expect(asm.add(parseAuditLine(SECCOMP_ERRNO)!, 10)).toEqual([]);
    expect(asm.expire(109)).toEqual([]);
    expect(asm.expire(110)).toHaveLength(1);
  });

  test('a flood of unfinished events stays bounded', () => {
    const asm = new AuditEventAssembler(100, 10);
    let done = 0;
    for (let i = 0; i < 1000; i++)
      done += asm.add(parseAuditLine(`type=1326 audit(1.000:${i}): code=0x50000`)!, 0).length;
    expect(asm.pending).toBe(10);
    expect(done).toBe(990);
  });
});

describe('denials', () => {
  test('Landlock: operation and object from the ACCESS record, the actor from SYSCALL', () => {
    const [d] = events(LANDLOCK_EVENT).flatMap((e) => denialsOf(e));
    expect(d).toEqual({
      layer: 'landlock',
      outcome: 'denied',
      operation: 'create',
      object: '/tmp',
      detail: 'fs.make_reg',
      pid: 13653,
      comm: 'exe',
      exe: '/work/deny',
      domain: '1f823d576',
      time: 1796123645.971,
    });
  });

  test('Landlock network: connect names the destination port, bind the source port', () => {
    const ds = events([
      'type=1423 audit(1.000:1): domain=1f8242478 blockers=net.connect_tcp daddr=127.0.0.1 dest=9090',
      'type=1423 audit(1.000:2): domain=1f8242478 blockers=net.bind_tcp src=9091',
      'type=1423 audit(1.000:3): domain=1f8242478 blockers=fs.write_file,fs.truncate path="/etc/app.conf" dev="vda" ino=1',
    ]).flatMap((e) => denialsOf(e));
    expect(ds.map((d) => `${d.operation} ${d.object}`)).toEqual([
      'connect tcp 9090',
      'bind tcp 9091',
      'write /etc/app.conf',
    ]);
    expect(ds[2]!.detail).toBe('fs.write_file,fs.truncate');
  });

  test("the tap's pf_cgroup field travels with the actor (SYSCALL's, the seccomp record's, the domain creator's)", () => {
    const cg = '12:pids:/kubepods/besteffort/podX/abc|0::/';
    const [ll] = events([LANDLOCK_EVENT[0]!, `${LANDLOCK_EVENT[2]!} pf_cgroup=${cg}`]).flatMap((e) => denialsOf(e));
    expect(ll!.cgroup).toBe(cg);
    const [sc] = events([`${SECCOMP_ERRNO} pf_cgroup=${cg}`]).flatMap((e) => denialsOf(e));
    expect(sc!.cgroup).toBe(cg);
    const domains = new LandlockDomains();
    events([`${LANDLOCK_EVENT[1]!} pf_cgroup=${cg}`]).forEach((e) => denialsOf(e, domains));
    const [later] = events([
      'type=1423 audit(2.000:30): domain=1f823d576 blockers=fs.write_file path="/etc/x"',
    ]).flatMap((e) => denialsOf(e, domains));
    expect(later).toMatchObject({ pid: 13652, cgroup: cg });
  });

  test("a gone actor: the parent's cgroup (pf_pcgroup) and the domain creator's travel with a Landlock denial", () => {
    const parent = '0::/kubepods/besteffort/podP/abc';
    const creator = '0::/kubepods/besteffort/podC/abc';
    const domains = new LandlockDomains();
    // The first denial of the domain: its allocation record names the creator (the tap read its cgroup).
    const [d] = events([
      LANDLOCK_EVENT[0]!,
      `${LANDLOCK_EVENT[1]!} pf_cgroup=${creator}`,
      `${LANDLOCK_EVENT[2]!} pf_pcgroup=${parent}`,
      LANDLOCK_EVENT[4]!,
    ]).flatMap((e) => denialsOf(e, domains));
    expect(d).toMatchObject({ pid: 13653, parentCgroup: parent, domain: '1f823d576', domainCgroup: creator });
    expect(d!.cgroup).toBeUndefined();
    // A later denial of the same domain carries the creator's cgroup too, even once the domain is deallocated
    // before the collector gets to it (it is taken when the event is read).
    const [later] = events([
      'type=1423 audit(2.000:30): domain=1f823d576 blockers=net.connect_tcp daddr=10.0.0.1 dest=9090',
      'type=1300 audit(2.000:30): arch=c000003e syscall=42 success=no exit=-13 ppid=7 pid=8 comm="probe"',
    ]).flatMap((e) => denialsOf(e, domains));
    expect(later).toMatchObject({ object: 'tcp 9090', pid: 8, domain: '1f823d576', domainCgroup: creator });
  });

  test("Landlock without a SYSCALL record: the actor is the domain's creator, once its allocation was seen", () => {
    const domains = new LandlockDomains();
    const [first] = events(LANDLOCK_EVENT.slice(0, 2)).flatMap((e) => denialsOf(e, domains));
    expect(first!.pid).toBe(13652);
    const [later] = events([
      'type=1423 audit(2.000:30): domain=1f823d576 blockers=fs.write_file path="/etc/x"',
    ]).flatMap((e) => denialsOf(e, domains));
    expect(later!.pid).toBe(13652);
    denialsOf(events(['type=1424 audit(3.000:31): domain=1f823d576 status=deallocated denials=2'])[0]!, domains);
    expect(domains.creator('1f823d576')).toBeUndefined();
  });

  test('seccomp: the syscall named from arch and number; errno is a denial, log is audit mode', () => {
    const [denied] = events([SECCOMP_ERRNO]).flatMap((e) => denialsOf(e));
    expect(denied).toMatchObject({
      layer: 'seccomp',
      outcome: 'denied',
      operation: 'syscall',
      object: 'unshare',
      pid: 13654,
    });
    const [logged] = events([SECCOMP_LOG]).flatMap((e) => denialsOf(e));
    expect(logged).toMatchObject({ outcome: 'logged', object: 'unshare', detail: 'log' });
    const [killed] = events([SECCOMP_ERRNO.replace('code=0x50000', 'code=0x80000000')]).flatMap((e) => denialsOf(e));
    expect(killed).toMatchObject({ outcome: 'killed' });
    // RET_ALLOW / TRACE are not denials; neither are records of other types.
    expect(events([SECCOMP_ERRNO.replace('code=0x50000', 'code=0x7fff0000')]).flatMap((e) => denialsOf(e))).toEqual([]);
    expect(events([LANDLOCK_EVENT[2]!]).flatMap((e) => denialsOf(e))).toEqual([]);
  });

  test('syscall names: x86_64 and aarch64, unknown numbers and arches said plainly', () => {
    expect(syscallName('c000003e', '272')).toBe('unshare');
    expect(syscallName('c000003e', '165')).toBe('mount');
    expect(syscallName('c00000b7', '97')).toBe('unshare');
    expect(syscallName('c000003e', '9999')).toBe('#9999 (x86_64)');
    expect(syscallName('40000003', '1')).toBe('#1 (arch 40000003)');
  });

  test('the number tables agree with the name tables', () => {
    for (const [nums, names] of [
      [X86_64_NUMBERS, X86_64_SYSCALLS],
      [AARCH64_NUMBERS, AARCH64_SYSCALLS],
    ] as const) {
      const named = Object.values(nums);
      expect(new Set(named).size).toBe(named.length);
      expect(named.filter((n) => !names.includes(n))).toEqual([]);
      expect(names.filter((n) => !named.includes(n))).toEqual([]);
    }
    // One numbering for every architecture since 424.
    const from424 = (t: Readonly<Record<number, string>>) => Object.entries(t).filter(([n]) => Number(n) >= 424);
    expect(from424(AARCH64_NUMBERS)).toEqual(from424(X86_64_NUMBERS));
    expect(X86_64_NUMBERS[435]).toBe('clone3');
  });
});

describe('cgroup paths', () => {
  const UID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
  const CID = 'a'.repeat(60) + '1234';
  test('cgroupfs driver, cgroup v1 hybrid (with a custom cgroup root)', () => {
    const text = [
      `12:pids:/podfence-e2e/kubepods/besteffort/pod${UID}/${CID}`,
      `11:cpu,cpuacct:/podfence-e2e/kubepods/besteffort/pod${UID}/${CID}`,
      '1:name=systemd:/',
      '0::/',
    ].join('\n');
    expect(parseCgroup(text)).toEqual({ podUid: UID, containerId: CID });
  });
  test('systemd driver, cgroup v2, Guaranteed pod (no QoS level)', () => {
    const u = UID.replace(/-/g, '_');
    expect(parseCgroup(`0::/kubepods.slice/kubepods-pod${u}.slice/cri-containerd-${CID}.scope\n`)).toEqual({
      podUid: UID,
      containerId: CID,
    });
    expect(
      parseCgroup(`0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${u}.slice/crio-${CID}.scope`),
    ).toEqual({ podUid: UID, containerId: CID });
  });
  test('host processes and garbage name no pod', () => {
    expect(parseCgroup('0::/system.slice/sshd.service\n1:name=systemd:/user.slice')).toEqual({});
    expect(parseCgroup('')).toEqual({});
    expect(parseCgroup(`0::/kubepods/${CID}`)).toEqual({});
    expect(parseCgroup(`0::/kubepods/besteffort/pod${UID}`)).toEqual({ podUid: UID });
  });
});
