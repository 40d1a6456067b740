/* probe: what may this process do? Runs the checks named on its command line, each in a forked child (so one
 * check's side effects, e.g. a new user namespace, can't change the next), and prints one line per check:
 *
 *   CHECK name=<check> result=ok|denied|error errno=<NAME or 0> [key=value ...]
 *
 * result is "denied" for EPERM/EACCES, "error" for any other failure. The e2e test reads these lines from the
 * pod's log. Checks (one argument each, parts separated by ':'):
 *   id                  uid/gid              status            NoNewPrivs, Seccomp, capability sets
 *   unshare             unshare(CLONE_NEWUSER)
 *   mount               mount of tmpfs on a missing path: ENOENT when the syscall runs, EPERM when seccomp denies
 *   uname               a syscall every profile allows
 *   read:PATH           open + read           write:PATH        create/truncate + write
 *   exec:PATH           fork + execve(PATH, [PATH, "true"]), ok when the child exits 0
 *   connect:IP:PORT     TCP connect (3 s timeout)
 *   bind:PORT           TCP bind + listen on 0.0.0.0:PORT
 *   serve:PORT,PORT...  listen on the ports and accept forever (the peer for connect checks)
 *   sleep:SECONDS       keep the container up
 * Static (musl) so it runs in an image that holds nothing else. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errno_name(int e) {
  switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case EROFS: return "EROFS";
    case ENOSYS: return "ENOSYS";
    case EXDEV: return "EXDEV";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    default: {
      static char buf[16];
      snprintf(buf, sizeof buf, "E%d", e);
      return buf;
    }
  }
}

/* One line, written with a single write(2) so lines from the children never interleave. */
static void report(const char *name, int err, const char *fmt, ...) {
  char extra[512] = "";
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(extra, sizeof extra, fmt, ap);
    va_end(ap);
  }
  const char *result = err == 0 ? "ok" : (err == EPERM || err == EACCES) ? "denied" : "error";
  char line[1024];
  int n = snprintf(line, sizeof line, "CHECK name=%s result=%s errno=%s%s%s\n", name, result, errno_name(err),
                   extra[0] ? " " : "", extra);
  if (n > 0) (void)!write(1, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static int check_status(const char *name) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) {
    report(name, errno, NULL);
    return 0;
  }
  char line[256], nnp[32] = "?", seccomp[32] = "?", eff[32] = "?", prm[32] = "?", bnd[32] = "?", amb[32] = "?";
  while (fgets(line, sizeof line, f)) {
    sscanf(line, "NoNewPrivs: %31s", nnp);
    sscanf(line, "Seccomp: %31s", seccomp);
    sscanf(line, "CapEff: %31s", eff);
    sscanf(line, "CapPrm: %31s", prm);
    sscanf(line, "CapBnd: %31s", bnd);
    sscanf(line, "CapAmb: %31s", amb);
  }
  fclose(f);
  report(name, 0, "nonewprivs=%s seccomp=%s capeff=%s capprm=%s capbnd=%s capamb=%s", nnp, seccomp, eff, prm, bnd,
         amb);
  return 0;
}

static int check_read(const char *name, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return report(name, errno, NULL), 0;
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf);
  int err = n < 0 ? errno : 0;
  close(fd);
  report(name, err, "bytes=%zd", n);
  return 0;
}

static int check_write(const char *name, const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return report(name, errno, NULL), 0;
  int err = write(fd, "podfence\n", 9) == 9 ? 0 : errno;
  close(fd);
  report(name, err, NULL);
  return 0;
}

/* The exec error travels back over a close-on-exec pipe: EOF means execve succeeded. */
static int check_exec(const char *name, const char *path) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return report(name, errno, NULL), 0;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    char *argv[] = {(char *)path, "true", NULL};
    char *envp[] = {NULL};
    execve(path, argv, envp);
    int e = errno;
    (void)!write(p[1], &e, sizeof e);
    _exit(127);
  }
  close(p[1]);
  int e = 0;
  ssize_t n = read(p[0], &e, sizeof e);
  close(p[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (n == (ssize_t)sizeof e) return report(name, e, NULL), 0;
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  report(name, code == 0 ? 0 : EINVAL, "exit=%d", code);
  return 0;
}

static int check_connect(const char *name, const char *ip, const char *port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) return report(name, EINVAL, NULL), 0;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return report(name, errno, NULL), 0;
  int err = 0;
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
    err = errno;
    if (err == EINPROGRESS) {
      struct pollfd pf = {.fd = s, .events = POLLOUT};
      int r = poll(&pf, 1, 3000);
      socklen_t len = sizeof err;
      if (r == 0)
        err = ETIMEDOUT;
      else if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    }
  }
  close(s);
  report(name, err, NULL);
  return 0;
}

static int listen_on(int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -errno;
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0) {
    int e = errno;
    close(s);
    return -e;
  }
  return s;
}

static int check_bind(const char *name, const char *port) {
  int s = listen_on(atoi(port));
  if (s < 0) return report(name, -s, NULL), 0;
  close(s);
  report(name, 0, NULL);
  return 0;
}

static int serve(const char *name, char *ports) {
  struct pollfd fds[16];
  int n = 0;
  for (char *tok = strtok(ports, ","); tok && n < 16; tok = strtok(NULL, ",")) {
    int s = listen_on(atoi(tok));
    if (s < 0) return report(name, -s, "port=%s", tok), 1;
    fds[n++] = (struct pollfd){.fd = s, .events = POLLIN};
  }
  report(name, 0, "listening=%d", n);
  for (;;) {
    if (poll(fds, (nfds_t)n, -1) < 0 && errno != EINTR) return 1;
    for (int i = 0; i < n; i++) {
      if (!(fds[i].revents & POLLIN)) continue;
      int c = accept4(fds[i].fd, NULL, NULL, SOCK_CLOEXEC);
      if (c >= 0) close(c);
    }
  }
}

static int run_check(char *check) {
  char name[256];
  snprintf(name, sizeof name, "%s", check);
  char *arg1 = strchr(check, ':'), *arg2 = NULL;
  if (arg1) {
    *arg1++ = '\0';
    arg2 = strchr(arg1, ':');
    if (arg2) *arg2++ = '\0';
  }
  if (!strcmp(check, "id")) {
    report(name, 0, "uid=%d gid=%d euid=%d egid=%d", getuid(), getgid(), geteuid(), getegid());
  } else if (!strcmp(check, "status")) {
    check_status(name);
  } else if (!strcmp(check, "unshare")) {
    report(name, unshare(CLONE_NEWUSER) < 0 ? errno : 0, NULL);
  } else if (!strcmp(check, "mount")) {
    report(name, mount("none", "/podfence-probe-missing", "tmpfs", 0, NULL) < 0 ? errno : 0, NULL);
  } else if (!strcmp(check, "uname")) {
    struct utsname u;
    report(name, uname(&u) < 0 ? errno : 0, NULL);
  } else if (!strcmp(check, "read") && arg1) {
    check_read(name, arg1);
  } else if (!strcmp(check, "write") && arg1) {
    check_write(name, arg1);
  } else if (!strcmp(check, "exec") && arg1) {
    check_exec(name, arg1);
  } else if (!strcmp(check, "connect") && arg1 && arg2) {
    check_connect(name, arg1, arg2);
  } else if (!strcmp(check, "bind") && arg1) {
    check_bind(name, arg1);
  } else if (!strcmp(check, "serve") && arg1) {
    return serve(name, arg1);
  } else if (!strcmp(check, "sleep") && arg1) {
    sleep((unsigned)atoi(arg1));
  } else {
    report(name, EINVAL, "unknown=1");
    return 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: probe CHECK...   (id status unshare mount uname read:P write:P exec:P connect:IP:PORT "
                    "bind:PORT serve:PORTS sleep:S)\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int failed = 0;
  for (int i = 1; i < argc; i++) {
    /* serve and sleep run in this process: they are what keeps the container alive. */
    if (!strncmp(argv[i], "serve:", 6) || !strncmp(argv[i], "sleep:", 6)) {
      failed |= run_check(argv[i]);
      continue;
    }
    pid_t pid = fork();
    if (pid < 0) return report(argv[i], errno, "fork=1"), 1;
    if (pid == 0) _exit(run_check(argv[i]));
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st)) report(argv[i], EINTR, "signal=%d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    else failed |= WEXITSTATUS(st);
  }
  (void)!write(1, "PROBE done\n", 11);
  return failed ? 1 : 0;
}
