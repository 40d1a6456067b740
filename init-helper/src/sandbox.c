#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "landlock.h"

#ifndef O_PATH
#define O_PATH 010000000
#endif

void pf_probe_kernel(struct pf_kernel *k, int want_errata)
{
	long v;
	k->abi = 0;
	k->err = 0;
	k->errata = -1;
	v = pf_landlock_create_ruleset(NULL, 0, PF_CREATE_RULESET_VERSION);
	if (v < 0) {
		k->err = errno;
		return;
	}
	k->abi = v > 0x7fffffffL ? 0x7fffffff : (int)v;
	if (!want_errata)
		return;
	v = pf_landlock_create_ruleset(NULL, 0, PF_CREATE_RULESET_ERRATA);
	if (v >= 0 && v <= 0x7fffffffL)
		k->errata = (int)v;
}

const char *pf_status_name(const struct pf_kernel *k)
{
	if (k->abi > 0)
		return "available";
	switch (k->err) {
	case ENOSYS:
		return "unsupported";
	case EOPNOTSUPP:
		return "disabled";
	case EPERM:
		return "blocked-by-seccomp";
	default:
		return "error";
	}
}

const char *pf_unavailable_reason(const struct pf_kernel *k)
{
	switch (k->err) {
	case ENOSYS:
		return "the kernel has no Landlock (ENOSYS: not built in, or a seccomp filter or gVisor answers ENOSYS)";
	case EOPNOTSUPP:
		return "Landlock is built in but disabled at boot (EOPNOTSUPP: add landlock to the kernel's lsm= list)";
	case EPERM:
		return "landlock_create_ruleset was blocked by seccomp (EPERM): the container's seccomp profile must "
		       "allow landlock_create_ruleset, landlock_add_rule and landlock_restrict_self";
	default:
		return "the Landlock version query failed";
	}
}

static const char *const kind_opt[] = {"--ro", "--rw", "--exec"};

static int add_path_rule(int ruleset, const struct pf_opts *o, const struct pf_path_rule *r, uint64_t rights)
{
	struct pf_path_beneath_attr attr;
	struct stat st;
	int fd, e;

	fd = open(r->path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		/* Not there, or not reachable by this user (e.g. 65534 and a root-only directory): granting it would
		   give nothing the user could use, so it is a missing path, not a broken sandbox. */
		if ((e == ENOENT || e == ENOTDIR || e == EACCES) && o->missing == PF_MISSING_SKIP) {
			fprintf(stderr, "podfence-init: %s %s: %s (skipped)\n", kind_opt[r->kind], r->path, strerror(e));
			return 0;
		}
		fprintf(stderr, "podfence-init: %s %s: %s\n", kind_opt[r->kind], r->path, strerror(e));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		fprintf(stderr, "podfence-init: %s %s: stat: %s\n", kind_opt[r->kind], r->path, strerror(e));
		close(fd);
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.allowed_access = pf_rule_rights(rights, S_ISDIR(st.st_mode));
	attr.parent_fd = fd;
	if (attr.allowed_access != 0 && pf_landlock_add_rule(ruleset, PF_RULE_PATH_BENEATH, &attr, 0) != 0) {
		e = errno;
		fprintf(stderr, "podfence-init: %s %s: landlock_add_rule: %s\n", kind_opt[r->kind], r->path,
			strerror(e));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int add_port_rule(int ruleset, const struct pf_port_rule *r)
{
	struct pf_net_port_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.allowed_access = r->kind == PF_PORT_BIND ? PF_NET_BIND_TCP : PF_NET_CONNECT_TCP;
	attr.port = r->port;
	if (pf_landlock_add_rule(ruleset, PF_RULE_NET_PORT, &attr, 0) != 0) {
		int e = errno;
		fprintf(stderr, "podfence-init: %s %u: landlock_add_rule: %s\n",
			r->kind == PF_PORT_BIND ? "--bind-tcp" : "--connect-tcp", (unsigned)r->port, strerror(e));
		return -1;
	}
	return 0;
}

int pf_apply(const struct pf_opts *o, const struct pf_plan *p)
{
	size_t i;
	int ruleset, e;

	ruleset = (int)pf_landlock_create_ruleset(&p->attr, sizeof(p->attr), 0);
	if (ruleset < 0) {
		e = errno;
		if (e == EPERM)
			fprintf(stderr, "podfence-init: landlock_create_ruleset: blocked by seccomp (EPERM)\n");
		else
			fprintf(stderr, "podfence-init: landlock_create_ruleset: %s\n", strerror(e));
		return -1;
	}
	for (i = 0; i < o->n_paths; i++)
		if (add_path_rule(ruleset, o, &o->paths[i], p->rights[o->paths[i].kind]) != 0)
			goto fail;
	if (p->attr.handled_access_net)
		for (i = 0; i < o->n_ports; i++)
			if (add_port_rule(ruleset, &o->ports[i]) != 0)
				goto fail;
	/* Without CAP_SYS_ADMIN (the container case) restrict_self needs it; it is part of the contract anyway. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		e = errno;
		fprintf(stderr, "podfence-init: prctl(PR_SET_NO_NEW_PRIVS): %s\n", strerror(e));
		goto fail;
	}
	if (pf_landlock_restrict_self(ruleset, p->restrict_flags) != 0) {
		e = errno;
		fprintf(stderr, "podfence-init: landlock_restrict_self: %s\n", strerror(e));
		goto fail;
	}
	close(ruleset);
	return 0;
fail:
	close(ruleset);
	return -1;
}
