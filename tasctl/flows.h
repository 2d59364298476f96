/* flows.h - `tasctl flows` with filters (flows.c). */
#ifndef TASCTL_FLOWS_H
#define TASCTL_FLOWS_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

struct tasctl_flow_filter {
    const char *app;   /* PID or command of the application; NULL: any */
    long port;         /* local or remote port; 0: any */
    const char *state; /* TCP state (ESTABLISHED, TIME_WAIT, LISTEN, ...); NULL: any */
};

/* The connections and listeners of a flows --json document (flows) that
 * pass the filter, as a table or (json) as {"flows": [...], "listeners":
 * [...]}; stats (stats --json) names the applications.  0, or -1 if the
 * documents are not tasd's. */
int tasctl_flows_write(FILE *f, struct json_object *flows, struct json_object *stats,
                       const struct tasctl_flow_filter *flt, bool json);

#endif
