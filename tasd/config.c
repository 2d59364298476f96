/* config.c - tasd's configuration loader: defaults, then the libconfig
 * file, then the command line, then the checks that involve several
 * settings.
 *
 * What the settings are (key, flag, kind, range, default, help) is the
 * table in config_table.c; this file fills struct tasd_config through its
 * rows, checking each value by its row's kind and range.
 * The file is walked setting by setting, so an unknown or misspelt key is
 * an error rather than silently ignored; the command line is parsed twice
 * with getopt_long (once to find --config, --help and --version, once after
 * the file to apply the overrides).  Checks that involve several settings
 * (a gateway in our subnet, RTO bounds in order) run last and still name
 * the file line or flag that set them.
 *
 * Errors look like
 *   tasd: /etc/tasd/tasd.conf:12: tcp.rto_min_ms: must be an integer between 1 and 60000
 *   tasd: --fp-cores 9: must be an integer between 1 and 8
 * All of them are reported; the loader then returns 2.  Nothing here uses
 * DPDK, so the unit test links the configuration's files alone.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libconfig.h>
#include <limits.h>
#include <net/if.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "tas/msg.h"
#include "slowpath/cc.h"
#include "tasd/config.h"
#include "tasd/config_table.h"

#ifndef TASD_VERSION
#define TASD_VERSION "unknown"
#endif

/* Where a value came from: a file line or a command-line flag. */
struct src {
    const char *file; /* NULL: the command line */
    int line;
    const char *flag;
    const char *text; /* the flag's argument */
};

struct loader {
    struct src where[TASD_N_SETTINGS]; /* last assignment of each setting */
    bool set[TASD_N_SETTINGS];
    struct src route_src[TASD_MAX_ROUTES];
    bool routes_from_cli; /* the first --route drops the file's routes */
    bool policy_from_cli; /* the first --policy drops the file's policy */
    int errors;
};

/* Option values for flags that are not settings. */
enum {
    OPT_CONFIG = 'c',
    OPT_HELP = 'h',
    OPT_VERSION = 'V',
    OPT_CHECK = 0x100,
    OPT_SETTING = 0x200, /* + index in tasd_settings[] */
};

static void __attribute__((format(printf, 4, 5)))
report(struct loader *L, const struct src *w, const char *key, const char *fmt, ...)
{
    va_list ap;

    if (w->file)
        fprintf(stderr, "tasd: %s:%d: %s: ", w->file, w->line, key);
    else if (w->text)
        fprintf(stderr, "tasd: --%s %s: ", w->flag, w->text);
    else
        fprintf(stderr, "tasd: --%s: ", w->flag);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    L->errors++;
}

static uint32_t prefix_mask(uint8_t prefix)
{
    return prefix ? htonl(~0u << (32 - prefix)) : 0;
}

static const char *ip_str(uint32_t ip, char *buf)
{
    return inet_ntop(AF_INET, &ip, buf, INET_ADDRSTRLEN);
}

/* An address tasd can own or give to the host: unicast, not 0/8, not loopback. */
static bool usable_host_addr(uint32_t ip)
{
    uint32_t h = ntohl(ip);
    return (h >> 24) != 0 && (h >> 24) != 127 && (h >> 28) < 14;
}

static void range_msg(const struct tasd_setting *s, char *buf, size_t len)
{
    if (s->flags & TASD_F_POW2)
        snprintf(buf, len, "must be a power of two between %u and %u", s->min, s->max);
    else if (s->flags & TASD_F_ZERO)
        snprintf(buf, len, "must be 0 or an integer between %u and %u", s->min, s->max);
    else
        snprintf(buf, len, "must be an integer between %u and %u", s->min, s->max);
}

static void set_uint(struct loader *L, struct tasd_config *c,
                     const struct tasd_setting *s, const struct src *w, bool is_int,
                     long long v)
{
    bool ok =
        is_int && ((v >= s->min && v <= s->max) || ((s->flags & TASD_F_ZERO) && v == 0));
    char msg[96];

    if (ok && (s->flags & TASD_F_POW2) && (v & (v - 1)))
        ok = false;
    if (!ok) {
        range_msg(s, msg, sizeof(msg));
        report(L, w, s->key, "%s", msg);
        return;
    }
    *(uint32_t *)((char *)c + s->off) = (uint32_t)v;
}

static int parse_bool(const char *t)
{
    static const char *const yes[] = {"on", "yes", "true", "1"};
    static const char *const no[] = {"off", "no", "false", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(t, yes[i]))
            return 1;
        if (!strcasecmp(t, no[i]))
            return 0;
    }
    return -1;
}

/* Parse one route "DEST/PREFIX[,GATEWAY]" or "default[,GATEWAY]". */
static int parse_route(const char *t, struct tasd_route *r, const char **why)
{
    char buf[64];
    char *comma;
    struct in_addr gw = {0};

    if (strlen(t) >= sizeof(buf)) {
        *why = "must be DEST/PREFIX[,GATEWAY]";
        return -EINVAL;
    }
    strcpy(buf, t);
    comma = strchr(buf, ',');
    if (comma) {
        *comma = '\0';
        if (inet_pton(AF_INET, comma + 1, &gw) != 1) {
            *why = "gateway must be an IPv4 address a.b.c.d";
            return -EINVAL;
        }
    }
    if (!strcmp(buf, "default")) {
        r->dest = 0;
        r->prefix = 0;
    } else if (tasd_parse_prefix(buf, &r->dest, &r->prefix)) {
        *why = "must be DEST/PREFIX[,GATEWAY] (a.b.c.d/len)";
        return -EINVAL;
    }
    if (r->dest & ~prefix_mask(r->prefix)) {
        *why = "destination has bits set beyond its prefix length";
        return -EINVAL;
    }
    r->gw = gw.s_addr;
    return 0;
}

static void add_route(struct loader *L, struct tasd_config *c, const struct src *w,
                      const char *key, const struct tasd_route *r)
{
    if (c->n_routes == TASD_MAX_ROUTES) {
        report(L, w, key, "too many routes (at most %d)", TASD_MAX_ROUTES);
        return;
    }
    L->route_src[c->n_routes] = *w;
    c->routes[c->n_routes++] = *r;
}

static void add_policy(struct loader *L, struct tasd_config *c, const struct src *w,
                       const char *key, const struct sp_policy_spec *p)
{
    if (c->n_policy == SP_MAX_POLICY) {
        report(L, w, key, "too many policy rules (at most %d)", SP_MAX_POLICY);
        return;
    }
    c->policy[c->n_policy++] = *p;
}

/* A value of a string kind (STR, IFNAME, DIR): true if it may be stored;
 * otherwise it is reported. */
static bool string_ok(struct loader *L, const struct tasd_setting *s, const struct src *w,
                      const char *t)
{
    size_t len = strlen(t);

    switch (s->kind) {
    case TASD_K_IFNAME:
        if (len >= IFNAMSIZ || len >= s->max || !strcmp(t, ".") || !strcmp(t, "..") ||
            strpbrk(t, "/: \t\n")) {
            report(L, w, s->key,
                   "must be an interface name of at most %d characters, or \"\"",
                   IFNAMSIZ - 1);
            return false;
        }
        return true;
    case TASD_K_DIR: {
        size_t room =
            sizeof(((struct sockaddr_un *)0)->sun_path) - sizeof("/" TAS_CONTROL_SOCK);
        if (t[0] != '/') {
            report(L, w, s->key, "must be an absolute path");
            return false;
        }
        if (len > room || len >= s->max) {
            report(L, w, s->key, "too long for a socket path (at most %zu characters)",
                   room);
            return false;
        }
        return true;
    }
    default:
        if (len >= s->max) {
            report(L, w, s->key, "too long (at most %u characters)", s->max - 1);
            return false;
        }
        return true;
    }
}

/* Apply a textual value (every command-line flag; string settings of the file). */
static void set_text(struct loader *L, struct tasd_config *c,
                     const struct tasd_setting *s, const struct src *w, const char *t)
{
    char *field = (char *)c + s->off;
    size_t len = strlen(t);

    switch (s->kind) {
    case TASD_K_UINT: {
        char *end;
        long long v;
        errno = 0;
        v = strtoll(t, &end, 10);
        set_uint(L, c, s, w, !errno && *t && !*end && isdigit((unsigned char)*t), v);
        return;
    }
    case TASD_K_BOOL: {
        int b = parse_bool(t);
        if (b < 0)
            report(L, w, s->key, "must be on or off");
        else
            *(bool *)field = b;
        return;
    }
    case TASD_K_ADDR: {
        uint32_t ip;
        uint8_t prefix;
        if (tasd_parse_prefix(t, &ip, &prefix)) {
            report(L, w, s->key,
                   "must be an IPv4 address with prefix length, a.b.c.d/len");
            return;
        }
        if (!usable_host_addr(ip) || prefix == 0) {
            report(L, w, s->key, "%s is not a usable unicast address/prefix", t);
            return;
        }
        *(uint32_t *)field = ip;
        *((uint8_t *)c + s->off2) = prefix;
        return;
    }
    case TASD_K_STR:
    case TASD_K_IFNAME:
    case TASD_K_DIR:
        if (!string_ok(L, s, w, t))
            return;
        break;
    case TASD_K_ENUM: {
        char word[32], words[128] = "";
        unsigned i;
        for (i = 0; tasd_setting_word(s, i, word, sizeof(word)); i++) {
            if (!strcmp(t, word)) {
                *(int *)field = (int)i;
                return;
            }
        }
        for (unsigned j = 0; tasd_setting_word(s, j, word, sizeof(word)); j++) {
            size_t k = strlen(words);
            snprintf(words + k, sizeof(words) - k, "%s\"%s\"",
                     j == 0 ? "" : j + 1 == i ? " or " : ", ", word);
        }
        report(L, w, s->key, "must be %s", words);
        return;
    }
    case TASD_K_CC:
        if (sp_cc_find(t) != NULL && len < s->max)
            snprintf(field, s->max, "%s", t);
        else
            report(L, w, s->key, "must be one of %s", sp_cc_list());
        return;
    case TASD_K_POLICY: {
        char buf[256], *words[16], why[160];
        struct sp_policy_spec p;
        int n;
        if (!L->policy_from_cli) {
            L->policy_from_cli = true;
            c->n_policy = 0;
        }
        snprintf(buf, sizeof(buf), "%s", t);
        n = len < sizeof(buf) ? tasd_split_args(buf, words, 16) : -E2BIG;
        if (n < 0)
            report(L, w, s->key, "%s", n == -E2BIG ? "too long" : "unbalanced quote");
        else if (sp_policy_parse(n, words, false, &p, why, sizeof(why)) != 0)
            report(L, w, s->key, "%s", why);
        else
            add_policy(L, c, w, s->key, &p);
        return;
    }
    case TASD_K_ROUTES: {
        struct tasd_route r;
        const char *why;
        if (!L->routes_from_cli) {
            L->routes_from_cli = true;
            c->n_routes = 0;
        }
        if (parse_route(t, &r, &why))
            report(L, w, s->key, "%s", why);
        else
            add_route(L, c, w, s->key, &r);
        return;
    }
    }
    memcpy(field, t, len + 1); /* string kinds, checked above */
}

/* Where an element of a list setting is: its own file and line. */
static struct src elem_src(const config_setting_t *g, const struct src *w)
{
    const char *f = config_setting_source_file(g);
    return (struct src){f ? f : w->file, config_setting_source_line(g), NULL, NULL};
}

/* routes = ( { dest = "0.0.0.0/0"; gateway = "10.0.0.1"; }, ... ); */
static void set_routes(struct loader *L, struct tasd_config *c,
                       const config_setting_t *list, const struct src *w)
{
    char key[48];

    if (!config_setting_is_list(list)) {
        report(L, w, "routes",
               "must be a list ( { dest = \"a.b.c.d/len\"; gateway = "
               "\"a.b.c.d\"; }, ... )");
        return;
    }
    for (int i = 0; i < config_setting_length(list); i++) {
        const config_setting_t *g = config_setting_get_elem(list, i);
        struct src ew = elem_src(g, w);
        struct tasd_route r = {0};
        const char *dest = NULL, *gw = NULL, *why;
        struct in_addr a;
        int bad = L->errors;

        snprintf(key, sizeof(key), "routes[%d]", i);
        if (!config_setting_is_group(g)) {
            report(L, &ew, key,
                   "must be a group { dest = \"a.b.c.d/len\"; gateway = "
                   "\"a.b.c.d\"; }");
            continue;
        }
        for (int j = 0; j < config_setting_length(g); j++) {
            const config_setting_t *e = config_setting_get_elem(g, j);
            const char *name = config_setting_name(e);
            struct src fw = {ew.file, config_setting_source_line(e), NULL, NULL};

            snprintf(key, sizeof(key), "routes[%d].%s", i, name);
            if (strcmp(name, "dest") && strcmp(name, "gateway")) {
                report(L, &fw, key, "unknown setting (a route has dest and gateway)");
                continue;
            }
            if (config_setting_type(e) != CONFIG_TYPE_STRING) {
                report(L, &fw, key, "must be a string");
                continue;
            }
            if (!strcmp(name, "dest")) {
                struct tasd_route d;
                dest = config_setting_get_string(e);
                if (strchr(dest, ',') || parse_route(dest, &d, &why)) {
                    report(L, &fw, key,
                           "must be a.b.c.d/len (or \"default\") with no "
                           "bits set beyond the prefix");
                } else {
                    r.dest = d.dest;
                    r.prefix = d.prefix;
                }
            } else {
                gw = config_setting_get_string(e);
                if (inet_pton(AF_INET, gw, &a) != 1)
                    report(L, &fw, key, "must be an IPv4 address a.b.c.d");
                else
                    r.gw = a.s_addr;
            }
        }
        snprintf(key, sizeof(key), "routes[%d]", i);
        if (!dest)
            report(L, &ew, key, "missing dest");
        if (L->errors == bad)
            add_route(L, c, &ew, key, &r);
    }
}

/* policy = ( { app = "nginx"; rate_mbps = 100; }, { uid = 1000; cc = "dctcp"; },
 *            { port = 80; max_conns = 1000; }, ... );
 * Each group is one rule: its target (app, uid or port) and what it sets
 * (rate_mbps, max_conns, cc), read as tasctl policy set's words. */
static void set_policy(struct loader *L, struct tasd_config *c,
                       const config_setting_t *list, const struct src *w)
{
    static const char *const names[][2] = {{"app", "app"},
                                           {"uid", "uid"},
                                           {"port", "port"},
                                           {"rate_mbps", "rate"},
                                           {"max_conns", "max-conns"},
                                           {"cc", "cc"}};
    char key[48];

    if (!config_setting_is_list(list)) {
        report(L, w, "policy",
               "must be a list ( { app = \"COMMAND\"; rate_mbps = N; }, ... )");
        return;
    }
    for (int i = 0; i < config_setting_length(list); i++) {
        const config_setting_t *g = config_setting_get_elem(list, i);
        struct src ew = elem_src(g, w);
        char vals[8][32], *words[16], why[160];
        int n = 2, bad = L->errors, targets = 0;
        struct sp_policy_spec p;

        snprintf(key, sizeof(key), "policy[%d]", i);
        if (!config_setting_is_group(g) || config_setting_length(g) > 7) {
            report(
                L, &ew, key,
                "must be a group { app|uid|port = KEY; rate_mbps|max_conns|cc = ...; }");
            continue;
        }
        for (int j = 0; j < config_setting_length(g); j++) {
            const config_setting_t *e = config_setting_get_elem(g, j);
            const char *name = config_setting_name(e);
            struct src fw = {ew.file, config_setting_source_line(e), NULL, NULL};
            size_t k = 0;
            while (k < 6 && strcmp(name, names[k][0]))
                k++;
            snprintf(key, sizeof(key), "policy[%d].%s", i, name);
            if (k == 6) {
                report(L, &fw, key,
                       "unknown setting (a rule has app, uid or port, and rate_mbps, "
                       "max_conns, cc)");
                continue;
            }
            int type = config_setting_type(e);
            if (type == CONFIG_TYPE_STRING)
                snprintf(vals[j], sizeof(vals[j]), "%s", config_setting_get_string(e));
            else if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)
                snprintf(vals[j], sizeof(vals[j]), "%lld",
                         (long long)config_setting_get_int64(e));
            else {
                report(L, &fw, key, "must be a number or a string");
                continue;
            }
            if (k < 3) { /* the target goes first */
                targets++;
                words[0] = (char *)names[k][1];
                words[1] = vals[j];
            } else {
                words[n++] = (char *)names[k][1];
                words[n++] = vals[j];
            }
        }
        snprintf(key, sizeof(key), "policy[%d]", i);
        if (L->errors != bad)
            continue;
        if (targets != 1)
            report(L, &ew, key, "needs exactly one of app, uid, port");
        else if (sp_policy_parse(n, words, false, &p, why, sizeof(why)) != 0)
            report(L, &ew, key, "%s", why);
        else
            add_policy(L, c, &ew, key, &p);
    }
}

static void set_from_file(struct loader *L, struct tasd_config *c,
                          const struct tasd_setting *s, const config_setting_t *e,
                          const struct src *w)
{
    int type = config_setting_type(e);

    switch (s->kind) {
    case TASD_K_UINT:
        set_uint(L, c, s, w, type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64,
                 config_setting_get_int64(e));
        return;
    case TASD_K_BOOL:
        if (type != CONFIG_TYPE_BOOL)
            report(L, w, s->key, "must be true or false");
        else
            *(bool *)((char *)c + s->off) = config_setting_get_bool(e);
        return;
    case TASD_K_ROUTES:
        set_routes(L, c, e, w);
        return;
    case TASD_K_POLICY:
        set_policy(L, c, e, w);
        return;
    default:
        if (type != CONFIG_TYPE_STRING) {
            report(L, w, s->key, "must be a string (%s)", s->arg);
            return;
        }
        set_text(L, c, s, w, config_setting_get_string(e));
        return;
    }
}

static void walk_group(struct loader *L, struct tasd_config *c, const config_setting_t *g,
                       const char *prefix, const char *path)
{
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *e = config_setting_get_elem(g, i);
        const char *file = config_setting_source_file(e);
        struct src w = {file ? file : path, config_setting_source_line(e), NULL, NULL};
        const struct tasd_setting *s;
        char key[64];

        snprintf(key, sizeof(key), "%s%s", prefix, config_setting_name(e));
        if (!*prefix && tasd_setting_is_group(key)) {
            char sub[72];
            if (!config_setting_is_group(e)) {
                report(L, &w, key, "must be a group { ... }");
                continue;
            }
            snprintf(sub, sizeof(sub), "%s.", key);
            walk_group(L, c, e, sub, path);
            continue;
        }
        s = tasd_setting_find(key);
        if (!s) {
            report(L, &w, key, "unknown setting");
            continue;
        }
        set_from_file(L, c, s, e, &w);
        L->where[s - tasd_settings] = w;
        L->set[s - tasd_settings] = true;
    }
}

static int load_file(struct loader *L, struct tasd_config *c, const char *path)
{
    config_t cfg;
    char dir[TASD_PATH_MAX];
    char *slash;
    FILE *f;

    f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "tasd: %s: cannot read the configuration: %s\n", path,
                strerror(errno));
        return -errno;
    }
    fclose(f);
    snprintf(c->config_file, sizeof(c->config_file), "%s", path);

    config_init(&cfg);
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        config_set_include_dir(&cfg, *dir ? dir : "/");
    }
    if (!config_read_file(&cfg, path)) {
        fprintf(stderr, "tasd: %s:%d: %s\n",
                config_error_file(&cfg) ? config_error_file(&cfg) : path,
                config_error_line(&cfg), config_error_text(&cfg));
        config_destroy(&cfg);
        return -EINVAL;
    }
    walk_group(L, c, config_root_setting(&cfg), "", c->config_file);
    /* The strings in L->where point into cfg; keep them valid for the final
     * checks by pointing them at our copy of the path instead. */
    for (size_t i = 0; i < TASD_N_SETTINGS; i++)
        if (L->where[i].file)
            L->where[i].file = c->config_file;
    for (unsigned i = 0; i < c->n_routes; i++)
        L->route_src[i].file = c->config_file;
    config_destroy(&cfg);
    return L->errors ? -EINVAL : 0;
}

/* getopt_long's table, built from tasd_settings[]. */
static void build_options(struct option *o)
{
    size_t n = 0;

    o[n++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
    o[n++] = (struct option){"check-config", no_argument, NULL, OPT_CHECK};
    o[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    o[n++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    for (size_t i = 0; i < TASD_N_SETTINGS; i++)
        o[n++] = (struct option){tasd_settings[i].flag, required_argument, NULL,
                                 OPT_SETTING + (int)i};
    o[n] = (struct option){NULL, 0, NULL, 0};
}

/* Where setting i got its value; its flag if it kept the default. */
static const struct src *origin(struct loader *L, const char *key)
{
    const struct tasd_setting *s = tasd_setting_find(key);
    size_t i = s - tasd_settings;

    if (!L->set[i])
        L->where[i] = (struct src){NULL, 0, s->flag, NULL};
    return &L->where[i];
}

/* The impairment breaks TCP on purpose: refuse any of it unless
 * impair.allow says so; a delay needs both its share and its time. */
static void check_impair(struct loader *L, struct tasd_config *c)
{
    static const char *const dirs[] = {"rx", "tx"};
    const struct tasd_impair_dir *d[] = {&c->impair_rx, &c->impair_tx};
    char key[40], other[40];

    for (unsigned i = 0; i < 2; i++) {
        if (!d[i]->delay != !d[i]->delay_us) {
            bool share = d[i]->delay != 0;
            snprintf(key, sizeof(key), "impair.%s_delay%s", dirs[i], share ? "" : "_us");
            snprintf(other, sizeof(other), "impair.%s_delay%s", dirs[i],
                     share ? "_us" : "");
            report(L, origin(L, key), key, "needs %s too (%s)", other,
                   share ? "how long to delay" : "the share of packets to delay");
        }
    }
    if (c->impair_allow)
        return;
    for (size_t i = 0; i < TASD_N_SETTINGS; i++) {
        const struct tasd_setting *s = &tasd_settings[i];
        if (strncmp(s->key, "impair.", 7) || s->kind != TASD_K_UINT ||
            !strcmp(s->key, "impair.seed") || *(uint32_t *)((char *)c + s->off) == 0)
            continue;
        report(L, origin(L, s->key), s->key,
               "refused: the impairment drops, duplicates, delays and reorders "
               "packets on purpose and is for tests only; set impair.allow = true "
               "(--impair-allow on) to use it");
    }
}

/* Cross-setting checks, after file and command line. */
/* apps.group and apps.users name groups and users of this system: resolve
 * them now, so that --check-config finds a name that does not exist. */
static void check_apps(struct loader *L, struct tasd_config *c)
{
    char buf[4096];

    c->app_gid = -1;
    if (c->app_group[0] != '\0') {
        struct group gr, *g = NULL;
        if (getgrnam_r(c->app_group, &gr, buf, sizeof(buf), &g) == 0 && g != NULL)
            c->app_gid = g->gr_gid;
        else
            report(L, origin(L, "apps.group"), "apps.group", "no group \"%s\" here",
                   c->app_group);
    }
    c->n_app_uids = 0;
    char list[sizeof(c->app_users)], *save = NULL;
    memcpy(list, c->app_users, sizeof(list));
    for (char *t = strtok_r(list, ", \t", &save); t != NULL;
         t = strtok_r(NULL, ", \t", &save)) {
        if (c->n_app_uids == TASD_MAX_APP_USERS) {
            report(L, origin(L, "apps.users"), "apps.users", "more than %d users",
                   TASD_MAX_APP_USERS);
            return;
        }
        char *end;
        errno = 0;
        unsigned long uid = strtoul(t, &end, 10);
        struct passwd pw, *p = NULL;
        if (isdigit((unsigned char)t[0]) && *end == '\0' && errno == 0 &&
            uid < UINT32_MAX)
            c->app_uids[c->n_app_uids++] = (uint32_t)uid;
        else if (getpwnam_r(t, &pw, buf, sizeof(buf), &p) == 0 && p != NULL)
            c->app_uids[c->n_app_uids++] = p->pw_uid;
        else
            report(L, origin(L, "apps.users"), "apps.users", "no user \"%s\" here", t);
    }
}

static void check_all(struct loader *L, struct tasd_config *c)
{
    char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
    char buf[TASD_ARGS_MAX], *args[TASD_MAX_EAL_ARGS];
    uint32_t mask = prefix_mask(c->prefix);
    int n;

    if (!c->ip) {
        fprintf(stderr, "tasd: no address: set ip in %s or give --ip ADDR/PREFIX\n",
                c->config_file[0] ? c->config_file : "the configuration");
        L->errors++;
    }
    for (unsigned i = 0; c->ip && i < c->n_routes; i++) {
        const struct tasd_route *r = &c->routes[i];
        char key[32];
        snprintf(key, sizeof(key), "routes[%u].gateway", i);
        if (r->gw && ((r->gw & mask) != (c->ip & mask) || r->gw == c->ip))
            report(L, &L->route_src[i], key, "%s is not a neighbour in %s/%u",
                   ip_str(r->gw, a), ip_str(c->ip, b), c->prefix);
    }
    if (c->host_if[0] && !c->host_ip)
        report(L, origin(L, "host_if.name"), "host_if.ip",
               "required when host_if.name is set (give host_if.ip or --host-ip "
               "ADDR/PREFIX)");
    if (c->host_if[0] && c->host_ip == c->ip)
        report(L, origin(L, "host_if.ip"), "host_if.ip", "must differ from ip (%s)",
               ip_str(c->ip, a));
    if (c->rto_min_ms > c->rto_max_ms)
        report(L, origin(L, "tcp.rto_min_ms"), "tcp.rto_min_ms",
               "must not exceed tcp.rto_max_ms (%u)", c->rto_max_ms);
    else if (c->rto_initial_ms < c->rto_min_ms || c->rto_initial_ms > c->rto_max_ms)
        report(L, origin(L, "tcp.rto_initial_ms"), "tcp.rto_initial_ms",
               "must be between tcp.rto_min_ms (%u) and tcp.rto_max_ms (%u)",
               c->rto_min_ms, c->rto_max_ms);
    if (c->rx_buf_initial % 1024 != 0)
        report(L, origin(L, "tcp.rx_buf_initial"), "tcp.rx_buf_initial",
               "must be a multiple of 1024");
    if (c->tx_buf_initial % 1024 != 0)
        report(L, origin(L, "tcp.tx_buf_initial"), "tcp.tx_buf_initial",
               "must be a multiple of 1024");
    if (c->rx_buf_initial > c->rx_buf_size)
        report(L, origin(L, "tcp.rx_buf_initial"), "tcp.rx_buf_initial",
               "must not exceed tcp.rx_buf_size (%u)", c->rx_buf_size);
    if (c->tx_buf_initial > c->tx_buf_size)
        report(L, origin(L, "tcp.tx_buf_initial"), "tcp.tx_buf_initial",
               "must not exceed tcp.tx_buf_size (%u)", c->tx_buf_size);
    check_impair(L, c);
    check_apps(L, c);
    memcpy(buf, c->dpdk_args, sizeof(buf));
    n = tasd_split_args(buf, args, TASD_MAX_EAL_ARGS);
    if (n < 0)
        report(L, origin(L, "dpdk"), "dpdk", "%s",
               n == -E2BIG ? "too many arguments" : "unbalanced quote");
    if (c->app_mem_mb != 0)
        fprintf(stderr, "tasd: limits.app_mem_mb is obsolete (connection memory grows on "
                        "demand): ignoring it; limits.app_max_conns bounds an "
                        "application's connections\n");
}

int tasd_config_load(struct tasd_config *c, int argc, char **argv)
{
    static const char shortopts[] = "+:c:hV";
    struct option opts[TASD_N_SETTINGS + 5];
    struct loader L;
    const char *file = NULL;
    int o;

    memset(&L, 0, sizeof(L));
    tasd_config_defaults(c);
    build_options(opts);

    /* Pass 1: what to read, and whether to do anything at all. */
    opterr = 0;
    optind = 0;
    while ((o = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        switch (o) {
        case OPT_CONFIG:
            file = optarg;
            break;
        case OPT_CHECK:
            c->check_only = true;
            break;
        case OPT_HELP:
            tasd_config_usage(stdout);
            return 1;
        case OPT_VERSION:
            printf("tasd %s\n", TASD_VERSION);
            return 1;
        case ':':
            fprintf(stderr, "tasd: %s needs an argument (see tasd --help)\n",
                    argv[optind - 1]);
            return 2;
        case '?':
            if (optopt)
                fprintf(stderr, "tasd: unknown option '-%c' (see tasd --help)\n", optopt);
            else
                fprintf(stderr, "tasd: unknown option '%s' (see tasd --help)\n",
                        argv[optind - 1]);
            return 2;
        default:
            break;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tasd: unexpected argument '%s' (see tasd --help)\n",
                argv[optind]);
        return 2;
    }

    if (file) {
        if (load_file(&L, c, file))
            return 2;
    } else if (access(TASD_DEFAULT_CONFIG_FILE, F_OK) == 0) {
        if (load_file(&L, c, TASD_DEFAULT_CONFIG_FILE))
            return 2;
    }

    /* Pass 2: the command line overrides the file. */
    optind = 0;
    while ((o = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        if (o >= OPT_SETTING && o < OPT_SETTING + (int)TASD_N_SETTINGS) {
            const struct tasd_setting *s = &tasd_settings[o - OPT_SETTING];
            struct src w = {NULL, 0, s->flag, optarg};
            set_text(&L, c, s, &w, optarg);
            L.where[s - tasd_settings] = w;
            L.set[s - tasd_settings] = true;
        }
    }
    optind = 1;
    if (L.errors)
        return 2;
    check_all(&L, c);
    return L.errors ? 2 : 0;
}
