/* apps.c - the applications of a tasd (`tasctl apps`) and whether a process
 * is one of them (`tasctl check PID`, the question onload_stackdump
 * answers).
 *
 * Both read the "apps" rows of `stats --json` (pid, command, user,
 * contexts, connections, listeners, bytes in and out, bad entries, state).
 * check then looks at the process in /proc when it is not among them: is
 * libtas_interpose.so mapped, is it in its LD_PRELOAD, which run dir does
 * it name; and says in one line why it is not on tasd.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "tas/msg.h"
#include "tasctl/apps.h"
#include "tasctl/jsonget.h"

static void user_name(char *buf, size_t len, long long uid)
{
    struct passwd *pw = getpwuid((uid_t)uid);
    if (pw != NULL)
        snprintf(buf, len, "%s", pw->pw_name);
    else
        snprintf(buf, len, "%lld", uid);
}

int tasctl_apps_write(FILE *f, struct json_object *stats, bool json)
{
    struct json_object *arr = tj_slowpath(stats, "apps");
    if (arr == NULL)
        return -1;
    if (json) {
        tj_print_as(f, "apps", arr);
        return 0;
    }
    fprintf(f, "%-8s %-16s %-10s %4s %6s %6s %14s %14s %6s %s\n", "PID", "COMMAND",
            "USER", "CTX", "CONNS", "LISTEN", "RX_BYTES", "TX_BYTES", "BAD", "STATE");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *a = json_object_array_get_idx(arr, i);
        char user[33];
        user_name(user, sizeof(user), tj_num(a, "uid", 0));
        fprintf(f, "%-8lld %-16s %-10s %4lld %6lld %6lld %14lld %14lld %6lld %s\n",
                tj_num(a, "pid", 0), tj_str(a, "command", ""), user, tj_num(a, "contexts", 0),
                tj_num(a, "conns", 0), tj_num(a, "listeners", 0), tj_num(a, "rx_bytes", 0),
                tj_num(a, "tx_bytes", 0), tj_num(a, "bad_entries", 0) + tj_num(a, "bad_msgs", 0),
                tj_str(a, "state", ""));
    }
    return 0;
}

/* The value of NAME= in /proc/pid/environ, in buf ("" if not there); -errno
 * if it cannot be read. */
static int environ_get(pid_t pid, const char *name, char *buf, size_t len)
{
    char path[64], chunk[65536];
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -errno;
    size_t n = fread(chunk, 1, sizeof(chunk) - 1, f);
    fclose(f);
    chunk[n] = '\0';
    buf[0] = '\0';
    size_t k = strlen(name);
    for (size_t at = 0; at < n; at += strlen(chunk + at) + 1)
        if (strncmp(chunk + at, name, k) == 0 && chunk[at + k] == '=') {
            snprintf(buf, len, "%s", chunk + at + k + 1);
            break;
        }
    return 0;
}

/* Is libtas_interpose.so mapped into pid?  1, 0, or -errno. */
static int shim_mapped(pid_t pid)
{
    char path[64], line[4096];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -errno;
    int found = 0;
    while (!found && fgets(line, sizeof(line), f) != NULL)
        found = strstr(line, "libtas_interpose") != NULL;
    fclose(f);
    return found;
}

int tasctl_check(FILE *f, struct json_object *stats, pid_t pid, const char *run_dir)
{
    struct json_object *arr = tj_slowpath(stats, "apps");
    for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
        struct json_object *a = json_object_array_get_idx(arr, i);
        if (tj_num(a, "pid", 0) != pid)
            continue;
        fprintf(
            f,
            "%d (%s) is on tasd (run dir %s): application %lld, %lld context(s), %lld "
            "connection(s), %lld listener(s), %lld bytes in, %lld out\n",
            (int)pid, tj_str(a, "command", ""), run_dir, tj_num(a, "id", 0), tj_num(a, "contexts", 0),
            tj_num(a, "conns", 0), tj_num(a, "listeners", 0), tj_num(a, "rx_bytes", 0), tj_num(a, "tx_bytes", 0));
        return 0;
    }
    char comm[64] = "?", path[64];
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    FILE *c = fopen(path, "re");
    if (c == NULL) {
        fprintf(f, "%d is not on tasd: there is no such process\n", (int)pid);
        return 1;
    }
    if (fgets(comm, sizeof(comm), c) != NULL)
        comm[strcspn(comm, "\n")] = '\0';
    fclose(c);

    char preload[4096], dir[4096];
    int mapped = shim_mapped(pid);
    int env = environ_get(pid, "LD_PRELOAD", preload, sizeof(preload));
    if (env == 0)
        env = environ_get(pid, "TAS_RUN_DIR", dir, sizeof(dir));
    if (mapped < 0 || env < 0) {
        fprintf(f,
                "%d (%s) is not on tasd; tasctl may not look into it (%s): ask as root\n",
                (int)pid, comm, strerror(-(mapped < 0 ? mapped : env)));
        return 1;
    }
    if (dir[0] == '\0')
        snprintf(dir, sizeof(dir), "%s", TAS_DEFAULT_RUN_DIR);
    if (!mapped && strstr(preload, "libtas_interpose") == NULL)
        fprintf(f,
                "%d (%s) is not on tasd: it was not started with the shim (no "
                "libtas_interpose.so in its LD_PRELOAD; start it with tas-run)\n",
                (int)pid, comm);
    else if (!mapped)
        fprintf(
            f,
            "%d (%s) is not on tasd: libtas_interpose.so is in its LD_PRELOAD but not "
            "loaded: a statically linked program, or one the loader would not "
            "preload into (setuid)\n",
            (int)pid, comm);
    else if (strcmp(dir, run_dir) != 0)
        fprintf(f,
                "%d (%s) is not on this tasd: it uses run dir %s (TAS_RUN_DIR), this one "
                "is %s\n",
                (int)pid, comm, dir, run_dir);
    else
        fprintf(
            f,
            "%d (%s) is not on tasd: it loaded the shim but has not registered: it made "
            "no TCP socket yet, or tasd was not reachable when it did (it then uses the "
            "kernel), or it is a Go program (the shim said so on its stderr)\n",
            (int)pid, comm);
    return 1;
}
