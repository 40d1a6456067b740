/* deny: makes the kernel write the audit records audit-tap must see, on purpose.
 *   deny seccomp-log            a filter with SECCOMP_RET_LOG on getppid, then getppid()
 *   deny seccomp-errno [log]    SECCOMP_RET_ERRNO(EPERM) on getppid, with SECCOMP_FILTER_FLAG_LOG when "log"
 *   deny seccomp-stack FIRST    two filters returning ERRNO(EPERM) on getppid, one of them with
 *                               SECCOMP_FILTER_FLAG_LOG: "plain" installs the one without the flag first (a
 *                               runtime's profile, then a wrapper's logging copy), "log" the other way round
 *   deny landlock DIR [exec]    Landlock handling write-file/make-reg with no rule, then create DIR/denied; with
 *                               "exec" the creation happens after execve (LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON)
 *   deny create PATH            create PATH (what "landlock ... exec" runs after the exec)
 *   deny landlock-net PORT      Landlock handling TCP bind and connect with no rule, then connect to
 *                               127.0.0.1:PORT and bind PORT+1
 * Prints "pid=N errno=NAME" for the attempt (the pid audit records should carry). With DENY_HOLD=FILE in the
 * environment, the seccomp modes then stay alive until FILE exists (60 s at most): the tap reads the caller's cgroup
 * from /proc/<pid>, so a test of that field must not race the process's exit. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_RET_LOG
#define SECCOMP_RET_LOG 0x7ffc0000U
#endif
#define LL_CREATE_RULESET 444
#define LL_RESTRICT_SELF 446
#define LL_WRITE_FILE (1ULL << 1)
#define LL_MAKE_REG (1ULL << 8)
#define LL_LOG_NEW_EXEC_ON (1U << 1)
#define LL_BIND_TCP (1ULL << 0)
#define LL_CONNECT_TCP (1ULL << 1)

static void report(int ok)
{
	printf("pid=%d errno=%s\n", getpid(), ok ? "0" : strerrorname_np(errno));
	fflush(stdout);
}

static void hold(void)
{
	const char *file = getenv("DENY_HOLD");
	for (int i = 0; file && i < 600 && access(file, F_OK) != 0; i++)
		usleep(100000);
}
static int seccomp_on_getppid(uint32_t action, unsigned long flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static int create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	report(fd >= 0);
	if (fd >= 0)
		close(fd);
	return fd >= 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "seccomp-log") == 0 || strcmp(mode, "seccomp-errno") == 0) {
		int log = strcmp(mode, "seccomp-log") == 0;
		int flag = argc > 2 && strcmp(argv[2], "log") == 0;
		if (seccomp_on_getppid(log ? SECCOMP_RET_LOG : SECCOMP_RET_ERRNO | EPERM,
				       flag ? SECCOMP_FILTER_FLAG_LOG : 0) != 0) {
			perror("deny: seccomp");
			return 3;
		}
		long r = syscall(SYS_getppid);
		report(r >= 0);
		hold();
		return 0;
	}
	if (strcmp(mode, "seccomp-stack") == 0 && argc > 2) {
		int log_first = strcmp(argv[2], "log") == 0;
		if (seccomp_on_getppid(SECCOMP_RET_ERRNO | EPERM, log_first ? SECCOMP_FILTER_FLAG_LOG : 0) != 0 ||
		    seccomp_on_getppid(SECCOMP_RET_ERRNO | EPERM, log_first ? 0 : SECCOMP_FILTER_FLAG_LOG) != 0) {
			perror("deny: seccomp");
			return 3;
		}
		long r = syscall(SYS_getppid);
		report(r >= 0);
		return 0;
	}
	if (strcmp(mode, "landlock") == 0 && argc > 2) {
		int exec = argc > 3 && strcmp(argv[3], "exec") == 0;
		struct {
			uint64_t fs;
		} attr = {LL_WRITE_FILE | LL_MAKE_REG};
		int fd = (int)syscall(LL_CREATE_RULESET, &attr, sizeof attr, 0);
		if (fd < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    syscall(LL_RESTRICT_SELF, fd, exec ? LL_LOG_NEW_EXEC_ON : 0) != 0) {
			perror("deny: landlock");
			return 3;
		}
		static char path[4096];
		snprintf(path, sizeof path, "%s/denied", argv[2]);
		if (!exec)
			return create(path);
		char *args[] = {argv[0], "create", path, NULL};
		execv("/proc/self/exe", args);
		perror("deny: execv");
		return 3;
	}
	if (strcmp(mode, "landlock-net") == 0 && argc > 2) {
		struct {
			uint64_t fs, net;
		} attr = {0, LL_BIND_TCP | LL_CONNECT_TCP};
		int fd = (int)syscall(LL_CREATE_RULESET, &attr, sizeof attr, 0);
		if (fd < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(LL_RESTRICT_SELF, fd, 0) != 0) {
			perror("deny: landlock");
			return 3;
		}
		int port = atoi(argv[2]);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int s1 = socket(AF_INET, SOCK_STREAM, 0);
		report(connect(s1, (struct sockaddr *)&a, sizeof a) == 0);
		int s2 = socket(AF_INET, SOCK_STREAM, 0);
		a.sin_port = htons((uint16_t)(port + 1));
		a.sin_addr.s_addr = htonl(INADDR_ANY);
		report(bind(s2, (struct sockaddr *)&a, sizeof a) == 0);
		return 0;
	}
	if (strcmp(mode, "create") == 0 && argc > 2)
		return create(argv[2]);
	fprintf(stderr, "usage: deny seccomp-log | seccomp-errno [log] | seccomp-stack plain|log | landlock DIR [exec] | "
			"create PATH | landlock-net PORT\n");
	return 2;
}
