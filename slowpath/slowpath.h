/* slowpath.h - the slow path's interface to tasd's main.
 *
 * The slow path runs on tasd's main thread as one epoll loop (sp_run) over:
 * the application socket (<run_dir>/app.sock), every application's socket
 * and doorbell eventfd, the fast-path cores' wake-up eventfd, a timerfd
 * (control interval: RTO, congestion control, ARP and TIME_WAIT timers), a
 * signalfd for SIGTERM/SIGINT, and whatever other module registers with
 * sp_loop_add() (the control socket).
 */
#ifndef SLOWPATH_H
#define SLOWPATH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct tasd_config;
struct tasd_port;

/* Set everything up (the fast path is already initialised with fp_init but
 * its cores are not started yet).  0 or -errno with a message on stderr. */
int sp_init(const struct tasd_config *c, struct tasd_port *port);

/* Run the loop until SIGTERM/SIGINT (or sp_stop).  Returns 0. */
int sp_run(void);
void sp_stop(void);

/* Reset every connection (RST to peers, RESET to applications), close
 * application sockets, free everything. */
void sp_fini(void);

/* Register fd with the loop; cb runs on EPOLLIN/EPOLLERR/EPOLLHUP. */
typedef void (*sp_fd_cb)(int fd, uint32_t events, void *arg);
int sp_loop_add(int fd, sp_fd_cb cb, void *arg);
int sp_loop_del(int fd);

/* Statistics for the control socket, as a table or JSON. */
void sp_write_flows(FILE *f, bool json);    /* one row per connection and listener */
void sp_write_stats(FILE *f, bool json);    /* slow-path counters, apps, ARP */
bool sp_ready(void);                        /* initialised and looping */

#endif /* SLOWPATH_H */
