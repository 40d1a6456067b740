#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "../src/opts.h"
#include "../src/policy.h"
#include "bpf_eval.h"

#define MAX_FUZZ_ARGS 4096

#define CHECK(c)                                                                                                  \
	do {                                                                                                          \
		if (!(c))                                                                                                 \
			abort();                                                                                              \
	} while (0)

static void check_plan(const struct pf_opts *o)
{
	static struct pf_plan p;
	char err[128];
	int abi, rc;
	size_t k;
	for (abi = 0; abi <= 12; abi++) {
		rc = pf_plan(o, abi, &p, err, sizeof(err));
		CHECK(strlen(err) < sizeof(err));
		if (abi == 0) {
			CHECK(rc == -1);
			continue;
		}
		if (rc != 0) {
			/* only enforce refuses, and only for TCP below 4 or scopes below 6 */
			CHECK(o->mode == PF_ENFORCE);
			CHECK((pf_wants_tcp(o) && abi < 4) || (o->scopes && abi < 6));
			continue;
		}
		CHECK((p.attr.handled_access_fs & ~pf_fs_rights_for_abi(abi)) == 0);
		CHECK((p.attr.handled_access_net & ~pf_net_rights_for_abi(abi)) == 0);
		CHECK((p.attr.scoped & ~pf_scopes_for_abi(abi)) == 0);
		CHECK(p.attr.scoped == (abi >= 6 ? o->scopes : 0));
		CHECK((p.attr.handled_access_net != 0) == (abi >= 4 && pf_wants_tcp(o)));
		for (k = 0; k < 3; k++) {
			CHECK((p.rights[k] & ~p.attr.handled_access_fs) == 0);
			CHECK((pf_rule_rights(p.rights[k], 0) & ~PF_FS_FILE_RIGHTS) == 0);
		}
		CHECK((p.restrict_flags != 0) == (abi >= 7));
	}
}

/* --seccomp-log: ranges ascending and bounded; the program passes exactly them (and x32), refuses the rest. */
static void check_seclog(const struct pf_seclog *s)
{
	static struct pf_bpf_insn prog[PF_SECLOG_MAX_INSNS];
	size_t i, n;
	if (!s->set)
		return;
	CHECK(s->err >= 1 && s->err <= 4095 && s->n <= PF_SECLOG_MAX_RANGES);
	n = pf_seclog_program(s, PF_AUDIT_ARCH_X86_64, prog, PF_SECLOG_MAX_INSNS);
	CHECK((n != 0) == (s->has_arch != 0));
	if (!s->has_arch)
		return;
	CHECK(s->n > 0);
	for (i = 0; i < s->n; i++) {
		const struct pf_seclog_range *r = &s->ranges[i];
		uint32_t refuse = PF_SECCOMP_RET_ERRNO | s->err;
		CHECK(r->lo <= r->hi && (i == 0 || r->lo > s->ranges[i - 1].hi));
		CHECK(pf_bpf_eval(prog, n, PF_AUDIT_ARCH_X86_64, r->lo) == PF_SECCOMP_RET_ALLOW);
		CHECK(pf_bpf_eval(prog, n, PF_AUDIT_ARCH_X86_64, r->hi) == PF_SECCOMP_RET_ALLOW);
		if (r->lo > 0 && (i == 0 || r->lo - 1 > s->ranges[i - 1].hi) && !((r->lo - 1) & PF_X32_SYSCALL_BIT))
			CHECK(pf_bpf_eval(prog, n, PF_AUDIT_ARCH_X86_64, r->lo - 1) == refuse);
		if (r->hi < 0xffffffffU && (i + 1 == s->n || r->hi + 1 < s->ranges[i + 1].lo) &&
		    !((r->hi + 1) & PF_X32_SYSCALL_BIT))
			CHECK(pf_bpf_eval(prog, n, PF_AUDIT_ARCH_X86_64, r->hi + 1) == refuse);
	}
	CHECK(pf_bpf_eval(prog, n, 0x40000003U, 0) == PF_SECCOMP_RET_ALLOW);
}

int pf_fuzz_one(const uint8_t *data, size_t size)
{
	static struct pf_opts o;
	static char *argv[MAX_FUZZ_ARGS + 2];
	char err[256];
	char *buf = malloc(size + 1);
	int argc = 1, rc;
	size_t i, start = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "podfence-init";
	for (i = 0; i <= size && argc <= MAX_FUZZ_ARGS; i++) {
		if (buf[i] == '\0') {
			if (i < size || start < size)
				argv[argc++] = buf + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;

	memset(err, 'x', sizeof(err));
	rc = pf_parse(argc, argv, &o, err, sizeof(err));
	CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc != 0) {
		CHECK(err[0] != '\0');
	} else {
		CHECK(o.n_paths <= PF_MAX_PATHS && o.n_ports <= PF_MAX_PORTS);
		for (i = 0; i < o.n_paths; i++) {
			size_t len = strlen(o.paths[i].path);
			CHECK(len > 0 && len <= PF_MAX_PATH_LEN);
			CHECK(o.paths[i].kind <= PF_PATH_EXEC);
			CHECK(o.paths[i].source <= PF_SRC_VOLUME);
			CHECK(o.paths[i].path[0] == '/');
			CHECK(strstr(o.paths[i].path, "/../") == NULL);
		}
		CHECK((o.scopes & ~(uint64_t)(PF_SCOPE_SIGNAL | PF_SCOPE_ABSTRACT_UNIX_SOCKET)) == 0);
		check_seclog(&o.seclog);
		if (o.action == PF_RUN) {
			CHECK(o.command != NULL && o.command[0] != NULL && o.command[0][0] != '\0');
			CHECK(o.command > argv && o.command < argv + argc);
			check_plan(&o);
		} else if (o.action == PF_INSTALL) {
			CHECK(o.install_dir != NULL && o.install_dir[0] != '\0');
		}
	}
	free(buf);
	return 0;
}
