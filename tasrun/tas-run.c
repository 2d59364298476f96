/* tas-run.c - the command users type instead of LD_PRELOAD:
 *
 *   tas-run [--run-dir DIR] [--quiet] [--] PROGRAM [ARGS...]
 *
 * Finds PROGRAM (PATH, as execvp), asks the library whether the shim can
 * serve it (a static or Go program: one line why, exit 126), checks that a
 * tasd answers on DIR/app.sock (--run-dir, else TAS_RUN_DIR, else
 * /run/tasd; if not: one line, exit 1), says on stderr that PROGRAM runs
 * over tasd, and execs it with the shim first in LD_PRELOAD and TAS_RUN_DIR
 * set.  The shim is the installed libtas_interpose.so, or TAS_INTERPOSE
 * (a build tree's).  Exit 127 if PROGRAM is not found.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "libtas/libtas.h"
#include "tas/msg.h"

#ifndef TAS_INTERPOSE_PATH
#define TAS_INTERPOSE_PATH "libtas_interpose.so"
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tas-run [--run-dir DIR] [--quiet] [--] PROGRAM [ARGS...]\n"
            "Run PROGRAM with its TCP sockets over tasd (LD_PRELOAD=%s).\n",
            TAS_INTERPOSE_PATH);
}

/* PROGRAM as execvp would find it, in buf; false if nowhere. */
static bool find(const char *prog, char *buf, size_t len)
{
    struct stat st;
    if (strchr(prog, '/') != NULL) {
        snprintf(buf, len, "%s", prog);
        return access(buf, X_OK) == 0 && stat(buf, &st) == 0 && S_ISREG(st.st_mode);
    }
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path != '\0') {
        size_t n = strcspn(path, ":");
        snprintf(buf, len, "%.*s/%s", (int)n, n > 0 ? path : ".", prog);
        if (access(buf, X_OK) == 0 && stat(buf, &st) == 0 && S_ISREG(st.st_mode))
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

/* Does a tasd answer on dir/app.sock?  0 or -errno. */
static int reachable(const char *dir)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, TAS_APP_SOCK);
    if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
    close(fd);
    return r;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"run-dir", 1, 0, 'r'}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *dir = getenv("TAS_RUN_DIR");
    bool quiet = false;
    int o;
    while ((o = getopt_long(argc, argv, "+r:qh", opts, NULL)) != -1) {
        switch (o) {
        case 'r':
            dir = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    if (dir == NULL || dir[0] == '\0')
        dir = TAS_DEFAULT_RUN_DIR;
    const char *prog = argv[optind];
    char path[PATH_MAX], why[1024];
    if (!find(prog, path, sizeof(path))) {
        fprintf(stderr, "tas-run: %s: not found\n", prog);
        return 127;
    }
    if (tas_program_check(path, why, sizeof(why)) == -ENOEXEC) {
        fprintf(stderr, "tas-run: %s; tasd cannot serve it\n", why);
        return 126;
    }
    int r = reachable(dir);
    if (r != 0) {
        fprintf(stderr,
                "tas-run: no tasd answers on %s/%s (%s): start it (systemctl start tasd) "
                "or name its run dir (--run-dir, TAS_RUN_DIR)\n",
                dir, TAS_APP_SOCK, strerror(-r));
        return 1;
    }

    const char *shim = getenv("TAS_INTERPOSE");
    if (shim == NULL || shim[0] == '\0')
        shim = TAS_INTERPOSE_PATH;
    const char *old = getenv("LD_PRELOAD");
    size_t len = strlen(shim) + (old != NULL ? strlen(old) + 1 : 0) + 1;
    char *preload = malloc(len);
    if (preload == NULL)
        return 1;
    snprintf(preload, len, "%s%s%s", shim, old != NULL && old[0] ? ":" : "",
             old != NULL ? old : "");
    if (setenv("LD_PRELOAD", preload, 1) != 0 || setenv("TAS_RUN_DIR", dir, 1) != 0) {
        fprintf(stderr, "tas-run: cannot set the environment: %s\n", strerror(errno));
        return 1;
    }
    if (!quiet)
        fprintf(stderr, "tas-run: %s runs over tasd (run dir %s)\n", prog, dir);
    execv(path, argv + optind);
    fprintf(stderr, "tas-run: %s: %s\n", path, strerror(errno));
    return 126;
}
