/* policy_rule.c - one policy rule read from words (slowpath.h's grammar),
 * the same for tasctl's requests and tasd.conf's policy section.  Pure:
 * no slow-path state, so tasd's configuration check uses it too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slowpath/cc.h"
#include "slowpath/slowpath.h"

static bool number(const char *w, unsigned long lo, unsigned long hi, uint32_t *v)
{
    char *end;
    if (w == NULL || *w < '0' || *w > '9')
        return false;
    errno = 0;
    unsigned long n = strtoul(w, &end, 10);
    if (errno != 0 || *end != '\0' || n < lo || n > hi)
        return false;
    *v = (uint32_t)n;
    return true;
}

#define FAIL(...)                                                                        \
    do {                                                                                 \
        snprintf(err, errlen, __VA_ARGS__);                                              \
        return -EINVAL;                                                                  \
    } while (0)

int sp_policy_parse(int argc, char *const argv[], bool clear, struct sp_policy_spec *s,
                    char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (argc < 2)
        FAIL("want app PID|COMMAND, uid UID or port PORT");
    const char *t = argv[0], *k = argv[1];
    if (!strcmp(t, "app")) {
        s->kind = SP_POL_APP;
        if (!number(k, 1, 0x7fffffff, &s->key)) {
            size_t n = strlen(k);
            if (n == 0 || n >= SP_POL_COMM_MAX || strchr(k, '/') != NULL)
                FAIL("app %s: a process id or a command name of 1-15 characters", k);
            s->by_comm = true;
            memcpy(s->comm, k, n);
        }
    } else if (!strcmp(t, "uid")) {
        s->kind = SP_POL_UID;
        if (!number(k, 0, 0xfffffffe, &s->key))
            FAIL("uid %s: a user id (a number)", k);
    } else if (!strcmp(t, "port")) {
        s->kind = SP_POL_PORT;
        if (!number(k, 1, 65535, &s->key))
            FAIL("port %s: a port is 1..65535", k);
    } else {
        FAIL("'%s': want app, uid or port", t);
    }
    if (clear) {
        if (argc > 2)
            FAIL("clear takes a target only (clear %s %s)", t, k);
        return 0;
    }
    if (argc == 2)
        FAIL("set %s %s: what? rate MBPS, max-conns N or cc NAME", t, k);
    for (int i = 2; i < argc; i += 2) {
        const char *w = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            FAIL("%s needs a value", w);
        if (!strcmp(w, "rate")) {
            if (!number(v, 1, SP_POL_MBPS_MAX, &s->rate_mbps))
                FAIL("rate %s: Mbit/s, 1..%u", v, SP_POL_MBPS_MAX);
            s->has_rate = true;
        } else if (!strcmp(w, "max-conns")) {
            if (!number(v, 1, 0xffffffff, &s->max_conns))
                FAIL("max-conns %s: a number of connections, at least 1", v);
            s->has_max_conns = true;
        } else if (!strcmp(w, "cc")) {
            if (strlen(v) >= sizeof(s->cc) || sp_cc_find(v) == NULL)
                FAIL("cc %s: unknown congestion control (%s)", v, sp_cc_list());
            snprintf(s->cc, sizeof(s->cc), "%s", v);
            s->has_cc = true;
        } else {
            FAIL("'%s': want rate, max-conns or cc", w);
        }
    }
    return 0;
}
