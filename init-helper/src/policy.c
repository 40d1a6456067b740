#include "policy.h"

#include <stdio.h>
#include <string.h>

/* Filesystem rights by the ABI that introduced them (index = ABI). */
static const uint64_t fs_added[PF_ABI_MAX + 1] = {
	[1] = PF_FS_EXECUTE | PF_FS_WRITE_FILE | PF_FS_READ_FILE | PF_FS_READ_DIR | PF_FS_REMOVE_DIR |
	      PF_FS_REMOVE_FILE | PF_FS_MAKE_CHAR | PF_FS_MAKE_DIR | PF_FS_MAKE_REG | PF_FS_MAKE_SOCK |
	      PF_FS_MAKE_FIFO | PF_FS_MAKE_BLOCK | PF_FS_MAKE_SYM,
	[2] = PF_FS_REFER,
	[3] = PF_FS_TRUNCATE,
	[5] = PF_FS_IOCTL_DEV,
	[9] = PF_FS_RESOLVE_UNIX,
};

static int cap_abi(int abi)
{
	if (abi < 0)
		return 0;
	return abi > PF_ABI_MAX ? PF_ABI_MAX : abi;
}

uint64_t pf_fs_rights_for_abi(int abi)
{
	uint64_t r = 0;
	int v;
	abi = cap_abi(abi);
	for (v = 1; v <= abi; v++)
		r |= fs_added[v];
	return r;
}

uint64_t pf_net_rights_for_abi(int abi)
{
	return cap_abi(abi) >= 4 ? (PF_NET_BIND_TCP | PF_NET_CONNECT_TCP) : 0;
}

uint64_t pf_scopes_for_abi(int abi)
{
	return cap_abi(abi) >= 6 ? (PF_SCOPE_ABSTRACT_UNIX_SOCKET | PF_SCOPE_SIGNAL) : 0;
}

int pf_plan(const struct pf_opts *o, int abi, struct pf_plan *p, char *err, size_t errlen)
{
	size_t i;
	int has_rw = 0;

	memset(p, 0, sizeof(*p));
	if (errlen > 0)
		err[0] = '\0';
	p->abi = cap_abi(abi);
	if (p->abi < 1) {
		snprintf(err, errlen, "no Landlock ABI");
		return -1;
	}

	/* Deny by default every filesystem right this ABI can express. */
	p->attr.handled_access_fs = pf_fs_rights_for_abi(p->abi);

	if (pf_wants_tcp(o)) {
		if (p->abi >= 4) {
			p->attr.handled_access_net = PF_NET_BIND_TCP | PF_NET_CONNECT_TCP;
		} else if (o->mode == PF_ENFORCE) {
			snprintf(err, errlen, "TCP rules need Landlock ABI 4 (Linux 6.7), the kernel has ABI %d", p->abi);
			return -1;
		} else {
			p->dropped |= PF_DROPPED_TCP;
		}
	}
	if (o->scopes) {
		if (p->abi >= 6) {
			p->attr.scoped = o->scopes;
		} else if (o->mode == PF_ENFORCE) {
			snprintf(err, errlen, "--scope needs Landlock ABI 6 (Linux 6.12), the kernel has ABI %d", p->abi);
			return -1;
		} else {
			p->dropped |= PF_DROPPED_SCOPE;
		}
	}

	p->rights[PF_PATH_RO] = PF_FS_RO_RIGHTS & p->attr.handled_access_fs;
	p->rights[PF_PATH_RW] = PF_FS_RW_RIGHTS & p->attr.handled_access_fs;
	p->rights[PF_PATH_EXEC] = PF_FS_EXEC_RIGHTS & p->attr.handled_access_fs;

	/*
	 * ABI 1 cannot handle REFER, and then the kernel denies every cross-directory rename and link.
	 * That is stricter than asked, not weaker, so both modes go on (like the kernel's sandboxer) and say so.
	 */
	for (i = 0; i < o->n_paths; i++)
		if (o->paths[i].kind == PF_PATH_RW)
			has_rw = 1;
	if (has_rw && !(p->attr.handled_access_fs & PF_FS_REFER))
		p->dropped |= PF_DROPPED_REFER;

	/* By default Landlock stops logging at execve, which is exactly what a wrapper does next. */
	if (p->abi >= 7)
		p->restrict_flags = PF_RESTRICT_SELF_LOG_NEW_EXEC_ON;
	return 0;
}
