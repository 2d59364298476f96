/* register.c - registering the process with tasd, and what else it says to
 * tasd on app.sock.
 *
 * The first TCP socket() of a process connects a SOCK_SEQPACKET socket to
 * <TAS_RUN_DIR>/app.sock (default /run/tasd/app.sock) and speaks msg.h:
 * HELLO -> WELCOME with the region memfd, the slow-path doorbell, the global
 * page memfd and one doorbell per fast-path core; then CTX_NEW -> CTX with
 * the context's eventfd (sent right behind HELLO, so both answers come in
 * one round trip; qctx.c asks for the other threads' contexts).  The
 * region header is checked before anything in it
 * is used, and a private copy is kept.  A fork() child and an exec()ed
 * program say HELLO with the token tasd gave their parent (fork.c, exec),
 * to claim the connections it recorded for them.  FORK and FORK_DONE are
 * the other exchanges on app.sock.
 *
 * When tasd cannot be reached (or speaks something else) the library says so
 * once on stderr and the process uses the kernel stack for every socket.
 * With TAS_FALLBACK=0 it says so too, and TCP socket() calls fail with
 * ECONNREFUSED instead, for deployments that must not silently bypass tasd.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "libtas/core/core.h"

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static bool claimed; /* the last registration got what its token named */
static int said_unreachable;

#define REG_TIMEOUT_S 5
#define FORK_FLUSH_MS 1000 /* fork(), exec(): wait for full queues */

/* ------------------------------------------------------------ messages */

/* token, parent: HELLO as the program a fork() or exec() of that
 * application started, claiming what tasd recorded for it (0: none). */
static int send_msg(int fd, uint32_t type, uint64_t token, uint32_t parent)
{
    struct tas_msg m = {.type = type, .version = TAS_ABI_VERSION, .pid = getpid()};
    if (type == TAS_MSG_HELLO && token != 0) {
        m.token = token;
        m.parent_app = parent;
    }
    return tc_msg_send(fd, &m);
}

/* ------------------------------------------------------------ the region */

static bool is_pow2(uint32_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* Is [off, off + len) inside [0, size)? */
static bool in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static const char *check_region(const struct tas_region_hdr *h, const struct tas_msg *w)
{
    if (h->magic != TAS_REGION_MAGIC)
        return "bad region magic";
    if (h->version != TAS_ABI_VERSION)
        return "region ABI version differs from the library's";
    if (h->size != w->region_size)
        return "region size differs from WELCOME";
    if (h->app_id != w->app_id || h->n_fp != w->n_fp)
        return "region header disagrees with WELCOME";
    if (h->n_fp == 0 || h->n_fp > TAS_MAX_FP_CORES)
        return "bad number of fast-path cores";
    if (!is_pow2(h->q_ents) || h->q_ents < 2 || h->q_ents > (1u << 20))
        return "bad queue size";
    if (h->max_ctx == 0 || h->max_flows == 0 || h->max_flows > (1u << 24))
        return "bad context or flow limits";
    if (h->ctx_off % 8 != 0 || h->ctx_stride % 8 != 0)
        return "misaligned contexts";
    if (h->ctx_off < sizeof(*h) || h->ctx_stride < tas_ctx_stride(h->n_fp, h->q_ents) ||
        h->ctx_stride > h->size || h->max_ctx > h->size / h->ctx_stride ||
        !in_bounds(h->ctx_off, h->ctx_stride * h->max_ctx, h->size))
        return "contexts outside the region";
    if (!in_bounds(h->buf_off, h->buf_size, h->size))
        return "buffer area outside the region";
    if (h->slot_size == 0 || h->rx_at >= h->slot_size ||
        (uint64_t)h->max_conns * h->slot_size > h->buf_size)
        return "bad connection slots";
    if (!in_bounds(h->info_off, (uint64_t)h->max_conns * TAS_CACHELINE, h->size))
        return "flow info area outside the region";
    return NULL;
}

/* Map what WELCOME handed over and create our context.  On error, *why says
 * what was wrong; every descriptor in fds is closed either way. */
static int setup(int app_fd, const struct tas_msg *w, int *fds, int n_fds,
                 const char **why)
{
    struct tc_ctx *c = &tc_ctx;
    struct stat st;
    int err = -EPROTO;

    *why = "bad WELCOME";
    if (w->type != TAS_MSG_WELCOME || w->version != TAS_ABI_VERSION || w->n_fp == 0 ||
        w->n_fp > TAS_MAX_FP_CORES || n_fds != 3 + (int)w->n_fp ||
        w->region_size < TAS_PAGE || w->region_size > ((uint64_t)1 << 40) ||
        w->global_size < sizeof(struct tas_global) || w->global_size > (1u << 20))
        goto out;
    *why = "region memfd too small";
    if (fstat(fds[0], &st) != 0 || (uint64_t)st.st_size < w->region_size ||
        fstat(fds[2], &st) != 0 || (uint64_t)st.st_size < w->global_size)
        goto out;
    *why = "mmap failed";
    void *region =
        mmap(NULL, w->region_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
    if (region == MAP_FAILED) {
        err = -errno;
        goto out;
    }
    void *global = mmap(NULL, w->global_size, PROT_READ, MAP_SHARED, fds[2], 0);
    if (global == MAP_FAILED) {
        err = -errno;
        munmap(region, w->region_size);
        goto out;
    }
    memcpy(&c->hdr, region, sizeof(c->hdr));
    *why = check_region(&c->hdr, w);
    if (*why == NULL && ((const struct tas_global *)global)->magic != TAS_REGION_MAGIC)
        *why = "bad global page magic";
    if (*why != NULL)
        goto unmap;

    /* Our context (CTX_NEW went right after HELLO). */
    struct tas_msg m;
    int efd = -1, n = 0;
    *why = "CTX_NEW failed";
    err = tc_msg_recv(app_fd, &m, &efd, 1, &n);
    if (err == 0 && (m.type != TAS_MSG_CTX || n != 1 || m.ctx >= c->hdr.max_ctx)) {
        tc_close_fds(&efd, n);
        err = -EPROTO;
    }
    if (err != 0)
        goto unmap;
    if (c->flows != NULL && c->flows_n != c->hdr.max_flows) {
        free(c->flows); /* inherited, for a tasd of another size: useless */
        c->flows = NULL;
    }
    if (c->flows == NULL)
        c->flows = calloc(c->hdr.max_flows, sizeof(*c->flows));
    c->flows_n = c->hdr.max_flows;
    if (c->flows == NULL) {
        real_close(efd);
        err = -ENOMEM;
        *why = "out of memory";
        goto unmap;
    }

    c->region = region;
    c->region_size = w->region_size;
    c->global = global;
    c->global_size = w->global_size;
    if (tc_qc_add(m.ctx, efd) < 0) {
        real_close(efd);
        err = -ENOMEM;
        *why = "out of memory";
        goto unmap;
    }
    c->app_fd = app_fd;
    c->sp_db_fd = fds[1];
    for (uint32_t i = 0; i < c->hdr.n_fp; i++)
        c->fp_db_fd[i] = fds[3 + i];
    c->region_fd = fds[0]; /* close-on-exec; exec.c passes a copy on */
    real_close(fds[2]);

    c->app_fd = tc_own_fd(c->app_fd);
    c->region_fd = tc_own_fd(c->region_fd);
    c->sp_db_fd = tc_own_fd(c->sp_db_fd);
    for (uint32_t i = 0; i < c->hdr.n_fp; i++)
        c->fp_db_fd[i] = tc_own_fd(c->fp_db_fd[i]);
    tc_now(&c->last_alive_check);
    return 0;

unmap:
    munmap(region, w->region_size);
    munmap(global, w->global_size);
    if (err == 0)
        err = -EPROTO;
out:
    tc_close_fds(fds, n_fds);
    return err;
}

/* ------------------------------------------------------------ registration */

static void env_settings(void)
{
    const char *v = getenv("TAS_FALLBACK");
    tc_ctx.fallback_ok = !(v != NULL && strcmp(v, "0") == 0);
    v = getenv("TAS_SPIN_US");
    /* Short: on a machine with fewer cores than busy threads the spin takes
     * the CPU from tasd and the peer (bench/run.sh, 16 connections on 2
     * cores: 20 us gave ~95k req/s, 5 us ~134k). */
    tc_ctx.spin_us = 5;
    if (v != NULL && *v != '\0') {
        long us = strtol(v, NULL, 10);
        tc_ctx.spin_us = us < 0 ? 0 : us > 100000 ? 100000 : (int)us;
    }
    v = getenv("TAS_THREAD_CTX"); /* qctx.c */
    tc_ctx.thread_ctx = !(v != NULL && strcmp(v, "0") == 0);
    v = getenv("TAS_IDLE_MS"); /* idle.c */
    tc_ctx.idle_ms = 1000;
    if (v != NULL && *v != '\0') {
        long ms = strtol(v, NULL, 10);
        tc_ctx.idle_ms = ms < 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms;
    }
}

static bool quiet; /* tc_register_again: a failure is expected, and silent */

static void give_up(const char *why)
{
    if (quiet)
        ;
    else if (tc_ctx.fallback_ok)
        tc_say_once(&said_unreachable,
                    "libtas: tasd not reachable at %s (%s); using the kernel TCP stack",
                    tc_ctx.app_path, why);
    else
        tc_say_once(&said_unreachable,
                    "libtas: tasd not reachable at %s (%s); TAS_FALLBACK=0, so TCP "
                    "sockets fail with ECONNREFUSED",
                    tc_ctx.app_path, why);
    __atomic_store_n(&tc_ctx.state, TC_CTX_FALLBACK, __ATOMIC_RELEASE);
}

/* With the registration lock held: register the process with tasd.  token,
 * parent: as the program a fork() or exec() started (0: as itself).  True
 * if tasd gave it what was recorded under token. */
bool tc_register(uint64_t token, uint32_t parent)
{
    const char *dir = getenv("TAS_RUN_DIR");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fds[3 + TAS_MAX_FP_CORES], n_fds = 0;
    struct tas_msg w = {0};
    const char *why = NULL;
    int err;

    tc_owner_set();
    /* Again (revive.c): where and how it registered the first time, since
     * the program may have cleared its environment since (nginx's
     * workers do). */
    if (!quiet || tc_ctx.app_path[0] == '\0') {
        env_settings();
        if (dir == NULL || *dir == '\0')
            dir = TAS_DEFAULT_RUN_DIR;
        if (snprintf(tc_ctx.app_path, sizeof(tc_ctx.app_path), "%s/%s", dir,
                     TAS_APP_SOCK) >= (int)sizeof(tc_ctx.app_path)) {
            give_up("path too long");
            return false;
        }
    }
    memcpy(sa.sun_path, tc_ctx.app_path, sizeof(sa.sun_path));

    int fd = real_socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        give_up(strerror(errno));
        return false;
    }
    if (real_connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        err = errno;
        real_close(fd);
        give_up(strerror(err));
        return false;
    }
    struct timeval tv = {REG_TIMEOUT_S, 0};
    real_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    /* CTX_NEW does not wait for WELCOME: tasd takes both in one wake-up
     * and answers both, one round trip instead of two. */
    err = send_msg(fd, TAS_MSG_HELLO, token, parent);
    if (err == 0) {
        /* A refusal of HELLO may come before CTX_NEW goes, and tasd hangs
         * up after it (EPIPE here): its answer is still there to read. */
        int sent = send_msg(fd, TAS_MSG_CTX_NEW, 0, 0);
        err = tc_msg_recv(fd, &w, fds, 3 + TAS_MAX_FP_CORES, &n_fds);
        if (err == 0 && sent != 0)
            err = sent;
    }
    if (err < 0 && w.type == TAS_MSG_WELCOME) /* refused: say why */
        why = err == -EACCES   ? "tasd does not serve this user (apps.users in tasd.conf)"
              : err == -EPROTO ? "tasd speaks another ABI version"
                               : NULL;
    if (err == 0)
        err = setup(fd, &w, fds, n_fds, &why);
    claimed = err == 0 && token != 0 && w.token == token;
    if (err != 0) {
        real_close(fd);
        give_up(why != NULL ? why : strerror(-err));
        return false;
    }
    tv.tv_sec = 0;
    real_setsockopt(tc_ctx.app_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    __atomic_store_n(&tc_ctx.state, TC_CTX_READY, __ATOMIC_RELEASE);
    return claimed;
}

bool tc_register_again(void)
{
    quiet = true;
    tc_register(0, 0);
    quiet = false;
    return tc_ctx.state == TC_CTX_READY;
}

int tc_ctx_ensure(void)
{
    int st = __atomic_load_n(&tc_ctx.state, __ATOMIC_ACQUIRE);
    if (likely(st != TC_CTX_NONE))
        return st;
    pthread_mutex_lock(&reg_lock);
    if (tc_ctx.state == TC_CTX_NONE)
        tc_register(0, 0);
    st = tc_ctx.state;
    pthread_mutex_unlock(&reg_lock);
    return st;
}

/* ------------------------------------------------------------ locks, maps, FORK */

void tc_reg_lock(void)
{
    pthread_mutex_lock(&reg_lock);
}

void tc_reg_unlock(void)
{
    pthread_mutex_unlock(&reg_lock);
}

/* A fork() child: the lock was copied in whatever state. */
void tc_reg_lock_reset(void)
{
    pthread_mutex_init(&reg_lock, NULL);
}

void tc_ctx_add_map(void *base, size_t size, int fd)
{
    struct tc_ctx *c = &tc_ctx;
    if (c->n_maps < TC_MAX_MAPS) {
        c->maps[c->n_maps++] = (struct tc_map){base, size, fd};
        if (fd >= 0) {
            real_fcntl(fd, F_SETFD, (void *)(long)FD_CLOEXEC);
            c->maps[c->n_maps - 1].fd = tc_own_fd(fd);
        }
    } else if (fd >= 0) {
        real_close(fd); /* the mapping stays; it cannot go to another exec */
    }
}

void tc_fork_done(uint64_t token, pid_t pid)
{
    struct tas_msg m = {.type = TAS_MSG_FORK_DONE,
                        .version = TAS_ABI_VERSION,
                        .pid = pid > 0 ? pid : -1,
                        .token = token};
    tc_msg_send(tc_ctx.app_fd, &m);
}

int tc_ctx_register_inherited(uint64_t token, uint32_t parent_app)
{
    pthread_mutex_lock(&reg_lock);
    if (tc_ctx.state == TC_CTX_NONE)
        tc_register(token, parent_app);
    int r = tc_ctx.state == TC_CTX_READY && claimed ? 0 : -ENOENT;
    pthread_mutex_unlock(&reg_lock);
    return r;
}

/* Before fork(): tasd records what we hold, for the child.  flags:
 * TAS_FORK_*.  Token or 0. */
uint64_t tc_fork_request(uint32_t flags)
{
    struct tc_ctx *c = &tc_ctx;
    struct tas_msg m = {.type = TAS_MSG_FORK,
                        .version = TAS_ABI_VERSION,
                        .pid = getpid(),
                        .flags = flags};
    struct tas_msg r;
    int fds[1], n = 0;

    /* Requests that could not be queued yet (a full sp_in or fp_in
     * under load) would come after the record: wait for tasd to take
     * them, rather than fork a child whose sockets cannot work. */
    struct timespec ms = {0, 1000000L};
    for (int i = 0; i < FORK_FLUSH_MS; i++) {
        tc_fp_flush();
        tc_sp_flush();
        if (!tc_post_pending() || c->state != TC_CTX_READY)
            break;
        nanosleep(&ms, NULL);
    }
    if (tc_post_pending() || c->state != TC_CTX_READY)
        return 0;
    if (tc_msg_send(c->app_fd, &m) != 0)
        return 0;
    struct pollfd p = {.fd = c->app_fd, .events = POLLIN};
    if (real_poll(&p, 1, REG_TIMEOUT_S * 1000) != 1)
        return 0;
    if (tc_msg_recv(c->app_fd, &r, fds, 1, &n) != 0 || r.type != TAS_MSG_FORK_OK) {
        tc_close_fds(fds, n);
        return 0;
    }
    tc_close_fds(fds, n);
    return r.token;
}
