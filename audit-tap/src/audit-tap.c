/* audit-tap: prints the kernel's audit records as they happen, one per line, on stdout:
 *
 *   type=<record type> audit(<sec>.<ms>:<serial>): <fields> [pf_cgroup=<cgroup lines, |-separated>] [pf_pcgroup=...]
 *
 * pf_cgroup is added by the tap (not the kernel) to records naming a pid (SYSCALL, SECCOMP, LANDLOCK_DOMAIN): the
 * process's /proc/<pid>/cgroup, read at once, so the node agent can find its pod even when it has exited since;
 * pf_pcgroup, the parent's, on a SYSCALL record whose process is already gone.
 * Source 1, preferred: the audit netlink multicast group AUDIT_NLGRP_READLOG. It gets every record whether or not
 * auditd runs, takes nothing from auditd, and is not rate-limited. Needs CAP_AUDIT_READ (init user namespace) and
 * the host network namespace (records are multicast only in init_net).
 * Source 2, fallback when netlink is refused: /dev/kmsg, where kauditd prints records only while no auditd is
 * connected, rate-limited by printk_ratelimit(). Needs CAP_SYSLOG when kernel.dmesg_restrict=1.
 *
 * The node agent runs it as a child and parses stdout (src/node-agent/denials/). Status goes to stderr, one line
 * each, prefixed "audit-tap: " (source=netlink|kmsg, lost=N, errors). Options:
 *   --source=auto|netlink|kmsg   (default auto: netlink, then kmsg)
 *   --enable-audit               set the kernel's audit "enabled" flag to 1 first (AUDIT_SET, needs
 *                                CAP_AUDIT_CONTROL): Landlock logs nothing while it is 0; seccomp logs regardless.
 * Exits 0 when stdout is closed (the reader went away), 1 on a setup error, 2 on a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AUDIT_NLGRP_READLOG
#define AUDIT_NLGRP_READLOG 1
#endif

#define BUF_SIZE 65536

static char buf[BUF_SIZE];
static char line[BUF_SIZE + 64];

__attribute__((format(printf, 1, 2))) static void status(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("audit-tap: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* The number after `key` (" pid=", " ppid=") in the record's body, or 0. */
static long field_pid(const char *body, size_t len, const char *key)
{
	size_t k = strlen(key);
	for (size_t i = 0; i + k < len; i++)
		if (memcmp(body + i, key, k) == 0)
			return strtol(body + i + k, NULL, 10);
	return 0;
}

/* Appends " <key><lines of /proc/<pid>/cgroup joined by |>"; returns n unchanged when it cannot be read (the process
 * is gone). Spaces and control characters become '_', so the value is one field. */
static size_t append_cgroup(size_t n, const char *key, long pid)
{
	if (pid <= 0)
		return n;
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/cgroup", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return n;
	static char cg[8192];
	ssize_t r = read(fd, cg, sizeof cg - 1);
	close(fd);
	if (r <= 0)
		return n;
	size_t klen = strlen(key);
	if (n + klen + (size_t)r + 2 > sizeof line)
		return n;
	memcpy(line + n, key, klen);
	n += klen;
	while (r > 0 && cg[r - 1] == '\n')
		r--;
	for (ssize_t i = 0; i < r; i++) {
		unsigned char c = (unsigned char)cg[i];
		line[n++] = c == '\n' ? '|' : (c <= 0x20 || c == 0x7f) ? '_' : (char)c;
	}
	return n;
}

/* Adds the cgroup of the process a record names (SYSCALL, SECCOMP, LANDLOCK_DOMAIN), read here, within moments of
 * the record, because the process may be gone by the time the node agent would read it. It often is already: a
 * forked child that exits right after its denial is reaped before the kernel's audit thread and this tap get to
 * run (about half the time on a busy 2-CPU node). So for a SYSCALL record whose process is gone, the parent's
 * cgroup is added instead as pf_pcgroup (the parent of a container's process is in the same container, or
 * outside every pod: the runtime's shim). SECCOMP records name no parent. */
static size_t add_cgroup(size_t n, unsigned type, const char *body, size_t len)
{
	if (type != AUDIT_SYSCALL && type != 1326 /* SECCOMP */ && type != 1424 /* LANDLOCK_DOMAIN */)
		return n;
	size_t was = n;
	n = append_cgroup(n, " pf_cgroup=", field_pid(body, len, " pid="));
	if (n == was && type == AUDIT_SYSCALL)
		n = append_cgroup(n, " pf_pcgroup=", field_pid(body, len, " ppid="));
	return n;
}

/* One record out; exits quietly when the reader is gone. Control characters (there should be none: the kernel
 * hex-encodes untrusted strings with them) become spaces so one record is always one line. */
static void emit(unsigned type, const char *body, size_t len)
{
	while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\0'))
		len--;
	int head = snprintf(line, sizeof line, "type=%u ", type);
	size_t n = (size_t)head;
	for (size_t i = 0; i < len && n < sizeof line - 2; i++) {
		unsigned char c = (unsigned char)body[i];
		line[n++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	n = add_cgroup(n, type, body, len);
	line[n++] = '\n';
	if (fwrite(line, 1, n, stdout) != n || fflush(stdout) != 0)
		exit(0);
}

/* AUDIT_SET enabled=1 on a unicast audit socket; the kernel answers with an NLMSG_ERROR ack. */
static int enable_audit(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (s < 0)
		return -errno;
	struct {
		struct nlmsghdr h;
		struct audit_status st;
	} req;
	memset(&req, 0, sizeof req);
	req.h.nlmsg_len = sizeof req;
	req.h.nlmsg_type = AUDIT_SET;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.h.nlmsg_seq = 1;
	req.st.mask = AUDIT_STATUS_ENABLED;
	req.st.enabled = 1;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	int rc = 0;
	if (sendto(s, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
		rc = -errno;
	} else {
		ssize_t n = recv(s, buf, sizeof buf, 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		if (n < 0)
			rc = -errno;
		else if (NLMSG_OK(h, (size_t)n) && h->nlmsg_type == NLMSG_ERROR)
			rc = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
	close(s);
	return rc;
}

static int open_netlink(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (s < 0)
		return -errno;
	/* A bigger receive buffer rides out bursts (best effort: capped by net.core.rmem_max without privilege). */
	int size = 4 << 20;
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
		(void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1)};
	if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
		int e = errno;
		close(s);
		return -e;
	}
	return s;
}

static int read_netlink(int s)
{
	unsigned long lost = 0;
	for (;;) {
		ssize_t n = recv(s, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) { /* the socket overflowed: records were dropped, keep going */
				status("lost=%lu", ++lost);
				continue;
			}
			status("recv: %s", strerror(errno));
			return 1;
		}
		/* A signed length: NLMSG_NEXT takes the aligned size off, which can go below zero on the last message. */
		int len = (int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type < AUDIT_FIRST_USER_MSG || h->nlmsg_len < NLMSG_HDRLEN)
				continue; /* NLMSG_ERROR/DONE and the like: not records */
			emit(h->nlmsg_type, (const char *)NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN);
		}
	}
}

/* /dev/kmsg records: "prio,seq,usec,flags;message\n" then optional " KEY=value" continuation lines. kauditd's
 * message is "audit: type=N audit(...): ...". Everything else in the kernel log is skipped. */
static int read_kmsg(int fd)
{
	unsigned long lost = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) { /* overwritten before we read it */
				status("lost=%lu", ++lost);
				continue;
			}
			status("read /dev/kmsg: %s", strerror(errno));
			return 1;
		}
		buf[n] = '\0';
		char *msg = strchr(buf, ';');
		if (!msg)
			continue;
		msg++;
		char *end = strchr(msg, '\n');
		size_t len = end ? (size_t)(end - msg) : strlen(msg);
		static const char prefix[] = "audit: type=";
		if (len <= sizeof prefix - 1 || strncmp(msg, prefix, sizeof prefix - 1) != 0)
			continue;
		char *p = msg + sizeof prefix - 1, *after;
		errno = 0;
		unsigned long type = strtoul(p, &after, 10);
		if (errno || after == p || *after != ' ')
			continue;
		after++;
		emit((unsigned)type, after, len - (size_t)(after - msg));
	}
}

static int open_kmsg(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	(void)lseek(fd, 0, SEEK_END); /* only what happens from now on */
	return fd;
}

int main(int argc, char **argv)
{
	const char *source = "auto";
	int enable = 0;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--source=", 9) == 0)
			source = argv[i] + 9;
		else if (strcmp(argv[i], "--enable-audit") == 0)
			enable = 1;
		else {
			fprintf(stderr, "usage: audit-tap [--source=auto|netlink|kmsg] [--enable-audit]\n");
			return 2;
		}
	}
	if (strcmp(source, "auto") && strcmp(source, "netlink") && strcmp(source, "kmsg")) {
		fprintf(stderr, "audit-tap: --source must be auto, netlink or kmsg, not \"%s\"\n", source);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (enable) {
		int rc = enable_audit();
		if (rc < 0)
			status("enable-audit failed: %s", strerror(-rc));
		else
			status("audit enabled");
	}
	if (strcmp(source, "kmsg") != 0) {
		int s = open_netlink();
		if (s >= 0) {
			status("source=netlink");
			return read_netlink(s);
		}
		status("netlink refused: %s", strerror(-s));
		if (strcmp(source, "netlink") == 0)
			return 1;
	}
	int fd = open_kmsg();
	if (fd < 0) {
		status("/dev/kmsg refused: %s", strerror(-fd));
		return 1;
	}
	status("source=kmsg");
	return read_kmsg(fd);
}
