import fc from 'fast-check';
import {
  ALWAYS_DENIED,
  compileLandlockArgs,
  compileSeccomp,
  profileVersion,
  resolveProfile,
  securityContextFor,
  validateProfile,
  type SandboxProfile,
} from '../../../src/profile/index.js';
import { PRESET_SECCOMP } from '../../../src/profile/presets.js';
import { ALL_SYSCALLS, COMPAT32_SYSCALLS } from '../../../src/profile/syscalls.js';
import type { OciSeccomp } from '../../../src/profile/seccomp.js';

function profile(spec: unknown, name = 'web'): SandboxProfile {
  const v = validateProfile({ apiVersion: 'podfence.dev/v1alpha1', kind: 'SandboxProfile', metadata: { name }, spec });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.profile;
}
const seccomp = (spec: unknown, name?: string) => JSON.parse(compileSeccomp(profile(spec, name)).json) as OciSeccomp;
const allowed = (s: OciSeccomp) =>
  new Set(s.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
const rulesFor = (s: OciSeccomp, name: string) => s.syscalls.filter((r) => r.names.includes(name));

const PRESETS = ['computation', 'network-server', 'file-processor', 'none'] as const;

describe('compileSeccomp', () => {
  test('plain OCI format: explicit architectures, errno default, no moby-only fields', () => {
    const s = seccomp({ preset: 'network-server' });
    expect(s.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(s.defaultErrnoRet).toBe(1);
    // Native modes only: 32-bit syscalls (socketcall, ipc, old_mmap) meet the bad-architecture action.
    expect(s.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64']);
    expect(allowed(s).has('socketcall')).toBe(false);
    expect(Object.keys(s).sort()).toEqual(['architectures', 'defaultAction', 'defaultErrnoRet', 'syscalls']);
    for (const r of s.syscalls) {
      for (const k of Object.keys(r)) expect(['names', 'action', 'errnoRet', 'args']).toContain(k);
    }
    expect(seccomp({ seccomp: { architectures: ['aarch64'] } }).architectures).toEqual(['SCMP_ARCH_AARCH64']);
  });

  test('deterministic byte for byte, whatever the order of the lists', () => {
    const a = compileSeccomp(profile({ seccomp: { allow: ['sendfile', 'tee'], deny: ['mkdir', 'rmdir'] } }));
    const b = compileSeccomp(profile({ seccomp: { deny: ['rmdir', 'mkdir'], allow: ['tee', 'sendfile'] } }));
    expect(a.json).toBe(b.json);
    expect(a.hash).toBe(b.hash);
    expect(compileSeccomp(profile({})).json).toBe(compileSeccomp(profile({})).json);
  });

  test('hash: 16 hex of name + NUL + json; changes with content and with the name', () => {
    const c = compileSeccomp(profile({ preset: 'computation' }));
    expect(c.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(c.fileName).toBe(`web-${c.hash}.json`);
    expect(c.localhostProfile).toBe(`podfence/web-${c.hash}.json`);
    const other = compileSeccomp(profile({ preset: 'computation' }, 'batch'));
    expect(other.json).toBe(c.json);
    expect(other.hash).not.toBe(c.hash);
    expect(compileSeccomp(profile({ preset: 'computation', seccomp: { deny: ['mkdir'] } })).hash).not.toBe(c.hash);
    expect(compileSeccomp(profile({ preset: 'computation', seccomp: { errno: 13 } })).hash).not.toBe(c.hash);
  });

  test.each(PRESETS)(
    '%s: the wrapper syscalls are allowed and the always-denied set is denied explicitly',
    (preset) => {
      const s = seccomp({ preset });
      const allow = allowed(s);
      for (const n of ['execve', 'prctl', 'landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self']) {
        expect(allow.has(n)).toBe(true);
      }
      const denied = s.syscalls.find((r) => r.names.includes('ptrace'));
      expect(denied).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 1 });
      for (const n of [
        'mount',
        'umount2',
        'unshare',
        'setns',
        'bpf',
        'keyctl',
        'kexec_load',
        'init_module',
        'ptrace',
      ]) {
        expect(allow.has(n)).toBe(false);
        expect(denied?.names).toContain(n);
      }
      // clone may not create namespaces; clone3 says ENOSYS so glibc falls back to clone.
      expect(rulesFor(s, 'clone')[0]).toMatchObject({
        action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: 0x7e020000, valueTwo: 0 }],
      });
      expect(rulesFor(s, 'clone3')).toEqual([{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
    },
  );

  test('presets: real-runtime basics everywhere, sockets per preset', () => {
    for (const preset of PRESETS) {
      const allow = allowed(seccomp({ preset }));
      for (const n of ['read', 'write', 'openat', 'rt_sigaction', 'arch_prctl', 'futex', 'exit_group', 'brk']) {
        expect([preset, n, allow.has(n)]).toEqual([preset, n, true]);
      }
    }
    const socketRules = (preset: string) => rulesFor(seccomp({ preset }), 'socket');
    expect(socketRules('computation')).toEqual([]);
    expect(allowed(seccomp({ preset: 'computation' })).has('connect')).toBe(false);
    expect(allowed(seccomp({ preset: 'computation' })).has('renameat2')).toBe(false);
    expect(allowed(seccomp({ preset: 'computation' })).has('mkdir')).toBe(true);
    expect(socketRules('file-processor')).toEqual([
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 1 }] },
    ]);
    for (const preset of PRESETS) {
      expect([preset, allowed(seccomp({ preset })).has('socketcall')]).toEqual([preset, false]);
      expect([preset, allowed(seccomp({ preset })).has('ipc')]).toEqual([preset, false]);
    }
    // (family, type & 0xf, protocol) triples: stream TCP, datagram UDP, route netlink; no ping, raw or SCTP.
    const triples = (preset: string, spec: Record<string, unknown> = {}) =>
      rulesFor(seccomp({ preset, ...spec }), 'socket')
        .filter((r) => r.action === 'SCMP_ACT_ALLOW')
        .map((r) => (r.args ?? []).map((a) => a.valueTwo ?? a.value).join('/'));
    expect(triples('network-server')).toEqual([
      '1',
      '2/1/0',
      '2/1/6',
      '2/1/262',
      '2/2/0',
      '2/2/17',
      '10/1/0',
      '10/1/6',
      '10/1/262',
      '10/2/0',
      '10/2/17',
      '16/3/0',
      '16/2/0',
    ]);
    expect(triples('none')).toEqual(expect.arrayContaining(['2/2/1', '10/2/58']));
    expect(triples('network-server')).not.toContain('2/2/1');
    // The profile's own list, or every kind with allow: [socket]; none with deny: [socket].
    expect(triples('computation', { seccomp: { sockets: ['udp'] } })).toEqual(['2/2/0', '2/2/17', '10/2/0', '10/2/17']);
    expect(triples('computation', { seccomp: { allow: ['socket'] } })).toEqual(triples('none'));
    expect(rulesFor(seccomp({ preset: 'network-server', seccomp: { deny: ['socket'] } }), 'socket')).toEqual([]);
  });

  test('no written-then-executed memory unless allowJit (W^X, SHM_EXEC, executable memfd)', () => {
    for (const preset of PRESETS) {
      const s = seccomp({ preset });
      for (const n of ['mmap', 'mprotect', 'pkey_mprotect', 'shmat', 'memfd_create'])
        expect([preset, n, allowed(s).has(n)]).toEqual([preset, n, false]);
      expect(rulesFor(s, 'mmap').map((r) => r.args)).toEqual([
        [{ index: 2, op: 'SCMP_CMP_MASKED_EQ', value: 4, valueTwo: 0 }],
        [
          { index: 2, op: 'SCMP_CMP_MASKED_EQ', value: 2, valueTwo: 0 },
          { index: 3, op: 'SCMP_CMP_MASKED_EQ', value: 0x20, valueTwo: 0 },
        ],
      ]);
      expect(rulesFor(s, 'mprotect').map((r) => r.args)).toEqual([
        [{ index: 2, op: 'SCMP_CMP_MASKED_EQ', value: 4, valueTwo: 0 }],
      ]);
      expect(rulesFor(s, 'memfd_create').map((r) => r.args)).toEqual([
        [{ index: 1, op: 'SCMP_CMP_MASKED_EQ', value: 8, valueTwo: 8 }],
      ]);
      const jit = allowed(seccomp({ preset, seccomp: { allowJit: true } }));
      for (const n of ['mmap', 'mprotect', 'pkey_mprotect', 'shmat', 'memfd_create']) expect(jit.has(n)).toBe(true);
    }
  });

  test('MPTCP refused only when Landlock restricts TCP', () => {
    const without = seccomp({ preset: 'network-server' });
    expect(rulesFor(without, 'socket').filter((r) => r.action !== 'SCMP_ACT_ALLOW')).toEqual([]);
    expect(rulesFor(without, 'socket')).toContainEqual({
      names: ['socket'],
      action: 'SCMP_ACT_ALLOW',
      args: [
        { index: 0, op: 'SCMP_CMP_EQ', value: 2 },
        { index: 1, op: 'SCMP_CMP_MASKED_EQ', value: 15, valueTwo: 1 },
        { index: 2, op: 'SCMP_CMP_EQ', value: 262 },
      ],
    });
    const withTcp = seccomp({ preset: 'network-server', landlock: { tcp: { bind: [8080] } } });
    const socket = rulesFor(withTcp, 'socket');
    for (const r of socket.filter((r) => r.action === 'SCMP_ACT_ALLOW')) {
      expect(r.args).not.toContainEqual({ index: 2, op: 'SCMP_CMP_EQ', value: 262 });
    }
    expect(socket).toContainEqual({
      names: ['socket'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 93,
      args: [{ index: 2, op: 'SCMP_CMP_EQ', value: 262 }],
    });
    // Even with defaultAction kill, MPTCP gets an errno (Go falls back to TCP instead of dying).
    const kill = seccomp({ preset: 'network-server', seccomp: { defaultAction: 'kill' }, landlock: { tcp: {} } });
    expect(rulesFor(kill, 'socket').find((r) => r.args?.[0]?.value === 262)?.action).toBe('SCMP_ACT_ERRNO');
  });

  test('audit mode logs instead of denying, everything else stays', () => {
    const s = seccomp({
      preset: 'network-server',
      mode: 'audit',
      seccomp: { rules: [{ names: ['getpid'], action: 'kill' }] },
      landlock: { tcp: {} },
    });
    expect(s.defaultAction).toBe('SCMP_ACT_LOG');
    expect(s.defaultErrnoRet).toBeUndefined();
    const actions = new Set(s.syscalls.filter((r) => !r.names.includes('clone3')).map((r) => r.action));
    expect([...actions].sort()).toEqual(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG']);
    expect(rulesFor(s, 'ptrace')[0]?.action).toBe('SCMP_ACT_LOG');
  });

  test('defaultAction kill and log; always-denied stays denied under log', () => {
    const kill = seccomp({ seccomp: { defaultAction: 'kill' } });
    expect(kill.defaultAction).toBe('SCMP_ACT_KILL_PROCESS');
    expect(rulesFor(kill, 'mount')[0]?.action).toBe('SCMP_ACT_KILL_PROCESS');
    const log = seccomp({ seccomp: { defaultAction: 'log' } });
    expect(log.defaultAction).toBe('SCMP_ACT_LOG');
    expect(rulesFor(log, 'mount')[0]).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 1 });
    expect(seccomp({ seccomp: { errno: 38 } }).defaultErrnoRet).toBe(38);
  });

  test('user allow, deny and rules', () => {
    const s = seccomp({
      preset: 'computation',
      seccomp: {
        allow: ['sendfile', 'connect'],
        deny: ['mkdir'],
        rules: [{ names: ['kill'], action: 'errno', errno: 13, args: [{ index: 1, op: 'EQ', value: 9 }] }],
      },
    });
    expect(allowed(s).has('connect')).toBe(true);
    expect(allowed(s).has('mkdir')).toBe(false);
    expect(rulesFor(s, 'kill')).toContainEqual({
      names: ['kill'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 13,
      args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 9 }],
    });
    // x86-only names vanish from an aarch64-only profile
    expect(allowed(seccomp({ seccomp: { architectures: ['aarch64'] } })).has('arch_prctl')).toBe(false);
  });

  test('a deny rule with conditions narrows the allow rule of that syscall (libseccomp lets allow win)', () => {
    const s = seccomp({
      preset: 'network-server',
      seccomp: { rules: [{ names: ['kill'], action: 'errno', errno: 13, args: [{ index: 1, op: 'EQ', value: 0 }] }] },
    });
    expect(allowed(s).has('kill')).toBe(false);
    expect(rulesFor(s, 'kill')).toEqual([
      { names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, op: 'SCMP_CMP_NE', value: 0 }] },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 0 }] },
    ]);
    // Two conditions: allowed when either does not hold.
    const two = seccomp({
      seccomp: {
        rules: [
          {
            names: ['kill'],
            action: 'kill',
            args: [
              { index: 0, op: 'GT', value: 1 },
              { index: 1, op: 'LE', value: 9 },
            ],
          },
        ],
      },
    });
    expect(
      rulesFor(two, 'kill')
        .filter((r) => r.action === 'SCMP_ACT_ALLOW')
        .map((r) => r.args),
    ).toEqual([[{ index: 0, op: 'SCMP_CMP_LE', value: 1 }], [{ index: 1, op: 'SCMP_CMP_GT', value: 9 }]]);
    // Without conditions: the syscall leaves the allow-list.
    const all = seccomp({ seccomp: { rules: [{ names: ['kill'], action: 'errno' }] } });
    expect(rulesFor(all, 'kill')).toEqual([{ names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
    // The documented MPTCP rule on top of podfence's own (which fix the protocol): the MPTCP entries drop out.
    const doc = seccomp({
      preset: 'network-server',
      seccomp: { rules: [{ names: ['socket'], action: 'errno', args: [{ index: 2, op: 'EQ', value: 262 }] }] },
    });
    const allowsOf = (s: OciSeccomp) => rulesFor(s, 'socket').filter((r) => r.action === 'SCMP_ACT_ALLOW');
    expect(allowsOf(doc).length).toBe(allowsOf(seccomp({ preset: 'network-server' })).length - 2);
    for (const r of allowsOf(doc)) expect(r.args).not.toContainEqual({ index: 2, op: 'SCMP_CMP_EQ', value: 262 });
  });

  test('rules that cannot be narrowed exactly are field errors', () => {
    const v = (rules: unknown) =>
      validateProfile({
        apiVersion: 'podfence.dev/v1alpha1',
        kind: 'SandboxProfile',
        metadata: { name: 'x' },
        spec: { seccomp: { rules } },
      });
    expect(
      v([{ names: ['read'], action: 'errno', args: [{ index: 2, op: 'MASKED_EQ', value: 3, valueTwo: 1 }] }]),
    ).toEqual({
      ok: false,
      errors: [{ path: 'spec.seccomp.rules[0]', message: expect.stringMatching(/single-bit mask/) }],
    });
    expect(v([{ names: ['mmap'], action: 'errno', args: [{ index: 2, op: 'EQ', value: 7 }] }])).toEqual({
      ok: false,
      errors: [{ path: 'spec.seccomp.rules[0]', message: expect.stringMatching(/argument 2 of mmap overlaps/) }],
    });
    // podfence's socket rules fix each argument (EQ): a user condition on them is evaluated exactly.
    expect(v([{ names: ['socket'], action: 'errno', args: [{ index: 0, op: 'EQ', value: 2 }] }]).ok).toBe(true);
    const noInet = JSON.parse(
      compileSeccomp(
        profile({
          seccomp: { rules: [{ names: ['socket'], action: 'errno', args: [{ index: 0, op: 'EQ', value: 2 }] }] },
        }),
      ).json,
    ) as OciSeccomp;
    const families = rulesFor(noInet, 'socket')
      .filter((r) => r.action === 'SCMP_ACT_ALLOW')
      .map((r) => r.args?.[0]?.value);
    expect(new Set(families)).toEqual(new Set([1, 10, 16]));
    expect(
      v([{ names: ['read'], action: 'errno', args: [{ index: 0, op: 'MASKED_EQ', value: 4, valueTwo: 4 }] }]).ok,
    ).toBe(true);
  });

  test('property: no spec can make an always-denied syscall allowed', () => {
    const denied = new Set(ALWAYS_DENIED);
    fc.assert(
      fc.property(
        fc.constantFrom(...PRESETS),
        fc.uniqueArray(fc.constantFrom(...ALL_SYSCALLS), { maxLength: 20 }),
        fc.uniqueArray(fc.constantFrom(...ALL_SYSCALLS), { maxLength: 20 }),
        fc.constantFrom('errno', 'kill', 'log'),
        (preset, allow, deny, defaultAction) => {
          const v = validateProfile({
            apiVersion: 'podfence.dev/v1alpha1',
            kind: 'SandboxProfile',
            metadata: { name: 'p' },
            spec: {
              preset,
              seccomp: {
                allow,
                deny,
                defaultAction,
                rules: [{ names: allow.length ? allow : ['read'], action: 'allow' }],
              },
            },
          });
          if (!v.ok) return; // rejected: fine
          const s = JSON.parse(compileSeccomp(v.profile).json) as OciSeccomp;
          for (const r of s.syscalls) {
            if (r.action === 'SCMP_ACT_ALLOW' || r.action === 'SCMP_ACT_LOG') {
              for (const n of r.names) expect(denied.has(n)).toBe(false);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('the preset tables only hold real syscall names', () => {
    const known = new Set([...ALL_SYSCALLS, ...COMPAT32_SYSCALLS]);
    for (const [preset, p] of Object.entries(PRESET_SECCOMP)) {
      for (const n of p.allow) expect([preset, n, known.has(n)]).toEqual([preset, n, true]);
    }
    for (const n of ALWAYS_DENIED) expect([n, known.has(n)]).toEqual([n, true]);
  });
});

describe('compileLandlockArgs', () => {
  test('baseline, preset defaults, user paths, tcp and scopes as podfence-init options', () => {
    const args = compileLandlockArgs(
      profile({
        preset: 'network-server',
        landlock: { readOnly: ['/app'], tcp: { bind: [8080, 80], connect: [443] }, scope: ['signal'] },
      }),
    );
    const pairs = (opt: string) => args.flatMap((a, i) => (a === opt ? [args[i + 1]] : []));
    expect(args.slice(0, 4)).toEqual(['--mode', 'enforce', '--missing', 'skip']);
    // The author's paths (and the wrapper's own directory) are required; the preset's and baseline's optional.
    expect(pairs('--ro')).toEqual(['/app']);
    expect(pairs('--optional-ro')).toEqual(
      expect.arrayContaining(['/etc', '/usr', '/proc', '/dev/urandom', '/dev/random']),
    );
    expect(pairs('--optional-ro')).not.toContain('/proc/self');
    expect(pairs('--optional-rw')).toEqual(['/dev/full', '/dev/null', '/dev/termination-log', '/dev/zero', '/tmp']);
    expect(pairs('--exec')).toEqual(['/podfence']);
    expect(pairs('--optional-exec')).toEqual(
      expect.arrayContaining(['/lib64/ld-linux-x86-64.so.2', '/lib/ld-linux-aarch64.so.1', '/usr/bin']),
    );
    expect(pairs('--bind-tcp')).toEqual(['80', '8080']);
    expect(pairs('--connect-tcp')).toEqual(['443']);
    expect(args).toContain('--deny-tcp');
    expect(pairs('--scope')).toEqual(['signal']);
  });

  test('baseline off, preset none: only the wrapper directory; no TCP options without tcp', () => {
    expect(compileLandlockArgs(profile({ landlock: { baseline: false } }))).toEqual([
      '--mode',
      'enforce',
      '--missing',
      'skip',
      '--exec',
      '/podfence',
      '--seccomp-log',
      expect.stringMatching(/^1:aarch64=[0-9,-]+:x86_64=[0-9,-]+$/),
    ]);
  });

  test('tcp: {} restricts TCP with no port; extra volume directories; audit gives nothing', () => {
    const args = compileLandlockArgs(
      profile({ landlock: { baseline: false, tcp: {}, mode: 'best-effort', missingPaths: 'fail' } }),
      {
        readOnly: ['/config', '/config'],
        readWrite: ['/data'],
      },
    );
    expect(args).toEqual([
      '--mode',
      'best-effort',
      '--missing',
      'fail',
      '--exec',
      '/podfence',
      '--volume-ro',
      '/config',
      '--volume-rw',
      '/data',
      '--deny-tcp',
      '--seccomp-log',
      expect.any(String),
    ]);
    expect(compileLandlockArgs(profile({ mode: 'audit', landlock: { readOnly: ['/x'] } }))).toEqual([]);
  });

  test('a path both the author and the preset list is the author’s (required under missingPaths: fail)', () => {
    const args = compileLandlockArgs(
      profile({ preset: 'computation', landlock: { readOnly: ['/etc'], execute: ['/usr/bin'], missingPaths: 'fail' } }),
    );
    const pairs = (opt: string) => args.flatMap((a, i) => (a === opt ? [args[i + 1]] : []));
    expect(pairs('--ro')).toEqual(['/etc']);
    expect(pairs('--optional-ro')).not.toContain('/etc');
    expect(pairs('--exec')).toEqual(['/podfence', '/usr/bin']);
    expect(pairs('--optional-exec')).toContain('/bin');
    expect(pairs('--optional-exec')).not.toContain('/usr/bin');
  });

  test('aarch64-only profiles get only aarch64 loaders', () => {
    const args = compileLandlockArgs(profile({ seccomp: { architectures: ['aarch64'] } }));
    expect(args).toContain('/lib/ld-linux-aarch64.so.1');
    expect(args).not.toContain('/lib64/ld-linux-x86-64.so.2');
  });
});

describe('securityContextFor, resolveProfile, profileVersion', () => {
  test('defaults: 65534, non-root, no privilege escalation, all capabilities dropped but the kept ones', () => {
    expect(securityContextFor(profile({ preset: 'network-server' }))).toEqual({
      // Kept NET_BIND_SERVICE can't reach a non-root process (no ambient capabilities): the sysctl stands in.
      pod: {
        runAsUser: 65534,
        runAsGroup: 65534,
        runAsNonRoot: true,
        sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
      },
      container: {
        runAsUser: 65534,
        runAsGroup: 65534,
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
      },
    });
    const sc = securityContextFor(
      profile({ preset: 'network-server', user: { runAsUser: 1000, fsGroup: 2000 }, capabilities: { keep: [] } }),
    );
    expect(sc.pod).toEqual({ runAsUser: 1000, runAsGroup: 65534, runAsNonRoot: true, fsGroup: 2000 });
    expect(sc.container.capabilities).toEqual({ drop: ['ALL'] });
    expect(JSON.stringify(sc)).not.toContain('seccomp');
  });

  test('resolveProfile fills every default', () => {
    const r = resolveProfile(profile({}));
    expect(r).toMatchObject({
      name: 'web',
      preset: 'none',
      mode: 'enforce',
      seccomp: { defaultAction: 'errno', errno: 1, architectures: ['x86_64', 'aarch64'] },
      landlock: { mode: 'enforce', baseline: true, tcp: null, missingPaths: 'skip', trustVolumes: true },
      allowHost: { network: false, pid: false, ipc: false, hostPath: false },
    });
  });

  test('profileVersion: stable, changes with anything resolved (also Landlock-only changes)', () => {
    const v = profileVersion(profile({ preset: 'computation' }));
    expect(v).toMatch(/^[0-9a-f]{16}$/);
    expect(profileVersion(profile({ preset: 'computation' }))).toBe(v);
    expect(profileVersion(profile({ preset: 'computation', landlock: { readOnly: ['/x'] } }))).not.toBe(v);
    expect(profileVersion(profile({ preset: 'computation', user: { runAsUser: 7 } }))).not.toBe(v);
    expect(profileVersion(profile({ preset: 'computation' }, 'other'))).not.toBe(v);
  });
});
