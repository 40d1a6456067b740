/*
 * Unit tests of the pure parts (option parser, ABI plan), built with ASan+UBSan, and the replay of every
 * fuzz regression and corpus file given as arguments (directories). Prints "PASS name" / "FAIL name: why".
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/harness.h"
#include "opts.h"
#include "policy.h"

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
	for (i = 1; i < argc; i++)
		replay_dir(argv[i]);
	return failed ? 1 : 0;
}
