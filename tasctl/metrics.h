/* metrics.h - tasd's statistics in the Prometheus text format (metrics.c). */
#ifndef TASCTL_METRICS_H
#define TASCTL_METRICS_H

#include <stdio.h>

#include <json-c/json.h>

/* Write `tasctl stats --json`'s document (stats) as Prometheus text
 * exposition (format 0.0.4) to f.  0, or -1 if stats is not tasd's. */
int tasctl_metrics_write(FILE *f, struct json_object *stats);

#endif
