// Ways to load code without Landlock's execute check, and sockets beyond TCP, tried from inside real runc
// containers (uid 65534, no capabilities, podfence-init + the compiled seccomp profile) by the e2e probe
// (test/e2e/probe.c), each beside a control: the same attempt with nothing in the way must succeed, so a denial
// can only come from podfence. Attempts that stay open are asserted open too, so the docs cannot drift.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileLandlockArgs, compileSeccomp, validateProfile, type SandboxProfile } from '../../src/profile/index.js';
import type { OciSeccomp } from '../../src/profile/seccomp.js';
import { canRun, cleanupState, runInContainer } from './bundle.js';

const suite = canRun ? describe : describe.skip;
const INIT_BUILD = join(process.cwd(), 'init-helper', 'build');
const USER = { uid: 65534, gid: 65534 };
const probeDir = mkdtempSync(join(tmpdir(), 'podfence-probe-'));
chmodSync(probeDir, 0o755); // the container's user (65534) must reach the probe

function profile(spec: Record<string, unknown>): SandboxProfile {
  const v = validateProfile({
    apiVersion: 'podfence.dev/v1alpha1',
    kind: 'SandboxProfile',
    metadata: { name: 'c' },
    spec,
  });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.profile;
}

type Result = { result: string; errno: string; untestable?: boolean };

/** Runs the probe's checks; `p` undefined = the control (no seccomp, no wrapper), same user. */
function probe(p: SandboxProfile | undefined, ...checks: string[]): Record<string, Result> {
  const binds = [
    { source: probeDir, destination: '/probe' },
    { source: INIT_BUILD, destination: '/podfence' },
  ];
  const cmd = ['/probe/probe', ...checks];
  const r = p
    ? runInContainer(
        ['/podfence/podfence-init', ...compileLandlockArgs(p), '--', ...cmd],
        JSON.parse(compileSeccomp(p).json) as OciSeccomp,
        { user: USER, binds },
      )
    : runInContainer(cmd, undefined, { user: USER, binds });
  const out: Record<string, Result> = {};
  for (const m of r.stdout.matchAll(/^CHECK name=(\S+) result=(\S+) errno=(\S+)(.*)$/gm)) {
    // Only the checks asked for (an exec'd copy of the probe prints its own "uname" line).
    if (!checks.includes(m[1]!)) continue;
    out[m[1]!] = { result: m[2]!, errno: m[3]!, ...(/untestable=1/.test(m[4]!) ? { untestable: true } : {}) };
  }
  for (const c of checks) {
    if (!out[c]) throw new Error(`no result for ${c}\nstatus ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return out;
}

const summary = (o: Record<string, Result>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.result]));

beforeAll(() => {
  if (!canRun) return;
  spawnSync('make', ['-s', '-C', join(process.cwd(), 'init-helper')], { stdio: 'inherit' });
  const cc = spawnSync(
    'musl-gcc',
    ['-static', '-Os', '-s', '-Wall', '-Wextra', '-Werror', '-o', join(probeDir, 'probe'), 'test/e2e/probe.c'],
    { stdio: 'inherit' },
  );
  if (cc.status !== 0) throw new Error('cannot build test/e2e/probe.c (apt-get install musl-tools)');
});
afterAll(() => {
  cleanupState();
  rmSync(probeDir, { recursive: true, force: true });
});

// Any preset would do for the filesystem: /probe is executable, /tmp writable, /proc read-only (baseline).
const base = { preset: 'network-server', landlock: { execute: ['/probe'] } };
const CODE = ['memfd-exec', 'memfd-exec-proc', 'wx-mmap', 'mprotect-exec', 'shm-exec'];

suite('loading code without the execute check', () => {
  test('control: every way works with nothing in the way', () => {
    const got = probe(undefined, ...CODE, 'mmap-exec:/tmp/code', 'procmem-write');
    expect(summary(got)).toEqual(
      Object.fromEntries([...CODE, 'mmap-exec:/tmp/code', 'procmem-write'].map((c) => [c, 'ok'])),
    );
  });

  test('sandboxed: memfd exec, writable+executable memory, mprotect +X and SHM_EXEC refused', () => {
    const got = probe(profile(base), ...CODE);
    expect(summary(got)).toEqual(Object.fromEntries(CODE.map((c) => [c, 'denied'])));
    // memfd_create itself fails (no MFD_NOEXEC_SEAL), so neither exec path is reached.
    expect(got['memfd-exec']?.errno).toBe('EPERM');
  });

  test('seccomp.allowJit: true lets a JIT have them back (and only that)', () => {
    const got = probe(profile({ ...base, seccomp: { allowJit: true } }), ...CODE, 'procmem-write');
    expect(summary(got)).toEqual({ ...Object.fromEntries(CODE.map((c) => [c, 'ok'])), 'procmem-write': 'denied' });
  });

  test('/proc/self/mem cannot patch code: the baseline grants /proc read-only', () => {
    expect(probe(profile(base), 'procmem-write')['procmem-write']).toEqual({ result: 'denied', errno: 'EACCES' });
  });

  test('DOCUMENTED, not closed: a file the workload wrote can be mapped executable (Landlock checks execve only)', () => {
    expect(probe(profile(base), 'mmap-exec:/tmp/code')['mmap-exec:/tmp/code']?.result).toBe('ok');
  });
});

suite('other kernel interfaces', () => {
  const checks = ['io-uring', 'userfaultfd', 'ptrace-child', 'vm-writev', 'personality-rie'];
  test('control: each works unsandboxed as the same user', () => {
    expect(summary(probe(undefined, ...checks))).toEqual(Object.fromEntries(checks.map((c) => [c, 'ok'])));
  });
  test('sandboxed: each refused by seccomp (EPERM)', () => {
    const got = probe(profile(base), ...checks);
    expect(Object.fromEntries(Object.entries(got).map(([k, v]) => [k, v.errno]))).toEqual(
      Object.fromEntries(checks.map((c) => [c, 'EPERM'])),
    );
  });
});

suite('sockets beyond TCP', () => {
  // unix, UDP, netlink kobject-uevent (unprivileged), AF_VSOCK, AF_ALG, IPv6 UDP
  const kinds = ['socket:1:1', 'socket:2:2', 'socket:16:3.15', 'socket:40:1', 'socket:38:5', 'socket:10:2'];

  test('control: the kernel lets this user create them (or answers other than EPERM)', () => {
    const got = probe(undefined, ...kinds, 'udp:127.0.0.1:9');
    for (const k of kinds) expect([k, got[k]?.errno]).not.toEqual([k, 'EPERM']);
    expect(got['udp:127.0.0.1:9']?.result).toBe('ok');
  });

  test('computation: no socket at all; file-processor: unix only', () => {
    const none = probe(profile({ ...base, preset: 'computation' }), ...kinds);
    expect(Object.values(none).map((r) => r.errno)).toEqual(kinds.map(() => 'EPERM'));
    const unix = probe(profile({ ...base, preset: 'file-processor' }), ...kinds);
    expect(summary(unix)).toEqual({ ...Object.fromEntries(kinds.map((k) => [k, 'denied'])), 'socket:1:1': 'ok' });
  });

  test('network-server: unix, TCP, UDP (DNS), route netlink; not uevent netlink, vsock, AF_ALG, ping', () => {
    const got = probe(profile(base), ...kinds, 'socket:16:3', 'socket:2:2.1', 'udp:127.0.0.1:9');
    expect(summary(got)).toMatchObject({
      'socket:1:1': 'ok',
      'socket:2:2': 'ok',
      'socket:10:2': 'ok',
      'socket:16:3': 'ok',
      'socket:16:3.15': 'denied',
      'socket:40:1': 'denied',
      'socket:38:5': 'denied',
      'udp:127.0.0.1:9': 'ok',
    });
    // A ping socket: EPERM from seccomp (the kernel's own refusal, if any, would be EACCES).
    expect(got['socket:2:2.1']?.errno).toBe('EPERM');
  });

  test('seccomp.sockets: [tcp] closes UDP egress (with DNS over TCP: dnsConfig option use-vc)', () => {
    const got = probe(
      profile({ ...base, seccomp: { sockets: ['tcp'] } }),
      'socket:2:2',
      'udp:127.0.0.1:9',
      'socket:2:1',
    );
    expect(summary(got)).toEqual({ 'socket:2:2': 'denied', 'udp:127.0.0.1:9': 'denied', 'socket:2:1': 'ok' });
  });

  test('the 32-bit socketcall entry point: refused (32-bit syscalls are outside the compiled architectures)', () => {
    const control = probe(undefined, 'socketcall32')['socketcall32']!;
    if (control.untestable) {
      console.warn('socketcall32: not testable here (this kernel has no 32-bit emulation: int 0x80 faults)');
      return;
    }
    expect(control.result).toBe('ok');
    // In every preset, even the one that allows sockets: the 32-bit call never reaches the socket rules.
    for (const preset of ['none', 'network-server']) {
      const got = probe(profile({ ...base, preset }), 'socketcall32')['socketcall32']!;
      expect([preset, got.result]).not.toEqual([preset, 'ok']);
    }
  });
});
