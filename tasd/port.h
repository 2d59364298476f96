/* port.h - the DPDK port tasd drives: EAL start, port bring-up (filling in
 * the description the fast and slow paths use, common/port.h), its
 * statistics and the test-only impairment inside it.  The fast path owns
 * the port's queues once it runs; nothing else calls rx/tx burst.
 */
#ifndef TASD_PORT_H
#define TASD_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/port.h"

struct tasd_config;

/* Start the EAL with c->dpdk_args, configure the first port with
 * c->fp_cores queue pairs (fewer if the port has fewer), start it.
 * Returns 0 or -errno with a message on stderr. */
int tasd_port_init(struct cm_port *p, const struct tasd_config *c,
                   const char *argv0);
void tasd_port_stop(struct cm_port *p);

/* Write the port's own counters (port_stats.c): ethdev stats and, on
 * af_packet, the kernel's ring drops.  Control thread only. */
struct json_object;
void tasd_port_write_stats(FILE *f, const struct cm_port *p);
struct json_object *tasd_port_stats_json(const struct cm_port *p); /* caller owns it */

/* The test-only impairment (tasd/impair_port.c, model in tasd/impair.h).
 * attach: after the port started, if c asks for any impairment (config.c
 * has refused it unless c->impair_allow); 0 or -errno, message on stderr.
 * It sets the port's due_us hook, which caps a core's idle sleep.
 * detach: after the port stopped; frees the packets it held.
 * on: attached.
 * write_stats: the "impair" counters for tasctl stats; false (nothing
 * written) when the impairment is off.  stats_json: the same as a json-c
 * object (the caller owns it), NULL when off. */
int tasd_impair_attach(struct cm_port *p, const struct tasd_config *c);
void tasd_impair_detach(struct cm_port *p);
bool tasd_impair_on(void);
bool tasd_impair_write_stats(FILE *f);
struct json_object *tasd_impair_stats_json(void);

#endif /* TASD_PORT_H */
