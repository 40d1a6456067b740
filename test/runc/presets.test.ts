// Every preset, compiled by src/profile, enforced by real runc on this kernel: busybox, node and python start and do
// the preset's job, while unshare, mount and a raw ptrace are really refused (EPERM, or SIGSYS with
// defaultAction kill). In audit mode the same calls get through (logged): the kernel's own answer comes back. A
// control run without seccomp shows what the probes return when nothing filters them.
import { compileSeccomp, validateProfile } from '../../src/profile/index.js';
import type { OciSeccomp } from '../../src/profile/seccomp.js';
import { canRun, cleanupState, runInContainer, type RunResult } from './bundle.js';
import { BUSYBOX_JOBS, NODE_JOBS, PYTHON_JOBS, PYTHON_PROBES, type Job } from './programs.js';

const suite = canRun ? describe : describe.skip;
if (!canRun) console.warn('runc tests skipped: they need root and runc (apt-get install runc)');

function compiled(spec: Record<string, unknown>): OciSeccomp {
  const v = validateProfile({
    apiVersion: 'podfence.dev/v1alpha1',
    kind: 'SandboxProfile',
    metadata: { name: 't' },
    spec,
  });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return JSON.parse(compileSeccomp(v.profile).json) as OciSeccomp;
}

const ok = (r: RunResult) => {
  if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
};

/** The probes' JSON (last line printed), with the exit status. */
function probe(seccomp: OciSeccomp | undefined, ...names: string[]) {
  const r = runInContainer(['/usr/bin/python3', '-c', PYTHON_PROBES, ...names], seccomp);
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  return { status: r.status, stderr: r.stderr, got: JSON.parse(lines.at(-1) ?? '{}') as Record<string, string> };
}

// node must be visible in the container's read-only view of /usr (Debian's or NodeSource's /usr/bin/node).
const NODE = process.execPath.startsWith('/usr/') ? process.execPath : '/usr/bin/node';

const port = 21000 + (process.pid % 5000); // below the ephemeral range
const busyboxJob = (job: Job) => BUSYBOX_JOBS[job].replaceAll('PORT', String(port));
const EXPECTED: Record<Job, RegExp[]> = {
  'network-server': [/^served$/m, /python served PING/, /node served PING/],
  'file-processor': [
    /^HELLO FILES$/m,
    /python wrote HELLO FILES .*'out.txt'/,
    /node wrote HELLO FILES d,in.txt,out.txt/,
  ],
  computation: [
    /computed 2664667000/,
    /python computed [0-9a-f]{16} 333328333350000/,
    /node computed [0-9a-f]{16} 333328333350000/,
  ],
};

const PRESETS: { preset: string; job: Job; spec: { seccomp?: Record<string, unknown> } & Record<string, unknown> }[] = [
  {
    preset: 'network-server',
    job: 'network-server',
    spec: { preset: 'network-server', landlock: { tcp: { bind: [8080], connect: [443] } } },
  },
  { preset: 'file-processor', job: 'file-processor', spec: { preset: 'file-processor' } },
  { preset: 'computation', job: 'computation', spec: { preset: 'computation' } },
  // `none`: the runtime default minus the always-denied set; a plain service must run under it.
  { preset: 'none', job: 'network-server', spec: {} },
];

afterAll(() => cleanupState());

suite('control: no seccomp at all', () => {
  test('the probes get the kernel’s own answers (so EPERM below can only come from seccomp)', () => {
    const { got } = probe(undefined);
    expect(got).toMatchObject({ unshare: 'OK', mount: 'ENOENT', ptrace: 'ESRCH', inet: 'OK', unix: 'OK' });
    expect(got.alg).not.toBe('EPERM');
    expect(got.mptcp).not.toBe('EPERM');
    const bb = runInContainer(['/bin/busybox', 'unshare', '-U', 'busybox', 'echo', 'unshared'], undefined);
    expect(ok(bb)).toContain('unshared');
    const mnt = runInContainer(['/bin/busybox', 'mount', '-t', 'tmpfs', 'none', '/no-such-dir'], undefined);
    expect(mnt.stderr).toMatch(/No such file or directory/);
  });
});

suite.each(PRESETS)('preset $preset', ({ preset, job, spec }) => {
  describe('enforce', () => {
    const seccomp = compiled({ ...spec, mode: 'enforce' });

    test('busybox sh and python start and do the job; node (a JIT) with seccomp.allowJit', () => {
      const [bb, py, nd] = EXPECTED[job];
      expect(ok(runInContainer(['/bin/busybox', 'sh', '-c', busyboxJob(job)], seccomp))).toMatch(bb!);
      expect(ok(runInContainer(['/usr/bin/python3', '-c', PYTHON_JOBS[job]], seccomp))).toMatch(py!);
      const jit = compiled({ ...spec, mode: 'enforce', seccomp: { ...(spec.seccomp ?? {}), allowJit: true } });
      expect(ok(runInContainer([NODE, '-e', NODE_JOBS[job]], jit))).toMatch(nd!);
      // Without allowJit, V8 cannot map its code space writable and executable: node dies at start.
      const refused = runInContainer([NODE, '-e', 'console.log("ran")'], seccomp);
      expect(refused.status).not.toBe(0);
      expect(refused.stdout).not.toContain('ran');
    });

    test('unshare, mount and a raw ptrace get EPERM from seccomp', () => {
      const { got, status } = probe(seccomp, 'unshare', 'mount', 'ptrace', 'alg');
      expect(status).toBe(0);
      expect(got).toEqual({ unshare: 'EPERM', mount: 'EPERM', ptrace: 'EPERM', alg: 'EPERM' });
      const bb = runInContainer(['/bin/busybox', 'unshare', '-U', 'busybox', 'echo', 'unshared'], seccomp);
      expect(bb.status).not.toBe(0);
      expect(bb.stderr).toMatch(/Operation not permitted/);
      const mnt = runInContainer(['/bin/busybox', 'mount', '-t', 'tmpfs', 'none', '/no-such-dir'], seccomp);
      // busybox words EPERM from mount(2) as "permission denied (are you root?)"
      expect(mnt.stderr).toMatch(/permission denied/);
    });

    test('sockets as the preset says', () => {
      const { got } = probe(seccomp, 'inet', 'unix', 'mptcp');
      if (preset === 'network-server') {
        expect(got.inet).toBe('OK');
        expect(got.unix).toBe('OK');
        // The profile has Landlock TCP rules: MPTCP is refused so programs fall back to TCP.
        expect(got.mptcp).toBe('EPROTONOSUPPORT');
      } else if (preset === 'none') {
        expect(got.inet).toBe('OK');
        expect(got.unix).toBe('OK');
        expect(got.mptcp).not.toBe('EPROTONOSUPPORT'); // no TCP rules: MPTCP left alone
      } else if (preset === 'file-processor') {
        expect(got).toEqual({ inet: 'EPERM', unix: 'OK', mptcp: 'EPERM' });
      } else {
        expect(got).toEqual({ inet: 'EPERM', unix: 'EPERM', mptcp: 'EPERM' });
      }
    });
  });

  describe('audit', () => {
    const seccomp = compiled({ ...spec, mode: 'audit' });

    test('the job still works', () => {
      const [bb, py] = EXPECTED[job];
      expect(ok(runInContainer(['/bin/busybox', 'sh', '-c', busyboxJob(job)], seccomp))).toMatch(bb!);
      expect(ok(runInContainer(['/usr/bin/python3', '-c', PYTHON_JOBS[job]], seccomp))).toMatch(py!);
    });

    test('unshare, mount, ptrace and even what the preset cuts are let through (logged), not denied', () => {
      const { got, status } = probe(seccomp, 'unshare', 'mount', 'ptrace', 'inet');
      expect(status).toBe(0);
      expect(got).toEqual({ unshare: 'OK', mount: 'ENOENT', ptrace: 'ESRCH', inet: 'OK' });
      const bb = runInContainer(['/bin/busybox', 'unshare', '-U', 'busybox', 'echo', 'unshared'], seccomp);
      expect(ok(bb)).toContain('unshared');
      const mnt = runInContainer(['/bin/busybox', 'mount', '-t', 'tmpfs', 'none', '/no-such-dir'], seccomp);
      expect(mnt.stderr).toMatch(/No such file or directory/);
    });
  });
});

suite('defaultAction kill', () => {
  const seccomp = compiled({ preset: 'computation', seccomp: { defaultAction: 'kill' } });

  test('the job runs; a denied syscall kills the process with SIGSYS', () => {
    expect(ok(runInContainer(['/usr/bin/python3', '-c', PYTHON_JOBS.computation], seccomp))).toMatch(/python computed/);
    for (const name of ['unshare', 'mount', 'ptrace', 'inet']) {
      const { status, got } = probe(seccomp, name);
      // 128 + SIGSYS (31): killed before printing anything.
      expect([name, status, got]).toEqual([name, 159, {}]);
    }
  });
});

suite('user rules with argument conditions', () => {
  test('an errno rule narrows a syscall the preset allows (kill(pid, 0) refused, other signals pass)', () => {
    const seccomp = compiled({
      preset: 'network-server',
      seccomp: { rules: [{ names: ['kill'], action: 'errno', errno: 13, args: [{ index: 1, op: 'EQ', value: 0 }] }] },
    });
    const script = String.raw`
import os, signal, errno
signal.signal(signal.SIGUSR1, lambda *a: None)
def k(sig):
    try:
        os.kill(os.getpid(), sig); return 'OK'
    except OSError as e:
        return errno.errorcode[e.errno]
print(k(0), k(signal.SIGUSR1))
`;
    expect(ok(runInContainer(['/usr/bin/python3', '-c', script], seccomp)).trim()).toBe('EACCES OK');
    expect(ok(runInContainer(['/usr/bin/python3', '-c', script], undefined)).trim()).toBe('OK OK');
  });
});
