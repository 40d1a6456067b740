/*
 * pf-try: one operation, its outcome on stdout ("OK" or the errno name the kernel gave), for the tests
 * of podfence-init. Static, so a sandboxed run needs only --exec on its directory.
 *   read PATH | write PATH | truncate PATH | ioctl DEVICE | mkdir PATH | rename SRC DST | ls DIR
 *   exec PATH [ARG...]
 *   connect PORT | bind PORT            (TCP, 127.0.0.1)
 *   uconnect NAME                       (abstract UNIX socket)
 *   kill PID SIG
 *   serve-tcp PORT | serve-unix NAME    (listen, print "ready", wait to be killed)
 *   exit N | raise SIG | pid | nnp
 *   flip LINK A B                       (make LINK a symlink to A, then B, atomically, forever: races)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EXDEV: return "EXDEV";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EADDRINUSE: return "EADDRINUSE";
	case EINVAL: return "EINVAL";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case ESRCH: return "ESRCH";
	case ENOTTY: return "ENOTTY";
	default: return "EOTHER";
	}
}

static int report(int rc)
{
	if (rc == 0)
		puts("OK");
	else
		printf("%s(%d)\n", errname(errno), errno);
	return 0;
}

static struct sockaddr_in loopback(const char *port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(port));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static socklen_t abstract(const char *name, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strncpy(a->sun_path + 1, name, sizeof(a->sun_path) - 2);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

static int serve(int fd)
{
	if (listen(fd, 16) != 0) {
		perror("listen");
		return 1;
	}
	puts("ready");
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	const char *a = argc > 2 ? argv[2] : "";
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(op, "read") && argc == 3) {
		char c;
		int fd = open(a, O_RDONLY);
		if (fd < 0)
			return report(-1);
		if (read(fd, &c, 1) < 0)
			return report(-1);
		return report(0);
	}
	if (!strcmp(op, "write") && argc == 3) {
		int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, "x\n", 2) != 2)
			return report(-1);
		return report(close(fd));
	}
	if (!strcmp(op, "truncate") && argc == 3)
		return report(truncate(a, 0));
	if (!strcmp(op, "ioctl") && argc == 3) {
		/* TCGETS on a non-tty device: ENOTTY from the driver if Landlock lets the ioctl through. */
		struct { char b[64]; } t;
		int fd = open(a, O_RDONLY);
		if (fd < 0)
			return report(-1);
		return report(ioctl(fd, TCGETS, &t));
	}
	if (!strcmp(op, "mkdir") && argc == 3)
		return report(mkdir(a, 0755));
	if (!strcmp(op, "rename") && argc == 4)
		return report(rename(a, argv[3]));
	if (!strcmp(op, "ls") && argc == 3) {
		DIR *d = opendir(a);
		if (!d)
			return report(-1);
		closedir(d);
		return report(0);
	}
	if (!strcmp(op, "exec") && argc >= 3) {
		execv(a, &argv[2]);
		return report(-1);
	}
	if ((!strcmp(op, "connect") || !strcmp(op, "bind")) && argc == 3) {
		struct sockaddr_in sa = loopback(a);
		int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return report(-1);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (op[0] == 'c')
			return report(connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
		return report(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	}
	if (!strcmp(op, "uconnect") && argc == 3) {
		struct sockaddr_un sa;
		socklen_t len = abstract(a, &sa);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0)
			return report(-1);
		return report(connect(fd, (struct sockaddr *)&sa, len));
	}
	if (!strcmp(op, "kill") && argc == 4)
		return report(kill(atoi(a), atoi(argv[3])));
	if (!strcmp(op, "serve-tcp") && argc == 3) {
		struct sockaddr_in sa = loopback(a);
		int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			perror("bind");
			return 1;
		}
		return serve(fd);
	}
	if (!strcmp(op, "serve-unix") && argc == 3) {
		struct sockaddr_un sa;
		socklen_t len = abstract(a, &sa);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (bind(fd, (struct sockaddr *)&sa, len) != 0) {
			perror("bind");
			return 1;
		}
		return serve(fd);
	}
	if (!strcmp(op, "flip") && argc == 5) {
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s.tmp", a);
		for (;;) {
			int k;
			for (k = 3; k <= 4; k++) {
				unlink(tmp);
				if (symlink(argv[k], tmp) != 0 || rename(tmp, a) != 0) {
					perror("flip");
					return 1;
				}
			}
		}
	}
	if (!strcmp(op, "exit") && argc == 3)
		return atoi(a);
	if (!strcmp(op, "raise") && argc == 3) {
		signal(atoi(a), SIG_DFL);
		raise(atoi(a));
		return 99;
	}
	if (!strcmp(op, "pid") && argc == 2)
		return printf("%d\n", (int)getpid()) < 0;
	if (!strcmp(op, "uname") && argc == 2) {
		struct utsname u;
		return report(uname(&u));
	}
	if (!strcmp(op, "nnp") && argc == 2)
		return printf("%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)) < 0;
	fprintf(stderr, "pf-try: bad usage: %s\n", op);
	return 3;
}
