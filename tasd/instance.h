/* instance.h - what one running tasd holds on this machine, so that a second
 * instance refuses to start on it instead of taking it over (instance.c).
 */
#ifndef TASD_INSTANCE_H
#define TASD_INSTANCE_H

struct tasd_config;

/* Claim c's address and the TAP devices its dpdk setting names, in this
 * network namespace, for the life of the process (locks that go with it).
 * 0, or -EADDRINUSE with a line on stderr naming what another running tasd
 * (its pid and run dir) holds; other errors only warn (no lock, no check). */
int tasd_instance_claim(const struct tasd_config *c);

#endif /* TASD_INSTANCE_H */
