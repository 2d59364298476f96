/* json.h - the one JSON writer of the daemon: every JSON document tasd
 * writes (the --json replies of tasctl status, stats and flows) is a json-c
 * tree built from these helpers and printed by cm_json_write, so quoting,
 * number types and layout are json-c's, in one place.
 *
 * The helpers add a member to an object or an element to an array and hand
 * the new value to json-c, which frees it with its parent.  They tolerate a
 * NULL parent or value (json-c out of memory): the member is left out or
 * written as null, and the document stays valid JSON.
 */
#ifndef COMMON_JSON_H
#define COMMON_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/* o[key] = v (v may be NULL: null); frees v when o is NULL. */
static inline void cm_json_add(struct json_object *o, const char *key,
                               struct json_object *v)
{
    if (o == NULL || json_object_object_add(o, key, v) != 0)
        json_object_put(v);
}

/* Append v to the array a; frees v when a is NULL. */
static inline void cm_json_push(struct json_object *a, struct json_object *v)
{
    if (a == NULL || json_object_array_add(a, v) != 0)
        json_object_put(v);
}

static inline void cm_json_u64(struct json_object *o, const char *key, uint64_t v)
{
    cm_json_add(o, key, json_object_new_uint64(v));
}

static inline void cm_json_int(struct json_object *o, const char *key, int64_t v)
{
    cm_json_add(o, key, json_object_new_int64(v));
}

static inline void cm_json_bool(struct json_object *o, const char *key, bool v)
{
    cm_json_add(o, key, json_object_new_boolean(v));
}

/* A string member; s is copied (json-c escapes it when printing). */
static inline void cm_json_str(struct json_object *o, const char *key, const char *s)
{
    cm_json_add(o, key, json_object_new_string(s));
}

/* A new, empty object or array as o[key], returned for filling (o owns
 * it); NULL when o is NULL or out of memory. */
static inline struct json_object *cm_json_child(struct json_object *o, const char *key,
                                                struct json_object *v)
{
    if (o == NULL || v == NULL || json_object_object_add(o, key, v) != 0) {
        json_object_put(v);
        return NULL;
    }
    return v;
}

static inline struct json_object *cm_json_obj(struct json_object *o, const char *key)
{
    return cm_json_child(o, key, json_object_new_object());
}

static inline struct json_object *cm_json_arr(struct json_object *o, const char *key)
{
    return cm_json_child(o, key, json_object_new_array());
}

/* Print the document o on f, indented, with a final newline, and free it.
 * 0, or -ENOMEM when o is NULL or json-c cannot print it. */
int cm_json_write(FILE *f, struct json_object *o);

#endif /* COMMON_JSON_H */
