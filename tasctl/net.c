/* net.c - a tasd's neighbours (`tasctl arp`: its ARP table, as
 * `ip neigh` shows the kernel's) and routes (`tasctl routes`, as
 * `ip route`), from the "arp" and "routes" parts of `stats --json`.
 */
#include <string.h>

#include "tasctl/net.h"

static struct json_object *slowpath_part(struct json_object *stats, const char *key)
{
    struct json_object *sp, *v;
    if (!json_object_object_get_ex(stats, "slowpath", &sp) ||
        !json_object_object_get_ex(sp, key, &v))
        return NULL;
    return v;
}

static const char *str(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) && v != NULL ? json_object_get_string(v)
                                                              : NULL;
}

static void print_json(FILE *f, const char *key, struct json_object *arr)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, key, json_object_get(arr));
    fprintf(f, "%s\n",
            json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

int tasctl_arp_write(FILE *f, struct json_object *stats, bool json)
{
    struct json_object *arp = slowpath_part(stats, "arp"), *arr;
    if (arp == NULL || !json_object_object_get_ex(arp, "entries", &arr) ||
        !json_object_is_type(arr, json_type_array))
        return -1;
    if (json) {
        print_json(f, "arp", arr);
        return 0;
    }
    fprintf(f, "%-16s %-18s %-12s %10s %8s\n", "IP", "MAC", "STATE", "TTL_MS", "WAITING");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *e = json_object_array_get_idx(arr, i), *ttl, *w;
        const char *ip = str(e, "ip"), *mac = str(e, "mac"), *st = str(e, "state");
        json_object_object_get_ex(e, "ttl_ms", &ttl);
        json_object_object_get_ex(e, "waiting", &w);
        fprintf(f, "%-16s %-18s %-12s %10lld %8lld\n", ip ? ip : "?", mac ? mac : "-",
                st ? st : "?", ttl ? (long long)json_object_get_int64(ttl) : 0,
                w ? (long long)json_object_get_int64(w) : 0);
    }
    return 0;
}

int tasctl_routes_write(FILE *f, struct json_object *stats, bool json)
{
    struct json_object *arr = slowpath_part(stats, "routes");
    if (arr == NULL || !json_object_is_type(arr, json_type_array))
        return -1;
    if (json) {
        print_json(f, "routes", arr);
        return 0;
    }
    fprintf(f, "%-20s %s\n", "DESTINATION", "VIA");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *r = json_object_array_get_idx(arr, i);
        const char *dest = str(r, "dest"), *gw = str(r, "gateway");
        fprintf(f, "%-20s %s\n", dest ? dest : "?", gw ? gw : "(directly connected)");
    }
    return 0;
}
