/*
 * pf-fakeabi: runs a command (the release podfence-init) on a kernel that *looks* older, with a seccomp filter:
 *   pf-fakeabi errno N -- CMD...   landlock_create_ruleset fails with errno N (38 ENOSYS: no Landlock,
 *                                  1 EPERM: a container runtime's seccomp profile blocking it)
 *   pf-fakeabi norename 1 -- CMD...  rename, renameat and renameat2 fail with EPERM (as under the `computation`
 *                                  preset's seccomp profile)
 *   pf-fakeabi abi N -- CMD...     the ABI version query answers N (a supervisor answers through a seccomp
 *                                  user notification); every other Landlock call reaches the real kernel,
 *                                  so what the wrapper then builds is really enforced
 * Exit status: the command's (128+signal if it was killed).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "add this architecture's AUDIT_ARCH"
#endif

#define ARG2_LO offsetof(struct seccomp_data, args[2]) /* little-endian: low half of flags */

static int install(unsigned int action, int only_version_query, unsigned int flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_landlock_create_ruleset, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG2_LO),
		/* flags == LANDLOCK_CREATE_RULESET_VERSION (1), or any call when not only_version_query */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, only_version_query ? SECCOMP_RET_ALLOW : action),
		BPF_STMT(BPF_RET | BPF_K, action),
	};
	struct sock_fprog prog = {.len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		perror("pf-fakeabi: no_new_privs");
		return -1;
	}
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static int send_fd(int sock, int fd)
{
	char c = 'f';
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c0 = CMSG_FIRSTHDR(&m);
	c0->cmsg_level = SOL_SOCKET;
	c0->cmsg_type = SCM_RIGHTS;
	c0->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c0), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char c;
	int fd;
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c0;
	if (recvmsg(sock, &m, 0) != 1 || (c0 = CMSG_FIRSTHDR(&m)) == NULL || c0->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c0), sizeof(int));
	return fd;
}

/* Answers every version query with abi until killed. */
static void supervise(int listener, long abi)
{
	for (;;) {
		struct seccomp_notif req;
		struct seccomp_notif_resp resp;
		memset(&req, 0, sizeof(req));
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
			if (errno == EINTR)
				continue;
			_exit(0);
		}
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.val = abi;
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

static int status_of(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* rename, renameat, renameat2 -> EPERM; everything else allowed. */
static int install_norename(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef SYS_rename
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rename, 3, 0),
#else
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_renameat, 3, 0),
#endif
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_renameat, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_renameat2, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = {.len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

int main(int argc, char **argv)
{
	long n;
	int sv[2], st, listener;
	pid_t child, sup;

	if (argc < 5 || strcmp(argv[3], "--") != 0 ||
	    (strcmp(argv[1], "errno") && strcmp(argv[1], "abi") && strcmp(argv[1], "norename"))) {
		fprintf(stderr, "usage: pf-fakeabi errno|abi|norename N -- CMD...\n");
		return 2;
	}
	if (!strcmp(argv[1], "norename")) {
		if (install_norename() != 0) {
			perror("pf-fakeabi: seccomp");
			return 2;
		}
		execvp(argv[4], &argv[4]);
		perror("pf-fakeabi: exec");
		return 127;
	}
	n = strtol(argv[2], NULL, 10);
	if (!strcmp(argv[1], "errno")) {
		if (install(SECCOMP_RET_ERRNO | ((unsigned)n & SECCOMP_RET_DATA), 0, 0) != 0) {
			perror("pf-fakeabi: seccomp");
			return 2;
		}
		execvp(argv[4], &argv[4]);
		perror("pf-fakeabi: exec");
		return 127;
	}

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return 2;
	child = fork();
	if (child == 0) {
		int fd = install(SECCOMP_RET_USER_NOTIF, 1, SECCOMP_FILTER_FLAG_NEW_LISTENER);
		if (fd < 0 || send_fd(sv[1], fd) != 0) {
			perror("pf-fakeabi: seccomp listener");
			_exit(2);
		}
		close(fd);
		execvp(argv[4], &argv[4]);
		perror("pf-fakeabi: exec");
		_exit(127);
	}
	close(sv[1]);
	listener = recv_fd(sv[0]);
	if (listener < 0) {
		waitpid(child, &st, 0);
		return 2;
	}
	sup = fork();
	if (sup == 0)
		supervise(listener, n);
	close(listener);
	waitpid(child, &st, 0);
	kill(sup, SIGKILL);
	waitpid(sup, NULL, 0);
	return status_of(st);
}
