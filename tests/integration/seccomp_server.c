/* seccomp_server.c - a server that locks itself in before it reads, as
 * sshd's pre-authentication child does: it accepts one connection, closes
 * its listener, sets RLIMIT_NOFILE to 1 and installs a seccomp filter that
 * allows only what such allowlists allow (read, write, poll calls, futex,
 * clock calls, memory, signals masks, exit); any other system call kills
 * it with SIGSYS.  Then it echoes --bytes bytes back on the blocking
 * socket, one read and one write at a time, and exits 0.  Under the shim
 * the reads, writes and waits are libtas's, so this shows that they need
 * nothing else (t_seccomp.sh).
 *
 *   seccomp_server --port P --bytes N [--timeout S]
 */
#include <errno.h>
#include <getopt.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tutil.h"

#define PROG "seccomp_server"

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp_server: unknown architecture"
#endif

static const int allowed[] = {
    SYS_read, SYS_write, SYS_ppoll, SYS_pselect6, SYS_futex, SYS_clock_gettime,
    SYS_clock_nanosleep, SYS_nanosleep, SYS_gettimeofday, SYS_getpid, SYS_brk,
    SYS_mmap, SYS_munmap, SYS_mremap, SYS_madvise, SYS_rt_sigprocmask, SYS_close,
    SYS_exit, SYS_exit_group, SYS_getrandom,
#ifdef SYS_poll
    SYS_poll, SYS_select,
#endif
};

static int lock_in(void)
{
    enum { N = sizeof(allowed) / sizeof(allowed[0]) };
    struct sock_filter f[4 + 2 * N + 1];
    unsigned k = 0;
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                          offsetof(struct seccomp_data, arch));
    f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                          offsetof(struct seccomp_data, nr));
    for (unsigned i = 0; i < N; i++) {
        f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                              (unsigned)allowed[i], 0, 1);
        f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    }
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    struct sock_fprog prog = {.len = (unsigned short)k, .filter = f};
    struct rlimit one = {1, 1};
    if (setrlimit(RLIMIT_NOFILE, &one) != 0)
        return -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int main(int argc, char **argv)
{
    uint16_t port = 0;
    long bytes = 0, timeout_s = 30;
    static const struct option opts[] = {{"port", required_argument, NULL, 'p'},
                                         {"bytes", required_argument, NULL, 'b'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'p':
            port = (uint16_t)tu_num(PROG, "--port", optarg, 1, 65535);
            break;
        case 'b':
            bytes = tu_num(PROG, "--bytes", optarg, 1, 1L << 30);
            break;
        case 't':
            timeout_s = tu_num(PROG, "--timeout", optarg, 1, 3600);
            break;
        default:
            fprintf(stderr, "usage: %s --port P --bytes N [--timeout S]\n", PROG);
            return 2;
        }
    }
    if (port == 0 || bytes == 0) {
        fprintf(stderr, "usage: %s --port P --bytes N [--timeout S]\n", PROG);
        return 2;
    }
    int l = tu_listen(port, 4, 0);
    if (l < 0) {
        perror(PROG ": listen");
        return 1;
    }
    tu_ready(PROG, port);
    int c = tu_accept(l, (int)timeout_s * 1000);
    if (c < 0) {
        fprintf(stderr, "%s: accept: %s\n", PROG, strerror(errno));
        return 1;
    }
    close(l);
    fprintf(stderr, "%s: locking in (seccomp allowlist, RLIMIT_NOFILE 1)\n", PROG);
    if (lock_in() != 0) {
        fprintf(stderr, "%s: seccomp: %s\n", PROG, strerror(errno));
        return 1;
    }
    /* From here: only the allowed calls (stdio's write included). */
    static char buf[16384];
    long done = 0;
    while (done < bytes) {
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0)
            return 3;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(c, buf + off, (size_t)(n - off));
            if (w <= 0)
                return 4;
            off += w;
        }
        done += n;
    }
    static const char msg[] = PROG ": echoed everything in the sandbox\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    close(c);
    return 0;
}
