// The whole per-container sandbox minus Kubernetes: the compiled seccomp profile AND podfence-init in front of the
// command with the options compileLandlockArgs produces, as uid 65534 with no capabilities, in real runc. Proves the
// presets' Landlock defaults and the baseline let real runtimes start, that the seccomp presets allow what the
// wrapper needs, and that the rules really bite (EACCES for a path or port outside the profile).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compileLandlockArgs, compileSeccomp, validateProfile, type SandboxProfile } from '../../src/profile/index.js';
import type { OciSeccomp } from '../../src/profile/seccomp.js';
import { canRun, cleanupState, runInContainer, type RunResult } from './bundle.js';
import { NODE_JOBS, PYTHON_JOBS } from './programs.js';

const INIT_BUILD = join(process.cwd(), 'init-helper', 'build');
const suite = canRun ? describe : describe.skip;
const NODE = process.execPath.startsWith('/usr/') ? process.execPath : '/usr/bin/node';
const USER = { uid: 65534, gid: 65534 };

function profile(spec: Record<string, unknown>): SandboxProfile {
  const v = validateProfile({
    apiVersion: 'podfence.dev/v1alpha1',
    kind: 'SandboxProfile',
    metadata: { name: 'w' },
    spec,
  });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.profile;
}

/** A profile for node: the same with seccomp.allowJit (V8 writes its code, then runs it). */
function forNode(p: SandboxProfile): SandboxProfile {
  return { ...p, spec: { ...p.spec, seccomp: { ...p.spec?.seccomp, allowJit: true } } };
}

/** Run `command` behind podfence-init with the profile's options and seccomp profile, as a sandboxed pod would. */
function sandboxed(p: SandboxProfile, command: string[]): RunResult {
  const seccomp = JSON.parse(compileSeccomp(p).json) as OciSeccomp;
  const args = ['/podfence/podfence-init', ...compileLandlockArgs(p), '--', ...command];
  return runInContainer(args, seccomp, { user: USER, binds: [{ source: INIT_BUILD, destination: '/podfence' }] });
}

const ok = (r: RunResult) => {
  if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
};

/** Python: try a read, a bind and a connect; print errno names (or OK). */
const PROBE = String.raw`
import errno, json, socket, sys
def tryit(f):
    try:
        f(); return 'OK'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def bind(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', port)); s.close()
print(json.dumps({
    'read_granted': tryit(lambda: open('/etc/passwd').read()),
    'read_outside': tryit(lambda: open('/sys/kernel/uevent_seqnum').read()),
    'write_tmp': tryit(lambda: open('/tmp/x', 'w').write('x')),
    'bind_listed': tryit(lambda: bind(int(sys.argv[1]))),
    'bind_unlisted': tryit(lambda: bind(int(sys.argv[1]) + 1)),
}))
`;

// Below the ephemeral range (32768+), so no client socket of another test holds it.
const port = 27000 + (process.pid % 5000);

beforeAll(() => {
  // The C helper is built by the c-tests stage (and `npm run build`); make is a no-op when it is up to date.
  if (canRun) spawnSync('make', ['-s', '-C', join(process.cwd(), 'init-helper')], { stdio: 'inherit' });
});
afterAll(() => cleanupState());

suite('podfence-init + seccomp + uid 65534, no capabilities', () => {
  test('the wrapper binary is built', () => {
    expect(existsSync(join(INIT_BUILD, 'podfence-init'))).toBe(true);
  });

  test('network-server: python and node serve on the listed port; an unlisted port and an ungranted path are EACCES', () => {
    const p = profile({
      preset: 'network-server',
      landlock: { tcp: { bind: [port, port + 2], connect: [port, port + 2] } },
    });
    const got = JSON.parse(ok(sandboxed(p, ['/usr/bin/python3', '-c', PROBE, String(port)])));
    expect(got).toEqual({
      read_granted: 'OK',
      read_outside: 'EACCES',
      write_tmp: 'OK',
      bind_listed: 'OK',
      bind_unlisted: 'EACCES',
    });
    const py = PYTHON_JOBS['network-server'].replace("('127.0.0.1', 0)", `('127.0.0.1', ${port})`);
    expect(ok(sandboxed(p, ['/usr/bin/python3', '-c', py]))).toMatch(/python served PING/);
    const nd = NODE_JOBS['network-server'].replace('srv.listen(0,', `srv.listen(${port + 2},`);
    expect(ok(sandboxed(forNode(p), [NODE, '-e', nd]))).toMatch(/node served PING/);
  });

  test('file-processor: python, node and busybox read and write /tmp; nothing outside the profile', () => {
    const p = profile({ preset: 'file-processor' });
    expect(ok(sandboxed(p, ['/usr/bin/python3', '-c', PYTHON_JOBS['file-processor']]))).toMatch(
      /python wrote HELLO FILES/,
    );
    expect(ok(sandboxed(forNode(p), [NODE, '-e', NODE_JOBS['file-processor']]))).toMatch(/node wrote HELLO FILES/);
    const bb = sandboxed(p, [
      '/bin/busybox',
      'sh',
      '-c',
      'echo hi > /tmp/a && busybox cat /tmp/a /sys/kernel/uevent_seqnum',
    ]);
    expect(bb.stdout).toContain('hi');
    expect(bb.stderr).toMatch(/uevent_seqnum'?: Permission denied/);
  });

  test('computation: python and node compute under the wrapper; TCP closed with tcp: {}', () => {
    const p = profile({ preset: 'computation', landlock: { tcp: {} } });
    expect(ok(sandboxed(p, ['/usr/bin/python3', '-c', PYTHON_JOBS.computation]))).toMatch(/python computed/);
    expect(ok(sandboxed(forNode(p), [NODE, '-e', NODE_JOBS.computation]))).toMatch(/node computed/);
  });

  test('a preset profile on a merged-/usr root says nothing on stderr (no line per missing baseline path)', () => {
    for (const preset of ['network-server', 'computation', 'file-processor']) {
      const r = sandboxed(profile({ preset }), ['/bin/busybox', 'true']);
      expect([preset, r.status, r.stderr]).toEqual([preset, 0, '']);
    }
    // The author's own missing path is still reported, in one line.
    const r = sandboxed(profile({ preset: 'computation', landlock: { readOnly: ['/no/such', '/nor/this'] } }), [
      '/bin/busybox',
      'true',
    ]);
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/--ro \/no\/such .*--ro \/nor\/this/)]);
  });

  test('control: the same probe without the wrapper reads the ungranted path and binds the unlisted port', () => {
    const p = profile({ preset: 'network-server', landlock: { tcp: { bind: [port] } } });
    const seccomp = JSON.parse(compileSeccomp(p).json) as OciSeccomp;
    const got = JSON.parse(
      ok(runInContainer(['/usr/bin/python3', '-c', PROBE, String(port)], seccomp, { user: USER })),
    );
    expect(got).toMatchObject({ read_outside: 'OK', bind_unlisted: 'OK' });
  });

  test('MPTCP: Landlock alone lets an MPTCP socket bind an unlisted port; the compiled seccomp rule closes that hole', () => {
    const p = profile({ preset: 'network-server', landlock: { tcp: { bind: [port] } } });
    const mptcp = String.raw`
import errno, socket, sys
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262); s.bind(('127.0.0.1', int(sys.argv[1]))); print('bound')
except OSError as e:
    print(errno.errorcode[e.errno])
`;
    const cmd = ['/usr/bin/python3', '-c', mptcp, String(port + 3)];
    // With the wrapper but a seccomp profile compiled WITHOUT the MPTCP rule (tcp left out): Landlock does not stop it.
    const noRule = JSON.parse(compileSeccomp(profile({ preset: 'network-server' })).json) as OciSeccomp;
    const hole = runInContainer(['/podfence/podfence-init', ...compileLandlockArgs(p), '--', ...cmd], noRule, {
      user: USER,
      binds: [{ source: INIT_BUILD, destination: '/podfence' }],
    });
    expect(ok(hole).trim()).toBe('bound');
    // The profile as compiled (tcp present => MPTCP refused): the same call fails before Landlock is even asked.
    expect(ok(sandboxed(p, cmd)).trim()).toBe('EPROTONOSUPPORT');
  });
});
