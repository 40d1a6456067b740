/*
 * Path fuzzer for podfence-init: the symlink-safe walker (src/resolve.c) and the judging of path rules
 * (src/sandbox.c, pf_add_path_rules) against a hostile tree. See walk_harness.h.
 *
 * The tree is a tmpfs (the "container root") in a private mount namespace:
 *   /bin/{sh,tool}  /lib/ld.so  /lib64 -> lib  /usr/bin/prog  /usr/lib -> ../lib  /etc/passwd
 *   /secret/key  /data/hl (a hard link of /secret/key)  /data/x/{f,y/}  /data/up -> ../..  /data/loop -> loop
 *   /data/abs -> /  /data/<255-char name>/f
 *   /dev      a tmpfs mount (the runtime's /dev) with null
 *   /proc     procfs (magic links: /proc/self/root, .../cwd, .../fd/N)
 *   /vol/a    a tmpfs mount (a volume) with sub/t and n (a nested tmpfs mount: a volume inside a volume)
 *   /vol/b    a tmpfs mount
 *   /vol/s    a bind mount of /vol/a/sub (a second mount of one volume, as subPath makes)
 * An input plants symlinks (any text: absolute, relative, '..', loops, empty, very long, magic-link paths), hard
 * links and directories in the tenant-writable places, then names paths to walk and profile rules. Invariants:
 *   walker: it reaches exactly what a separate string-based resolver (same root, '..' clamped at the root, symlink
 *     text followed) reaches, with the same canonical path and symlink count, or refuses (never something else);
 *     with no symlink crossed, the kernel's own no-symlink lookup (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS)
 *     names the same object; where openat2 RESOLVE_IN_ROOT resolves too, it agrees.
 *   rules: every grant is what the profile's path names without symlinks (G2), or the one documented exception (an
 *     execute rule reaching a single-link regular file on the root mount that symlink-free rules let the workload
 *     read and no rule lets it write, G3), or a volume granted as a mount root that is not /, /dev or procfs (G4);
 *     and no object is both writable through a volume grant and executable through any grant (G5).
 */
#include "walk_harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../src/landlock.h"
#include "../src/opts.h"
#include "../src/policy.h"
#include "../src/resolve.h"
#include "../src/sandbox.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#define H_RESOLVE_NO_MAGICLINKS 0x02
#define H_RESOLVE_NO_SYMLINKS 0x04
#define H_RESOLVE_IN_ROOT 0x10
struct h_open_how {
	uint64_t flags, mode, resolve;
};

static int stderr_saved = -1;
static void restore_stderr(void)
{
	if (stderr_saved >= 0) {
		dup2(stderr_saved, 2);
		close(stderr_saved);
		stderr_saved = -1;
	}
}

#define CHECK(c, what)                                                                                            \
	do {                                                                                                          \
		if (!(c)) {                                                                                               \
			restore_stderr();                                                                                     \
			fprintf(stderr, "walk fuzz: invariant broken: %s (%s:%d) [%s]\n", what, __FILE__, __LINE__, #c);     \
			abort();                                                                                              \
		}                                                                                                         \
	} while (0)

static char base[64];        /* the temporary directory */
static char root_path[96];   /* its "root" tmpfs */
static int root_fd = -1;     /* O_PATH of root_path */
static struct pf_object root_id, dev_id, proc_id;
static int kernel_abi;
static int debug; /* PF_WALK_DEBUG=1: say what an input does (replaying a crash) */
static char long255[256], long256[257];

/* ---- building the tree ---- */

static void die(const char *what)
{
	fprintf(stderr, "walk fuzz: cannot build the tree: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void at(const char *rel, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", root_path, rel);
}

static void mk_dir(const char *rel)
{
	char p[512];
	at(rel, p, sizeof(p));
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		die(p);
}

static void mk_file(const char *rel, int mode)
{
	char p[512];
	int fd;
	at(rel, p, sizeof(p));
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, "x\n", 2) != 2)
		die(p);
	close(fd);
}

static void mk_link(const char *target, const char *rel)
{
	char p[512];
	at(rel, p, sizeof(p));
	if (symlink(target, p) != 0)
		die(p);
}

static void mk_mount(const char *src, const char *rel, const char *type, unsigned long flags)
{
	char p[512];
	at(rel, p, sizeof(p));
	if (mount(src, p, type, flags, NULL) != 0)
		die(p);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0) {
			/* checked by the mount that follows */
		}
		close(fd);
	}
}

/* A private mount namespace: as root, or through a user namespace where that is allowed. */
static void enter_namespace(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	char map[64];
	if (unshare(CLONE_NEWNS) != 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
			die("unshare (run as root, or allow unprivileged user namespaces)");
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		write_file("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		write_file("/proc/self/gid_map", map);
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		die("making / private");
}

static void identify(const char *rel, struct pf_object *o)
{
	char p[512];
	memset(o, 0, sizeof(*o));
	o->dir_fd = -1;
	at(rel, p, sizeof(p));
	o->fd = open(p, O_PATH | O_CLOEXEC);
	if (o->fd < 0 || pf_identify(o) != 0)
		die(p);
	close(o->fd);
	o->fd = -1;
}

/* The tree's mounts live only in this process's namespace; the directories they sit on are left to remove. */
static void remove_tree(void)
{
	if (root_path[0] && umount2(root_path, MNT_DETACH) == 0 && rmdir(root_path) == 0)
		rmdir(base);
}

int pf_walk_fuzz_init(void)
{
	struct pf_kernel k;
	char p[512];
	debug = getenv("PF_WALK_DEBUG") != NULL;
	memset(long255, 'L', 255);
	memset(long256, 'M', 256);
	enter_namespace();
	snprintf(base, sizeof(base), "/tmp/pf-walk.XXXXXX");
	if (!mkdtemp(base))
		die("mkdtemp");
	snprintf(root_path, sizeof(root_path), "%s/root", base);
	if (mkdir(root_path, 0755) != 0 || mount("pf-root", root_path, "tmpfs", 0, "mode=0755") != 0)
		die(root_path);
	atexit(remove_tree);
	mk_dir("bin");
	mk_file("bin/sh", 0755);
	mk_file("bin/tool", 0755);
	mk_dir("lib");
	mk_file("lib/ld.so", 0755);
	mk_link("lib", "lib64");
	mk_dir("usr");
	mk_dir("usr/bin");
	mk_file("usr/bin/prog", 0755);
	mk_link("../lib", "usr/lib");
	mk_dir("etc");
	mk_file("etc/passwd", 0644);
	mk_dir("secret");
	mk_file("secret/key", 0600);
	mk_dir("data");
	{
		char a[512], b[512];
		at("secret/key", a, sizeof(a));
		at("data/hl", b, sizeof(b));
		if (link(a, b) != 0)
			die(b);
	}
	mk_dir("data/x");
	mk_file("data/x/f", 0644);
	mk_dir("data/x/y");
	mk_link("../..", "data/up");
	mk_link("loop", "data/loop");
	mk_link("/", "data/abs");
	snprintf(p, sizeof(p), "data/%s", long255);
	mk_dir(p);
	snprintf(p, sizeof(p), "data/%s/f", long255);
	mk_file(p, 0644);
	mk_dir("dev");
	mk_mount("pf-dev", "dev", "tmpfs", 0);
	mk_file("dev/null", 0666);
	mk_dir("proc");
	mk_mount("proc", "proc", "proc", 0);
	mk_dir("vol");
	mk_dir("vol/a");
	mk_dir("vol/b");
	mk_dir("vol/s");
	mk_mount("pf-vol-a", "vol/a", "tmpfs", 0);
	mk_dir("vol/a/sub");
	mk_file("vol/a/sub/t", 0755);
	mk_dir("vol/a/n");
	mk_mount("pf-vol-n", "vol/a/n", "tmpfs", 0);
	mk_mount("pf-vol-b", "vol/b", "tmpfs", 0);
	{
		char src[512];
		at("vol/a/sub", src, sizeof(src));
		mk_mount(src, "vol/s", NULL, MS_BIND);
	}
	root_fd = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		die(root_path);
	identify(".", &root_id);
	identify("dev", &dev_id);
	identify("proc", &proc_id);
	pf_probe_kernel(&k, 0);
	kernel_abi = k.abi;
	if (kernel_abi <= 0) {
		fprintf(stderr, "walk fuzz: this kernel has no Landlock (%s): the rule checks need it\n",
			pf_unavailable_reason(&k));
		exit(2);
	}
	return 0;
}

/* ---- inputs ---- */

struct cursor {
	const uint8_t *d;
	size_t n, i;
};
static unsigned take(struct cursor *c)
{
	return c->i < c->n ? c->d[c->i++] : 0;
}

static const char *const names[] = {
	"", ".", "..", "bin", "lib", "lib64", "usr", "etc", "secret", "key", "data", "x", "y", "f", "hl", "up",
	"loop", "abs", "dev", "null", "proc", "self", "root", "vol", "a", "b", "s", "sub", "t", "n", "sh", "ld.so",
	"prog", "passwd", "L255", "M256", "l0", "l1", "l2", "l3", "fd", "1", "thread-self", "cwd", "tool", "d0",
	"h0", "0", "..", "l0", "l1", "sub",
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

/* Where the tenant plants things: the image (anywhere) and the volumes. */
static const char *const plant_dirs[] = {"", "data", "data/x", "vol/a", "vol/a/sub", "vol/b", "usr", "bin", "vol/a/n"};
#define N_PLANT (sizeof(plant_dirs) / sizeof(plant_dirs[0]))

static const char *const specials[] = {
	"/proc/self/root", "/proc/self/cwd", "/proc/1/root", "/proc/self/fd/0", "l0", "./l1", "/vol/s/..", "/lib64/ld.so",
	"../../..", "/vol/a/sub", "/bin/sh", "/data/up/secret",
};
#define N_SPECIAL (sizeof(specials) / sizeof(specials[0]))

static const char *name_at(unsigned i)
{
	const char *s = names[i % N_NAMES];
	if (strcmp(s, "L255") == 0)
		return long255;
	if (strcmp(s, "M256") == 0)
		return long256;
	return s;
}

/* A path of up to 7 components from the dictionary; absolute unless `relative_ok` and the flags say so. */
static void gen_path(struct cursor *c, char *out, size_t cap, int relative_ok)
{
	unsigned flags = take(c), n = take(c) % 8, k;
	size_t len = 0;
	out[0] = '\0';
	if (!relative_ok || !(flags & 1))
		out[len++] = '/', out[len] = '\0';
	for (k = 0; k < n; k++) {
		const char *s = name_at(take(c));
		size_t sl = strlen(s);
		if (len + sl + 2 >= cap)
			break;
		if (k > 0)
			out[len++] = '/';
		memcpy(out + len, s, sl);
		len += sl;
		out[len] = '\0';
	}
	if ((flags & 2) && len + 2 < cap)
		out[len++] = '/', out[len] = '\0';
}

static void gen_target(struct cursor *c, char *out, size_t cap)
{
	unsigned t = take(c) % 10, i, reps;
	if (t <= 5) {
		gen_path(c, out, cap, 1);
	} else if (t == 6) {
		out[0] = '\0';
	} else if (t == 7) { /* long: many components, near and past the walker's buffer */
		const char *unit = (take(c) & 1) ? "../" : "x/./";
		size_t ul = strlen(unit), len = 0;
		reps = 200 + take(c) * 12;
		for (i = 0; i < reps && len + ul + 1 < cap; i++, len += ul)
			memcpy(out + len, unit, ul);
		out[len] = '\0';
	} else {
		snprintf(out, cap, "%s", specials[take(c) % N_SPECIAL]);
	}
}

/* What an input created, removed in reverse order after it. */
struct made {
	char path[512];
	int dir;
};
static struct made made[64];
static size_t n_made;

static void plant(struct cursor *c, unsigned what)
{
	static char target[6000];
	char p[512];
	const char *dir = plant_dirs[take(c) % N_PLANT];
	const char *leaf;
	int rc;
	if (n_made >= sizeof(made) / sizeof(made[0]))
		return;
	if (what == 0) {
		static const char *const ln[] = {"l0", "l1", "l2", "l3"};
		leaf = ln[take(c) % 4];
		gen_target(c, target, sizeof(target));
		snprintf(p, sizeof(p), "%s%s%s", dir, *dir ? "/" : "", leaf);
		at(p, made[n_made].path, sizeof(made[n_made].path));
		rc = symlink(target, made[n_made].path);
		made[n_made].dir = 0;
	} else if (what == 1) {
		static const char *const src[] = {"secret/key", "bin/sh", "vol/a/sub/t", "lib/ld.so", "data/x/f"};
		char s[512];
		at(src[take(c) % 5], s, sizeof(s));
		snprintf(p, sizeof(p), "%s%s%s", dir, *dir ? "/" : "", "h0");
		at(p, made[n_made].path, sizeof(made[n_made].path));
		rc = link(s, made[n_made].path);
		made[n_made].dir = 0;
	} else {
		snprintf(p, sizeof(p), "%s%s%s", dir, *dir ? "/" : "", "d0");
		at(p, made[n_made].path, sizeof(made[n_made].path));
		rc = mkdir(made[n_made].path, 0755);
		made[n_made].dir = 1;
	}
	if (rc == 0)
		n_made++;
	if (debug)
		fprintf(stderr, "walk fuzz: plant %s %s%s%s: %s\n", what == 0 ? "symlink" : what == 1 ? "hard link" : "dir",
			made[n_made - (rc == 0)].path + strlen(root_path), what == 0 ? " -> " : "",
			what == 0 ? (strlen(target) > 80 ? "(long text)" : target) : "", rc == 0 ? "made" : strerror(errno));
}

static void unplant(void)
{
	while (n_made > 0) {
		n_made--;
		if (made[n_made].dir ? rmdir(made[n_made].path) : unlink(made[n_made].path))
			CHECK(0, "cleaning up what the input planted");
	}
}

/* ---- the walker's invariant ---- */

/*
 * The reference: resolves `path` as text from the root (the tree's root is the process root: '..' stops there,
 * absolute symlink text restarts there), with fstatat/readlinkat on the canonical prefix. Returns 0 or an errno.
 */
static int ref_resolve(const char *path, char *canon, size_t cap, int *links)
{
	static char todo[2][70000];
	char cand[70000];
	int w = 0;
	const char *p;
	size_t n;
	*links = 0;
	canon[0] = '\0';
	if (strlen(path) >= sizeof(todo[0]))
		return ENAMETOOLONG;
	strcpy(todo[0], path);
	p = todo[0];
	for (;;) {
		const char *comp, *rest;
		struct stat st;
		while (*p == '/')
			p++;
		if (!*p)
			break;
		comp = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - comp);
		rest = p;
		while (*rest == '/')
			rest++;
		if (n == 1 && comp[0] == '.')
			continue;
		if (n == 2 && comp[0] == '.' && comp[1] == '.') {
			char *s = strrchr(canon, '/');
			if (s)
				*s = '\0';
			continue;
		}
		if (n > 255)
			return ENAMETOOLONG;
		if (strlen(canon) + 1 + n + 1 > sizeof(cand) || strlen(canon) + 1 + n + 1 > cap)
			return ENAMETOOLONG;
		snprintf(cand, sizeof(cand), "%s/%.*s", canon, (int)n, comp);
		if (fstatat(root_fd, cand + 1, &st, AT_SYMLINK_NOFOLLOW) != 0)
			return errno;
		if (S_ISLNK(st.st_mode)) {
			static char text[8192];
			ssize_t len = readlinkat(root_fd, cand + 1, text, sizeof(text) - 1);
			if (len < 0)
				return errno;
			if (len == 0)
				return ENOENT;
			if (++*links > PF_MAX_SYMLINKS)
				return ELOOP;
			text[len] = '\0';
			if ((size_t)len + 1 + strlen(rest) + 1 > sizeof(todo[0]))
				return ENAMETOOLONG;
			strcpy(todo[!w], text);
			if (*rest) {
				strcat(todo[!w], "/");
				strcat(todo[!w], rest);
			}
			w = !w;
			p = todo[w];
			if (text[0] == '/')
				canon[0] = '\0';
			continue;
		}
		if (*rest && !S_ISDIR(st.st_mode))
			return ENOTDIR;
		strcpy(canon, cand);
	}
	if (!canon[0])
		strcpy(canon, "/");
	return 0;
}

/* The kernel's lookup. The walker takes "file/" for the file (the kernel says ENOTDIR): compared without the slash. */
static int open_in_root(const char *in, uint64_t resolve)
{
	static char path[70000];
	size_t n = strlen(in);
	struct h_open_how how;
	int tries;
	if (n >= sizeof(path))
		return -1;
	memcpy(path, in, n + 1);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_CLOEXEC;
	how.resolve = resolve;
	/* EAGAIN: a '..' lookup raced with a mount or rename anywhere on the machine (other tests mount all the
	   time); the kernel asks to try again. */
	for (tries = 0;; tries++) {
		int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN || tries >= 10000)
			return fd;
	}
}

static int same_as(int fd, const struct pf_object *o)
{
	struct pf_object x;
	memset(&x, 0, sizeof(x));
	x.fd = fd;
	return fd >= 0 && pf_identify(&x) == 0 && x.dev == o->dev && x.ino == o->ino && x.mnt_id == o->mnt_id;
}

static void check_walk(const char *path)
{
	static char canon[PF_CANON_MAX], ref[70000];
	struct pf_object o;
	int links, rerr, rc, fd;

	rc = pf_resolve(root_fd, path, &o, canon);
	rerr = ref_resolve(path, ref, sizeof(ref), &links);
	if (rc != 0) {
		/* Refusing more than the reference is safe only for the walker's own length limit. */
		CHECK(rerr != 0 || o.err == ENAMETOOLONG, "the walker refused a path the reference resolves");
		return;
	}
	CHECK(rerr == 0, "the walker reached something where the reference fails");
	CHECK(strcmp(canon, ref) == 0, "the walker's canonical path differs from the reference's");
	CHECK(o.symlinks == links, "the walker counted another number of symlinks");
	fd = strcmp(ref, "/") == 0 ? openat(root_fd, ".", O_PATH | O_CLOEXEC)
				   : openat(root_fd, ref + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	CHECK(same_as(fd, &o), "the walker's fd is not the object at its canonical path");
	close(fd);
	if (o.symlinks == 0) {
		fd = open_in_root(path, H_RESOLVE_IN_ROOT | H_RESOLVE_NO_SYMLINKS | H_RESOLVE_NO_MAGICLINKS);
		CHECK(same_as(fd, &o), "no symlink crossed, yet the kernel's no-symlink lookup names another object");
		if (fd >= 0)
			close(fd);
	} else {
		fd = open_in_root(path, H_RESOLVE_IN_ROOT | H_RESOLVE_NO_MAGICLINKS);
		CHECK(fd < 0 || same_as(fd, &o), "openat2 RESOLVE_IN_ROOT reaches another object");
		if (fd >= 0)
			close(fd);
	}
	pf_object_close(&o);
}

/* ---- the rules' invariant ---- */

struct grant {
	enum pf_path_kind kind;
	enum pf_path_source source;
	const char *path;
	struct pf_object id; /* identity only (fds not kept) */
	uint64_t rights;
};
static struct grant grants[PF_MAX_PATHS];
static size_t n_grants;

void pf_fuzz_granted(const struct pf_path_rule *r, const struct pf_object *obj, uint64_t rights)
{
	struct grant *g;
	if (debug)
		fprintf(stderr, "walk fuzz: granted %s %s (symlinks %d, rights %#llx)\n", r->source == PF_SRC_VOLUME ? "volume" : "rule",
			r->path, obj->symlinks, (unsigned long long)rights);
	CHECK(n_grants < PF_MAX_PATHS, "more grants than rules");
	g = &grants[n_grants++];
	g->kind = r->kind;
	g->source = r->source;
	g->path = r->path;
	g->id = *obj;
	g->id.fd = g->id.dir_fd = -1;
	g->rights = rights;
}

static int symlink_free(const struct grant *g)
{
	return g->source == PF_SRC_VOLUME || g->id.symlinks == 0;
}

/* What the grants give one object itself (rules on it). */
static void rights_on(const struct stat *st, uint64_t *all, uint64_t *volw, uint64_t *sf)
{
	size_t i;
	for (i = 0; i < n_grants; i++) {
		const struct grant *g = &grants[i];
		if (g->id.dev != st->st_dev || g->id.ino != st->st_ino)
			continue;
		*all |= g->rights;
		if (g->source == PF_SRC_VOLUME)
			*volw |= g->rights & (PF_FS_WRITE_FILE | PF_FS_MAKE_REG);
		if (symlink_free(g))
			*sf |= g->rights;
	}
}

/* Per inode, over every path to it without symlinks. */
struct seen {
	dev_t dev;
	ino_t ino;
	uint64_t exec, volw, sf_read, sf_write;
};
static struct seen seen[4096];
static size_t n_seen;

static struct seen *seen_of(const struct stat *st)
{
	size_t i;
	for (i = 0; i < n_seen; i++)
		if (seen[i].dev == st->st_dev && seen[i].ino == st->st_ino)
			return &seen[i];
	CHECK(n_seen < sizeof(seen) / sizeof(seen[0]), "tree too large for the walk");
	memset(&seen[n_seen], 0, sizeof(seen[0]));
	seen[n_seen].dev = st->st_dev;
	seen[n_seen].ino = st->st_ino;
	return &seen[n_seen++];
}

static void note(const struct stat *st, uint64_t all, uint64_t volw, uint64_t sf)
{
	struct seen *s = seen_of(st);
	s->exec |= all & PF_FS_EXECUTE;
	s->volw |= volw;
	s->sf_read |= sf & PF_FS_READ_FILE;
	s->sf_write |= sf & (PF_FS_WRITE_FILE | PF_FS_TRUNCATE);
}

/* Every path without symlinks from the root, rights inherited from the directories on it (as Landlock does). */
static void visit(int dfd, int depth, uint64_t all, uint64_t volw, uint64_t sf)
{
	DIR *d;
	struct dirent *e;
	int fd;
	if (depth > 12)
		return;
	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		uint64_t a = all, v = volw, s = sf;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(st.st_mode))
			continue;
		if (st.st_dev == proc_id.dev)
			continue; /* procfs: no volume or grant lives there that matters, and it is large */
		rights_on(&st, &a, &v, &s);
		note(&st, a, v, s);
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				visit(sub, depth + 1, a, v, s);
				close(sub);
			}
		}
	}
	closedir(d);
}

static void check_grants(const struct pf_plan *p)
{
	size_t i, j;
	struct stat rst;
	uint64_t a = 0, v = 0, s = 0;

	n_seen = 0;
	if (fstat(root_fd, &rst) != 0)
		CHECK(0, "fstat root");
	rights_on(&rst, &a, &v, &s);
	note(&rst, a, v, s);
	visit(root_fd, 0, a, v, s);

	for (i = 0; i < n_grants; i++) {
		const struct grant *g = &grants[i];
		CHECK((g->rights & ~pf_rule_rights(p->rights[g->kind], S_ISDIR(g->id.mode))) == 0,
		      "G1: a grant carries rights its kind does not");
		if (g->source == PF_SRC_VOLUME) {
			CHECK(g->id.mount_root, "G4: a volume granted that is not a mount root");
			CHECK(!(g->id.dev == root_id.dev && g->id.ino == root_id.ino), "G4: the root granted as a volume");
			CHECK(!(g->id.dev == dev_id.dev && g->id.ino == dev_id.ino), "G4: /dev granted as a volume");
			CHECK(!pf_is_pseudo_fs(g->id.fs_type), "G4: a pseudo-filesystem granted as a volume");
		} else if (g->id.symlinks == 0) {
			int fd = open_in_root(g->path, H_RESOLVE_IN_ROOT | H_RESOLVE_NO_SYMLINKS | H_RESOLVE_NO_MAGICLINKS);
			CHECK(same_as(fd, &g->id), "G2: a rule without symlinks granted another object than its path names");
			close(fd);
		} else {
			struct stat st;
			const struct seen *sn = NULL;
			CHECK(g->kind == PF_PATH_EXEC && S_ISREG(g->id.mode) && g->id.nlink == 1,
			      "G3: a path through a symlink granted something other than a single-link file to execute");
			CHECK(g->id.mnt_id == root_id.mnt_id, "G3: an executable reached through a symlink off the root mount");
			st.st_dev = g->id.dev;
			st.st_ino = g->id.ino;
			for (j = 0; j < n_seen; j++)
				if (seen[j].dev == st.st_dev && seen[j].ino == st.st_ino)
					sn = &seen[j];
			CHECK(sn && sn->sf_read, "G3: executable through a symlink, unreadable by the symlink-free rules");
			CHECK(!sn->sf_write, "G3: executable through a symlink, and writable");
		}
	}
	for (j = 0; j < n_seen; j++)
		CHECK(!(seen[j].volw && seen[j].exec), "G5: writable through a volume grant and executable");
}

static void check_rules(char **argv, int argc)
{
	static struct pf_opts o;
	static struct pf_plan p;
	char err[256];
	int ruleset, rc;
	if (pf_parse(argc, argv, &o, err, sizeof(err)) != 0 || o.action != PF_RUN)
		return;
	o.mode = PF_BEST_EFFORT;
	if (pf_plan(&o, kernel_abi, &p, err, sizeof(err)) != 0)
		return;
	ruleset = (int)pf_landlock_create_ruleset(&p.attr, sizeof(p.attr), 0);
	CHECK(ruleset >= 0, "landlock_create_ruleset");
	n_grants = 0;
	/* The wrapper's "not granted" summary on every input would drown libFuzzer's output. */
	fflush(stderr);
	stderr_saved = debug ? -1 : dup(2);
	{
		int null = debug ? -1 : open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, 2);
			close(null);
		}
	}
	o.verbose = debug;
	rc = pf_add_path_rules(ruleset, &o, &p, root_path);
	restore_stderr();
	close(ruleset);
	if (rc == 0)
		check_grants(&p);
}

int pf_walk_fuzz_one(const uint8_t *data, size_t size)
{
	static char paths[40][5000];
	static char *argv[100];
	static const char *const opt[3][3] = {{"--ro", "--optional-ro", "--volume-ro"},
					      {"--rw", "--optional-rw", "--volume-rw"},
					      {"--exec", "--optional-exec", "--volume-ro"}}; /* no --volume-exec */
	struct cursor c = {data, size, 0};
	int argc = 1, n_paths = 0, ops = 0, i;

	if (root_fd < 0)
		pf_walk_fuzz_init();
	argv[0] = "podfence-init";
	while (c.i < c.n && ops++ < 64) {
		unsigned op = take(&c) % 8;
		if (op <= 1)
			plant(&c, 0);
		else if (op == 2)
			plant(&c, take(&c) % 2 ? 1 : 2);
		else if (op == 3 && n_paths < 40) {
			gen_path(&c, paths[n_paths], sizeof(paths[0]), 0);
			check_walk(paths[n_paths]);
		} else if (n_paths < 40 && argc < 90) {
			unsigned kind = take(&c) % 3, src = take(&c) % 3;
			gen_path(&c, paths[n_paths], sizeof(paths[0]), 0);
			argv[argc++] = (char *)opt[kind][src];
			argv[argc++] = paths[n_paths++];
			if (debug)
				fprintf(stderr, "walk fuzz: rule %s %s\n", argv[argc - 2], argv[argc - 1]);
		}
	}
	for (i = 2; i < argc; i += 2)
		check_walk(argv[i]);
	if (argc > 1) {
		argv[argc++] = "--";
		argv[argc++] = "true";
		argv[argc] = NULL;
		check_rules(argv, argc);
	}
	unplant();
	return 0;
}
