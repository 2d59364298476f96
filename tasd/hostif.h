/* hostif.h - the kernel side of a TAP port: set the interface up and give it
 * an address, so Linux programs on this machine reach tasd's IP through it.
 */
#ifndef TASD_HOSTIF_H
#define TASD_HOSTIF_H

struct tasd_config;

#include <stdint.h>

/* If c->host_if is set: bring it up and add c->host_ip/c->host_prefix
 * (an address already present is fine).  If the interface has the port's
 * MAC (net_tap gives both ends the same one), give it a different, locally
 * administered one so the link has two distinct ends.  0 or -errno, message
 * on stderr. */
int tasd_hostif_setup(const struct tasd_config *c, const uint8_t port_mac[6]);

#endif /* TASD_HOSTIF_H */
