import { AUDIT, type AuditRecord } from './audit-record.js';
import type { AuditEvent } from './audit-events.js';
import { AARCH64_NUMBERS, X86_64_NUMBERS } from '../../profile/syscall-numbers.js';

export type Layer = 'landlock' | 'seccomp';
/** What the kernel did: refused it, only logged it (audit mode / a `log` action), or killed the caller. */
export type Outcome = 'denied' | 'logged' | 'killed';

/** One refused (or, in audit mode, logged) operation, before it is tied to a pod. */
export interface Denial {
  layer: Layer;
  outcome: Outcome;
  /** `write`, `create`, `read`, `execute`, `connect`, `bind`, `syscall`, ... */
  operation: string;
  /** A path, `tcp <port>` or a syscall name. */
  object: string;
  /** The kernel's own words: Landlock blockers (`fs.write_file`) or the seccomp action (`errno`). */
  detail: string;
  /** The acting process (global pid) when the records name it. */
  pid?: number;
  comm?: string;
  exe?: string;
  /** /proc/<pid>/cgroup as audit-tap read it when the record came (lines joined by `|`). */
  cgroup?: string;
  /** The parent's, when the process was already gone (audit-tap's pf_pcgroup; Landlock only: from SYSCALL's ppid). */
  parentCgroup?: string;
  /** The Landlock domain, and its creator's cgroup (read at the domain's first logged denial): podfence-init
   * creates the domain as the container's entrypoint, so this names the container even when the actor is gone. */
  domain?: string;
  domainCgroup?: string;
  time: number;
}

const AUDIT_ARCH: Record<string, { name: string; numbers: Readonly<Record<number, string>> }> = {
  c000003e: { name: 'x86_64', numbers: X86_64_NUMBERS },
  c00000b7: { name: 'aarch64', numbers: AARCH64_NUMBERS },
};

/** The syscall of a seccomp record: its name, or `#<n> (<arch>)` when the table has no name for it. */
export function syscallName(arch: string | undefined, nr: string | undefined): string {
  const a = AUDIT_ARCH[(arch ?? '').toLowerCase()];
  const n = Number(nr);
  const name = a?.numbers[n];
  if (name) return name;
  return `#${nr ?? '?'} (${a?.name ?? `arch ${arch ?? '?'}`})`;
}

/** SECCOMP_RET_ACTION_FULL of the record's `code=`. */
function seccompOutcome(code: string | undefined): { outcome: Outcome; action: string } | undefined {
  const c = Number.parseInt((code ?? '').replace(/^0x/, ''), 16) >>> 0;
  if (Number.isNaN(c)) return undefined;
  switch ((c & 0xffff0000) >>> 0) {
    case 0x7ffc0000:
      return { outcome: 'logged', action: 'log' };
    case 0x00050000:
      return { outcome: 'denied', action: 'errno' };
    case 0x80000000:
      return { outcome: 'killed', action: 'kill_process' };
    case 0x00000000:
      return { outcome: 'killed', action: 'kill_thread' };
    case 0x00030000:
      return { outcome: 'denied', action: 'trap' };
    default:
      // trace, user_notif, allow: not a denial podfence's profiles produce.
      return undefined;
  }
}

/** Landlock blocker -> the operation a user reads in the Event. */
const LANDLOCK_OPERATION: Record<string, string> = {
  'fs.execute': 'execute',
  'fs.write_file': 'write',
  'fs.read_file': 'read',
  'fs.read_dir': 'list',
  'fs.remove_dir': 'remove',
  'fs.remove_file': 'remove',
  'fs.make_char': 'create',
  'fs.make_dir': 'create',
  'fs.make_reg': 'create',
  'fs.make_sock': 'create',
  'fs.make_fifo': 'create',
  'fs.make_block': 'create',
  'fs.make_sym': 'create',
  'fs.refer': 'rename',
  'fs.truncate': 'truncate',
  'fs.ioctl_dev': 'ioctl',
  'fs.change_topology': 'mount',
  'net.bind_tcp': 'bind',
  'net.connect_tcp': 'connect',
  'scope.abstract_unix_socket': 'connect-unix',
  'scope.signal': 'signal',
  ptrace: 'ptrace',
};

function landlockObject(f: Record<string, string>, blocker: string): string {
  if (blocker === 'net.connect_tcp') return `tcp ${f.dest ?? '?'}`;
  if (blocker === 'net.bind_tcp') return `tcp ${f.src ?? f.lport ?? '?'}`;
  if (f.path !== undefined) return f.path;
  if (f.opid !== undefined) return `pid ${f.opid}${f.ocomm ? ` (${f.ocomm})` : ''}`;
  if (f.name !== undefined) return f.name;
  return f.dev !== undefined ? `dev ${f.dev} ino ${f.ino ?? '?'}` : '?';
}

interface Creator {
  pid: number;
  comm?: string;
  exe?: string;
  cgroup?: string;
}

/** Creator of each Landlock domain (from `status=allocated` records): the pid to fall back on. */
export class LandlockDomains {
  private readonly creators = new Map<string, Creator>();
  constructor(private readonly max = 10_000) {}

  note(rec: AuditRecord): void {
    const f = rec.fields;
    if (rec.type !== AUDIT.LANDLOCK_DOMAIN || !f.domain) return;
    if (f.status === 'allocated' && f.pid) {
      if (this.creators.size >= this.max) this.creators.delete(this.creators.keys().next().value!);
      this.creators.set(f.domain, { pid: Number(f.pid), comm: f.comm, exe: f.exe, cgroup: f.pf_cgroup });
    } else if (f.status === 'deallocated') {
      this.creators.delete(f.domain);
    }
  }

  creator(domain: string | undefined) {
    return domain ? this.creators.get(domain) : undefined;
  }
}

/** The denials one audit event reports (none for events that are not Landlock or seccomp denials). */
export function denialsOf(ev: AuditEvent, domains?: LandlockDomains): Denial[] {
  for (const r of ev.records) domains?.note(r);
  const out: Denial[] = [];
  const sys = ev.records.find((r) => r.type === AUDIT.SYSCALL)?.fields;
  for (const r of ev.records) {
    const f = r.fields;
    if (r.type === AUDIT.SECCOMP) {
      const o = seccompOutcome(f.code);
      if (!o) continue;
      out.push({
        layer: 'seccomp',
        outcome: o.outcome,
        operation: 'syscall',
        object: syscallName(f.arch, f.syscall),
        detail: o.action,
        ...actor(f.pid, f.comm, f.exe, f.pf_cgroup),
        time: ev.time,
      });
    } else if (r.type === AUDIT.LANDLOCK_ACCESS) {
      const blockers = (f.blockers ?? '').split(',').filter(Boolean);
      const first = blockers[0] ?? '?';
      const creator = domains?.creator(f.domain);
      // The acting task is in the event's SYSCALL record; without one (no audit context), the domain's creator.
      const who = sys?.pid
        ? {
            ...actor(sys.pid, sys.comm, sys.exe, sys.pf_cgroup),
            ...(sys.pf_pcgroup ? { parentCgroup: sys.pf_pcgroup } : {}),
          }
        : creatorActor(creator);
      out.push({
        layer: 'landlock',
        outcome: 'denied',
        operation: LANDLOCK_OPERATION[first] ?? first,
        object: landlockObject(f, first),
        detail: blockers.join(','),
        ...who,
        ...(f.domain ? { domain: f.domain } : {}),
        ...(creator?.cgroup ? { domainCgroup: creator.cgroup } : {}),
        time: ev.time,
      });
    }
  }
  return out;
}

function actor(pid: string | undefined, comm: string | undefined, exe: string | undefined, cgroup?: string) {
  const n = Number(pid);
  return {
    ...(Number.isInteger(n) && n > 0 ? { pid: n } : {}),
    ...(comm !== undefined ? { comm } : {}),
    ...(exe !== undefined ? { exe } : {}),
    ...(cgroup ? { cgroup } : {}),
  };
}

function creatorActor(c: Creator | undefined) {
  return c ? actor(String(c.pid), c.comm, c.exe, c.cgroup) : {};
}
