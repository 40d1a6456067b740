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
 *   link:SRC:DST        hard link SRC at DST, then read DST
 *   connect:IP:PORT     TCP connect (3 s timeout)
 *   bind:PORT           TCP bind + listen on 0.0.0.0:PORT
 *   serve:PORT,PORT...  listen on the ports and accept forever (the peer for connect checks)
 *   sleep:SECONDS       keep the container up
 * Ways to load code without Landlock's execute check (ok = the code ran), and other escapes (test/e2e/escapes):
 *   memfd-exec          memfd_create, copy of this binary, execveat(fd, "", AT_EMPTY_PATH)
 *   memfd-exec-proc     the same through execve("/proc/self/fd/N")
 *   mmap-exec:PATH      write machine code to PATH, mmap it PROT_EXEC, call it
 *   wx-mmap             anonymous PROT_WRITE|PROT_EXEC mapping, write code, call it (a JIT)
 *   mprotect-exec       anonymous RW mapping, write code, mprotect to RX, call it
 *   shm-exec            System V shared memory attached SHM_EXEC, write code, call it
 *   procmem-write       write this process's own code through /proc/self/mem
 *   udp:IP:PORT         UDP sendto          udp-bind:PORT   UDP bind
 *   socket:FAMILY:TYPE[.PROTO]  socket(FAMILY, TYPE, PROTO or 0), numbers (e.g. 10:2 = AF_INET6/SOCK_DGRAM,
 *                       2:2.1 = an ICMP ping socket, 16:3.15 = netlink kobject-uevent)
 *   socketcall32        socket() through the 32-bit int 0x80 socketcall entry (x86_64 only); "untestable=1"
 *                       when the kernel has no 32-bit emulation (the child dies of SIGSEGV)
 *   io-uring            io_uring_setup      userfaultfd     userfaultfd(UFFD_USER_MODE_ONLY)
 *   ptrace-child        fork a child, PTRACE_ATTACH to it    vm-writev   process_vm_writev into a child
 *   personality-rie     personality(READ_IMPLIES_EXEC)
 *   copy-exec:PATH      copy this binary to PATH (mode 0755) and run the copy: a program the workload wrote
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/uio.h>
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
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    case ENOEXEC: return "ENOEXEC";
    case EFAULT: return "EFAULT";
    case ESRCH: return "ESRCH";
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
  char groups[128] = "";
  while (fgets(line, sizeof line, f)) {
    sscanf(line, "NoNewPrivs: %31s", nnp);
    sscanf(line, "Seccomp: %31s", seccomp);
    sscanf(line, "CapEff: %31s", eff);
    sscanf(line, "CapPrm: %31s", prm);
    sscanf(line, "CapBnd: %31s", bnd);
    sscanf(line, "CapAmb: %31s", amb);
    if (!strncmp(line, "Groups:", 7)) {
      /* "Groups:\t0 10 \n" -> "0,10" */
      size_t k = 0;
      for (const char *c = line + 7; *c && k + 1 < sizeof groups; c++) {
        if (*c >= '0' && *c <= '9') groups[k++] = *c;
        else if (k && groups[k - 1] != ',') groups[k++] = ',';
      }
      while (k && groups[k - 1] == ',') k--;
      groups[k] = '\0';
    }
  }
  fclose(f);
  report(name, 0, "nonewprivs=%s seccomp=%s capeff=%s capprm=%s capbnd=%s capamb=%s groups=%s", nnp, seccomp, eff, prm,
         bnd, amb, groups[0] ? groups : "none");
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
static int check_exec(const char *name, const char *path, const char *arg) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return report(name, errno, NULL), 0;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    char *argv[] = {(char *)path, (char *)arg, NULL};
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

/* A function returning 42, as machine code. */
#if defined(__x86_64__)
static const unsigned char code42[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3}; /* mov eax, 42; ret */
#elif defined(__aarch64__)
static const unsigned char code42[] = {0x40, 0x05, 0x80, 0x52, 0xc0, 0x03, 0x5f, 0xd6}; /* mov w0, #42; ret */
#else
#error "add this architecture's code42"
#endif

static void call42(const char *name, void *mem) {
  __builtin___clear_cache((char *)mem, (char *)mem + sizeof code42);
  int got = ((int (*)(void))mem)();
  report(name, got == 42 ? 0 : EINVAL, "ran=%d", got == 42);
}

/* fork; the child execs through `how`; EOF on the close-on-exec pipe means the exec succeeded. */
static void exec_memfd(const char *name, int via_proc) {
  int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0) return report(name, errno, "step=open-self");
  int fd = (int)syscall(SYS_memfd_create, "podfence-probe", 0);
  if (fd < 0) return report(name, errno, "step=memfd_create");
  char buf[65536];
  ssize_t n;
  while ((n = read(src, buf, sizeof buf)) > 0)
    if (write(fd, buf, (size_t)n) != n) return report(name, errno, "step=write");
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return report(name, errno, NULL);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    char *argv[] = {"probe", "uname", NULL};
    char *envp[] = {NULL};
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (via_proc)
      execve(path, argv, envp);
    else
      syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
    int e = errno;
    (void)!write(p[1], &e, sizeof e);
    _exit(127);
  }
  close(p[1]);
  int e = 0;
  ssize_t r = read(p[0], &e, sizeof e);
  waitpid(pid, NULL, 0);
  report(name, r == (ssize_t)sizeof e ? e : 0, r == (ssize_t)sizeof e ? "step=exec" : "ran=1");
}

static void mmap_exec(const char *name, const char *path) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (fd < 0) return report(name, errno, "step=create");
  if (write(fd, code42, sizeof code42) != (ssize_t)sizeof code42) return report(name, errno, "step=write");
  void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) return report(name, errno, "step=mmap");
  call42(name, m);
}

static void shm_exec(const char *name) {
  int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0700); /* x: SHM_EXEC needs it */
  if (id < 0) return report(name, errno, "step=shmget");
  void *m = shmat(id, NULL, SHM_EXEC);
  shmctl(id, IPC_RMID, NULL);
  if (m == (void *)-1) return report(name, errno, "step=shmat");
  memcpy(m, code42, sizeof code42);
  call42(name, m);
}

/* Patch a page of our own code through /proc/self/mem (which ignores page protections). */
static int patched_target(void) { return 7; }
static void procmem_write(const char *name) {
  int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
  if (fd < 0) return report(name, errno, "step=open");
  if (pwrite(fd, code42, sizeof code42, (off_t)(uintptr_t)&patched_target) != (ssize_t)sizeof code42)
    return report(name, errno, "step=pwrite");
  int (*volatile fn)(void) = patched_target;
  report(name, fn() == 42 ? 0 : EINVAL, "ran=%d", fn() == 42);
}

static void check_udp(const char *name, const char *ip, const char *port, int bind_only) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return report(name, errno, "step=socket");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
  if (bind_only) return report(name, bind(s, (struct sockaddr *)&a, sizeof a) < 0 ? errno : 0, NULL);
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) return report(name, EINVAL, NULL);
  report(name, sendto(s, "podfence", 8, 0, (struct sockaddr *)&a, sizeof a) < 0 ? errno : 0, NULL);
}

static void socketcall32(const char *name) {
#if defined(__x86_64__)
  pid_t pid = fork();
  if (pid == 0) {
    /* socketcall(SYS_SOCKET=1, args) with args {AF_INET, SOCK_DGRAM, 0} below 4 GiB (a 32-bit pointer). */
    unsigned int *args = mmap((void *)0x10000000, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (args == MAP_FAILED) _exit(100);
    args[0] = AF_INET, args[1] = SOCK_DGRAM, args[2] = 0;
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(102), "b"(1), "c"(args) : "memory");
    _exit(ret >= 0 ? 0 : (int)(-ret) & 0x7f);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFSIGNALED(st)) return report(name, ENOSYS, "untestable=1 signal=%d", WTERMSIG(st));
  int e = WEXITSTATUS(st);
  report(name, e == 100 ? EFAULT : e, NULL);
#else
  report(name, ENOSYS, "untestable=1 arch=1");
#endif
}

static void ptrace_child(const char *name, int vm_write) {
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  int err;
  if (vm_write) {
    static int target = 1;
    int value = 2;
    struct iovec local = {.iov_base = &value, .iov_len = sizeof value}, remote = {.iov_base = &target, .iov_len = sizeof target};
    err = syscall(SYS_process_vm_writev, pid, &local, 1, &remote, 1, 0) < 0 ? errno : 0;
  } else {
    err = ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0 ? errno : 0;
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  report(name, err, NULL);
}

static void copy_exec(const char *name, const char *dst) {
  int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0) return report(name, errno, "step=open-self");
  int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (fd < 0) return report(name, errno, "step=create");
  char buf[65536];
  ssize_t n;
  while ((n = read(src, buf, sizeof buf)) > 0)
    if (write(fd, buf, (size_t)n) != n) return report(name, errno, "step=write");
  close(fd);
  check_exec(name, dst, "uname"); /* the copy is this probe: it runs its uname check */
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
    check_exec(name, arg1, "true");
  } else if (!strcmp(check, "link") && arg1 && arg2) {
    /* A hard link of a file the rules hide, made where they allow reading: then read through it. */
    if (link(arg1, arg2) < 0) report(name, errno, "step=link");
    else check_read(name, arg2);
  } else if (!strcmp(check, "connect") && arg1 && arg2) {
    check_connect(name, arg1, arg2);
  } else if (!strcmp(check, "bind") && arg1) {
    check_bind(name, arg1);
  } else if (!strcmp(check, "serve") && arg1) {
    return serve(name, arg1);
  } else if (!strcmp(check, "memfd-exec")) {
    exec_memfd(name, 0);
  } else if (!strcmp(check, "memfd-exec-proc")) {
    exec_memfd(name, 1);
  } else if (!strcmp(check, "mmap-exec") && arg1) {
    mmap_exec(name, arg1);
  } else if (!strcmp(check, "wx-mmap")) {
    /* The raw syscall: musl's mmap() turns EPERM on anonymous maps into ENOMEM. */
    void *m = (void *)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) report(name, errno, "step=mmap");
    else memcpy(m, code42, sizeof code42), call42(name, m);
  } else if (!strcmp(check, "mprotect-exec")) {
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) report(name, errno, "step=mmap");
    else if (memcpy(m, code42, sizeof code42), mprotect(m, 4096, PROT_READ | PROT_EXEC) < 0) report(name, errno, "step=mprotect");
    else call42(name, m);
  } else if (!strcmp(check, "shm-exec")) {
    shm_exec(name);
  } else if (!strcmp(check, "procmem-write")) {
    procmem_write(name);
  } else if (!strcmp(check, "udp") && arg1 && arg2) {
    check_udp(name, arg1, arg2, 0);
  } else if (!strcmp(check, "udp-bind") && arg1) {
    check_udp(name, NULL, arg1, 1);
  } else if (!strcmp(check, "socket") && arg1 && arg2) {
    /* TYPE may carry a protocol: 2.1 = SOCK_DGRAM, IPPROTO_ICMP */
    char *dot = strchr(arg2, '.');
    int s = socket(atoi(arg1), atoi(arg2) | SOCK_CLOEXEC, dot ? atoi(dot + 1) : 0);
    report(name, s < 0 ? errno : 0, NULL);
  } else if (!strcmp(check, "socketcall32")) {
    socketcall32(name);
  } else if (!strcmp(check, "io-uring")) {
    char params[120] = {0};
    report(name, syscall(SYS_io_uring_setup, 1, params) < 0 ? errno : 0, NULL);
  } else if (!strcmp(check, "userfaultfd")) {
    report(name, syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY: no privilege needed */) < 0 ? errno : 0, NULL);
  } else if (!strcmp(check, "ptrace-child")) {
    ptrace_child(name, 0);
  } else if (!strcmp(check, "vm-writev")) {
    ptrace_child(name, 1);
  } else if (!strcmp(check, "personality-rie")) {
    report(name, personality(PER_LINUX | READ_IMPLIES_EXEC) < 0 ? errno : 0, NULL);
  } else if (!strcmp(check, "copy-exec") && arg1) {
    copy_exec(name, arg1);
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
  /* exec:PATH runs PATH with "true": a copy of this probe run that way succeeds quietly, as true(1) would. */
  if (argc == 2 && !strcmp(argv[1], "true")) return 0;
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
