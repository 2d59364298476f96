/* garbage_app.c - a hostile tasd application: it registers the way libtas
 * does (include/tas/msg.h: HELLO -> WELCOME with the region, CTX_NEW ->
 * CTX), maps its region, opens connections to a peer with CONNECT entries,
 * and then writes garbage into its own shared memory:
 *
 *   1. bad ring update: an fp_in entry for its first connection that claims
 *      more tx bytes than the ring holds.  tasd must reset that connection
 *      (TAS_SPOUT_RESET on sp_out) and nothing else.
 *   2. for --seconds: fp_in and sp_in entries with random types, flows,
 *      generations and counts; random bytes over its context (every queue,
 *      type bytes too, including the queues tasd produces into), over the
 *      connections' rings and over the region header.
 *   3. tasd must have given up on it: app.sock hung up (too many bad
 *      entries), which resets every connection it still had.
 * Then it registers again and does it all over, until --seconds are over.
 *
 * It does not use libtas: it is the application tasd must survive, not a
 * client of the library.  Plain libc; run it without LD_PRELOAD.
 *
 *   garbage_app --addr PEER --port P [--conns N] [--seconds S] [--seed X]
 *   (TAS_RUN_DIR: tasd's run directory, default /run/tasd)
 *
 * Prints what happened on stderr; exits 0 only if in every life step 1 saw
 * the reset (of that connection alone) and step 3 saw tasd hang up, 1
 * otherwise, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tas/ctxq.h"
#include "tas/msg.h"
#include "tas/queue.h"
#include "tas/shm.h"
#include "tutil.h"

#define PROG      "garbage_app"
#define MAX_CONNS 16

static int app_fd = -1, sp_db = -1, fp_db[TAS_MAX_FP_CORES];
static uint8_t *region;
static uint64_t region_size, global_size;
static const struct tas_global *global;
static struct tas_region_hdr hdr;
static uint32_t ctx;
static struct tas_q sp_in, sp_out, fp_in[TAS_MAX_FP_CORES];
static uint64_t rng = 88172645463325252ull;

struct conn {
    uint32_t flow, gen, core;
    struct tas_conn_bufs bufs;
    bool up, reset;
};
static struct conn conns[MAX_CONNS];
static unsigned n_conns;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void die(const char *what)
{
    fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
    exit(1);
}

/* ---- registration (msg.h) ---- */

static int recv_fds(struct tas_msg *m, int *fds, int max)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * (3 + TAS_MAX_FP_CORES))];
        struct cmsghdr align;
    } cb;
    struct iovec iov = {m, sizeof(*m)};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cb.buf,
                        .msg_controllen = sizeof(cb.buf)};
    struct pollfd p = {.fd = app_fd, .events = POLLIN};
    if (poll(&p, 1, 10000) != 1)
        return -1;
    ssize_t r = recvmsg(app_fd, &mh, MSG_CMSG_CLOEXEC);
    if (r != (ssize_t)sizeof(*m))
        return -1;
    int n = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < k && n < max; i++)
            memcpy(&fds[n++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
    return n;
}

static void send_msg(uint32_t type)
{
    struct tas_msg m = {.type = type, .version = TAS_ABI_VERSION, .pid = getpid()};
    if (send(app_fd, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m))
        die("send to app.sock");
}

static void *queue(uint32_t q)
{
    return tas_ctx_queue_ents(region, hdr.ctx_off, hdr.ctx_stride, hdr.q_ents, ctx, q);
}

static void attach(void)
{
    const char *dir = getenv("TAS_RUN_DIR");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir ? dir : TAS_DEFAULT_RUN_DIR,
             TAS_APP_SOCK);
    app_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (app_fd < 0 || connect(app_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        die(sa.sun_path);

    struct tas_msg w;
    int fds[3 + TAS_MAX_FP_CORES];
    send_msg(TAS_MSG_HELLO);
    int n = recv_fds(&w, fds, 3 + TAS_MAX_FP_CORES);
    if (n < 4 || w.type != TAS_MSG_WELCOME || w.status != 0 || w.n_fp == 0 ||
        w.n_fp > TAS_MAX_FP_CORES || n != 3 + (int)w.n_fp) {
        fprintf(stderr, PROG ": bad WELCOME\n");
        exit(1);
    }
    region_size = w.region_size;
    region = mmap(NULL, region_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
    global_size = w.global_size;
    global = mmap(NULL, w.global_size, PROT_READ, MAP_SHARED, fds[2], 0);
    if (region == MAP_FAILED || global == MAP_FAILED)
        die("mmap");
    memcpy(&hdr, region, sizeof(hdr));
    close(fds[0]);
    close(fds[2]);
    sp_db = fds[1];
    for (uint32_t i = 0; i < w.n_fp; i++)
        fp_db[i] = fds[3 + i];

    struct tas_msg c;
    int efd;
    send_msg(TAS_MSG_CTX_NEW);
    if (recv_fds(&c, &efd, 1) != 1 || c.type != TAS_MSG_CTX || c.ctx >= hdr.max_ctx) {
        fprintf(stderr, PROG ": bad CTX\n");
        exit(1);
    }
    ctx = c.ctx;
    close(efd);
    tas_q_init(&sp_in, queue(TAS_CQ_SP_IN), hdr.q_ents);
    tas_q_init(&sp_out, queue(TAS_CQ_SP_OUT), hdr.q_ents);
    for (uint32_t i = 0; i < hdr.n_fp; i++)
        tas_q_init(&fp_in[i], queue(tas_cq_fp_in(i)), hdr.q_ents);
    fprintf(stderr,
            PROG ": app %u, context %u, %u fast-path cores, %u entries per queue\n",
            hdr.app_id, ctx, hdr.n_fp, hdr.q_ents);
}

static void kick_sp(void)
{
    (void)eventfd_write(sp_db, 1);
}

static void kick_fp(uint32_t core)
{
    if (core < hdr.n_fp && tas_fp_need_kick(global, core))
        (void)eventfd_write(fp_db[core], 1);
}

/* ---- what tasd says (sp_out), while we still read it ---- */

static void sp_out_poll(void)
{
    uint8_t body[TAS_QE_BODY];
    uint8_t t;
    while ((t = tas_q_get(&sp_out, body)) != 0) {
        if (t == TAS_SPOUT_CONNECTED) {
            struct tas_spout_connected r;
            memcpy(&r, body, sizeof(r));
            if (r.opaque < MAX_CONNS && r.status == 0) {
                struct conn *c = &conns[r.opaque];
                c->flow = r.flow;
                c->gen = r.gen;
                c->core = r.fp_core;
                c->bufs = r.bufs;
                c->up = true;
            } else {
                fprintf(stderr, PROG ": connect %lu failed: %d\n",
                        (unsigned long)r.opaque, r.status);
            }
        } else if (t == TAS_SPOUT_RESET) {
            struct tas_spout_reset r;
            memcpy(&r, body, sizeof(r));
            for (unsigned i = 0; i < n_conns; i++)
                if (conns[i].up && conns[i].flow == r.flow && conns[i].gen == r.gen)
                    conns[i].reset = true;
        }
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Has tasd hung up on app.sock? */
static bool hung_up(int wait_ms)
{
    struct pollfd p = {.fd = app_fd, .events = POLLIN};
    if (poll(&p, 1, wait_ms) != 1)
        return false;
    char b[sizeof(struct tas_msg)];
    return recv(app_fd, b, sizeof(b), MSG_DONTWAIT) == 0 || (p.revents & POLLHUP);
}

/* ---- garbage ---- */

static void fill(void *p, size_t n)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rnd();
}

static void garbage_round(void)
{
    uint8_t body[TAS_QE_BODY];
    uint32_t core = (uint32_t)(rnd() % hdr.n_fp);

    /* fp_in: random entries, some naming our flows. */
    for (int i = 0; i < 8; i++) {
        struct tas_fpin e;
        fill(&e, sizeof(e));
        if (rnd() % 2 && n_conns > 0) {
            struct conn *c = &conns[rnd() % n_conns];
            e.flow = c->flow;
            if (rnd() % 2)
                e.gen = c->gen;
            if (rnd() % 2)
                e.tx_bytes %= 4096;
        }
        memset(body, 0, sizeof(body));
        memcpy(body, &e, sizeof(e));
        uint8_t type = rnd() % 3 ? TAS_FPIN_UPDATE : (uint8_t)(rnd() | 1);
        (void)tas_q_put(&fp_in[core], type, body, sizeof(body));
    }
    kick_fp(core);
    /* sp_in: random requests. */
    for (int i = 0; i < 4; i++) {
        fill(body, sizeof(body));
        uint8_t type = (uint8_t)(1 + rnd() % 12);
        if (rnd() % 4 == 0 && n_conns > 0) {
            struct tas_spin_flow f = {.flow = conns[rnd() % n_conns].flow,
                                      .gen = (uint32_t)rnd()};
            memcpy(body, &f, sizeof(f));
        }
        (void)tas_q_put(&sp_in, type, body, sizeof(body));
    }
    kick_sp();
    /* Random bytes anywhere in our context (all queues, both directions). */
    uint8_t *cbase = (uint8_t *)tas_ctx_hdr(region, hdr.ctx_off, hdr.ctx_stride, ctx);
    for (int i = 0; i < 32; i++)
        cbase[rnd() % hdr.ctx_stride] = (uint8_t)rnd();
    /* ... over the rings of our connections, and the region header. */
    for (unsigned i = 0; i < n_conns; i++) {
        struct tas_conn_bufs *b = &conns[i].bufs;
        uint64_t at = b->slot < hdr.max_conns ? tas_slot_rx_off(&hdr, b->slot) : 0;
        if (at != 0 && at + b->rx_size <= region_size && b->rx_size > 0)
            region[at + rnd() % b->rx_size] = (uint8_t)rnd();
        if (at != 0 && b->tx_size > 0 && b->tx_size <= at && at <= region_size)
            fill(region + at - b->tx_size + rnd() % b->tx_size, 1);
    }
    region[rnd() % TAS_PAGE] = (uint8_t)rnd();
}

/* Drop everything of this registration. */
static void detach(void)
{
    munmap(region, region_size);
    munmap((void *)global, global_size);
    close(app_fd);
    close(sp_db);
    for (uint32_t i = 0; i < hdr.n_fp; i++)
        close(fp_db[i]);
    memset(conns, 0, sizeof(conns));
}

/* Register, connect, misbehave, get thrown out.  1 if tasd did what it
 * must (reset exactly the connection with the bad update, then hung up),
 * 0 otherwise. */
static int life(uint32_t peer, uint16_t port, unsigned nc)
{
    attach();

    /* Open the connections, as the library would. */
    n_conns = nc;
    for (unsigned i = 0; i < n_conns; i++) {
        struct tas_spin_connect r = {.opaque = i, .remote_ip = peer, .remote_port = port};
        if (tas_q_put(&sp_in, TAS_SPIN_CONNECT, &r, sizeof(r)) != 0)
            die("sp_in full");
    }
    kick_sp();
    unsigned up = 0;
    for (int t = 0; t < 1000 && up < n_conns; t++) {
        sleep_ms(10);
        sp_out_poll();
        up = 0;
        for (unsigned i = 0; i < n_conns; i++)
            up += conns[i].up;
    }
    fprintf(stderr, PROG ": %u of %u connections established\n", up, n_conns);
    if (up < n_conns) {
        detach();
        return 0;
    }

    /* 1. A ring update for our first connection that cannot be true. */
    struct conn *c0 = &conns[0];
    struct tas_fpin bad = {
        .flow = c0->flow, .gen = c0->gen, .tx_bytes = c0->bufs.tx_size + 1};
    if (tas_q_put(&fp_in[c0->core], TAS_FPIN_UPDATE, &bad, sizeof(bad)) != 0)
        die("fp_in full");
    kick_fp(c0->core);
    for (int t = 0; t < 500 && !c0->reset; t++) {
        sleep_ms(10);
        sp_out_poll();
    }
    unsigned others_reset = 0;
    for (unsigned i = 1; i < n_conns; i++)
        others_reset += conns[i].reset;
    fprintf(stderr,
            PROG ": bad ring update on flow %u: %s; other connections reset: %u\n",
            c0->flow, c0->reset ? "connection reset" : "NOT reset", others_reset);
    bool ok = c0->reset && others_reset == 0;

    /* 2, 3. Garbage until tasd gives up on us: it must, within 10 s (the
     * last life may run past `end`). */
    int64_t limit = tu_now_ms() + 10000;
    unsigned rounds = 0;
    bool gone = false;
    while (tu_now_ms() < limit && !(gone = hung_up(0))) {
        garbage_round();
        rounds++;
        sleep_ms(1);
    }
    fprintf(stderr, PROG ": %u rounds of garbage; tasd %s\n", rounds,
            gone ? "hung up on us (DISCONNECTED)" : "did NOT hang up");
    detach();
    return ok && gone;
}

int main(int argc, char **argv)
{
    const char *addr = NULL;
    long port = 0, nc = 4, seconds = 5;
    static const struct option opts[] = {{"addr", required_argument, NULL, 'a'},
                                         {"port", required_argument, NULL, 'p'},
                                         {"conns", required_argument, NULL, 'n'},
                                         {"seconds", required_argument, NULL, 's'},
                                         {"seed", required_argument, NULL, 'r'},
                                         {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = tu_num(PROG, "--port", optarg, 1, 65535);
            break;
        case 'n':
            nc = tu_num(PROG, "--conns", optarg, 2, MAX_CONNS);
            break;
        case 's':
            seconds = tu_num(PROG, "--seconds", optarg, 1, 600);
            break;
        case 'r':
            rng = (uint64_t)tu_num(PROG, "--seed", optarg, 1, 1L << 62);
            break;
        default:
            fprintf(stderr, "usage: " PROG " --addr PEER --port P [--conns N] "
                            "[--seconds S] [--seed X]\n");
            return 2;
        }
    }
    if (addr == NULL || port == 0) {
        fprintf(stderr,
                "usage: " PROG " --addr PEER --port P [--conns N] [--seconds S]\n");
        return 2;
    }
    struct in_addr ip;
    if (inet_pton(AF_INET, addr, &ip) != 1) {
        fprintf(stderr, PROG ": bad address %s\n", addr);
        return 2;
    }

    /* One life per registration, until the time is over (at least one). */
    int64_t end = tu_now_ms() + seconds * 1000;
    unsigned lives = 0, good = 0;
    do {
        good += life(ip.s_addr, (uint16_t)port, (unsigned)nc);
        lives++;
    } while (tu_now_ms() < end && lives < 1000);
    fprintf(stderr, PROG ": %u lives, %u as expected\n", lives, good);
    return lives > 0 && good == lives ? 0 : 1;
}
