/* net.c - a tasd's neighbours (`tasctl arp`: its ARP table, as
 * `ip neigh` shows the kernel's) and routes (`tasctl routes`, as
 * `ip route`), from the "arp" and "routes" parts of `stats --json`.
 */
#include <string.h>

#include "tasctl/jsonget.h"
#include "tasctl/net.h"

int tasctl_arp_write(FILE *f, struct json_object *stats, bool json)
{
    struct json_object *arp = tj_slowpath(stats, "arp"), *arr;
    if (arp == NULL || !json_object_object_get_ex(arp, "entries", &arr) ||
        !json_object_is_type(arr, json_type_array))
        return -1;
    if (json) {
        tj_print_as(f, "arp", arr);
        return 0;
    }
    fprintf(f, "%-16s %-18s %-12s %10s %8s\n", "IP", "MAC", "STATE", "TTL_MS", "WAITING");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *e = json_object_array_get_idx(arr, i);
        fprintf(f, "%-16s %-18s %-12s %10lld %8lld\n", tj_str(e, "ip", "?"),
                tj_str(e, "mac", "-"), tj_str(e, "state", "?"), tj_num(e, "ttl_ms", 0),
                tj_num(e, "waiting", 0));
    }
    return 0;
}

int tasctl_routes_write(FILE *f, struct json_object *stats, bool json)
{
    struct json_object *arr = tj_slowpath(stats, "routes");
    if (arr == NULL || !json_object_is_type(arr, json_type_array))
        return -1;
    if (json) {
        tj_print_as(f, "routes", arr);
        return 0;
    }
    fprintf(f, "%-20s %-22s %s\n", "DESTINATION", "VIA", "FROM");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *r = json_object_array_get_idx(arr, i);
        fprintf(f, "%-20s %-22s %s\n", tj_str(r, "dest", "?"),
                tj_str(r, "gateway", "(directly connected)"), tj_str(r, "origin", "?"));
    }
    return 0;
}
