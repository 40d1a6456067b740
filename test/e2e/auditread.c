/* auditread: prints the kernel's audit records as they happen, one per line ("type=1326 audit(...): ..."), by
 * joining the audit netlink multicast group (AUDIT_NLGRP_READLOG, needs CAP_AUDIT_READ). Unlike the kernel log
 * (where kauditd's printk is rate-limited) it sees every record, and unlike auditd it takes nothing from anyone.
 * Runs until killed. The e2e suite uses it to see seccomp's SECCOMP_RET_LOG records from audit-mode pods. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AUDIT_NLGRP_READLOG
#define AUDIT_NLGRP_READLOG 1
#endif

int main(void) {
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (s < 0) {
    perror("auditread: socket");
    return 1;
  }
  struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1)};
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("auditread: bind (needs CAP_AUDIT_READ)");
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  fprintf(stderr, "auditread: listening\n");
  static char buf[16384];
  for (;;) {
    ssize_t n = recv(s, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR || errno == ENOBUFS) continue;
      perror("auditread: recv");
      return 1;
    }
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (!NLMSG_OK(h, (unsigned)n)) continue;
    int len = (int)h->nlmsg_len - NLMSG_HDRLEN;
    if (len < 0) continue;
    printf("type=%u %.*s\n", h->nlmsg_type, len, (char *)NLMSG_DATA(h));
  }
}
