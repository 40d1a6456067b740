import type { CoreV1Event } from '@kubernetes/client-node';
import { DENIAL_ANNOTATION_PREFIX } from '../common/constants.js';
import type { SandboxProfile, SandboxProfileSpec } from '../profile/schema.js';
import { ALWAYS_DENIED_SET } from '../profile/syscalls.js';

/** A denial as recorded in a PodfenceDenied Event (its annotations), with the Event's count. */
export interface RecordedDenial {
  layer: string;
  outcome: string;
  operation: string;
  object: string;
  profile: string;
  container?: string;
  pod?: string;
  count: number;
}

export function denialFromEvent(ev: CoreV1Event): RecordedDenial | undefined {
  const a = ev.metadata?.annotations ?? {};
  const get = (k: string) => a[DENIAL_ANNOTATION_PREFIX + k];
  const [layer, operation, object, profile] = [get('layer'), get('operation'), get('object'), get('profile')];
  if (!layer || !operation || object === undefined || !profile) return undefined;
  return {
    layer,
    outcome: get('outcome') ?? 'denied',
    operation,
    object,
    profile,
    ...(get('container') ? { container: get('container') } : {}),
    ...(ev.involvedObject?.name ? { pod: ev.involvedObject.name } : {}),
    count: ev.count ?? 1,
  };
}

export interface Change {
  /** `landlock.readWrite`, `seccomp.allow`, ... */
  field: string;
  value: string | number;
  /** `write /etc/app.conf (3 denials)` */
  because: string;
  /** Why this widening weakens the sandbox a lot (shown as a WARNING). */
  dangerous?: string;
}

export interface Suggestion {
  profile: string;
  spec: SandboxProfileSpec;
  changes: Change[];
  /** Denials no profile change can allow, or that need something other than a list entry. */
  notes: string[];
}

/** Syscalls that reach namespaces, mounts or other processes: allowing one is a big step for a sandbox. */
const RISKY_SYSCALLS = new Set([
  'unshare',
  'setns',
  'mount',
  'umount2',
  'pivot_root',
  'chroot',
  'clone3',
  'bpf',
  'ptrace',
  'process_vm_readv',
  'process_vm_writev',
  'perf_event_open',
  'userfaultfd',
  'keyctl',
  'add_key',
  'open_by_handle_at',
  'name_to_handle_at',
  'init_module',
  'finit_module',
  'kexec_load',
]);
/** Directories a write grant beneath which gives a workload the system: binaries, config, kernel interfaces. */
const SYSTEM_DIRS = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib64',
  '/proc',
  '/root',
  '/sbin',
  '/sys',
  '/usr',
  '/var/run',
];

function pathRisk(path: string, write: boolean): string | undefined {
  if (path === '/') return `grants ${write ? 'write' : 'access'} to the whole filesystem`;
  if (!write) return undefined;
  const sys = SYSTEM_DIRS.find((d) => path === d || path.startsWith(`${d}/`));
  return sys ? `write access under ${sys}, a system directory` : undefined;
}

/** The Landlock list that allows an operation, or undefined when no path list can. */
const LANDLOCK_LIST: Record<string, 'readOnly' | 'readWrite' | 'execute'> = {
  read: 'readOnly',
  list: 'readOnly',
  write: 'readWrite',
  create: 'readWrite',
  remove: 'readWrite',
  rename: 'readWrite',
  truncate: 'readWrite',
  execute: 'execute',
};
const WRITE_LISTS = new Set(['readWrite']);

/**
 * The profile change that would allow the recorded denials of one profile: Landlock paths and ports added to the
 * lists that grant them, seccomp syscalls taken out of `deny` or added to `allow`. Risky widenings are marked;
 * what cannot be allowed (podfence's always-denied syscalls, Landlock scopes, ioctl) is said in notes. Pure.
 */
export function suggestChanges(profile: SandboxProfile, denials: RecordedDenial[]): Suggestion {
  const name = profile.metadata.name;
  const spec: SandboxProfileSpec = structuredClone(profile.spec ?? {});
  const changes: Change[] = [];
  const notes: string[] = [];
  const mine = denials.filter((d) => d.profile === name);
  // One change per (field, value), with every denial that asks for it counted.
  const grouped = new Map<string, { d: RecordedDenial; count: number }>();
  for (const d of mine) {
    const key = `${d.layer}\u0000${d.operation}\u0000${d.object}`;
    const g = grouped.get(key);
    if (g) g.count += d.count;
    else grouped.set(key, { d, count: d.count });
  }
  const add = <T extends string | number>(list: T[] | undefined, v: T): T[] => [...new Set([...(list ?? []), v])];
  for (const { d, count } of [...grouped.values()].sort((a, b) => (a.d.object < b.d.object ? -1 : 1))) {
    const because = `${d.operation === 'create' ? 'create in' : d.operation} ${d.object} (${count} ${count === 1 ? 'denial' : 'denials'})`;
    if (d.layer === 'seccomp' && d.operation === 'syscall') {
      const sc = d.object;
      if (ALWAYS_DENIED_SET.has(sc)) {
        notes.push(`syscall ${sc}: podfence always denies it; no profile can allow it (${because})`);
        continue;
      }
      if (/^#/.test(sc)) {
        notes.push(`syscall ${sc}: not a syscall name podfence knows (${because})`);
        continue;
      }
      spec.seccomp = { ...spec.seccomp };
      const dangerous = RISKY_SYSCALLS.has(sc) ? `${sc} reaches namespaces, mounts or other processes` : undefined;
      if (spec.seccomp.deny?.includes(sc)) {
        spec.seccomp.deny = spec.seccomp.deny.filter((s) => s !== sc);
        if (!spec.seccomp.deny.length) delete spec.seccomp.deny;
        // `seccomp: {}` would reach the apiserver as null through some clients (the e2e's server-side apply did).
        if (!Object.keys(spec.seccomp).length) delete spec.seccomp;
        changes.push({ field: 'seccomp.deny', value: `-${sc}`, because, ...(dangerous ? { dangerous } : {}) });
      } else {
        spec.seccomp.allow = add(spec.seccomp.allow, sc);
        changes.push({ field: 'seccomp.allow', value: sc, because, ...(dangerous ? { dangerous } : {}) });
      }
      continue;
    }
    if (d.layer !== 'landlock') continue;
    if (d.operation === 'connect' || d.operation === 'bind') {
      const port = Number(/^tcp (\d+)$/.exec(d.object)?.[1]);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        notes.push(`${because}: no port to allow`);
        continue;
      }
      spec.landlock = { ...spec.landlock, tcp: { ...spec.landlock?.tcp } };
      const tcp = spec.landlock.tcp!;
      tcp[d.operation] = add(tcp[d.operation], port).sort((a, b) => a - b);
      changes.push({ field: `landlock.tcp.${d.operation}`, value: port, because });
      continue;
    }
    const list = LANDLOCK_LIST[d.operation];
    if (!list || !d.object.startsWith('/')) {
      notes.push(`landlock ${because}: not something a path or port list allows (scope, ioctl, mount, signal)`);
      continue;
    }
    spec.landlock = { ...spec.landlock };
    if (spec.landlock[list]?.includes(d.object)) continue;
    spec.landlock[list] = add(spec.landlock[list], d.object).sort();
    const dangerous = pathRisk(d.object, WRITE_LISTS.has(list));
    changes.push({ field: `landlock.${list}`, value: d.object, because, ...(dangerous ? { dangerous } : {}) });
  }
  return { profile: name, spec, changes, notes };
}
