/*
 * The Landlock user-space ABI, carried here because distribution headers lag the kernel
 * (Debian 12's linux-libc-dev stops at ABI 2/3). Values are the kernel's uAPI
 * (include/uapi/linux/landlock.h); names carry a PF_ prefix so that they never clash
 * with a newer <linux/landlock.h> pulled in by some other header.
 */
#ifndef PF_LANDLOCK_H
#define PF_LANDLOCK_H

#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Same numbers on every architecture (unified syscall table since 5.x). */
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif

/* Newest ABI this code knows; a newer kernel is treated as this one. */
#define PF_ABI_MAX 10

#define PF_CREATE_RULESET_VERSION (1U << 0)
#define PF_CREATE_RULESET_ERRATA (1U << 1) /* ABI 7 era: bitmask of fixed issues */

#define PF_RULE_PATH_BENEATH 1
#define PF_RULE_NET_PORT 2 /* ABI 4 */

/* Filesystem rights, with the ABI that introduced each. */
#define PF_FS_EXECUTE (1ULL << 0)      /* 1 */
#define PF_FS_WRITE_FILE (1ULL << 1)   /* 1 */
#define PF_FS_READ_FILE (1ULL << 2)    /* 1 */
#define PF_FS_READ_DIR (1ULL << 3)     /* 1 */
#define PF_FS_REMOVE_DIR (1ULL << 4)   /* 1 */
#define PF_FS_REMOVE_FILE (1ULL << 5)  /* 1 */
#define PF_FS_MAKE_CHAR (1ULL << 6)    /* 1 */
#define PF_FS_MAKE_DIR (1ULL << 7)     /* 1 */
#define PF_FS_MAKE_REG (1ULL << 8)     /* 1 */
#define PF_FS_MAKE_SOCK (1ULL << 9)    /* 1 */
#define PF_FS_MAKE_FIFO (1ULL << 10)   /* 1 */
#define PF_FS_MAKE_BLOCK (1ULL << 11)  /* 1 */
#define PF_FS_MAKE_SYM (1ULL << 12)    /* 1 */
#define PF_FS_REFER (1ULL << 13)       /* 2 */
#define PF_FS_TRUNCATE (1ULL << 14)    /* 3 */
#define PF_FS_IOCTL_DEV (1ULL << 15)   /* 5 */
#define PF_FS_RESOLVE_UNIX (1ULL << 16) /* 9 */

/* Network rights (ABI 4). ABI 10's UDP rights are not handled: podfence has no UDP rules. */
#define PF_NET_BIND_TCP (1ULL << 0)
#define PF_NET_CONNECT_TCP (1ULL << 1)

/* Scopes (ABI 6). */
#define PF_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define PF_SCOPE_SIGNAL (1ULL << 1)

/* landlock_restrict_self() flags (ABI 7). */
#define PF_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0)
#define PF_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)
#define PF_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1U << 2)

/*
 * The first three fields of struct landlock_ruleset_attr. ABI 10 appends fields; the kernel
 * accepts a shorter struct and treats the missing tail as zero, so this size works on every ABI
 * that knows the fields we set (ABI < 4 needs handled_access_net == 0, ABI < 6 scoped == 0).
 */
struct pf_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct pf_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct pf_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

static inline long pf_landlock_create_ruleset(const struct pf_ruleset_attr *attr, unsigned long size,
					      uint32_t flags)
{
	return syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

static inline long pf_landlock_add_rule(int ruleset_fd, int type, const void *attr, uint32_t flags)
{
	return syscall(SYS_landlock_add_rule, ruleset_fd, type, attr, flags);
}

static inline long pf_landlock_restrict_self(int ruleset_fd, uint32_t flags)
{
	return syscall(SYS_landlock_restrict_self, ruleset_fd, flags);
}

#endif
