/* conn_table.c - the slow path's table of connections by 4-tuple: a
 * chained hash of struct sp_conn (sp.hash, sized in sp_conn_init) and the
 * salted tuple hash it shares with the TIME_WAIT table.  Nothing here
 * creates or frees a record (conn.c does).
 */
#include <string.h>

#include "slowpath/sp.h"

uint32_t sp_tuple_hash(uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport)
{
    uint32_t salt;
    memcpy(&salt, sp.isn_key, sizeof(salt));
    uint32_t h = lip * 0x9e3779b1u ^ rip * 0x85ebca77u ^
                 ((uint32_t)lport << 16 | rport) * 0xc2b2ae3du ^ salt;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    return h;
}

static uint32_t tuple_hash(uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport)
{
    return sp_tuple_hash(lip, rip, lport, rport) & sp.hash_mask;
}

struct sp_conn *sp_conn_lookup(uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport)
{
    if (sp.hash == NULL)
        return NULL;
    for (struct sp_conn *c = sp.hash[tuple_hash(lip, rip, lport, rport)]; c != NULL;
         c = c->hnext)
        if (c->lip == lip && c->rip == rip && c->lport == lport && c->rport == rport)
            return c;
    return NULL;
}

void sp_conn_hash_add(struct sp_conn *c)
{
    if (c->hashed)
        return;
    struct sp_conn **b = &sp.hash[tuple_hash(c->lip, c->rip, c->lport, c->rport)];
    c->hnext = *b;
    *b = c;
    c->hashed = true;
}

void sp_conn_hash_del(struct sp_conn *c)
{
    if (!c->hashed)
        return;
    struct sp_conn **pp = &sp.hash[tuple_hash(c->lip, c->rip, c->lport, c->rport)];
    for (; *pp != NULL; pp = &(*pp)->hnext) {
        if (*pp == c) {
            *pp = c->hnext;
            break;
        }
    }
    c->hnext = NULL;
    c->hashed = false;
}
