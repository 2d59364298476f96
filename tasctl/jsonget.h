/* jsonget.h - reading members of tasd's JSON replies, for tasctl's views:
 * a member as a number or a string with a default when it is missing (or
 * null), the part of stats --json under "slowpath", and a view's JSON.
 */
#ifndef TASCTL_JSONGET_H
#define TASCTL_JSONGET_H

#include <stdio.h>

#include <json-c/json.h>

static inline long long tj_num(struct json_object *o, const char *key, long long dflt)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) && v != NULL ? json_object_get_int64(v)
                                                              : dflt;
}

static inline const char *tj_str(struct json_object *o, const char *key, const char *dflt)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) && v != NULL ? json_object_get_string(v)
                                                              : dflt;
}

/* stats --json's "slowpath" member key, or NULL. */
static inline struct json_object *tj_slowpath(struct json_object *stats, const char *key)
{
    struct json_object *sp, *v;
    if (!json_object_object_get_ex(stats, "slowpath", &sp) ||
        !json_object_object_get_ex(sp, key, &v))
        return NULL;
    return v;
}

/* {"key": arr}, indented, as tasctl prints a view with --json. */
static inline void tj_print_as(FILE *f, const char *key, struct json_object *arr)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, key, json_object_get(arr));
    fprintf(f, "%s\n",
            json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

#endif
