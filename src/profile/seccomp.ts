import { SECCOMP_SUBDIR } from '../common/constants.js';
import { canonicalJson, shortHash } from './hash.js';
import { resolveProfile, type ResolvedProfile } from './resolve.js';
import type { Architecture, SandboxProfile } from './schema.js';
import { ALWAYS_DENIED, COMPAT32_SYSCALLS, knownOn } from './syscalls.js';

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

/** Plain OCI architectures, as moby's archMap expands them (containerd drops archMap, so we expand ourselves). */
const OCI_ARCHES: Record<Architecture, string[]> = {
  x86_64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  aarch64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

const ENOSYS = 38;
const EPROTONOSUPPORT = 93;
const IPPROTO_MPTCP = 262;
const AF_UNIX = 1;
const AF_ALG = 38;
const AF_VSOCK = 40;
/** CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP: clone may not create namespaces (as moby). */
const CLONE_NS_FLAGS = 0x7e020000;
/** personality() values moby allows: PER_LINUX, PER_LINUX32, UNAME26, query. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0xffffffff];

const COMPAT32 = new Set(COMPAT32_SYSCALLS);

/** The OCI seccomp structure of a resolved profile (exported for tests and `podfence compile`). */
export function seccompFor(r: ResolvedProfile): OciSeccomp {
  const audit = r.mode === 'audit';
  const { defaultAction, errno, architectures } = r.seccomp;
  const forArch = (names: readonly string[]) =>
    [...new Set(names)].filter((n) => knownOn(n, architectures) || COMPAT32.has(n)).sort();

  // In audit mode nothing is denied: every deny becomes a log.
  const denyAction = (kind: 'errno' | 'kill', ret: number): Pick<OciSeccompSyscall, 'action' | 'errnoRet'> => {
    if (audit) return { action: 'SCMP_ACT_LOG' };
    if (kind === 'kill') return { action: 'SCMP_ACT_KILL_PROCESS' };
    return { action: 'SCMP_ACT_ERRNO', errnoRet: ret };
  };
  const actionOf = (a: 'allow' | 'errno' | 'kill' | 'log', ret: number) =>
    a === 'allow' ? { action: 'SCMP_ACT_ALLOW' } : a === 'log' ? { action: 'SCMP_ACT_LOG' } : denyAction(a, ret);

  const syscalls: OciSeccompSyscall[] = [{ names: forArch(r.seccomp.allow), action: 'SCMP_ACT_ALLOW' }];
  const allowWith = (name: string, args: OciSeccompArg[]) =>
    syscalls.push({ names: [name], action: 'SCMP_ACT_ALLOW', args });

  const { socket, clone, personality } = r.seccomp.conditional;
  if (clone) allowWith('clone', [{ index: 0, value: CLONE_NS_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  // glibc uses clone3 for threads and falls back to clone only on ENOSYS; clone3's flags can't be checked.
  syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  if (personality) for (const p of PERSONALITIES) allowWith('personality', [{ index: 0, value: p, op: 'SCMP_CMP_EQ' }]);

  // Conditions on one index are ORed by runc, so the family ranges are separate entries; MPTCP is ANDed in.
  const noMptcp: OciSeccompArg[] = r.seccomp.refuseMptcp ? [{ index: 2, value: IPPROTO_MPTCP, op: 'SCMP_CMP_NE' }] : [];
  if (socket === 'unix') allowWith('socket', [{ index: 0, value: AF_UNIX, op: 'SCMP_CMP_EQ' }]);
  if (socket === 'inet') {
    allowWith('socket', [{ index: 0, value: AF_ALG, op: 'SCMP_CMP_LT' }, ...noMptcp]);
    allowWith('socket', [{ index: 0, value: AF_ALG + 1, op: 'SCMP_CMP_EQ' }, ...noMptcp]);
    allowWith('socket', [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_GT' }, ...noMptcp]);
  }
  if (r.seccomp.refuseMptcp) {
    // An explicit errno (not the default action, which may be kill): Go then falls back to plain TCP.
    syscalls.push({
      names: ['socket'],
      ...denyAction('errno', EPROTONOSUPPORT),
      args: [{ index: 2, value: IPPROTO_MPTCP, op: 'SCMP_CMP_EQ' }],
    });
  }

  for (const rule of r.seccomp.rules) {
    const names = forArch(rule.names);
    if (!names.length) continue;
    syscalls.push({
      names,
      ...actionOf(rule.action, rule.errno ?? errno),
      ...(rule.args?.length
        ? {
            args: rule.args.map((a) => ({
              index: a.index,
              value: a.value,
              ...(a.valueTwo !== undefined ? { valueTwo: a.valueTwo } : {}),
              op: `SCMP_CMP_${a.op}`,
            })),
          }
        : {}),
    });
  }

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
