/* net.h - a tasd's neighbours and routes as tables (net.c). */
#ifndef TASCTL_NET_H
#define TASCTL_NET_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

/* `tasctl arp` / `tasctl routes`: from a stats --json document, an aligned
 * table, or with json {"arp": [...]} / {"routes": [...]}.  0, or -1 if
 * stats has none. */
int tasctl_arp_write(FILE *f, struct json_object *stats, bool json);
int tasctl_routes_write(FILE *f, struct json_object *stats, bool json);

#endif
