/* test_libtas_fake.h - a fake tasd for testing libtas without DPDK.
 *
 * It speaks the application side of tasd's contract (msg.h registration,
 * shm.h region, ctxq.h queues) and plays the network itself: a CONNECT to
 * FAKE_IP:port with a listener on that port creates two flows whose rings it
 * copies into each other, so connections loop back through it.  Any other
 * destination is refused (FAKE_REFUSE_IP) or never answered
 * (FAKE_BLACKHOLE_IP).  Runs as a thread in the test process, or as a
 * program when built with -DFAKE_MAIN.
 */
#ifndef TEST_LIBTAS_FAKE_H
#define TEST_LIBTAS_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#define FAKE_IP           0x0200000a /* 10.0.0.2 in network order */
#define FAKE_REFUSE_IP    0x0300000a /* 10.0.0.3: CONNECT gets ECONNREFUSED */
#define FAKE_BLACKHOLE_IP 0x0400000a /* 10.0.0.4: CONNECT never completes */

struct fake_opts {
    uint32_t rx_size;     /* ring sizes handed out (default 10000 / 12000, */
    uint32_t tx_size;     /*  not powers of two on purpose) */
    uint32_t q_ents;      /* entries per queue (default 32) */
    int connect_delay_ms; /* delay before answering CONNECT */
    bool sleeping_fp;     /* report fast-path cores asleep (apps must kick) */
    bool late_new_conn;   /* post NEW_CONN some rounds after the flow's first
                             data, as tasd may (it installs the flow first) */
};

/* Start serving <run_dir>/app.sock in a thread; 0 or -errno. */
int fake_start(const char *run_dir, const struct fake_opts *o);
/* Start it on a fresh run directory /tmp/libtas-TAG-XXXXXX (its path in
 * dir, at least FAKE_DIR_LEN bytes), with TAS_RUN_DIR set to it and SIGPIPE
 * ignored, as a test's setup does; 0 or -errno.  fake_dir_remove() is
 * the teardown. */
#define FAKE_DIR_LEN 64
int fake_start_in(char *dir, const char *tag, const struct fake_opts *o);
void fake_dir_remove(const char *dir);
/* tasd "exits": every application connection is closed, the thread ends. */
void fake_stop(void);
/* Reset every live flow (as if the peers sent RST) with this errno. */
void fake_reset_all(int err);
/* Counters. */
uint64_t fake_bad_entries(void);
uint32_t fake_flows_live(void);
/* Contexts in use of the application that has most (up to FAKE_MAX_CTX). */
int fake_contexts(void);
/* ... the most it had in use at once. */
int fake_contexts_peak(void);
/* CTX_DEL taken from live applications. */
int fake_contexts_given_back(void);
/* Live flows whose news go to context ctx (of any application). */
uint32_t fake_ctx_flows(int ctx);
/* Flows moved to another context of their application (ATTACH). */
uint64_t fake_attaches(void);

#define FAKE_MAX_CTX 4

#endif
