/*
 * --seccomp-log: a second seccomp filter, installed just before execve with SECCOMP_FILTER_FLAG_LOG, so that the
 * kernel logs the errno refusals of the runtime's filter (runc 1.1 cannot ask for the flag itself).
 *
 * The kernel runs every filter, newest first, and keeps the lowest action; on a tie the newest filter decides, with
 * its errno and its log flag. This filter returns SECCOMP_RET_ERRNO|E exactly for the syscalls the profile refuses
 * unconditionally with E, and SECCOMP_RET_ALLOW (defer to the runtime's filter) for everything else, so it can
 * only make a refusal logged, never change or widen what the profile decides.
 *
 * Value: ERRNO:ARCH=RANGES[:ARCH=RANGES], e.g. `1:x86_64=0-62,64-434,436-4294967295:aarch64=...`. RANGES are the
 * syscall numbers that pass (ascending `a` or `a-b`, comma-separated); every other number of that architecture is
 * refused with ERRNO. Calls from another architecture (32-bit compat) and x32 calls always pass.
 * Parsing and the program are pure (unit-tested); only pf_seclog_install makes a syscall.
 */
#ifndef PF_SECLOG_H
#define PF_SECLOG_H

#include <stddef.h>
#include <stdint.h>

/* 4 instructions per range plus a prologue must stay below BPF_MAXINSNS (4096). */
#define PF_SECLOG_MAX_RANGES 1000
#define PF_SECLOG_MAX_INSNS 4096

#define PF_AUDIT_ARCH_X86_64 0xc000003eU
#define PF_AUDIT_ARCH_AARCH64 0xc00000b7U
#if defined(__x86_64__)
#define PF_NATIVE_ARCH "x86_64"
#define PF_NATIVE_AUDIT_ARCH PF_AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define PF_NATIVE_ARCH "aarch64"
#define PF_NATIVE_AUDIT_ARCH PF_AUDIT_ARCH_AARCH64
#else
#error "podfence-init knows x86_64 and aarch64 only"
#endif

/* struct sock_filter and the few BPF / seccomp constants, carried here: musl-gcc does not see kernel headers. */
struct pf_bpf_insn {
	uint16_t code;
	uint8_t jt;
	uint8_t jf;
	uint32_t k;
};
#define PF_BPF_LD_W_ABS 0x20  /* BPF_LD | BPF_W | BPF_ABS */
#define PF_BPF_JEQ_K 0x15     /* BPF_JMP | BPF_JEQ | BPF_K */
#define PF_BPF_JGT_K 0x25     /* BPF_JMP | BPF_JGT | BPF_K */
#define PF_BPF_JGE_K 0x35     /* BPF_JMP | BPF_JGE | BPF_K */
#define PF_BPF_JSET_K 0x45    /* BPF_JMP | BPF_JSET | BPF_K */
#define PF_BPF_RET_K 0x06     /* BPF_RET | BPF_K */
#define PF_SECCOMP_RET_ALLOW 0x7fff0000U
#define PF_SECCOMP_RET_ERRNO 0x00050000U
#define PF_X32_SYSCALL_BIT 0x40000000U

struct pf_seclog_range {
	uint32_t lo, hi;
};

struct pf_seclog {
	int set;       /* --seccomp-log given */
	int has_arch;  /* it has an entry for the architecture asked for */
	uint16_t err;  /* errno of the refusals, 1-4095 */
	size_t n;      /* ranges that pass, for that architecture */
	struct pf_seclog_range ranges[PF_SECLOG_MAX_RANGES];
};

/*
 * Parses the option's value, keeping the ranges of architecture `arch` (every entry is checked). Returns 0, or -1
 * with a reason in err.
 */
int pf_seclog_parse(const char *value, const char *arch, struct pf_seclog *out, char *err, size_t errlen);

/*
 * The filter for architecture `audit_arch` (x32 calls pass when it is x86_64). Returns the number of instructions
 * written to out (at most cap), or 0 when it does not fit or s has no entry.
 */
size_t pf_seclog_program(const struct pf_seclog *s, uint32_t audit_arch, struct pf_bpf_insn *out, size_t cap);

/*
 * Installs the filter for this build's architecture (needs no_new_privs). Never fatal: logging is not a security
 * layer, so a missing entry or a refusal by the kernel (or by the profile: `seccomp` denied) is one line on stderr.
 */
void pf_seclog_install(const struct pf_seclog *s);

#endif
