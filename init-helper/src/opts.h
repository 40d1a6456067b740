/* Command-line parsing: pure (no I/O, no allocation), so it can be unit-tested and fuzzed. */
#ifndef PF_OPTS_H
#define PF_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "seclog.h"

#define PF_VERSION "0.1.0"

/* Bounds: a profile far larger than any real one still fits; anything larger is refused, not truncated. */
#define PF_MAX_PATHS 1024 /* --ro + --rw + --exec together */
#define PF_MAX_PORTS 1024 /* --bind-tcp + --connect-tcp together */
#define PF_MAX_PATH_LEN 4095
#define PF_MAX_ARGS 1000000 /* the kernel's own limit on argv size is lower; this only guards int maths */

enum pf_action { PF_RUN = 0, PF_PROBE, PF_INSTALL, PF_VERSION_ACTION, PF_HELP };
enum pf_mode { PF_ENFORCE = 0, PF_BEST_EFFORT };
enum pf_missing { PF_MISSING_SKIP = 0, PF_MISSING_FAIL };
enum pf_path_kind { PF_PATH_RO = 0, PF_PATH_RW, PF_PATH_EXEC };
/*
 * Who asked for a path, which decides how far the wrapper trusts what it finds there (see resolve.h):
 * the profile's author (--ro/--rw/--exec: missing or refused counts for --missing fail), the preset or baseline
 * (--optional-*: silent when missing, never fatal), or a volume the runtime mounted (--volume-*: granted only as
 * the root of a mount, whatever symlinks lead there).
 */
enum pf_path_source { PF_SRC_AUTHOR = 0, PF_SRC_OPTIONAL, PF_SRC_VOLUME };
enum pf_port_kind { PF_PORT_BIND = 0, PF_PORT_CONNECT };

struct pf_path_rule {
	enum pf_path_kind kind;
	enum pf_path_source source;
	const char *path; /* points into argv; absolute, no '..' component */
};

struct pf_port_rule {
	enum pf_port_kind kind;
	uint16_t port;
};

struct pf_opts {
	enum pf_action action;
	enum pf_mode mode;
	enum pf_missing missing;
	int deny_tcp;       /* --deny-tcp given */
	int verbose;        /* --verbose: a line per path rule on stderr */
	uint64_t scopes;    /* PF_SCOPE_* bits */
	size_t n_paths;
	struct pf_path_rule paths[PF_MAX_PATHS];
	size_t n_ports;
	struct pf_port_rule ports[PF_MAX_PORTS];
	struct pf_seclog seclog; /* --seccomp-log, ranges of this build's architecture */
	const char *install_dir; /* PF_INSTALL */
	char *const *command;    /* PF_RUN: NULL-terminated, points into argv */
};

/*
 * Parses argv (argc entries, argv[argc] need not be NULL but command is only usable when it is).
 * Returns 0, or -1 with a one-line reason in err (always NUL-terminated when errlen > 0).
 */
int pf_parse(int argc, char *const argv[], struct pf_opts *o, char *err, size_t errlen);

/* Formats a one-line reason into err (when errlen > 0) and returns -1: the parsers' error path. */
int pf_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* True when the options restrict TCP (any port rule or --deny-tcp). */
int pf_wants_tcp(const struct pf_opts *o);

#endif
