/* metrics.c - tasd's statistics in the Prometheus text format, for
 * `tasctl metrics` (node_exporter's textfile collector, or a scrape
 * wrapper).
 *
 * The input is the document `tasctl stats --json` prints; every number in
 * it becomes a sample, each metric family with its HELP and TYPE lines:
 *   tasd_fastpath_<name>_total{core}       the cores' counters
 *   tasd_fastpath_rx_dropped_total{core,reason}   frames dropped, by reason
 *   tasd_slowpath_<name>                   connections, listeners, ... now
 *   tasd_slowpath_<name>_total             the slow path's counters
 *   tasd_arp_<name>_total, tasd_arp_entries
 *   tasd_app_<name>{app,pid,uid}           per application (gauges for
 *                                          what it holds, counters else)
 *   tasd_port_<name>_total{port}           the port's counters, xstats as
 *                                          tasd_port_xstat_total{port,name}
 *   tasd_port_link_up, _link_speed_mbps, _mbufs, _mbufs_in_use {port}
 * Names keep tasd's own, so they read as in `tasctl stats` and
 * doc/architecture.md.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tasctl/metrics.h"

/* A metric name part: [a-zA-Z0-9_] only. */
static void name_part(char *out, size_t len, const char *in)
{
    size_t i = 0;
    for (; in[i] != '\0' && i + 1 < len; i++) {
        char ch = in[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_';
        out[i] = ok ? ch : '_';
    }
    out[i] = '\0';
}

/* A label value with \, " and newline escaped. */
static void label_value(FILE *f, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"')
            fputc('\\', f);
        if (*v == '\n') {
            fputs("\\n", f);
            continue;
        }
        fputc(*v, f);
    }
}

/* prefix + part + suffix in out, without a second "_total". */
static void metric_name(char *out, size_t len, const char *prefix, const char *part,
                        const char *suffix)
{
    size_t n = strlen(part), k = strlen("_total");
    bool has = n >= k && strcmp(part + n - k, "_total") == 0;
    snprintf(out, len, "%s%s%s", prefix, part,
             has && !strcmp(suffix, "_total") ? "" : suffix);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The family of tasd's value `key` (prefix + key + suffix, in name): its
 * HELP ("what key") and TYPE lines. */
static void family_of(FILE *f, char *name, size_t len, const char *prefix, const char *key,
                      const char *suffix, const char *type, const char *what)
{
    char part[128], help[300];
    name_part(part, sizeof(part), key);
    metric_name(name, len, prefix, part, suffix);
    snprintf(help, sizeof(help), "%s %s (tasctl stats)", what, key);
    family(f, name, type, help);
}

static uint64_t num(struct json_object *v)
{
    return json_object_is_type(v, json_type_boolean)
               ? (uint64_t)json_object_get_boolean(v)
               : (uint64_t)json_object_get_int64(v);
}

static bool is_num(struct json_object *v)
{
    return json_object_is_type(v, json_type_int) ||
           json_object_is_type(v, json_type_boolean);
}

/* The numeric members of each object in arr, one family per member name (in
 * the order of the first object), a sample per object labelled by label
 * (the object's member of that name, or its index). */
static void per_object(FILE *f, struct json_object *arr, const char *prefix,
                       const char *suffix, const char *type, const char *label,
                       const char *what)
{
    if (arr == NULL || json_object_array_length(arr) == 0)
        return;
    struct json_object *first = json_object_array_get_idx(arr, 0);
    json_object_object_foreach(first, key, val)
    {
        if (!is_num(val) || strcmp(key, label) == 0)
            continue;
        char name[256];
        family_of(f, name, sizeof(name), prefix, key, suffix, type, what);
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            struct json_object *o = json_object_array_get_idx(arr, i), *v, *l;
            if (!json_object_object_get_ex(o, key, &v) || !is_num(v))
                continue;
            fprintf(f, "%s{%s=\"", name, label);
            if (json_object_object_get_ex(o, label, &l))
                label_value(f, json_object_get_string(l));
            else
                fprintf(f, "%zu", i);
            fprintf(f, "\"} %llu\n", (unsigned long long)num(v));
        }
    }
}

static void cores(FILE *f, struct json_object *fp)
{
    struct json_object *arr;
    if (!json_object_object_get_ex(fp, "cores", &arr) ||
        !json_object_is_type(arr, json_type_array))
        return;
    per_object(f, arr, "tasd_fastpath_", "_total", "counter", "core",
               "fast-path core counter");
    bool said = false;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *c = json_object_array_get_idx(arr, i), *r, *id;
        if (!json_object_object_get_ex(c, "rx_reasons", &r))
            continue;
        if (!said)
            family(f, "tasd_fastpath_rx_dropped_total", "counter",
                   "received frames a fast-path core dropped, by reason (tasctl stats)");
        said = true;
        json_object_object_get_ex(c, "core", &id);
        json_object_object_foreach(r, reason, n)
        {
            fprintf(f, "tasd_fastpath_rx_dropped_total{core=\"%s\",reason=\"",
                    id != NULL ? json_object_get_string(id) : "0");
            label_value(f, reason);
            fprintf(f, "\"} %llu\n", (unsigned long long)num(n));
        }
    }
}

/* The numbers of o as one family each: prefix + name + suffix, no labels. */
static void plain(FILE *f, struct json_object *o, const char *prefix, const char *suffix,
                  const char *type, const char *what)
{
    json_object_object_foreach(o, key, val)
    {
        if (!is_num(val))
            continue;
        char name[256];
        family_of(f, name, sizeof(name), prefix, key, suffix, type, what);
        fprintf(f, "%s %llu\n", name, (unsigned long long)num(val));
    }
}

static void apps(FILE *f, struct json_object *arr)
{
    static const char *const gauges[] = {"contexts", "conns", "listeners", "bufs_used",
                                         "bufs"};
    static const char *const counters[] = {"bad_entries", "bad_msgs", "entries",
                                           "lib_wakes"};
    if (arr == NULL || !json_object_is_type(arr, json_type_array) ||
        json_object_array_length(arr) == 0)
        return;
    for (int k = 0; k < 9; k++) {
        bool gauge = k < 5;
        const char *key = gauge ? gauges[k] : counters[k - 5];
        char name[128], help[200];
        snprintf(name, sizeof(name), "tasd_app_%s%s", key, gauge ? "" : "_total");
        snprintf(help, sizeof(help), "per application: %s (tasctl stats)", key);
        family(f, name, gauge ? "gauge" : "counter", help);
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            struct json_object *a = json_object_array_get_idx(arr, i), *v, *id, *pid,
                               *uid;
            if (!json_object_object_get_ex(a, key, &v))
                continue;
            json_object_object_get_ex(a, "id", &id);
            json_object_object_get_ex(a, "pid", &pid);
            json_object_object_get_ex(a, "uid", &uid);
            fprintf(f, "%s{app=\"%s\",pid=\"%s\",uid=\"%s\"} %llu\n", name,
                    id ? json_object_get_string(id) : "",
                    pid ? json_object_get_string(pid) : "",
                    uid ? json_object_get_string(uid) : "", (unsigned long long)num(v));
        }
    }
}

static void port(FILE *f, struct json_object *p)
{
    struct json_object *id, *link, *x;
    const char *port =
        json_object_object_get_ex(p, "port_id", &id) ? json_object_get_string(id) : "0";
    static const char *const gauges = "mbufs mbufs_in_use port_id";
    json_object_object_foreach(p, key, val)
    {
        if (!is_num(val) || strcmp(key, "port_id") == 0)
            continue;
        bool gauge = strstr(gauges, key) != NULL;
        char name[256];
        family_of(f, name, sizeof(name), "tasd_port_", key, gauge ? "" : "_total",
                  gauge ? "gauge" : "counter", "the port's");
        fprintf(f, "%s{port=\"%s\"} %llu\n", name, port, (unsigned long long)num(val));
    }
    if (json_object_object_get_ex(p, "link", &link)) {
        struct json_object *up, *speed;
        if (json_object_object_get_ex(link, "up", &up)) {
            family(f, "tasd_port_link_up", "gauge", "1 if the port's link is up");
            fprintf(f, "tasd_port_link_up{port=\"%s\"} %llu\n", port,
                    (unsigned long long)num(up));
        }
        if (json_object_object_get_ex(link, "speed_mbps", &speed)) {
            family(f, "tasd_port_link_speed_mbps", "gauge",
                   "the port's link speed in Mbit/s (0: unknown)");
            fprintf(f, "tasd_port_link_speed_mbps{port=\"%s\"} %llu\n", port,
                    (unsigned long long)num(speed));
        }
    }
    if (json_object_object_get_ex(p, "xstats", &x) && json_object_object_length(x) > 0) {
        family(f, "tasd_port_xstat_total", "counter",
               "the port driver's extended statistics (rte_eth_xstats), by name");
        json_object_object_foreach(x, xname, xval)
        {
            fprintf(f, "tasd_port_xstat_total{port=\"%s\",name=\"", port);
            label_value(f, xname);
            fprintf(f, "\"} %llu\n", (unsigned long long)num(xval));
        }
    }
}

int tasctl_metrics_write(FILE *f, struct json_object *stats)
{
    struct json_object *fp, *sp, *p, *counters, *arp, *a;
    if (!json_object_object_get_ex(stats, "fastpath", &fp) ||
        !json_object_object_get_ex(stats, "slowpath", &sp))
        return -1;
    family(f, "tasd_up", "gauge", "1: tasd answered on its control socket");
    fprintf(f, "tasd_up 1\n");
    cores(f, fp);
    plain(f, sp, "tasd_slowpath_", "", "gauge", "slow path, now:");
    if (json_object_object_get_ex(sp, "counters", &counters))
        plain(f, counters, "tasd_slowpath_", "_total", "counter", "slow-path counter");
    if (json_object_object_get_ex(sp, "arp", &arp)) {
        struct json_object *entries;
        plain(f, arp, "tasd_arp_", "_total", "counter", "ARP counter");
        if (json_object_object_get_ex(arp, "entries", &entries) &&
            json_object_is_type(entries, json_type_array)) {
            family(f, "tasd_arp_entries", "gauge", "entries in tasd's ARP table");
            fprintf(f, "tasd_arp_entries %zu\n", json_object_array_length(entries));
        }
    }
    if (json_object_object_get_ex(sp, "apps", &a))
        apps(f, a);
    if (json_object_object_get_ex(stats, "port", &p))
        port(f, p);
    return 0;
}
