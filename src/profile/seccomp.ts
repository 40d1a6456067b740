import { SECCOMP_SUBDIR } from '../common/constants.js';
import { canonicalJson, shortHash } from './hash.js';
import { resolveProfile, type ResolvedProfile } from './resolve.js';
import type { Architecture, SandboxProfile, SocketKind } from './schema.js';
import { ALWAYS_DENIED, knownOn } from './syscalls.js';

/** OCI runtime-spec seccomp (what containerd reads from the kubelet's seccomp directory and hands to runc). */
export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}
export interface OciSeccompSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[];
}
export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: OciSeccompSyscall[];
}

export interface CompiledSeccomp {
  /** Deterministic bytes: the same profile always gives the same JSON. */
  json: string;
  /** 16 hex characters: sha256 of name + NUL + json. */
  hash: string;
  /** `<name>-<hash>.json` */
  fileName: string;
  /** `podfence/<name>-<hash>.json`: the pod's seccompProfile.localhostProfile. */
  localhostProfile: string;
}

/**
 * Plain OCI architectures, native only. moby's archMap adds the 32-bit modes (x86, x32, arm); podfence leaves them
 * out, so every 32-bit syscall meets the filter's bad-architecture action: there, socketcall and ipc multiplex
 * calls behind a pointer (past the socket-family and SHM_EXEC rules) and old_mmap takes its protection in memory.
 */
const OCI_ARCHES: Record<Architecture, string[]> = {
  x86_64: ['SCMP_ARCH_X86_64'],
  aarch64: ['SCMP_ARCH_AARCH64'],
};

const ENOSYS = 38;
const EPROTONOSUPPORT = 93;
const IPPROTO_MPTCP = 262;
const AF = { unix: 1, inet: 2, inet6: 10, netlink: 16 };
const SOCK = { stream: 1, dgram: 2, raw: 3 };
/** The type argument carries SOCK_NONBLOCK/SOCK_CLOEXEC above these bits. */
const SOCK_TYPE_MASK = 0xf;
const IPPROTO = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };
const PROT_WRITE = 0x2;
const PROT_EXEC = 0x4;
const MAP_ANONYMOUS = 0x20;
const SHM_EXEC = 0o100000;
const MFD_NOEXEC_SEAL = 0x8;
/** CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP: clone may not create namespaces (as moby). */
const CLONE_NS_FLAGS = 0x7e020000;
/** personality() values moby allows: PER_LINUX, PER_LINUX32, UNAME26, query. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0xffffffff];

const eq = (index: number, value: number): OciSeccompArg => ({ index, value, op: 'SCMP_CMP_EQ' });
/** (arg & mask) == value */
const masked = (index: number, mask: number, value: number): OciSeccompArg => ({
  index,
  value: mask,
  valueTwo: value,
  op: 'SCMP_CMP_MASKED_EQ',
});

/**
 * The `socket` calls a list of socket kinds allows, as alternatives (family, type, protocol all fixed: every
 * other family, raw sockets, SCTP, ... meet the default action). MPTCP is part of tcp unless refused.
 */
export function socketAlternatives(kinds: readonly SocketKind[], refuseMptcp: boolean): OciSeccompArg[][] {
  const has = new Set(kinds);
  const alts: OciSeccompArg[][] = [];
  const of = (family: number, type: number, protocols: number[]) =>
    protocols.forEach((p) => alts.push([eq(0, family), masked(1, SOCK_TYPE_MASK, type), eq(2, p)]));
  if (has.has('unix')) alts.push([eq(0, AF.unix)]);
  for (const family of [AF.inet, AF.inet6]) {
    if (has.has('tcp')) of(family, SOCK.stream, [0, IPPROTO.tcp, ...(refuseMptcp ? [] : [IPPROTO_MPTCP])]);
    if (has.has('udp')) of(family, SOCK.dgram, [0, IPPROTO.udp]);
    if (has.has('icmp')) of(family, SOCK.dgram, [family === AF.inet ? IPPROTO.icmp : IPPROTO.icmpv6]);
  }
  if (has.has('netlink')) {
    of(AF.netlink, SOCK.raw, [0]);
    of(AF.netlink, SOCK.dgram, [0]);
  }
  return alts;
}

/**
 * Without allowJit: no memory that is written and then executed, and no executable memfd (fexecve of a memfd
 * escapes Landlock's execute right: the file is on no path). The ELF loaders still map code from files.
 */
const NO_JIT: Record<string, OciSeccompArg[][]> = {
  // not PROT_EXEC, or: not writable and backed by a file
  mmap: [[masked(2, PROT_EXEC, 0)], [masked(2, PROT_WRITE, 0), masked(3, MAP_ANONYMOUS, 0)]],
  mprotect: [[masked(2, PROT_EXEC, 0)]],
  pkey_mprotect: [[masked(2, PROT_EXEC, 0)]],
  shmat: [[masked(2, SHM_EXEC, 0)]],
  memfd_create: [[masked(1, MFD_NOEXEC_SEAL, MFD_NOEXEC_SEAL)]],
};

/** A user rule that cannot be compiled exactly (validateProfile turns it into a field error). */
export class SeccompRuleError extends Error {
  constructor(
    readonly rule: number,
    message: string,
  ) {
    super(`spec.seccomp.rules[${rule}]: ${message}`);
  }
}

const ociArg = (a: { index: number; op: string; value: number; valueTwo?: number | undefined }): OciSeccompArg => ({
  index: a.index,
  value: a.value,
  ...(a.valueTwo !== undefined ? { valueTwo: a.valueTwo } : {}),
  op: `SCMP_CMP_${a.op}`,
});

const NEGATED: Record<string, string> = {
  SCMP_CMP_EQ: 'SCMP_CMP_NE',
  SCMP_CMP_NE: 'SCMP_CMP_EQ',
  SCMP_CMP_LT: 'SCMP_CMP_GE',
  SCMP_CMP_GE: 'SCMP_CMP_LT',
  SCMP_CMP_LE: 'SCMP_CMP_GT',
  SCMP_CMP_GT: 'SCMP_CMP_LE',
};

/** not(c), or null when c can never hold (so its negation always does). */
function negate(c: OciSeccompArg, name: string, rule: number): OciSeccompArg | null {
  const op = NEGATED[c.op];
  if (op) return { index: c.index, value: c.value, op };
  // MASKED_EQ(mask, v): only single-bit masks have a MASKED_EQ negation.
  const mask = c.value;
  const v = c.valueTwo ?? 0;
  if ((v & mask) !== v) return null;
  if (mask > 0 && Number.isSafeInteger(mask) && (mask & (mask - 1)) === 0 && mask <= 2 ** 30) {
    return { index: c.index, value: mask, valueTwo: v === 0 ? mask : 0, op: 'SCMP_CMP_MASKED_EQ' };
  }
  throw new SeccompRuleError(
    rule,
    `a MASKED_EQ condition on ${name}, which the profile allows, needs a single-bit mask (it is compiled as the ` +
      'allow rule with the negated condition); use several rules, or deny the syscall and allow it back by a rule',
  );
}

/** Does condition c hold for the argument value v? */
function holds(c: OciSeccompArg, v: number): boolean {
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      return v === c.value;
    case 'SCMP_CMP_NE':
      return v !== c.value;
    case 'SCMP_CMP_LT':
      return v < c.value;
    case 'SCMP_CMP_LE':
      return v <= c.value;
    case 'SCMP_CMP_GT':
      return v > c.value;
    case 'SCMP_CMP_GE':
      return v >= c.value;
    default: // MASKED_EQ; BigInt: the mask may exceed 32 bits
      return (BigInt(v) & BigInt(c.value)) === BigInt(c.valueTwo ?? 0);
  }
}

/**
 * The allow alternatives of a syscall, minus what a deny rule with conditions `args` matches:
 * A and not(c1 and ... and cn) = (A and not c1) or ... or (A and not cn).
 */
function narrow(alts: OciSeccompArg[][], args: OciSeccompArg[], name: string, rule: number): OciSeccompArg[][] {
  const out: OciSeccompArg[][] = [];
  for (const a of alts) {
    for (const c of args) {
      const n = negate(c, name, rule);
      if (n === null) {
        out.push(a);
        continue;
      }
      const same = a.find((x) => x.index === n.index);
      if (same && JSON.stringify(same) === JSON.stringify(n)) out.push(a);
      else if (same?.op === 'SCMP_CMP_EQ') {
        // The alternative fixes the argument: keep it when that value satisfies not(c), drop it otherwise.
        if (holds(n, same.value)) out.push(a);
      } else if (same) {
        // runc ORs two conditions on one index, which would widen the rule instead of narrowing it.
        throw new SeccompRuleError(
          rule,
          `its condition on argument ${n.index} of ${name} overlaps podfence's own rule for ${name} on that argument`,
        );
      } else out.push([...a, n]);
    }
  }
  // Duplicates (e.g. a condition that was already there) would only repeat entries.
  return [...new Map(out.map((a) => [JSON.stringify(a), a])).values()];
}

/** The OCI seccomp structure of a resolved profile (exported for tests and `podfence compile`). */
export function seccompFor(r: ResolvedProfile): OciSeccomp {
  const audit = r.mode === 'audit';
  const { defaultAction, errno, architectures } = r.seccomp;
  const forArch = (names: readonly string[]) => [...new Set(names)].filter((n) => knownOn(n, architectures)).sort();

  // In audit mode nothing is denied: every deny becomes a log.
  const denyAction = (kind: 'errno' | 'kill', ret: number): Pick<OciSeccompSyscall, 'action' | 'errnoRet'> => {
    if (audit) return { action: 'SCMP_ACT_LOG' };
    if (kind === 'kill') return { action: 'SCMP_ACT_KILL_PROCESS' };
    return { action: 'SCMP_ACT_ERRNO', errnoRet: ret };
  };
  const actionOf = (a: 'allow' | 'errno' | 'kill' | 'log', ret: number) =>
    a === 'allow' ? { action: 'SCMP_ACT_ALLOW' } : a === 'log' ? { action: 'SCMP_ACT_LOG' } : denyAction(a, ret);

  // Allowed syscalls as name -> alternatives (ORed), each a list of conditions (ANDed); [[]] = unconditional.
  const allowed = new Map<string, OciSeccompArg[][]>(r.seccomp.allow.map((n) => [n, [[]]]));
  const { clone, personality } = r.seccomp.conditional;
  if (clone) allowed.set('clone', [[{ index: 0, value: CLONE_NS_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]]);
  if (personality)
    allowed.set(
      'personality',
      PERSONALITIES.map((p) => [{ index: 0, value: p, op: 'SCMP_CMP_EQ' }]),
    );
  // Conditions on one index are ORed by runc, so each (family, type, protocol) is its own entry.
  const sockets = socketAlternatives(r.seccomp.sockets, r.seccomp.refuseMptcp);
  if (sockets.length) allowed.set('socket', sockets);
  if (!r.seccomp.allowJit) {
    for (const [name, alts] of Object.entries(NO_JIT)) if (allowed.has(name)) allowed.set(name, alts);
  }

  // User rules that deny (or log) a syscall the profile allows: libseccomp lets an allow rule win over a
  // conditional rule of the same syscall, so the allow rule is narrowed by the negated conditions instead.
  const userRules: OciSeccompSyscall[] = [];
  r.seccomp.rules.forEach((rule, i) => {
    const names = forArch(rule.names);
    if (!names.length) return;
    const args = (rule.args ?? []).map(ociArg);
    if (rule.action !== 'allow') {
      for (const name of names) {
        const alts = allowed.get(name);
        if (alts) allowed.set(name, narrow(alts, args, name, i));
      }
    }
    userRules.push({ names, ...actionOf(rule.action, rule.errno ?? errno), ...(args.length ? { args } : {}) });
  });

  const unconditional = [...allowed].filter(([, alts]) => alts.length === 1 && alts[0]!.length === 0);
  const syscalls: OciSeccompSyscall[] = [{ names: forArch(unconditional.map(([n]) => n)), action: 'SCMP_ACT_ALLOW' }];
  for (const [name, alts] of [...allowed].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (alts.length === 1 && alts[0]!.length === 0) continue;
    if (!forArch([name]).length) continue;
    for (const args of alts) syscalls.push({ names: [name], action: 'SCMP_ACT_ALLOW', args });
  }
  // glibc uses clone3 for threads and falls back to clone only on ENOSYS; clone3's flags can't be checked.
  syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  if (r.seccomp.refuseMptcp) {
    // An explicit errno (not the default action, which may be kill): Go then falls back to plain TCP.
    syscalls.push({
      names: ['socket'],
      ...denyAction('errno', EPROTONOSUPPORT),
      args: [{ index: 2, value: IPPROTO_MPTCP, op: 'SCMP_CMP_EQ' }],
    });
  }
  syscalls.push(...userRules);

  // Explicit, so they stay denied even when the default action is `log`.
  syscalls.push({
    names: forArch(ALWAYS_DENIED),
    ...denyAction(defaultAction === 'kill' ? 'kill' : 'errno', defaultAction === 'log' ? 1 : errno),
  });

  const arches = architectures.flatMap((a) => OCI_ARCHES[a]);
  if (audit || defaultAction === 'log') return { defaultAction: 'SCMP_ACT_LOG', architectures: arches, syscalls };
  if (defaultAction === 'kill') return { defaultAction: 'SCMP_ACT_KILL_PROCESS', architectures: arches, syscalls };
  return { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: errno, architectures: arches, syscalls };
}

/** Compile a (validated) profile to the seccomp file the node agent installs and pods reference. */
export function compileSeccomp(profile: SandboxProfile): CompiledSeccomp {
  const resolved = resolveProfile(profile);
  const json = canonicalJson(seccompFor(resolved), 2) + '\n';
  const hash = shortHash(resolved.name, json);
  const fileName = `${resolved.name}-${hash}.json`;
  return { json, hash, fileName, localhostProfile: `${SECCOMP_SUBDIR}/${fileName}` };
}
