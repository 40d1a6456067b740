/*
 * Unit tests of the pure parts (option parser, ABI plan), built with ASan+UBSan, and the replay of every
 * fuzz regression and corpus file given as arguments (directories). Prints "PASS name" / "FAIL name: why".
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/bpf_eval.h"
#include "../fuzz/harness.h"
#include "opts.h"
#include "policy.h"
#include "seclog.h"

static int failed;
static struct pf_opts o;
static struct pf_plan p;

static void result(int ok, const char *name, const char *why)
{
	if (ok)
		printf("PASS unit: %.80s\n", name);
	else
		printf("FAIL unit: %.80s: %s\n", name, why);
	failed += !ok;
}

/* Parses a space-separated command line (words without spaces are enough here). */
static int parse_line(const char *line, char *err, size_t errlen)
{
	static char buf[32768];
	static char *argv[2100];
	int argc = 0;
	char *save = NULL, *w;
	snprintf(buf, sizeof(buf), "podfence-init %s", line);
	for (w = strtok_r(buf, " ", &save); w && argc < 2099; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	return pf_parse(argc, argv, &o, err, errlen);
}

static void expect_ok(const char *line)
{
	char err[256];
	int rc = parse_line(line, err, sizeof(err));
	result(rc == 0, line, err);
}

static void expect_err(const char *line, const char *needle)
{
	char err[256], why[300];
	int rc = parse_line(line, err, sizeof(err));
	snprintf(why, sizeof(why), "rc=%d err='%s' want '%s'", rc, err, needle);
	result(rc == -1 && strstr(err, needle) != NULL, line, why);
}

static void parser_tests(void)
{
	char err[256];
	static char many[2100 * 12];
	size_t n = 0;
	int i;

	expect_ok("-- /bin/true");
	result(o.action == PF_RUN && strcmp(o.command[0], "/bin/true") == 0 && o.mode == PF_ENFORCE &&
		       o.missing == PF_MISSING_SKIP && !pf_wants_tcp(&o) && o.scopes == 0,
	       "defaults", "unexpected defaults");
	expect_ok("--ro /etc --rw=/tmp --exec /bin --ro /usr -- sh -c x");
	result(o.n_paths == 4 && o.paths[1].kind == PF_PATH_RW && strcmp(o.paths[1].path, "/tmp") == 0 &&
		       o.paths[3].kind == PF_PATH_RO && strcmp(o.command[2], "x") == 0,
	       "paths kept in order with kinds", "wrong paths");
	expect_ok("--bind-tcp 8080 --connect-tcp=443 --connect-tcp 0 --connect-tcp 65535 -- x");
	result(o.n_ports == 4 && o.ports[0].kind == PF_PORT_BIND && o.ports[0].port == 8080 &&
		       o.ports[1].port == 443 && o.ports[2].port == 0 && o.ports[3].port == 65535 && pf_wants_tcp(&o),
	       "ports", "wrong ports");
	expect_ok("--deny-tcp --scope signal --scope abstract-unix-socket --mode best-effort --missing fail -- x");
	result(o.deny_tcp && o.scopes == (PF_SCOPE_SIGNAL | PF_SCOPE_ABSTRACT_UNIX_SOCKET) &&
		       o.mode == PF_BEST_EFFORT && o.missing == PF_MISSING_FAIL,
	       "flags", "wrong flags");
	expect_ok("--ro /a -- --ro /b");
	result(o.n_paths == 1 && strcmp(o.command[0], "--ro") == 0, "options after -- belong to the command",
	       "parsed past --");
	expect_ok("--optional-ro /lib64 --optional-exec=/lib/ld.so --volume-rw /data --volume-ro /cfg --verbose -- x");
	result(o.n_paths == 4 && o.paths[0].kind == PF_PATH_RO && o.paths[0].source == PF_SRC_OPTIONAL &&
		       o.paths[1].kind == PF_PATH_EXEC && o.paths[1].source == PF_SRC_OPTIONAL &&
		       o.paths[2].kind == PF_PATH_RW && o.paths[2].source == PF_SRC_VOLUME &&
		       o.paths[3].kind == PF_PATH_RO && o.paths[3].source == PF_SRC_VOLUME && o.verbose,
	       "optional and volume paths keep kind and source; --verbose", "wrong kinds or sources");
	expect_ok("--ro /etc -- x");
	result(o.paths[0].source == PF_SRC_AUTHOR && !o.verbose, "plain --ro is the author's", "wrong source");
	expect_ok("--ro /a..b/..c/d.. -- x");
	result(o.n_paths == 1, "'..' inside a name is not a '..' component", "refused");
	expect_err("--ro etc -- x", "not an absolute path");
	expect_err("--volume-rw data -- x", "not an absolute path");
	expect_err("--ro /a/../b -- x", "'..' is not allowed");
	expect_err("--rw /a/.. -- x", "'..' is not allowed");
	expect_err("--exec /.. -- x", "'..' is not allowed");
	expect_err("--volume-exec /x -- x", "unknown option");
	expect_err("--optional-ro -- x", "not an absolute path");
	expect_ok("--probe");
	result(o.action == PF_PROBE, "--probe action", "not probe");
	expect_ok("--version");
	result(o.action == PF_VERSION_ACTION, "--version action", "not version");
	expect_ok("install /podfence");
	result(o.action == PF_INSTALL && strcmp(o.install_dir, "/podfence") == 0, "install action", "not install");

	expect_err("", "missing '-- COMMAND'");
	expect_err("--ro /etc", "missing '-- COMMAND'");
	expect_err("--ro /etc --", "missing COMMAND after '--'");
	expect_err("--ro", "--ro needs a PATH");
	expect_err("--rw= -- x", "--rw: empty path");
	expect_err("--bind-tcp 65536 -- x", "not a port number");
	expect_err("--bind-tcp -1 -- x", "not a port number");
	expect_err("--connect-tcp +80 -- x", "not a port number");
	expect_err("--connect-tcp 8o -- x", "not a port number");
	expect_err("--connect-tcp 000080 -- x", "not a port number");
	expect_err("--scope net -- x", "--scope");
	expect_err("--mode strict -- x", "--mode");
	expect_err("--missing ignore -- x", "--missing");
	expect_err("--frobnicate -- x", "unknown option");
	expect_err("--roo /x -- x", "unknown option");
	expect_err("/bin/true", "put '--' before COMMAND");
	expect_err("--probe --ro /x", "takes no other argument");
	expect_err("install", "usage: install DIR");
	expect_err("install a b", "usage: install DIR");

	/* Bounds: the 1025th path and an over-long path are refused, not truncated. */
	for (i = 0; i < 1025; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "--ro /p%d ", i);
	snprintf(many + n, sizeof(many) - n, "-- x");
	expect_err(many, "more than 1024 paths");
	{
		static char longp[PF_MAX_PATH_LEN + 32];
		memset(longp, 'a', sizeof(longp));
		memcpy(longp, "--ro /", 6);
		strcpy(longp + PF_MAX_PATH_LEN + 6 + 1, " -- x");
		expect_err(longp, "path longer than");
	}
	/* A tiny error buffer still gets a terminated (truncated) message. */
	memset(err, 'x', sizeof(err));
	parse_line("--bogus -- x", err, 8);
	result(memchr(err, '\0', 8) != NULL, "error buffer always terminated", "not terminated");
}

static void plan_tests(void)
{
	char err[256];
	parse_line("--ro /etc --rw /tmp --exec /bin -- x", err, sizeof(err));
	pf_plan(&o, 7, &p, err, sizeof(err));
	result(p.attr.handled_access_fs == pf_fs_rights_for_abi(7) && (p.attr.handled_access_fs & PF_FS_IOCTL_DEV) &&
		       !(p.attr.handled_access_fs & PF_FS_RESOLVE_UNIX) && p.attr.handled_access_net == 0 &&
		       p.attr.scoped == 0,
	       "ABI 7: all fs rights up to 7, no net, no scope when not asked", "wrong handled set");
	result((p.rights[PF_PATH_RW] & PF_FS_REFER) && !(p.rights[PF_PATH_RO] & PF_FS_WRITE_FILE) &&
		       (p.rights[PF_PATH_EXEC] & PF_FS_EXECUTE) && !(p.rights[PF_PATH_RO] & PF_FS_EXECUTE),
	       "rw grants REFER, ro no write, exec executes", "wrong rule rights");
	result(p.restrict_flags == PF_RESTRICT_SELF_LOG_NEW_EXEC_ON, "ABI 7 sets LOG_NEW_EXEC_ON", "no log flag");
	pf_plan(&o, 6, &p, err, sizeof(err));
	result(p.restrict_flags == 0, "ABI 6 sets no restrict_self flag", "flag set");
	pf_plan(&o, 1, &p, err, sizeof(err));
	result(!(p.attr.handled_access_fs & (PF_FS_REFER | PF_FS_TRUNCATE)) && !(p.rights[PF_PATH_RW] & PF_FS_REFER) &&
		       (p.dropped & PF_DROPPED_REFER),
	       "ABI 1: REFER and TRUNCATE dropped, refer loss reported", "wrong ABI 1 plan");
	pf_plan(&o, 99, &p, err, sizeof(err));
	result(p.abi == PF_ABI_MAX && (p.attr.handled_access_fs & PF_FS_RESOLVE_UNIX),
	       "newer ABI is treated as the newest known", "wrong cap");
	result(pf_rule_rights(p.rights[PF_PATH_RW], 0) ==
		       (PF_FS_WRITE_FILE | PF_FS_READ_FILE | PF_FS_TRUNCATE | PF_FS_IOCTL_DEV | PF_FS_RESOLVE_UNIX),
	       "file rule keeps only file rights", "wrong file mask");

	parse_line("--connect-tcp 443 --scope signal -- x", err, sizeof(err));
	result(pf_plan(&o, 3, &p, err, sizeof(err)) == -1 && strstr(err, "ABI 4"), "enforce refuses TCP below ABI 4",
	       err);
	result(pf_plan(&o, 5, &p, err, sizeof(err)) == -1 && strstr(err, "ABI 6"),
	       "enforce refuses scopes below ABI 6", err);
	result(pf_plan(&o, 6, &p, err, sizeof(err)) == 0 && p.attr.scoped == PF_SCOPE_SIGNAL &&
		       p.attr.handled_access_net == (PF_NET_BIND_TCP | PF_NET_CONNECT_TCP),
	       "enforce at ABI 6 handles TCP and the signal scope", err);
	o.mode = PF_BEST_EFFORT;
	result(pf_plan(&o, 3, &p, err, sizeof(err)) == 0 && p.attr.handled_access_net == 0 && p.attr.scoped == 0 &&
		       p.dropped == (PF_DROPPED_TCP | PF_DROPPED_SCOPE),
	       "best-effort drops TCP and scopes below their ABI", "wrong best-effort plan");
	parse_line("--deny-tcp -- x", err, sizeof(err));
	result(pf_plan(&o, 4, &p, err, sizeof(err)) == 0 && p.attr.handled_access_net != 0,
	       "--deny-tcp alone handles TCP", "net not handled");
	result(pf_plan(&o, 0, &p, err, sizeof(err)) == -1, "no plan without Landlock", "planned at ABI 0");
}


/* Does the program built from s refuse (with s->err) exactly the numbers outside s's ranges, for arch only? */
static int program_matches(const struct pf_seclog *s, uint32_t arch, const uint32_t *nrs, size_t count, char *why,
			   size_t whylen)
{
	static struct pf_bpf_insn prog[PF_SECLOG_MAX_INSNS];
	size_t n = pf_seclog_program(s, arch, prog, PF_SECLOG_MAX_INSNS), i, r;
	if (n == 0) {
		snprintf(why, whylen, "no program");
		return 0;
	}
	for (i = 0; i < count; i++) {
		uint32_t nr = nrs[i], got, want;
		int in = 0;
		for (r = 0; r < s->n; r++)
			in |= nr >= s->ranges[r].lo && nr <= s->ranges[r].hi;
		if (arch == PF_AUDIT_ARCH_X86_64 && (nr & PF_X32_SYSCALL_BIT))
			in = 1;
		want = in ? PF_SECCOMP_RET_ALLOW : (PF_SECCOMP_RET_ERRNO | s->err);
		got = pf_bpf_eval(prog, n, arch, nr);
		if (got != want) {
			snprintf(why, whylen, "nr %u: got 0x%x want 0x%x", nr, got, want);
			return 0;
		}
		/* Another architecture's calls always pass (the runtime's filter decides them). */
		got = pf_bpf_eval(prog, n, 0x40000003U /* i386 */, nr);
		if (got != PF_SECCOMP_RET_ALLOW) {
			snprintf(why, whylen, "i386 nr %u: got 0x%x", nr, got);
			return 0;
		}
	}
	return 1;
}

static void seclog_tests(void)
{
	static struct pf_seclog s;
	char err[256], why[256];
	const uint32_t probe[] = {0,  1,  2,  3,  9,  10, 11, 12, 19, 20, 21, 62, 63, 64, 434, 435, 436,
				  0x3fffffffU, 0x40000000U, 0x40000001U, 0x7fffffffU, 0xfffffffeU, 0xffffffffU};
	uint32_t rnd = 12345;
	int round;

	expect_ok("--seccomp-log 1:x86_64=0-62,64-434,436-4294967295:aarch64=0-159,161-200 -- x");
	result(o.seclog.set && o.seclog.has_arch && o.seclog.err == 1 && o.seclog.n == 3 &&
		       o.seclog.ranges[1].lo == 64 && o.seclog.ranges[1].hi == 434 && o.seclog.ranges[2].hi == 0xffffffffU,
	       "--seccomp-log keeps the native (x86_64) ranges", "wrong ranges");
	result(program_matches(&o.seclog, PF_AUDIT_ARCH_X86_64, probe, sizeof(probe) / sizeof(probe[0]), why,
			       sizeof(why)),
	       "x86_64 program: refuses 63 and 435 with EPERM, passes the rest and every x32 call", why);
	expect_ok("--seccomp-log=13:aarch64=5,7 -- x");
	result(o.seclog.set && !o.seclog.has_arch && pf_seclog_program(&o.seclog, PF_AUDIT_ARCH_X86_64, NULL, 0) == 0,
	       "no entry for this arch: no program", "program built");
	result(pf_seclog_parse("13:aarch64=5,7-9:x86_64=1", "aarch64", &s, err, sizeof(err)) == 0 && s.has_arch &&
		       s.n == 2 && s.err == 13 && s.ranges[1].lo == 7 && s.ranges[1].hi == 9 &&
		       program_matches(&s, PF_AUDIT_ARCH_AARCH64, probe, sizeof(probe) / sizeof(probe[0]), why,
				       sizeof(why)),
	       "aarch64 entry: its ranges, errno 13, no x32 exception", why);
	expect_ok("-- x");
	result(!o.seclog.set, "no --seccomp-log: nothing set", "set");

	expect_err("--seccomp-log -- x", "--seccomp-log: '--'");
	expect_err("--seccomp-log", "--seccomp-log needs");
	expect_err("--seccomp-log 0:x86_64=1 -- x", "errno 1-4095");
	expect_err("--seccomp-log 4096:x86_64=1 -- x", "errno 1-4095");
	expect_err("--seccomp-log 1 -- x", "errno 1-4095");
	expect_err("--seccomp-log x86_64=1 -- x", "errno 1-4095");
	expect_err("--seccomp-log 1:i386=1 -- x", "not x86_64= or aarch64=");
	expect_err("--seccomp-log 1:x86_64 -- x", "not x86_64= or aarch64=");
	expect_err("--seccomp-log 1:x86_64= -- x", "a syscall number");
	expect_err("--seccomp-log 1:x86_64=1,,2 -- x", "a syscall number");
	expect_err("--seccomp-log 1:x86_64=1, -- x", "a syscall number");
	expect_err("--seccomp-log 1:x86_64=-1 -- x", "a syscall number");
	expect_err("--seccomp-log 1:x86_64=4294967296 -- x", "a syscall number");
	expect_err("--seccomp-log 1:x86_64=00000000001 -- x", "a syscall number");
	expect_err("--seccomp-log 1:x86_64=5-3 -- x", "bad range end");
	expect_err("--seccomp-log 1:x86_64=1-x -- x", "bad range end");
	expect_err("--seccomp-log 1:x86_64=3,3 -- x", "not ascending");
	expect_err("--seccomp-log 1:x86_64=1-5,4-9 -- x", "not ascending");
	expect_err("--seccomp-log 1:x86_64=9,2 -- x", "not ascending");
	expect_err("--seccomp-log 1:x86_64=1:x86_64=2 -- x", "x86_64 given twice");
	expect_err("--seccomp-log 1:x86_64=1x -- x", "unexpected 'x'");
	expect_err("--seccomp-log 1:x86_64=1: -- x", "not x86_64= or aarch64=");
	expect_err("--seccomp-log 1:aarch64=1 --seccomp-log 1:aarch64=1 -- x", "given twice");
	{
		/* 1000 ranges fit (and the program stays within BPF_MAXINSNS), 1001 do not. */
		static char line[20000];
		size_t n = (size_t)snprintf(line, sizeof(line), "--seccomp-log 1:x86_64=");
		int i;
		for (i = 0; i < 1001; i++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%d", i ? "," : "", 2 * i);
		snprintf(line + n, sizeof(line) - n, " -- x");
		expect_err(line, "more than 1000 ranges");
		*strrchr(line, ',') = '\0';
		strcat(line, " -- x");
		expect_ok(line);
		result(o.seclog.n == 1000 && program_matches(&o.seclog, PF_AUDIT_ARCH_X86_64, probe,
							      sizeof(probe) / sizeof(probe[0]), why, sizeof(why)),
		       "1000 ranges: a valid program", why);
	}

	/* Property: random ascending ranges, every number at and around each bound judged as the ranges say. */
	for (round = 0; round < 300; round++) {
		static uint32_t nrs[4 * PF_SECLOG_MAX_RANGES + 8];
		size_t k = 0, c = 0, i;
		uint32_t at = 0;
		s.set = 1;
		s.has_arch = 1;
		s.err = (uint16_t)(1 + round % 4095);
		s.n = 0;
		for (;;) {
			rnd = rnd * 1103515245U + 12345U;
			at += (rnd >> 8) % 40 + (s.n ? 1 : 0);
			rnd = rnd * 1103515245U + 12345U;
			if (at > 1000 || s.n >= 1 + (size_t)round % 200)
				break;
			s.ranges[s.n].lo = at;
			at += (rnd >> 8) % 30;
			s.ranges[s.n].hi = at;
			s.n++;
			at++;
		}
		if (round % 7 == 0 && s.n) /* an open top, as the compiler writes it */
			s.ranges[s.n - 1].hi = 0xffffffffU;
		for (i = 0; i < s.n; i++) {
			nrs[c++] = s.ranges[i].lo;
			nrs[c++] = s.ranges[i].lo - 1;
			nrs[c++] = s.ranges[i].hi;
			nrs[c++] = s.ranges[i].hi + 1;
		}
		nrs[c++] = 0;
		nrs[c++] = 0xffffffffU;
		nrs[c++] = PF_X32_SYSCALL_BIT | 5;
		if (!program_matches(&s, round % 2 ? PF_AUDIT_ARCH_AARCH64 : PF_AUDIT_ARCH_X86_64, nrs, c, why,
				     sizeof(why))) {
			result(0, "seclog property: random ranges", why);
			return;
		}
		k++;
	}
	result(1, "seclog property: 300 random range sets judged exactly", "");
}

static void replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int count = 0;
	char why[600];
	if (!d) {
		snprintf(why, sizeof(why), "cannot open %s", dir);
		result(0, "fuzz replay", why);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char path[1024];
		static unsigned char data[1 << 20];
		size_t n;
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		n = fread(data, 1, sizeof(data), f);
		fclose(f);
		pf_fuzz_one(data, n); /* aborts (and the suite fails) on a broken invariant */
		count++;
	}
	closedir(d);
	snprintf(why, sizeof(why), "%s: %d inputs replayed", dir, count);
	result(count > 0, why, "no inputs");
}

int main(int argc, char **argv)
{
	int i;
	parser_tests();
	plan_tests();
	seclog_tests();
	for (i = 1; i < argc; i++)
		replay_dir(argv[i]);
	return failed ? 1 : 0;
}
