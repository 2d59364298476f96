/* cc.c - congestion-control registry (see cc.h). */
#include <string.h>

#include "slowpath/cc.h"

static const struct sp_cc_ops *const algos[] = {&sp_cc_reno, &sp_cc_none};

const struct sp_cc_ops *sp_cc_find(const char *name)
{
    for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
        if (strcmp(algos[i]->name, name) == 0)
            return algos[i];
    return NULL;
}

bool sp_cc_changed(uint32_t sent, uint32_t now, uint32_t mss)
{
    if (now == sent)
        return false;
    if (now == 0 || sent == 0 || now < sent)
        return true;
    uint32_t step = sent / 16 > mss ? sent / 16 : mss;
    return now - sent >= step;
}
