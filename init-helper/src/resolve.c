#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef O_PATH
#define O_PATH 010000000
#endif
#ifndef SYS_statx
#if defined(__x86_64__)
#define SYS_statx 332
#elif defined(__aarch64__)
#define SYS_statx 291
#endif
#endif

/* struct statx as the kernel lays it out (musl 1.2.3 has no statx); only the fields read here are named. */
struct pf_statx {
	uint32_t mask;
	uint32_t blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, spare0;
	uint64_t ino, size, blocks, attributes_mask;
	uint64_t times[8]; /* atime, btime, ctime, mtime: 16 bytes each */
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t mnt_id;
	uint64_t spare[13];
};
#define PF_STATX_MNT_ID 0x1000U
#define PF_STATX_ATTR_MOUNT_ROOT 0x2000ULL
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

int pf_is_pseudo_fs(long t)
{
	switch ((unsigned long)t & 0xffffffffUL) {
	case 0x9fa0UL:     /* proc */
	case 0x62656572UL: /* sysfs */
	case 0x27e0ebUL:   /* cgroup */
	case 0x63677270UL: /* cgroup2 */
	case 0x1cd1UL:     /* devpts */
	case 0x19800202UL: /* mqueue */
	case 0x73636673UL: /* securityfs */
	case 0x64626720UL: /* debugfs */
	case 0x74726163UL: /* tracefs */
	case 0xcafe4a11UL: /* bpf */
	case 0x6165676cUL: /* pstore */
	case 0xde5e81e4UL: /* efivarfs */
	case 0xf97cff8cUL: /* selinuxfs */
	case 0x43415d53UL: /* smackfs */
	case 0x6e736673UL: /* nsfs */
	case 0x62656570UL: /* configfs */
	case 0x65735543UL: /* fusectl */
	case 0x42494e4dUL: /* binfmt_misc */
		return 1;
	default:
		return 0;
	}
}

int pf_identify(struct pf_object *o)
{
	struct stat st;
	struct statfs sf;
	struct pf_statx sx;
	if (fstat(o->fd, &st) != 0)
		return -1;
	o->mode = st.st_mode & S_IFMT;
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	o->nlink = st.st_nlink;
	o->mnt_id = 0;
	o->mount_root = 0;
	memset(&sx, 0, sizeof(sx));
	/* Landlock needs Linux 5.13; statx's mount id and mount-root attribute are 5.8: always there with Landlock. */
	if (syscall(SYS_statx, o->fd, "", AT_EMPTY_PATH, PF_STATX_MNT_ID, &sx) == 0) {
		if (sx.mask & PF_STATX_MNT_ID)
			o->mnt_id = sx.mnt_id;
		if (sx.attributes_mask & PF_STATX_ATTR_MOUNT_ROOT)
			o->mount_root = (sx.attributes & PF_STATX_ATTR_MOUNT_ROOT) != 0;
	}
	o->fs_type = fstatfs(o->fd, &sf) == 0 ? (long)sf.f_type : 0;
	return 0;
}

void pf_object_close(struct pf_object *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->dir_fd >= 0)
		close(o->dir_fd);
	o->fd = o->dir_fd = -1;
}

static int canon_push(char *canon, const char *comp, size_t n)
{
	size_t len = strlen(canon);
	if (len + 1 + n + 1 > PF_CANON_MAX)
		return -1;
	canon[len] = '/';
	memcpy(canon + len + 1, comp, n);
	canon[len + 1 + n] = '\0';
	return 0;
}

static void canon_pop(char *canon)
{
	char *s = strrchr(canon, '/');
	if (s)
		*s = '\0';
}

static int fail_with(struct pf_object *o, int *cur, int e)
{
	if (*cur >= 0)
		close(*cur);
	*cur = -1;
	o->err = e;
	return -1;
}

/* Is directory fd `d` the root (same inode on the same mount)? */
static int is_root(int d, const struct pf_object *root)
{
	struct pf_object here;
	memset(&here, 0, sizeof(here));
	here.fd = d;
	return pf_identify(&here) == 0 && here.dev == root->dev && here.ino == root->ino && here.mnt_id == root->mnt_id;
}

int pf_resolve(int root_fd, const char *path, struct pf_object *o, char *canon)
{
	static char rem[2][PF_CANON_MAX];
	struct pf_object root;
	int which = 0, cur;
	const char *p;

	memset(o, 0, sizeof(*o));
	o->fd = o->dir_fd = -1;
	canon[0] = '\0';
	if (strlen(path) >= PF_CANON_MAX) {
		o->err = ENAMETOOLONG;
		return -1;
	}
	strcpy(rem[0], path);
	memset(&root, 0, sizeof(root));
	root.fd = root_fd;
	if (pf_identify(&root) != 0) {
		o->err = errno;
		return -1;
	}
	cur = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0) {
		o->err = errno;
		return -1;
	}
	p = rem[0];
	for (;;) {
		const char *comp, *rest;
		size_t n;
		int nfd, last;
		struct stat st;

		while (*p == '/')
			p++;
		if (*p == '\0') { /* nothing left: the object is the directory we stand in */
			o->fd = cur;
			break;
		}
		comp = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - comp);
		rest = p;
		while (*rest == '/')
			rest++;
		last = *rest == '\0';
		if (n == 1 && comp[0] == '.') {
			if (last) {
				o->fd = cur;
				break;
			}
			continue;
		}
		if (n == 2 && comp[0] == '.' && comp[1] == '.') {
			/* The kernel's own '..' (crosses mounts upwards), as a symlink's text means it; it stops at root_fd
			   (for the process root the kernel does that itself; said here so root_fd may be any directory). */
			if (is_root(cur, &root)) {
				if (last) {
					o->fd = cur;
					break;
				}
				continue;
			}
			nfd = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (nfd < 0)
				return fail_with(o, &cur, errno);
			close(cur);
			cur = nfd;
			canon_pop(canon);
			if (last) {
				o->fd = cur;
				break;
			}
			continue;
		}
		{
			char name[256];
			if (n >= sizeof(name))
				return fail_with(o, &cur, ENAMETOOLONG);
			memcpy(name, comp, n);
			name[n] = '\0';
			nfd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd < 0)
			return fail_with(o, &cur, errno);
		if (fstat(nfd, &st) != 0) {
			int e = errno;
			close(nfd);
			return fail_with(o, &cur, e);
		}
		if (S_ISLNK(st.st_mode)) {
			static char target[PF_CANON_MAX];
			ssize_t len = readlinkat(nfd, "", target, sizeof(target) - 1);
			int e = errno;
			char *next = rem[!which];
			close(nfd);
			if (len < 0)
				return fail_with(o, &cur, e);
			if (len == 0)
				return fail_with(o, &cur, ENOENT);
			if (++o->symlinks > PF_MAX_SYMLINKS)
				return fail_with(o, &cur, ELOOP);
			target[len] = '\0';
			if ((size_t)len + 1 + strlen(rest) + 1 > PF_CANON_MAX)
				return fail_with(o, &cur, ENAMETOOLONG);
			/* The link's text, then what was left of the path. */
			strcpy(next, target);
			if (*rest) {
				strcat(next, "/");
				strcat(next, rest);
			}
			which = !which;
			p = next;
			if (target[0] == '/') {
				nfd = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (nfd < 0)
					return fail_with(o, &cur, errno);
				close(cur);
				cur = nfd;
				canon[0] = '\0';
			}
			continue;
		}
		if (canon_push(canon, comp, n) != 0) {
			close(nfd);
			return fail_with(o, &cur, ENAMETOOLONG);
		}
		if (last) {
			o->fd = nfd;
			o->dir_fd = cur;
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(nfd);
			return fail_with(o, &cur, ENOTDIR);
		}
		close(cur);
		cur = nfd;
	}
	if (canon[0] == '\0')
		strcpy(canon, "/");
	if (pf_identify(o) != 0) {
		o->err = errno;
		pf_object_close(o);
		return -1;
	}
	return 0;
}
