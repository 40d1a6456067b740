/*
 * podfence-init: applies Landlock rules to itself, sets no_new_privs and execs the container's command.
 * Exit codes like a shell: 2 usage, 126 sandbox not applied or command not executable, 127 command not
 * found, otherwise the command's own status (the command replaces this process).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "install.h"
#include "opts.h"
#include "policy.h"
#include "sandbox.h"
#include "seclog.h"

#define EXIT_USAGE 2
#define EXIT_CANNOT 126
#define EXIT_NOTFOUND 127

static const char usage_text[] =
	"usage: podfence-init [options] -- COMMAND [ARG...]\n"
	"  --ro PATH            read-only access beneath PATH\n"
	"  --rw PATH            read-write access beneath PATH (create, remove, rename within)\n"
	"  --exec PATH          execute (and read) beneath PATH\n"
	"  --optional-ro|--optional-rw|--optional-exec PATH   the same, from a preset or the baseline: silent when\n"
	"                       missing, never fatal\n"
	"  --volume-ro|--volume-rw PATH   a mounted volume: granted only as the root of a mount\n"
	"  --bind-tcp PORT      allow binding this TCP port (ABI >= 4)\n"
	"  --connect-tcp PORT   allow connecting to this TCP port (ABI >= 4)\n"
	"  --deny-tcp           restrict TCP even when no port is allowed\n"
	"  --scope signal|abstract-unix-socket   (ABI >= 6)\n"
	"  --mode enforce|best-effort            (default enforce)\n"
	"  --missing skip|fail                   a listed path missing, unreachable or refused (default skip)\n"
	"  --verbose                             a line per path on stderr (default: one line for what was not\n"
	"                                        granted, nothing when all was)\n"
	"  --seccomp-log ERRNO:ARCH=RANGES[:ARCH=RANGES]   before exec, a seccomp filter with the log flag that\n"
	"                       refuses with ERRNO every syscall number outside RANGES (a or a-b, comma-separated,\n"
	"                       ascending) of this ARCH (x86_64, aarch64): the profile's own refusals, now logged\n"
	"  Paths are absolute. A path through a symlink grants nothing beyond what rules without symlinks grant.\n"
	"       podfence-init --probe | --version | install DIR\n";

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int do_probe(void)
{
	struct pf_kernel k;
	struct utsname u;
	pf_probe_kernel(&k, 1);
	printf("{\"landlock_abi\":%d,\"version\":\"%s\",\"status\":\"%s\",\"abi_known\":%d", k.abi, PF_VERSION,
	       pf_status_name(&k), PF_ABI_MAX);
	if (k.abi == 0)
		printf(",\"errno\":%d", k.err);
	if (k.errata >= 0)
		printf(",\"errata\":%d", k.errata);
	if (uname(&u) == 0) {
		printf(",\"kernel\":");
		json_string(u.release);
		printf(",\"arch\":");
		json_string(u.machine);
	}
	printf("}\n");
	return fflush(stdout) == 0 ? 0 : 1;
}

static int run(const struct pf_opts *o)
{
	static struct pf_plan plan;
	struct pf_kernel k;
	char err[256];
	int e;

	pf_probe_kernel(&k, 0);
	if (k.abi == 0) {
		if (o->mode == PF_ENFORCE) {
			fprintf(stderr, "podfence-init: cannot apply the sandbox: %s; not running %s (--mode enforce)\n",
				pf_unavailable_reason(&k), o->command[0]);
			return EXIT_CANNOT;
		}
		fprintf(stderr, "podfence-init: %s; running %s without Landlock (--mode best-effort)\n",
			pf_unavailable_reason(&k), o->command[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
			e = errno;
			fprintf(stderr, "podfence-init: prctl(PR_SET_NO_NEW_PRIVS): %s\n", strerror(e));
			return EXIT_CANNOT;
		}
	} else {
		if (pf_plan(o, k.abi, &plan, err, sizeof(err)) != 0) {
			fprintf(stderr, "podfence-init: cannot apply the sandbox: %s; not running %s (--mode enforce)\n",
				err, o->command[0]);
			return EXIT_CANNOT;
		}
		if (plan.dropped & PF_DROPPED_TCP)
			fprintf(stderr, "podfence-init: Landlock ABI %d has no TCP rules; TCP not restricted "
					"(--mode best-effort)\n", plan.abi);
		if (plan.dropped & PF_DROPPED_SCOPE)
			fprintf(stderr, "podfence-init: Landlock ABI %d has no scopes; --scope not applied "
					"(--mode best-effort)\n", plan.abi);
		if (plan.dropped & PF_DROPPED_REFER)
			fprintf(stderr, "podfence-init: Landlock ABI 1 denies every cross-directory rename and link, "
					"even under --rw\n");
		if (pf_apply(o, &plan) != 0) {
			fprintf(stderr, "podfence-init: sandbox not applied; not running %s\n", o->command[0]);
			return EXIT_CANNOT;
		}
	}
	/* Last, after no_new_privs and with nothing left to do but execve: it applies to the wrapper too. */
	pf_seclog_install(&o->seclog);
	execvp(o->command[0], o->command);
	e = errno;
	fprintf(stderr, "podfence-init: cannot execute %s: %s\n", o->command[0], strerror(e));
	return e == ENOENT ? EXIT_NOTFOUND : EXIT_CANNOT;
}

int main(int argc, char *argv[])
{
	static struct pf_opts opts; /* large (bounded arrays): not on the stack */
	char err[256];

	if (pf_parse(argc, argv, &opts, err, sizeof(err)) != 0) {
		fprintf(stderr, "podfence-init: %s\n%s", err, usage_text);
		return EXIT_USAGE;
	}
	switch (opts.action) {
	case PF_PROBE:
		return do_probe();
	case PF_VERSION_ACTION:
		printf("podfence-init %s\n", PF_VERSION);
		return 0;
	case PF_HELP:
		fputs(usage_text, stdout);
		return 0;
	case PF_INSTALL:
		return pf_install(opts.install_dir) == 0 ? 0 : 1;
	case PF_RUN:
		break;
	}
	return run(&opts);
}
