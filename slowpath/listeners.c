/* listeners.c - the list of listeners (sp.listeners): by id, and whether
 * a port has one.  Below conn.c and connect.c, which look listeners up;
 * listen.c creates and frees them.
 */
#include "slowpath/sp.h"

struct sp_listener *sp_listener_get(uint32_t id)
{
    for (struct sp_listener *l = sp.listeners; l != NULL; l = l->next)
        if (l->id == id)
            return l;
    return NULL;
}

bool sp_listener_port_used(uint16_t port)
{
    for (struct sp_listener *l = sp.listeners; l != NULL; l = l->next)
        if (l->port == port)
            return true;
    return false;
}
