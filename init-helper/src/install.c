#include "install.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int copy_fd(int in, int out)
{
	char buf[16384];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		ssize_t off = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		while (off < n) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			off += w;
		}
	}
}

/*
 * Fallback when the pod's seccomp profile refuses rename (the `computation` preset cuts it): create the target
 * directly with its final mode. Not atomic, which is fine for the init container: it runs before any container
 * that could read the file, in a fresh emptyDir (or replaces a whole copy left by an earlier attempt).
 */
static int install_direct(int in, const char *dst, const char **step)
{
	int out, e;

	*step = "remove previous copy";
	if (unlink(dst) != 0 && errno != ENOENT)
		return -1;
	*step = "create";
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0555)) < 0)
		return -1;
	*step = "rewind";
	if (lseek(in, 0, SEEK_SET) != 0)
		goto fail;
	*step = "copy";
	if (copy_fd(in, out) != 0)
		goto fail;
	*step = "fsync";
	if (fsync(out) != 0)
		goto fail;
	*step = "close";
	e = close(out);
	if (e != 0) {
		e = errno;
		unlink(dst);
		errno = e;
		return -1;
	}
	return 0;
fail:
	e = errno;
	close(out);
	unlink(dst);
	errno = e;
	return -1;
}

/* Temp file + rename in the same directory: a reader sees the old binary or the whole new one, never half. */
int pf_install(const char *dir)
{
	char tmp[4096], dst[4096];
	const char *step;
	int in = -1, out = -1, e;

	if ((size_t)snprintf(dst, sizeof(dst), "%s/podfence-init", dir) >= sizeof(dst) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.podfence-init.XXXXXX", dir) >= sizeof(tmp)) {
		fprintf(stderr, "podfence-init: install %s: path too long\n", dir);
		return -1;
	}
	step = "open /proc/self/exe";
	if ((in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		goto fail;
	step = "create temporary file";
	if ((out = mkstemp(tmp)) < 0)
		goto fail;
	step = "copy";
	if (copy_fd(in, out) != 0)
		goto fail_unlink;
	step = "chmod 0555";
	if (fchmod(out, 0555) != 0)
		goto fail_unlink;
	step = "fsync";
	if (fsync(out) != 0)
		goto fail_unlink;
	step = "close";
	e = close(out);
	out = -1;
	if (e != 0)
		goto fail_unlink;
	step = "rename";
	if (rename(tmp, dst) != 0) {
		/* EPERM/ENOSYS here come from a seccomp filter, not from the filesystem. */
		if (errno != EPERM && errno != ENOSYS)
			goto fail_unlink;
		unlink(tmp);
		if (install_direct(in, dst, &step) != 0)
			goto fail;
	}
	close(in);
	printf("podfence-init: installed %s\n", dst);
	return 0;

fail_unlink:
	e = errno;
	unlink(tmp);
	errno = e;
fail:
	e = errno;
	fprintf(stderr, "podfence-init: install %s: %s: %s\n", dir, step, strerror(e));
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	return -1;
}
