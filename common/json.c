/* json.c - printing a JSON document (see json.h): json-c's pretty layout,
 * two spaces a level, '/' left as it is (paths stay readable), then a
 * newline, so a reply reads well in a terminal and any JSON parser takes it.
 */
#include <errno.h>

#include "common/json.h"

int cm_json_write(FILE *f, struct json_object *o)
{
    const char *s;
    int rc = 0;

    if (o == NULL)
        return -ENOMEM;
    s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                              JSON_C_TO_STRING_SPACED |
                                              JSON_C_TO_STRING_NOSLASHESCAPE);
    if (s == NULL)
        rc = -ENOMEM;
    else if (fputs(s, f) == EOF || fputc('\n', f) == EOF)
        rc = -EIO;
    json_object_put(o);
    return rc;
}
