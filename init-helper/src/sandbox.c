#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "landlock.h"
#include "resolve.h"

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

/* Option names by kind + 3 * source, as typed on the command line. */
static const char *const opt_name[] = {"--ro",          "--rw",          "--exec",
				       "--optional-ro", "--optional-rw", "--optional-exec",
				       "--volume-ro",   "--volume-rw",   "--volume-exec"};

enum outcome { PF_PENDING = 0, PF_GRANTED, PF_COVERED, PF_SKIPPED, PF_REFUSED };

/*
 * What became of one path rule. The fd is the object that was checked and the one granted (no second lookup);
 * it is closed once judged, the identity (dev, ino) stays: a granted inode is held by the ruleset, so its number
 * cannot be reused while the wrapper runs.
 */
struct rule_state {
	struct pf_object obj;
	const char *reached; /* the path reached through symlinks (in reached_pool), or NULL */
	uint64_t rights; /* what the rule asks for, masked for the object's type */
	enum outcome outcome;
	const char *why;
};

static struct rule_state states[PF_MAX_PATHS];
static char canon[PF_CANON_MAX];
/* No malloc in this binary (size): the reached paths, for messages, go here; when full, a shorter note. */
static char reached_pool[1 << 16];
static size_t reached_used;

static const char *keep_reached(const char *path)
{
	size_t n = strlen(path) + 1;
	char *at;
	if (reached_used + n > sizeof(reached_pool))
		return "(a path)";
	at = reached_pool + reached_used;
	memcpy(at, path, n);
	reached_used += n;
	return at;
}

static const char *opt_of(const struct pf_path_rule *r)
{
	return opt_name[r->kind + 3 * r->source];
}

static int same_object(const struct pf_object *a, const struct pf_object *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

static void close_fds(struct rule_state *s)
{
	pf_object_close(&s->obj);
}

/*
 * The rights the rules granted so far give on `t`, as Landlock computes them: rules on t itself, then rules on
 * every directory from t (or its directory) up to the process root, crossing mounts as the kernel's '..' does,
 * which is how Landlock walks too.
 */
static uint64_t covered_rights(const struct pf_object *t, size_t n, const struct pf_object *root)
{
	struct pf_object cur, up;
	uint64_t have = 0;
	size_t i;
	int depth, start = S_ISDIR(t->mode) ? t->fd : t->dir_fd;

	for (i = 0; i < n; i++)
		if (states[i].outcome == PF_GRANTED && same_object(&states[i].obj, t))
			have |= states[i].rights;
	if (start < 0)
		return have;
	memset(&cur, 0, sizeof(cur));
	cur.dir_fd = -1;
	cur.fd = openat(start, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (depth = 0; cur.fd >= 0 && pf_identify(&cur) == 0 && depth < 4096; depth++) {
		if (!S_ISDIR(t->mode) || depth > 0)
			for (i = 0; i < n; i++)
				if (states[i].outcome == PF_GRANTED && S_ISDIR(states[i].obj.mode) &&
				    same_object(&states[i].obj, &cur))
					have |= states[i].rights;
		if (same_object(&cur, root) && cur.mnt_id == root->mnt_id)
			break; /* the root the paths were resolved from */
		memset(&up, 0, sizeof(up));
		up.dir_fd = -1;
		up.fd = openat(cur.fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (up.fd < 0 || pf_identify(&up) != 0 || (same_object(&up, &cur) && up.mnt_id == cur.mnt_id)) {
			pf_object_close(&up); /* the process root (its '..' is itself), or an error: stop */
			break;
		}
		pf_object_close(&cur);
		cur = up;
	}
	pf_object_close(&cur);
	return have;
}

/*
 * A rule whose path crossed a symlink (which the tenant may have planted, in the image or in a writable volume)
 * adds nothing of its own: what it reaches must already be granted, with at least its rights, by rules that
 * crossed no symlink. One exception keeps dynamic binaries running on merged-/usr images, where the ELF loader
 * (/lib64/ld-linux-x86-64.so.2) is always a symlink: an execute rule may reach one regular file that the other
 * rules already let the workload read but not write, with a single link, on the container's root filesystem
 * (the image: private to this container, unlike a volume another container may write).
 * Returns 1 to grant, 0 when already covered (nothing to add), -1 when refused (with the reason).
 */
static int judge_symlinked(const struct pf_path_rule *r, struct rule_state *s, size_t n, const struct pf_object *root)
{
	uint64_t have = covered_rights(&s->obj, n, root);
	if ((have & s->rights) == s->rights)
		return 0;
	if (r->kind == PF_PATH_EXEC && S_ISREG(s->obj.mode)) {
		if (s->obj.nlink != 1)
			s->why = "a file with several hard links";
		else if (root->mnt_id == 0 || s->obj.mnt_id != root->mnt_id)
			s->why = "a file outside the container's root filesystem";
		else if (!(have & PF_FS_READ_FILE))
			s->why = "a file no rule without symlinks lets the workload read";
		else if (have & (PF_FS_WRITE_FILE | PF_FS_TRUNCATE))
			s->why = "a file the workload may write";
		else
			return 1;
		return -1;
	}
	s->why = "not already granted these rights by rules that cross no symlink";
	return -1;
}

/*
 * A volume is granted as the root of the mount the runtime made, wherever symlinks lead to it (e.g. the service
 * account token under /var/run -> /run): never the container's root, the runtime's /dev or a kernel
 * pseudo-filesystem, and never a plain directory (which a symlink planted in a shared volume could aim at).
 */
static const char *judge_volume(const struct pf_object *o, const struct pf_object *root, const struct pf_object *dev)
{
	if (!o->mount_root)
		return "not the root of a mount";
	if (same_object(o, root) && o->mnt_id == root->mnt_id)
		return "the container's root";
	if (dev->fd >= 0 && same_object(o, dev) && o->mnt_id == dev->mnt_id)
		return "the runtime's /dev";
	if (pf_is_pseudo_fs(o->fs_type))
		return "a kernel pseudo-filesystem";
	return NULL;
}

static int add_rule(int ruleset, const struct pf_path_rule *r, struct rule_state *s)
{
	struct pf_path_beneath_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.allowed_access = s->rights;
	attr.parent_fd = s->obj.fd;
	s->outcome = PF_GRANTED;
#ifdef PF_FUZZ_GRANTS
	pf_fuzz_granted(r, &s->obj, s->rights);
#endif
	if (attr.allowed_access == 0 || pf_landlock_add_rule(ruleset, PF_RULE_PATH_BENEATH, &attr, 0) == 0)
		return 0;
	fprintf(stderr, "podfence-init: %s %s: landlock_add_rule: %s\n", opt_of(r), r->path, strerror(errno));
	return -1;
}

static const char *outcome_name(enum outcome o)
{
	switch (o) {
	case PF_GRANTED:
		return "granted";
	case PF_COVERED:
		return "already granted by the other rules";
	case PF_SKIPPED:
		return "skipped";
	default:
		return "refused";
	}
}

/*
 * --verbose: a line per rule. Otherwise one summary line of what was not granted, leaving out the preset's and
 * baseline's missing paths (most images lack some: other architectures' loaders), or nothing at all.
 */
static void report(const struct pf_opts *o)
{
	static char line[2048];
	size_t i, len = 0, shown = 0, hidden = 0;
	for (i = 0; i < o->n_paths; i++) {
		const struct pf_path_rule *r = &o->paths[i];
		const struct rule_state *s = &states[i];
		char item[640];
		if (o->verbose) {
			fprintf(stderr, "podfence-init: %s %s: %s%s%s%s%s%s\n", opt_of(r), r->path, outcome_name(s->outcome),
				s->reached ? ", reaches " : "", s->reached ? s->reached : "", s->reached ? " through a symlink" : "",
				s->why ? ": " : "", s->why ? s->why : "");
			continue;
		}
		if (s->outcome == PF_GRANTED || s->outcome == PF_COVERED ||
		    (s->outcome == PF_SKIPPED && r->source == PF_SRC_OPTIONAL))
			continue;
		if (s->reached)
			snprintf(item, sizeof(item), "%s %.200s (reaches %.200s through a symlink: %s)", opt_of(r), r->path,
				 s->reached, s->why);
		else
			snprintf(item, sizeof(item), "%s %.200s (%s)", opt_of(r), r->path, s->why);
		if (shown < 6 && len + strlen(item) + 3 < sizeof(line) - 80) {
			len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", shown ? "; " : "", item);
			shown++;
		} else {
			hidden++;
		}
	}
	if (shown == 0)
		return;
	if (hidden)
		snprintf(line + len, sizeof(line) - len, "; and %zu more (--verbose lists every path)", hidden);
	fprintf(stderr, "podfence-init: not granted: %s\n", line);
}

/* Pass 1: resolve once; grant what crossed no symlink, and volumes. Returns -1 on an error that stops all. */
static int first_pass(int ruleset, const struct pf_opts *o, const struct pf_plan *p, const struct pf_object *root,
		      const struct pf_object *dev, size_t i)
{
	const struct pf_path_rule *r = &o->paths[i];
	struct rule_state *s = &states[i];
	int e;

	if (pf_resolve(root->fd, r->path, &s->obj, canon) != 0) {
		e = s->obj.err;
		/* Not there, or not reachable by this user (e.g. 65534 and a root-only directory): granting it would give
		   nothing the user could use. A symlink loop, or one too long, is refused. */
		if (e == ENOENT || e == ENOTDIR || e == EACCES || e == ELOOP || e == ENAMETOOLONG) {
			s->outcome = e == ELOOP || e == ENAMETOOLONG ? PF_REFUSED : PF_SKIPPED;
			s->why = strerror(e);
			return 0;
		}
		fprintf(stderr, "podfence-init: %s %s: %s\n", opt_of(r), r->path, strerror(e));
		return -1;
	}
	if (s->obj.symlinks > 0)
		s->reached = keep_reached(canon);
	s->rights = pf_rule_rights(p->rights[r->kind], S_ISDIR(s->obj.mode));
	if (r->source == PF_SRC_VOLUME) {
		/* Judged once every rule without symlinks is in (judge_volume_overlap). */
		s->why = judge_volume(&s->obj, root, dev);
		if (s->why)
			s->outcome = PF_REFUSED;
	} else if (s->obj.symlinks == 0 && add_rule(ruleset, r, s) != 0) {
		return -1;
	}
	/* Execute rules stay open: a writable volume must not be found above one of them (judge_volume_overlap). */
	if (s->outcome == PF_REFUSED || (s->outcome == PF_GRANTED && r->kind != PF_PATH_EXEC))
		close_fds(s);
	return 0;
}

/* Is directory `d` (an open object) `top` or beneath it? Walks up through '..' as the kernel does. */
static int beneath(const struct pf_object *d, const struct pf_object *top, const struct pf_object *root)
{
	struct pf_object cur, up;
	int depth, found = 0;
	memset(&cur, 0, sizeof(cur));
	cur.dir_fd = -1;
	cur.fd = openat(d->fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (depth = 0; cur.fd >= 0 && pf_identify(&cur) == 0 && depth < 4096; depth++) {
		if (same_object(&cur, top) && cur.mnt_id == top->mnt_id) {
			found = 1;
			break;
		}
		if (same_object(&cur, root) && cur.mnt_id == root->mnt_id)
			break;
		memset(&up, 0, sizeof(up));
		up.dir_fd = -1;
		up.fd = openat(cur.fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (up.fd < 0 || pf_identify(&up) != 0 || (same_object(&up, &cur) && up.mnt_id == cur.mnt_id)) {
			pf_object_close(&up);
			break;
		}
		pf_object_close(&cur);
		cur = up;
	}
	pf_object_close(&cur);
	return found;
}

/*
 * Where an object lies in its filesystem: /proc/self/mountinfo's root field of its mount (the directory of the
 * filesystem mounted there: a subPath mount shows the subdirectory) joined with its path below the mountpoint.
 * `path` is the object's path as reached (no symlinks). Fills place and the device; returns 0, or -1 when unknown.
 */
static int fs_place(uint64_t mnt_id, const char *path, char *place, size_t cap, char *devno, size_t devcap)
{
	static char buf[1 << 16];
	char want[32];
	ssize_t n;
	size_t used = 0;
	int fd, found = -1;

	if (mnt_id == 0)
		return -1;
	fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	snprintf(want, sizeof(want), "%llu ", (unsigned long long)mnt_id);
	for (;;) {
		char *line, *nl;
		n = read(fd, buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		buf[used] = '\0';
		line = buf;
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			if (found < 0 && strncmp(line, want, strlen(want)) == 0) {
				/* id parent major:minor root mountpoint ... (spaces in paths are \040: such a path never matches) */
				char *f[3] = {NULL, NULL, NULL}, *t = line;
				int k;
				for (k = 0; k < 5 && t; k++) {
					char *sp = strchr(t, ' ');
					if (k >= 2)
						f[k - 2] = t;
					if (sp)
						*sp++ = '\0';
					t = sp;
				}
				if (f[2] && strlen(f[0]) < devcap) {
					const char *rest = path;
					size_t ml = strlen(f[2]);
					strcpy(devno, f[0]);
					if (strcmp(f[2], "/") != 0) {
						if (strncmp(path, f[2], ml) != 0 || (path[ml] != '\0' && path[ml] != '/'))
							break;
						rest = path + ml;
					}
					if (strlen(f[1]) + strlen(rest) + 2 > cap)
						break;
					snprintf(place, cap, "%s%s", strcmp(f[1], "/") == 0 && *rest ? "" : f[1], rest);
					if (!place[0])
						strcpy(place, "/");
					found = 0;
				}
			}
			line = nl + 1;
		}
		if (found == 0)
			break;
		used = strlen(line);
		memmove(buf, line, used);
		if (used >= sizeof(buf) - 1)
			break; /* a line longer than the buffer: give up (unknown) */
	}
	close(fd);
	return found;
}

/* Is canonical `a` at or beneath canonical `b`? */
static int path_within(const char *a, const char *b)
{
	size_t n = strlen(b);
	return strcmp(b, "/") == 0 || (strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/'));
}

/* A rule's path without "//", "/./" or a trailing "/" (its text as the walker reached it, when no symlink). */
static void tidy_path(const char *in, char *out, size_t cap)
{
	size_t len = 0;
	const char *p = in;
	while (*p && len + 2 < cap) {
		const char *c;
		size_t n;
		while (*p == '/')
			p++;
		c = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - c);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (len + 1 + n + 1 > cap)
			break;
		out[len++] = '/';
		memcpy(out + len, c, n);
		len += n;
	}
	out[len] = '\0';
	if (!len)
		strcpy(out, "/");
}

/*
 * Do the volume (a mount root, `vpath`) and an execute rule's object (`epath`, reached without symlinks) share
 * files through different mounts of one filesystem (two subPath mounts of one volume)? 1 yes, 0 no. When the mount
 * table cannot be read, the same device is taken as yes.
 */
static const char *root_prefix = ""; /* pf_add_path_rules' root_path when not "/": mountinfo shows full paths */

static int same_files(const struct pf_object *v, const char *vpath, const struct pf_object *e, const char *epath)
{
	static char vp[PF_CANON_MAX], ep[PF_CANON_MAX], vt[PF_CANON_MAX], et[PF_CANON_MAX], full[PF_CANON_MAX];
	char vd[32], ed[32];
	if (v->dev != e->dev)
		return 0;
	snprintf(full, sizeof(full), "%s%s", root_prefix, vpath);
	tidy_path(full, vt, sizeof(vt));
	snprintf(full, sizeof(full), "%s%s", root_prefix, epath);
	tidy_path(full, et, sizeof(et));
	if (fs_place(v->mnt_id, vt, vp, sizeof(vp), vd, sizeof(vd)) != 0 ||
	    fs_place(e->mnt_id, et, ep, sizeof(ep), ed, sizeof(ed)) != 0 || strcmp(vd, ed) != 0)
		return 1;
	return path_within(ep, vp) || path_within(vp, ep);
}

/*
 * A writable volume and an execute rule must not overlap: the workload (or another container of the pod, which
 * shares the volume) would write a program there and run it. Such a volume is refused (not granted: its files
 * stay readable and executable as the other rules say, but not writable). Overlap is: the volume beneath an
 * execute rule; an execute rule's file or directory on the volume's filesystem (inside it, or inside another mount
 * of the same filesystem, as two subPath mounts of one volume are: the paths do not show it, the device does); an
 * execute rule beneath it through a mount inside it (Landlock walks up across mounts, so the volume's write right
 * reaches there).
 */
static const char *judge_volume_overlap(const struct pf_path_rule *r, struct rule_state *s, const struct pf_opts *o,
					const struct pf_object *root)
{
	size_t i;
	if (r->kind != PF_PATH_RW)
		return NULL;
	if (covered_rights(&s->obj, o->n_paths, root) & PF_FS_EXECUTE)
		return "writable, and beneath an execute rule";
	for (i = 0; i < o->n_paths; i++) {
		const struct rule_state *e = &states[i];
		struct pf_object dir;
		int found;
		if (o->paths[i].kind != PF_PATH_EXEC || e->outcome != PF_GRANTED || e->obj.fd < 0)
			continue;
		found = 0;
		if (S_ISDIR(s->obj.mode) && S_ISDIR(e->obj.mode)) {
			found = beneath(&e->obj, &s->obj, root);
		} else if (S_ISDIR(s->obj.mode) && e->obj.dir_fd >= 0) {
			memset(&dir, 0, sizeof(dir));
			dir.fd = e->obj.dir_fd;
			dir.dir_fd = -1;
			found = beneath(&dir, &s->obj, root);
		}
		if (found)
			return "writable, and holding an execute rule's path";
		if (e->obj.symlinks == 0 ? same_files(&s->obj, r->path, &e->obj, o->paths[i].path) : e->obj.dev == s->obj.dev)
			return "writable, and an execute rule's path is in it through another mount of it (subPath)";
	}
	return NULL;
}

int pf_add_path_rules(int ruleset, const struct pf_opts *o, const struct pf_plan *p, const char *root_path)
{
	struct pf_object root, dev;
	size_t i;
	int rc = 0, v;

	memset(&root, 0, sizeof(root));
	root.dir_fd = -1;
	root_prefix = strcmp(root_path, "/") == 0 ? "" : root_path;
	root.fd = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root.fd < 0 || pf_identify(&root) != 0) {
		fprintf(stderr, "podfence-init: cannot open %s: %s\n", root_path, strerror(errno));
		pf_object_close(&root);
		return -1;
	}
	/* The runtime's /dev (a mount, reached without symlinks), which no volume rule may turn into. */
	if (pf_resolve(root.fd, "/dev", &dev, canon) != 0 || dev.symlinks > 0 || !dev.mount_root)
		pf_object_close(&dev);

	for (i = 0; i < o->n_paths; i++) {
		memset(&states[i], 0, sizeof(states[i]));
		states[i].obj.fd = states[i].obj.dir_fd = -1;
	}
	for (i = 0; i < o->n_paths && rc == 0; i++)
		rc = first_pass(ruleset, o, p, &root, &dev, i);
	/* The volumes (read-only or writable, never execute), once every rule without symlinks is in. */
	for (i = 0; i < o->n_paths && rc == 0; i++) {
		struct rule_state *s = &states[i];
		if (o->paths[i].source != PF_SRC_VOLUME || s->outcome != PF_PENDING)
			continue;
		s->why = judge_volume_overlap(&o->paths[i], s, o, &root);
		if (s->why)
			s->outcome = PF_REFUSED;
		else
			rc = add_rule(ruleset, &o->paths[i], s);
		close_fds(s);
	}
	/* Pass 2: judge the rules that crossed a symlink against everything granted. */
	for (i = 0; i < o->n_paths && rc == 0; i++) {
		struct rule_state *s = &states[i];
		if (s->outcome != PF_PENDING)
			continue;
		v = judge_symlinked(&o->paths[i], s, o->n_paths, &root);
		if (v == 0)
			s->outcome = PF_COVERED;
		else if (v < 0)
			s->outcome = PF_REFUSED;
		else
			rc = add_rule(ruleset, &o->paths[i], s);
	}
	if (rc == 0) {
		report(o);
		for (i = 0; i < o->n_paths; i++) {
			const struct pf_path_rule *r = &o->paths[i];
			if (o->missing == PF_MISSING_FAIL && r->source != PF_SRC_OPTIONAL &&
			    (states[i].outcome == PF_SKIPPED || states[i].outcome == PF_REFUSED)) {
				fprintf(stderr, "podfence-init: %s %s: %s (--missing fail)\n", opt_of(r), r->path, states[i].why);
				rc = -1;
				break;
			}
		}
	}
	for (i = 0; i < o->n_paths; i++) {
		close_fds(&states[i]);
	}
	pf_object_close(&dev);
	pf_object_close(&root);
	return rc;
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
	if (pf_add_path_rules(ruleset, o, p, "/") != 0)
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
