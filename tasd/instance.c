/* instance.c - what one running tasd holds on this machine: its address and
 * the TAP devices its port creates, per network namespace.
 *
 * Two instances with different run dirs may run side by side, but not on
 * the same address or TAP device: a second tasd with the default
 * configuration would otherwise attach to the first one's tas0 (the TAP
 * PMD joins an existing device) and answer for its address.  Each thing is
 * a lock file under /run/lock/tasd named after the namespace and the thing,
 * locked (flock) for the life of the process and saying who holds it; the
 * kernel lets go of the lock when the process ends, however it ends, and a
 * tasd that exits removes its files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "tasd/config.h"
#include "tasd/instance.h"

#define LOCK_DIR "/run/lock/tasd"
#define MAX_HELD 9 /* the address and up to 8 TAP devices */

static char held[MAX_HELD][512]; /* lock files we hold: removed at exit */
static int n_held;

/* At exit: our lock files go (a crash leaves them unlocked, which is as
 * good as gone). */
static void release(void)
{
    for (int i = 0; i < n_held; i++)
        unlink(held[i]);
}

/* Lock what (e.g. "address 10.77.0.2") under file name `name`.  0,
 * -EADDRINUSE (said why), or another -errno (not checked). */
static int claim(const char *name, const char *what, const struct tasd_config *c)
{
    char path[512], who[512];
    snprintf(path, sizeof(path), LOCK_DIR "/%s", name);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        ssize_t n = err == EWOULDBLOCK ? pread(fd, who, sizeof(who) - 1, 0) : -1;
        close(fd);
        if (err != EWOULDBLOCK)
            return -err;
        who[n > 0 ? n : 0] = '\0';
        who[strcspn(who, "\n")] = '\0';
        fprintf(stderr, "tasd: %s is held by another running tasd (%s); not starting\n",
                what, who[0] ? who : "which one it does not say");
        return -EADDRINUSE;
    }
    char line[TASD_PATH_MAX + 64];
    int n =
        snprintf(line, sizeof(line), "pid %d, run dir %s\n", (int)getpid(), c->run_dir);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n)
        fprintf(stderr, "tasd: %s: cannot say who holds it: %s\n", path, strerror(errno));
    if (n_held == 0)
        atexit(release);
    if (n_held < MAX_HELD)
        snprintf(held[n_held++], sizeof(held[0]), "%s", path);
    return 0; /* fd stays open (close-on-exec): the lock lasts as long as we do */
}

/* The TAP interface names of the net_tap vdevs in the dpdk setting (the
 * PMD's default dtapN when iface= is not given), in out; how many. */
static int tap_names(const char *dpdk, char out[][32], int max)
{
    static char args[TASD_ARGS_MAX];
    struct tasd_dev dev[TASD_MAX_EAL_ARGS];
    int n = 0, k = tasd_devices(dpdk, args, sizeof(args), dev, TASD_MAX_EAL_ARGS);
    for (int i = 0; i < k && n < max; i++) {
        const char *v = dev[i].name, *iface = strstr(v, ",iface=");
        if (!dev[i].vdev || strncmp(v, "net_tap", 7) != 0)
            continue;
        if (iface != NULL) {
            iface += 7;
            snprintf(out[n++], 32, "%.*s", (int)strcspn(iface, ","), iface);
        } else {
            snprintf(out[n++], 32, "dtap%d", atoi(v + 7));
        }
    }
    return n;
}

int tasd_instance_claim(const struct tasd_config *c)
{
    struct stat ns;
    if (stat("/proc/self/ns/net", &ns) != 0)
        ns.st_ino = 0;
    if (mkdir("/run/lock", 0755) != 0 && errno != EEXIST)
        return -errno;
    if (mkdir(LOCK_DIR, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "tasd: %s: %s (not checking for other instances)\n", LOCK_DIR,
                strerror(errno));
        return 0;
    }

    char ip[INET_ADDRSTRLEN], name[512], what[512];
    inet_ntop(AF_INET, &c->ip, ip, sizeof(ip));
    snprintf(name, sizeof(name), "net%lu-ip-%s", (unsigned long)ns.st_ino, ip);
    snprintf(what, sizeof(what), "address %s", ip);
    int rc = claim(name, what, c);
    if (rc == -EADDRINUSE)
        return rc;

    char taps[8][32];
    int n = tap_names(c->dpdk_args, taps, 8);
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "net%lu-tap-%s", (unsigned long)ns.st_ino, taps[i]);
        snprintf(what, sizeof(what), "TAP device %s", taps[i]);
        if (claim(name, what, c) == -EADDRINUSE)
            return -EADDRINUSE;
    }
    return 0;
}
