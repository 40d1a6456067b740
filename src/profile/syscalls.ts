import { AARCH64_SYSCALLS, X86_64_SYSCALLS } from './syscall-tables.js';
import type { Architecture } from './schema.js';

/** Known syscall names per architecture; a name must exist on at least one of the profile's architectures. */
export const SYSCALLS_BY_ARCH: Readonly<Record<Architecture, ReadonlySet<string>>> = {
  x86_64: new Set(X86_64_SYSCALLS),
  aarch64: new Set(AARCH64_SYSCALLS),
};

/** Every name accepted in a profile (the CRD's enum). */
export const ALL_SYSCALLS: readonly string[] = [...new Set([...X86_64_SYSCALLS, ...AARCH64_SYSCALLS])].sort();

/**
 * Names that exist only in the 32-bit compat modes (i386 under x86_64, arm under aarch64). The compiled profiles
 * list SCMP_ARCH_X86/ARM too, as moby does, so the base allow-list carries them; users cannot name them.
 */
export const COMPAT32_SYSCALLS: readonly string[] = [
  '_llseek',
  '_newselect',
  'chown32',
  'clock_adjtime64',
  'clock_getres_time64',
  'clock_gettime64',
  'clock_nanosleep_time64',
  'fadvise64_64',
  'fchown32',
  'fcntl64',
  'fstat64',
  'fstatat64',
  'fstatfs64',
  'ftruncate64',
  'futex_time64',
  'getegid32',
  'geteuid32',
  'getgid32',
  'getgroups32',
  'getresgid32',
  'getresuid32',
  'getuid32',
  'io_pgetevents_time64',
  'ipc',
  'lchown32',
  'lstat64',
  'mmap2',
  'mq_timedreceive_time64',
  'mq_timedsend_time64',
  'ppoll_time64',
  'pselect6_time64',
  'recv',
  'recvmmsg_time64',
  'rt_sigtimedwait_time64',
  'sched_rr_get_interval_time64',
  'semtimedop_time64',
  'send',
  'sendfile64',
  'setfsgid32',
  'setfsuid32',
  'setgid32',
  'setgroups32',
  'setregid32',
  'setresgid32',
  'setresuid32',
  'setreuid32',
  'setuid32',
  'sigprocmask',
  'sigreturn',
  'socketcall',
  'stat64',
  'statfs64',
  'timer_gettime64',
  'timer_settime64',
  'timerfd_gettime64',
  'timerfd_settime64',
  'truncate64',
  'ugetrlimit',
  'utimensat_time64',
  'waitpid',
  'arm_fadvise64_64',
  'arm_sync_file_range',
  'sync_file_range2',
  'breakpoint',
  'cacheflush',
  'set_tls',
];

/** What podfence-init itself needs: never removable by `deny`. */
export const ALWAYS_ALLOWED: readonly string[] = [
  'execve',
  'landlock_add_rule',
  'landlock_create_ruleset',
  'landlock_restrict_self',
  'prctl',
];

/**
 * Never allowed, whatever the profile says: mounts and namespaces (container escapes), tracing other processes,
 * kernel keyrings, modules, kexec, BPF and perf, userfaultfd (exploit primitive), handle-based opens (escape by
 * inode), swap/reboot/accounting/clock/host-name changes, raw port I/O, io_uring (bypasses seccomp).
 */
export const ALWAYS_DENIED: readonly string[] = [
  '_sysctl',
  'acct',
  'add_key',
  'bpf',
  'chroot',
  'clock_settime',
  'create_module',
  'delete_module',
  'finit_module',
  'fsconfig',
  'fsmount',
  'fsopen',
  'fspick',
  'get_kernel_syms',
  'init_module',
  'io_uring_enter',
  'io_uring_register',
  'io_uring_setup',
  'ioperm',
  'iopl',
  'kcmp',
  'kexec_file_load',
  'kexec_load',
  'keyctl',
  'lookup_dcookie',
  'mount',
  'mount_setattr',
  'move_mount',
  'name_to_handle_at',
  'nfsservctl',
  'open_by_handle_at',
  'open_tree',
  'open_tree_attr',
  'perf_event_open',
  'pidfd_getfd',
  'pivot_root',
  'process_vm_readv',
  'process_vm_writev',
  'ptrace',
  'query_module',
  'quotactl',
  'quotactl_fd',
  'reboot',
  'request_key',
  'setdomainname',
  'sethostname',
  'setns',
  'settimeofday',
  'swapoff',
  'swapon',
  'syslog',
  'umount2',
  'unshare',
  'uselib',
  'userfaultfd',
  'ustat',
  'vhangup',
];

export const ALWAYS_DENIED_SET: ReadonlySet<string> = new Set(ALWAYS_DENIED);
export const ALWAYS_ALLOWED_SET: ReadonlySet<string> = new Set(ALWAYS_ALLOWED);

/** Is `name` a syscall on at least one of `archs`? */
export function knownOn(name: string, archs: readonly Architecture[]): boolean {
  return archs.some((a) => SYSCALLS_BY_ARCH[a].has(name));
}
