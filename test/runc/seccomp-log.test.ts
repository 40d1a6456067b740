// podfence-init's --seccomp-log in real runc 1.1 (which cannot load a profile with SECCOMP_FILTER_FLAG_LOG): the
// compiled profile as runc's filter, the wrapper in front with and without its logging filter, as uid 65534. The
// logging filter must change no result (the same errno for a denied syscall, a custom errno kept, runc's ENOSYS for
// syscalls newer than the profile kept, allowed calls still working) and make the kernel log the profile's errno
// refusals, which it does not without it. A control without any seccomp shows the same calls work unfiltered.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileLandlockArgs, compileSeccomp, validateProfile, type SandboxProfile } from '../../src/profile/index.js';
import type { OciSeccomp } from '../../src/profile/seccomp.js';
import { canRun, cleanupState, runInContainer } from './bundle.js';

const INIT_BUILD = join(process.cwd(), 'init-helper', 'build');
const TAP = join(process.cwd(), 'audit-tap', 'build', 'audit-tap');
const USER = { uid: 65534, gid: 65534 };
// x86_64 numbers: the probe makes raw syscalls (the arm64 numbers differ; this machine kind is x86_64).
const testable = canRun && arch() === 'x64' && existsSync(TAP);
const suite = testable ? describe : describe.skip;
if (!testable) console.warn('seccomp-log runc tests skipped: they need root, runc, x86_64 and audit-tap built');

function profile(spec: Record<string, unknown>): SandboxProfile {
  const v = validateProfile({
    apiVersion: 'podfence.dev/v1alpha1',
    kind: 'SandboxProfile',
    metadata: { name: 'l' },
    spec,
  });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.profile;
}

/** Python with raw syscalls; names itself (comm, in the kernel's seccomp record) after argv[1]. */
const PROBE = String.raw`
import ctypes, errno, json, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(15, sys.argv[1].encode(), 0, 0, 0)  # PR_SET_NAME
def call(nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(nr, *args)
    return 'OK' if r >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
buf = ctypes.create_string_buffer(65 * 6)
print(json.dumps({
    'uname': call(63, buf),                                  # denied by the profile
    'getppid': call(110),                                    # allowed
    'unused': call(400),                                     # no syscall: the profile's default refusal
    'newer': call(467, -1, None, 0, None, 0),                # open_tree_attr: unknown to runc's libseccomp: ENOSYS
    'alg': call(41, 38, 5, 0),                               # socket(AF_ALG): refused by an argument rule
}), flush=True)
`;

type Mode = 'none' | 'plain' | 'log';
let run = 0;
/** The probe in runc: no seccomp at all, or the profile's with the wrapper without / with its logging filter. */
function probe(p: SandboxProfile, mode: Mode) {
  const comm = `pfsl${process.pid % 10000}x${++run}`;
  const seccomp = mode === 'none' ? undefined : (JSON.parse(compileSeccomp(p).json) as OciSeccomp);
  let options = compileLandlockArgs(p);
  const i = options.indexOf('--seccomp-log');
  if (mode !== 'log' && i >= 0) options = [...options.slice(0, i), ...options.slice(i + 2)];
  const r = runInContainer(
    ['/podfence/podfence-init', ...options, '--', '/usr/bin/python3', '-c', PROBE, comm],
    seccomp,
    { user: USER, binds: [{ source: INIT_BUILD, destination: '/podfence' }] },
  );
  if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return { comm, got: JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, string>, stderr: r.stderr };
}

let tap: ChildProcess | undefined;
let dir = '';
const tapOut = () => readFileSync(join(dir, 'out'), 'utf8');
/** The tap's seccomp records (type 1326) of a process named comm. */
const recordsOf = (comm: string) =>
  tapOut()
    .split('\n')
    .filter((l) => l.startsWith('type=1326 ') && l.includes(` comm="${comm}" `));

async function until(what: string, f: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  if (!testable) return;
  spawnSync('make', ['-s', '-C', join(process.cwd(), 'init-helper')], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'podfence-seclog-'));
  // The tap reads the audit netlink group (seccomp records are emitted whether audit is enabled or not).
  tap = spawn('sh', ['-c', `exec "${TAP}" >"${dir}/out" 2>"${dir}/err"`], { stdio: 'ignore' });
  await until(
    'audit-tap to start',
    () => existsSync(join(dir, 'err')) && readFileSync(join(dir, 'err'), 'utf8').includes('source='),
  );
});
afterAll(() => {
  tap?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
  cleanupState();
});

suite('--seccomp-log in runc 1.1: same results, refusals logged', () => {
  test('uname denied (EPERM): the same answers with and without the logging filter; logged only with it', async () => {
    const p = profile({ preset: 'network-server', seccomp: { deny: ['uname'] } });
    expect(compileLandlockArgs(p)).toContain('--seccomp-log');
    const control = probe(p, 'none');
    expect(control.got).toMatchObject({ uname: 'OK', getppid: 'OK', unused: 'ENOSYS' });
    const plain = probe(p, 'plain');
    const logged = probe(p, 'log');
    expect(plain.got).toEqual({ uname: 'EPERM', getppid: 'OK', unused: 'EPERM', newer: 'ENOSYS', alg: 'EPERM' });
    expect(logged.got).toEqual(plain.got);
    expect(logged.stderr).toBe('');
    // The kernel's record: syscall 63, SECCOMP_RET_ERRNO (code=0x50000: the action; the errno is not in the record), and 400 the same way.
    await until(`the record of ${logged.comm}'s uname`, () =>
      recordsOf(logged.comm).some((l) => / syscall=63 .*code=0x50000( |$)/.test(l)),
    );
    await until(`the record of ${logged.comm}'s unused number`, () =>
      recordsOf(logged.comm).some((l) => / syscall=400 .*code=0x50000( |$)/.test(l)),
    );
    // Records arrive in order: the earlier run without the filter left none. Neither do runc's ENOSYS (467) nor
    // the argument-dependent socket refusal (runc's filter alone decides those).
    expect(recordsOf(plain.comm)).toEqual([]);
    expect(recordsOf(logged.comm).filter((l) => / syscall=(467|41) /.test(l))).toEqual([]);
  });

  test('a custom errno (EACCES) is kept and logged with it', async () => {
    const p = profile({ preset: 'network-server', seccomp: { deny: ['uname'], errno: 13 } });
    const plain = probe(p, 'plain');
    const logged = probe(p, 'log');
    expect(plain.got).toMatchObject({ uname: 'EACCES', getppid: 'OK', newer: 'ENOSYS' });
    expect(logged.got).toEqual(plain.got);
    await until(`the record of ${logged.comm}'s uname`, () =>
      recordsOf(logged.comm).some((l) => / syscall=63 .*code=0x50000( |$)/.test(l)),
    );
    expect(recordsOf(plain.comm)).toEqual([]);
  });
});
