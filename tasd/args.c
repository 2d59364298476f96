/* args.c - small parsers for tasd's settings that other files share:
 * "a.b.c.d/len" prefixes (config, routes, host interface) and the EAL
 * argument string (checked by the config loader, split by port.c to build
 * the EAL's argv).  No DPDK here: the config unit test links it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasd/config.h"

int tasd_parse_prefix(const char *s, uint32_t *ip, uint8_t *prefix)
{
    char addr[INET_ADDRSTRLEN];
    const char *slash = strchr(s, '/');
    struct in_addr a;
    unsigned long len;
    char *end;

    if (!slash || (size_t)(slash - s) >= sizeof(addr))
        return -EINVAL;
    memcpy(addr, s, slash - s);
    addr[slash - s] = '\0';
    if (inet_pton(AF_INET, addr, &a) != 1)
        return -EINVAL;
    if (!isdigit((unsigned char)slash[1]))
        return -EINVAL;
    errno = 0;
    len = strtoul(slash + 1, &end, 10);
    if (errno || *end || len > 32)
        return -EINVAL;
    *ip = a.s_addr;
    *prefix = (uint8_t)len;
    return 0;
}

/* Split s into argv in place: whitespace separates words, '...' and "..."
 * group (no escapes inside single quotes; backslash escapes the next
 * character elsewhere).  Returns the number of words or -EINVAL (unbalanced
 * quote), -E2BIG (more than max words). */
int tasd_split_args(char *s, char **argv, int max)
{
    char *in = s, *out = s;
    int n = 0;

    for (;;) {
        while (*in && isspace((unsigned char)*in))
            in++;
        if (!*in)
            break;
        if (n == max)
            return -E2BIG;
        argv[n++] = out;
        while (*in && !isspace((unsigned char)*in)) {
            if (*in == '\'' || *in == '"') {
                char q = *in++;
                while (*in && *in != q) {
                    if (q == '"' && *in == '\\' && in[1])
                        in++;
                    *out++ = *in++;
                }
                if (!*in)
                    return -EINVAL;
                in++;
            } else if (*in == '\\' && in[1]) {
                in++;
                *out++ = *in++;
            } else {
                *out++ = *in++;
            }
        }
        /* out <= in, so terminating here never overwrites unread input
         * except the separator we are about to skip. */
        if (*in)
            in++;
        *out++ = '\0';
    }
    return n;
}

int tasd_devices(const char *dpdk_args, char *buf, size_t len, struct tasd_dev *dev, int max)
{
    char *argv[TASD_MAX_EAL_ARGS];
    snprintf(buf, len, "%s", dpdk_args);
    int n = tasd_split_args(buf, argv, TASD_MAX_EAL_ARGS), k = 0;
    for (int i = 0; i < n && k < max; i++) {
        const char *opt = argv[i];
        bool vdev = !strncmp(opt, "--vdev", 6);
        if ((!strcmp(opt, "--vdev") || !strcmp(opt, "-a") || !strcmp(opt, "--allow")) &&
            i + 1 < n)
            dev[k++] = (struct tasd_dev){argv[++i], vdev};
        else if (!strncmp(opt, "--vdev=", 7) || !strncmp(opt, "--allow=", 8))
            dev[k++] = (struct tasd_dev){strchr(opt, '=') + 1, vdev};
    }
    return k;
}
