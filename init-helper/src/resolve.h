/*
 * Path resolution that never lets a symlink decide silently what a rule covers.
 *
 * The image and the volumes belong to the tenant: a granted path that is (or passes through) a symlink could
 * point anywhere, e.g. at `/`. pf_resolve walks a path one component at a time from the process root with
 * O_PATH|O_NOFOLLOW, reads each symlink's text itself (magic links such as /proc/self/root are followed only as
 * the text they show, never as the kernel's jump), and says whether any symlink was crossed. The caller then
 * grants the object it holds (the fd it checked: no second lookup), or refuses it.
 */
#ifndef PF_RESOLVE_H
#define PF_RESOLVE_H

#include <stdint.h>
#include <sys/types.h>

#define PF_MAX_SYMLINKS 40 /* like the kernel's MAXSYMLINKS */
#define PF_CANON_MAX 8192

struct pf_object {
	int fd;          /* O_PATH, or -1 */
	int dir_fd;      /* O_PATH of the directory the object was found in, or -1 (the root, or after '..') */
	int err;         /* errno when fd == -1 */
	int symlinks;    /* symlinks crossed on the way */
	mode_t mode;     /* S_IFMT bits */
	dev_t dev;
	ino_t ino;
	nlink_t nlink;
	uint64_t mnt_id;  /* statx STATX_MNT_ID (0 if the kernel cannot say) */
	int mount_root;   /* the object is the root of a mount (statx STATX_ATTR_MOUNT_ROOT) */
	long fs_type;     /* statfs f_type */
};

/*
 * Resolves absolute `path` from `root_fd` (O_PATH of "/"; any directory is taken as the root: absolute symlinks
 * restart there and '..' stops there). Returns 0 with o->fd set, or -1 with o->err.
 * canon (PF_CANON_MAX bytes) receives the path actually reached, symlinks replaced (for messages).
 */
int pf_resolve(int root_fd, const char *path, struct pf_object *o, char *canon);

/* Fills the identity fields of o from its fd (also used for "/" itself). Returns 0 or -1 with errno. */
int pf_identify(struct pf_object *o);

void pf_object_close(struct pf_object *o);

/* Kernel pseudo-filesystems (proc, sysfs, cgroup, ...): never a volume, never reached through a symlink. */
int pf_is_pseudo_fs(long fs_type);

#endif
