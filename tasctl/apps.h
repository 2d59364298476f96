/* apps.h - the applications of a tasd, and whether a process is one of
 * them (apps.c). */
#ifndef TASCTL_APPS_H
#define TASCTL_APPS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include <json-c/json.h>

/* `tasctl apps`: the "apps" rows of a stats --json document as an aligned
 * table (json: as {"apps": [...]}).  0, or -1 if stats has none. */
int tasctl_apps_write(FILE *f, struct json_object *stats, bool json);

/* `tasctl check PID`: whether process pid is on this tasd (run_dir), and
 * if not, why not, as far as /proc tells.  Exit status: 0 on tasd, 1 not. */
int tasctl_check(FILE *f, struct json_object *stats, pid_t pid, const char *run_dir);

#endif
