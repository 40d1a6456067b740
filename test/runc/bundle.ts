// Runs a command in a real runc container whose root filesystem is ONE mount, as an image's is: an overlay whose
// lower layer is the host's root filesystem (so /usr, /etc, /lib... are the host's, merged-/usr symlinks included)
// and whose upper layer is a private tmpfs, remounted read-only by runc; tmpfs /tmp, with a given OCI seccomp
// profile (or none). One mount matters: podfence-init trusts the ELF loader's symlink only onto the container's
// root filesystem. Root only: runc and the mounts need it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OciSeccomp } from '../../src/profile/seccomp.js';

export const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));
export const canRun = process.getuid?.() === 0 && RUNC !== undefined;

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

let counter = 0;
const stateRoot = mkdtempSync(join(tmpdir(), 'podfence-runc-state-'));

function bindRo(source: string, destination: string) {
  return { destination, type: 'bind', source, options: ['rbind', 'ro', 'nosuid', 'nodev'] };
}

export interface RunOptions {
  /** Extra read-only bind mounts (source on the host -> destination in the container). */
  binds?: { source: string; destination: string }[];
  /** Run as this uid/gid with no capabilities at all (like a sandboxed pod); default root with runc's default set. */
  user?: { uid: number; gid: number };
  timeoutMs?: number;
}

export function configFor(args: string[], seccomp: OciSeccomp | undefined, opts: RunOptions = {}) {
  const mounts: unknown[] = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=65536k'] },
  ];
  for (const b of opts.binds ?? []) mounts.push(bindRo(b.source, b.destination));
  const caps = opts.user ? [] : ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: opts.user ?? { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', 'HOME=/tmp', 'LANG=C.UTF-8'],
      cwd: '/tmp',
      // runc's default set (as `runc spec`): no CAP_SYS_ADMIN, so the kernel itself refuses privileged mounts.
      capabilities: Object.fromEntries(['bounding', 'effective', 'permitted'].map((k) => [k, caps])),
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'podfence-runc',
    mounts,
    linux: {
      // The host network namespace: a listener on 127.0.0.1 needs a loopback that is up. No `resources`: cgroup v1.
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
      ...(seccomp ? { seccomp } : {}),
    },
  };
}

/** `runc run` one container to completion; stdout/stderr as text. */
export function runInContainer(args: string[], seccomp: OciSeccomp | undefined, opts: RunOptions = {}): RunResult {
  if (!RUNC) throw new Error('runc not installed');
  const bundle = mkdtempSync(join(tmpdir(), 'podfence-bundle-'));
  const rootfs = join(bundle, 'rootfs');
  const layers = join(bundle, 'layers');
  mkdirSync(rootfs);
  mkdirSync(layers);
  const id = `podfence-test-${process.pid}-${++counter}`;
  try {
    // The upper layer on its own tmpfs: overlayfs refuses an upper directory inside its lower layer.
    mount(['-t', 'tmpfs', '-o', 'size=64m', 'podfence-layers', layers]);
    mkdirSync(join(layers, 'upper'));
    mkdirSync(join(layers, 'work'));
    const layerOpts = `lowerdir=/,upperdir=${join(layers, 'upper')},workdir=${join(layers, 'work')}`;
    mount(['-t', 'overlay', '-o', layerOpts, 'podfence-rootfs', rootfs]);
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(configFor(args, seccomp, opts)));
    const r = spawnSync(RUNC, ['--root', stateRoot, 'run', '--bundle', bundle, id], {
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    spawnSync(RUNC, ['--root', stateRoot, 'delete', '--force', id], { stdio: 'ignore' });
    for (const m of [rootfs, layers]) spawnSync('umount', [m], { stdio: 'ignore' });
    rmSync(bundle, { recursive: true, force: true });
  }
}

function mount(args: string[]): void {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount ${args.join(' ')}: ${r.stderr}`);
}

export function cleanupState(): void {
  rmSync(stateRoot, { recursive: true, force: true });
}
