/* control.h - tasd's control socket (<run_dir>/control.sock), what tasctl
 * talks to: one request line per connection ("status", "stats", "flows",
 * each optionally followed by "json"), one reply, then the connection
 * closes.
 */
#ifndef TASD_CONTROL_H
#define TASD_CONTROL_H

struct tasd_config;
struct cm_port;

/* Create the socket and register it with the slow-path loop (call after
 * sp_init).  n_fp: fast-path cores that run.  0 or -errno, message on
 * stderr. */
int tasd_control_init(const struct tasd_config *c, const struct cm_port *port,
                      unsigned n_fp);
/* Close every client and the socket, remove the socket file. */
void tasd_control_fini(void);

#endif /* TASD_CONTROL_H */
