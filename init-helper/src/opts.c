#include "opts.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "landlock.h"

int pf_fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Decimal 0..65535, no sign, no spaces, no leading '+' (strtoul would accept all of those). */
static int parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;
	if (s[0] == '\0' || strlen(s) > 5)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* "--name VALUE" or "--name=VALUE". Returns the value or NULL (with *consumed unchanged) if not this option. */
static const char *option_value(const char *name, int argc, char *const argv[], int *i, int *missing)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	*missing = 0;
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc || argv[*i + 1] == NULL) {
		*missing = 1;
		return NULL;
	}
	*i += 1;
	return argv[*i];
}

/* A '..' component would let a path's meaning depend on what lies beneath it; the profile schema refuses it too. */
static int has_dotdot(const char *p)
{
	const char *c = p;
	while ((c = strstr(c, "..")) != NULL) {
		if ((c == p || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
			return 1;
		c += 2;
	}
	return 0;
}

static int add_path(struct pf_opts *o, enum pf_path_kind kind, enum pf_path_source source, const char *opt,
		    const char *path, char *err, size_t errlen)
{
	size_t len = strlen(path);
	if (len == 0)
		return pf_fail(err, errlen, "%s: empty path", opt);
	if (len > PF_MAX_PATH_LEN)
		return pf_fail(err, errlen, "%s: path longer than %d bytes", opt, PF_MAX_PATH_LEN);
	/* Relative paths would depend on the working directory, which the pod spec sets. */
	if (path[0] != '/')
		return pf_fail(err, errlen, "%s %.64s: not an absolute path", opt, path);
	if (has_dotdot(path))
		return pf_fail(err, errlen, "%s %.64s: '..' is not allowed in a path", opt, path);
	if (o->n_paths >= PF_MAX_PATHS)
		return pf_fail(err, errlen, "%s %s: more than %d paths", opt, path, PF_MAX_PATHS);
	o->paths[o->n_paths].kind = kind;
	o->paths[o->n_paths].source = source;
	o->paths[o->n_paths].path = path;
	o->n_paths++;
	return 0;
}

static int add_port(struct pf_opts *o, enum pf_port_kind kind, const char *opt, const char *value, char *err,
		    size_t errlen)
{
	uint16_t port;
	if (parse_port(value, &port) != 0)
		return pf_fail(err, errlen, "%s: '%.64s' is not a port number (0-65535)", opt, value);
	if (o->n_ports >= PF_MAX_PORTS)
		return pf_fail(err, errlen, "%s %s: more than %d ports", opt, value, PF_MAX_PORTS);
	o->ports[o->n_ports].kind = kind;
	o->ports[o->n_ports].port = port;
	o->n_ports++;
	return 0;
}

/* Index = kind + 3 * source (volumes are never executable: no --volume-exec). */
#define N_PATH_OPTS 8
static const char *const path_opts[N_PATH_OPTS] = {"--ro",          "--rw",          "--exec",
						   "--optional-ro", "--optional-rw", "--optional-exec",
						   "--volume-ro",   "--volume-rw"};
static const char *const port_opts[] = {"--bind-tcp", "--connect-tcp"};

int pf_parse(int argc, char *const argv[], struct pf_opts *o, char *err, size_t errlen)
{
	int i;
	if (errlen > 0)
		err[0] = '\0';
	memset(o, 0, sizeof(*o));
	if (argc < 0 || argc > PF_MAX_ARGS)
		return pf_fail(err, errlen, "too many arguments");
	if (argc < 2)
		return pf_fail(err, errlen, "missing '-- COMMAND'");
	for (i = 1; i < argc; i++)
		if (argv[i] == NULL)
			return pf_fail(err, errlen, "argument %d is NULL", i);

	/* Stand-alone actions: exactly one word (install takes its directory). */
	if (strcmp(argv[1], "--probe") == 0 || strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		if (argc != 2)
			return pf_fail(err, errlen, "%s takes no other argument", argv[1]);
		o->action = argv[1][2] == 'p' ? PF_PROBE : argv[1][2] == 'v' ? PF_VERSION_ACTION : PF_HELP;
		return 0;
	}
	if (strcmp(argv[1], "install") == 0) {
		if (argc != 3 || argv[2][0] == '\0')
			return pf_fail(err, errlen, "usage: install DIR");
		if (strlen(argv[2]) > PF_MAX_PATH_LEN - 64)
			return pf_fail(err, errlen, "install: directory path too long");
		o->action = PF_INSTALL;
		o->install_dir = argv[2];
		return 0;
	}

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v;
		int missing;
		size_t k;
		int matched = 0;

		if (strcmp(a, "--") == 0) {
			if (i + 1 >= argc)
				return pf_fail(err, errlen, "missing COMMAND after '--'");
			if (argv[i + 1][0] == '\0')
				return pf_fail(err, errlen, "empty COMMAND after '--'");
			o->command = &argv[i + 1];
			return 0;
		}
		if (strcmp(a, "--deny-tcp") == 0) {
			o->deny_tcp = 1;
			continue;
		}
		if (strcmp(a, "--verbose") == 0) {
			o->verbose = 1;
			continue;
		}
		for (k = 0; k < N_PATH_OPTS && !matched; k++) {
			v = option_value(path_opts[k], argc, argv, &i, &missing);
			if (missing)
				return pf_fail(err, errlen, "%s needs a PATH", path_opts[k]);
			if (v) {
				if (add_path(o, (enum pf_path_kind)(k % 3), (enum pf_path_source)(k / 3), path_opts[k], v,
					     err, errlen) != 0)
					return -1;
				matched = 1;
			}
		}
		for (k = 0; k < 2 && !matched; k++) {
			v = option_value(port_opts[k], argc, argv, &i, &missing);
			if (missing)
				return pf_fail(err, errlen, "%s needs a PORT", port_opts[k]);
			if (v) {
				if (add_port(o, (enum pf_port_kind)k, port_opts[k], v, err, errlen) != 0)
					return -1;
				matched = 1;
			}
		}
		if (matched)
			continue;
		if ((v = option_value("--scope", argc, argv, &i, &missing)) != NULL) {
			if (strcmp(v, "signal") == 0)
				o->scopes |= PF_SCOPE_SIGNAL;
			else if (strcmp(v, "abstract-unix-socket") == 0)
				o->scopes |= PF_SCOPE_ABSTRACT_UNIX_SOCKET;
			else
				return pf_fail(err, errlen, "--scope: '%.64s' is not signal or abstract-unix-socket", v);
			continue;
		}
		if (missing)
			return pf_fail(err, errlen, "--scope needs signal or abstract-unix-socket");
		if ((v = option_value("--mode", argc, argv, &i, &missing)) != NULL) {
			if (strcmp(v, "enforce") == 0)
				o->mode = PF_ENFORCE;
			else if (strcmp(v, "best-effort") == 0)
				o->mode = PF_BEST_EFFORT;
			else
				return pf_fail(err, errlen, "--mode: '%.64s' is not enforce or best-effort", v);
			continue;
		}
		if (missing)
			return pf_fail(err, errlen, "--mode needs enforce or best-effort");
		if ((v = option_value("--missing", argc, argv, &i, &missing)) != NULL) {
			if (strcmp(v, "skip") == 0)
				o->missing = PF_MISSING_SKIP;
			else if (strcmp(v, "fail") == 0)
				o->missing = PF_MISSING_FAIL;
			else
				return pf_fail(err, errlen, "--missing: '%.64s' is not skip or fail", v);
			continue;
		}
		if (missing)
			return pf_fail(err, errlen, "--missing needs skip or fail");
		if ((v = option_value("--seccomp-log", argc, argv, &i, &missing)) != NULL) {
			if (o->seclog.set)
				return pf_fail(err, errlen, "--seccomp-log given twice");
			if (pf_seclog_parse(v, PF_NATIVE_ARCH, &o->seclog, err, errlen) != 0)
				return -1;
			continue;
		}
		if (missing)
			return pf_fail(err, errlen, "--seccomp-log needs ERRNO:ARCH=RANGES");
		if (a[0] == '-')
			return pf_fail(err, errlen, "unknown option '%.64s'", a);
		return pf_fail(err, errlen, "'%.64s': put '--' before COMMAND", a);
	}
	return pf_fail(err, errlen, "missing '-- COMMAND'");
}

int pf_wants_tcp(const struct pf_opts *o)
{
	return o->deny_tcp || o->n_ports > 0;
}
