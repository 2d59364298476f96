/* state.c - the slow path's one state (struct sp_state, sp.h), defined
 * here, under every module that reads it, rather than in the loop that
 * starts them all.
 */
#include "slowpath/sp.h"

struct sp_state sp = {.epfd = -1, .sigfd = -1, .tfd = -1, .app_lfd = -1, .gpage_fd = -1};
