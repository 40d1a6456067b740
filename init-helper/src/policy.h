/* From options and the kernel's ABI to the exact ruleset: pure, no system calls. */
#ifndef PF_POLICY_H
#define PF_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "landlock.h"
#include "opts.h"

/* Rights a rule on a regular file (or any non-directory) may carry; directory-only rights are EINVAL there. */
#define PF_FS_FILE_RIGHTS \
	(PF_FS_EXECUTE | PF_FS_WRITE_FILE | PF_FS_READ_FILE | PF_FS_TRUNCATE | PF_FS_IOCTL_DEV | PF_FS_RESOLVE_UNIX)

#define PF_FS_RO_RIGHTS (PF_FS_READ_FILE | PF_FS_READ_DIR)
#define PF_FS_EXEC_RIGHTS (PF_FS_EXECUTE | PF_FS_READ_FILE | PF_FS_READ_DIR)
/* Read-write: everything except execute, REFER included (cross-directory rename and link within --rw trees). */
#define PF_FS_RW_RIGHTS                                                                                        \
	(PF_FS_RO_RIGHTS | PF_FS_WRITE_FILE | PF_FS_REMOVE_DIR | PF_FS_REMOVE_FILE | PF_FS_MAKE_CHAR |         \
	 PF_FS_MAKE_DIR | PF_FS_MAKE_REG | PF_FS_MAKE_SOCK | PF_FS_MAKE_FIFO | PF_FS_MAKE_BLOCK | PF_FS_MAKE_SYM | \
	 PF_FS_REFER | PF_FS_TRUNCATE | PF_FS_IOCTL_DEV | PF_FS_RESOLVE_UNIX)

/* Things best-effort gave up, for the one-line notices on stderr. */
#define PF_DROPPED_TCP (1U << 0)   /* ABI < 4: TCP rules not enforced */
#define PF_DROPPED_SCOPE (1U << 1) /* ABI < 6: scopes not enforced */
#define PF_DROPPED_REFER (1U << 2) /* ABI 1: cross-directory rename/link denied everywhere, even under --rw */

struct pf_plan {
	int abi; /* the kernel's ABI capped at PF_ABI_MAX */
	struct pf_ruleset_attr attr;
	uint64_t rights[3]; /* per enum pf_path_kind, already masked by attr.handled_access_fs */
	uint32_t restrict_flags;
	unsigned dropped; /* PF_DROPPED_* */
};

uint64_t pf_fs_rights_for_abi(int abi);
uint64_t pf_net_rights_for_abi(int abi);
uint64_t pf_scopes_for_abi(int abi);

/*
 * abi >= 1. Returns 0 with the plan, or -1 (enforce mode only) when the kernel cannot enforce what
 * the options ask for, with the reason in err.
 */
int pf_plan(const struct pf_opts *o, int abi, struct pf_plan *p, char *err, size_t errlen);

/* The rights of one rule given whether its path is a directory. */
static inline uint64_t pf_rule_rights(uint64_t rights, int is_dir)
{
	return is_dir ? rights : (rights & PF_FS_FILE_RIGHTS);
}

#endif
