/* flows.c - `tasctl flows --app PID|COMMAND --port P --state S`: tasd's
 * connections and listeners that pass the filters, from flows --json (and
 * stats --json for the applications' pids and commands), as a table with
 * the application's pid or as JSON.  Listeners count as state LISTEN.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tasctl/flows.h"
#include "tasctl/jsonget.h"

/* The port of "a.b.c.d:port". */
static long port_of(const char *addr)
{
    const char *c = strrchr(addr, ':');
    return c != NULL ? strtol(c + 1, NULL, 10) : -1;
}

/* The application row (stats) with this id, or NULL. */
static struct json_object *app_row(struct json_object *stats, long long id)
{
    struct json_object *apps = tj_slowpath(stats, "apps");
    if (apps == NULL)
        return NULL;
    for (size_t i = 0; i < json_object_array_length(apps); i++) {
        struct json_object *a = json_object_array_get_idx(apps, i);
        if (tj_num(a, "id", -1) == id)
            return a;
    }
    return NULL;
}

static bool pass(struct json_object *e, struct json_object *stats, const char *state,
                 const struct tasctl_flow_filter *flt)
{
    if (flt->state != NULL && strcasecmp(flt->state, state) != 0)
        return false;
    if (flt->port != 0 && port_of(tj_str(e, "local", "-")) != flt->port &&
        port_of(tj_str(e, "remote", "-")) != flt->port)
        return false;
    if (flt->app != NULL) {
        struct json_object *a = app_row(stats, tj_num(e, "app", -1));
        char pid[24];
        snprintf(pid, sizeof(pid), "%lld", a != NULL ? tj_num(a, "pid", -1) : -1);
        if (a == NULL ||
            (strcmp(flt->app, pid) != 0 && strcmp(flt->app, tj_str(a, "command", "-"))))
            return false;
    }
    return true;
}

int tasctl_flows_write(FILE *f, struct json_object *flows, struct json_object *stats,
                       const struct tasctl_flow_filter *flt, bool json)
{
    struct json_object *conns, *lis;
    if (!json_object_object_get_ex(flows, "flows", &conns) ||
        !json_object_object_get_ex(flows, "listeners", &lis))
        return -1;
    struct json_object *out = json_object_new_object();
    struct json_object *oc = json_object_new_array(), *ol = json_object_new_array();
    json_object_object_add(out, "flows", oc);
    json_object_object_add(out, "listeners", ol);
    for (size_t i = 0; i < json_object_array_length(conns); i++) {
        struct json_object *c = json_object_array_get_idx(conns, i);
        if (pass(c, stats, tj_str(c, "state", "-"), flt))
            json_object_array_add(oc, json_object_get(c));
    }
    for (size_t i = 0; i < json_object_array_length(lis); i++) {
        struct json_object *l = json_object_array_get_idx(lis, i);
        if (pass(l, stats, "LISTEN", flt))
            json_object_array_add(ol, json_object_get(l));
    }
    if (json) {
        fprintf(f, "%s\n",
                json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
                                                        JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(out);
        return 0;
    }
    fprintf(f, "%-8s %-12s %-22s %-22s %12s %12s %8s %8s\n", "ID", "STATE", "LOCAL",
            "REMOTE", "RX_BYTES", "TX_ACKED", "SRTT_US", "PID");
    for (size_t i = 0; i < json_object_array_length(oc); i++) {
        struct json_object *c = json_object_array_get_idx(oc, i);
        struct json_object *a = app_row(stats, tj_num(c, "app", -1));
        fprintf(f, "%-8s %-12s %-22s %-22s %12lld %12lld %8lld %8lld\n", tj_str(c, "id", "-"),
                tj_str(c, "state", "-"), tj_str(c, "local", "-"), tj_str(c, "remote", "-"), tj_num(c, "rx_bytes", -1),
                tj_num(c, "tx_acked", -1), tj_num(c, "srtt_us", -1), a != NULL ? tj_num(a, "pid", -1) : -1);
    }
    for (size_t i = 0; i < json_object_array_length(ol); i++) {
        struct json_object *l = json_object_array_get_idx(ol, i);
        struct json_object *a = app_row(stats, tj_num(l, "app", -1));
        fprintf(f, "%-8s %-12s %-22s %-22s %12s %12s %8s %8lld\n", tj_str(l, "id", "-"), "LISTEN",
                tj_str(l, "local", "-"), "*", "-", "-", "-", a != NULL ? tj_num(a, "pid", -1) : -1);
    }
    json_object_put(out);
    return 0;
}
