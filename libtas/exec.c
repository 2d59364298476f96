/* exec.c - tasd sockets that survive exec().
 *
 * exec() closes descriptors with FD_CLOEXEC and keeps the others; a tasd
 * socket kept that way must work in the new program, whose libtas starts
 * from nothing.  So before exec (tas_exec_prepare) the library:
 *   1. asks tasd to record what the process holds for the next program,
 *      exactly as for a fork child (TAS_MSG_FORK: a token);
 *   2. writes the sockets whose descriptors stay open (state, tasd ids,
 *      ring offsets, options, and every descriptor number naming each)
 *      into a memfd that stays open, with the shared regions their rings
 *      live in as descriptors that stay open too;
 *   3. passes the memfd's number to the new program in TAS_INHERIT.
 * The new program's libtas (tas_inherit_init, from its constructor) maps
 * the regions, registers with the token, and rebuilds the sockets, which
 * then take themselves over on first use like a fork child's (attach.c).
 * If exec fails, tas_exec_failed undoes it all.  Everything read back is
 * checked: the memfd is the application's own memory, not trusted.
 *
 * Not covered: posix_spawn() and system(), which exec from inside libc.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libtas/internal.h"

#define INH_MAGIC   0x74617369u /* "tasi" */
#define INH_ENV     "TAS_INHERIT"
#define INH_MAX     65536       /* sockets or descriptors */

struct inh_hdr {
    uint32_t magic, version;
    uint64_t token;
    uint32_t parent_app, n_maps, n_socks, n_fds;
};
struct inh_map {
    int32_t fd;
    uint32_t pad;
    uint64_t size;
};
struct inh_sock {
    uint8_t state; /* TAS_SS_LISTENING or TAS_SS_CONNECTED/CLOSED with a flow */
    uint8_t nonblock, nodelay, keepalive, reuseaddr, reuseport, rd_eof, rd_shut;
    uint8_t wr_shut, linger_on, pad[2];
    int32_t linger_secs, rcvtimeo_ms, sndtimeo_ms, map;
    uint32_t listener, backlog, flow, gen;
    uint16_t fp_core, mss;
    uint32_t rx_size, tx_size;
    uint64_t rx_off, tx_off;
    struct sockaddr_in local, peer;
};
struct inh_fd {
    int32_t fd;
    uint32_t sock;
};

struct tas_exec_state {
    uint64_t token;
    char **env;
    int memfd;
    int map_fds[TAS_MAX_MAPS + 1];
    int n_map_fds;
};

static bool inheritable(const struct tas_sock *s)
{
    return !s->app_closed && !s->detached && !s->dead &&
           (s->state == TAS_SS_LISTENING || s->flow_live);
}

/* Which of our mappings holds p: 0 = the current region, i + 1 = maps[i]. */
static int map_of(const void *p)
{
    const struct tas_ctx *c = &tas_ctx;
    const uint8_t *b = p;
    if (b >= (const uint8_t *)c->region && b < (const uint8_t *)c->region + c->region_size)
        return 0;
    for (int i = 0; i < c->n_maps; i++)
        if (b >= (const uint8_t *)c->maps[i].base &&
            b < (const uint8_t *)c->maps[i].base + c->maps[i].size)
            return i + 1;
    return -1;
}

static void undo(struct tas_exec_state *st)
{
    if (st->memfd >= 0)
        real_close(st->memfd);
    for (int i = 0; i < st->n_map_fds; i++)
        real_close(st->map_fds[i]);
    st->memfd = -1;
    st->n_map_fds = 0;
}

/* Write the table; 0 or -errno.  Lock held. */
static int write_table(struct tas_exec_state *st)
{
    struct tas_ctx *c = &tas_ctx;
    uint32_t n_socks = 0, n_fds = 0;

    for (struct tas_sock *s = c->all; s != NULL; s = s->all_next)
        s->attach_serial = inheritable(s) ? 0 : UINT64_MAX; /* index below */
    /* Descriptors that stay open, and the sockets they name. */
    size_t cap = 64;
    struct inh_fd *fds = malloc(cap * sizeof(*fds));
    struct inh_sock *socks = malloc(cap * sizeof(*socks));
    int err = 0;
    if (fds == NULL || socks == NULL) {
        err = -ENOMEM;
        goto out;
    }
    for (int fd = tas_fd_next(0); fd >= 0 && n_fds < INH_MAX; fd = tas_fd_next(fd + 1)) {
        struct tas_obj *o = tas_fd_get(fd);
        if (o == NULL || o->kind != TAS_OBJ_SOCK)
            continue;
        struct tas_sock *s = (struct tas_sock *)o;
        int fl = real_fcntl(fd, F_GETFD, NULL);
        if (s->attach_serial == UINT64_MAX || fl < 0 || (fl & FD_CLOEXEC))
            continue;
        if (n_fds == cap || n_socks == cap) {
            cap *= 2;
            struct inh_fd *f2 = realloc(fds, cap * sizeof(*fds));
            if (f2 != NULL)
                fds = f2;
            struct inh_sock *s2 = realloc(socks, cap * sizeof(*socks));
            if (s2 != NULL)
                socks = s2;
            if (f2 == NULL || s2 == NULL) {
                err = -ENOMEM;
                goto out;
            }
        }
        if (s->attach_serial == 0) { /* first descriptor of this socket */
            struct inh_sock *x = &socks[n_socks];
            memset(x, 0, sizeof(*x));
            x->state = s->state;
            x->nonblock = s->nonblock;
            x->nodelay = s->nodelay;
            x->keepalive = s->keepalive;
            x->reuseaddr = s->reuseaddr;
            x->reuseport = s->reuseport;
            x->rd_eof = s->rd_eof;
            x->rd_shut = s->rd_shut;
            x->wr_shut = s->wr_shut;
            x->linger_on = s->linger_on;
            x->linger_secs = s->linger_secs;
            x->rcvtimeo_ms = s->rcvtimeo_ms;
            x->sndtimeo_ms = s->sndtimeo_ms;
            x->listener = s->listener;
            x->backlog = s->backlog;
            x->local = s->local;
            x->peer = s->peer;
            x->map = -1;
            if (s->state != TAS_SS_LISTENING) {
                x->flow = s->flow;
                x->gen = s->gen;
                x->fp_core = s->fp_core;
                x->mss = s->mss;
                x->map = map_of(s->rx_base);
                if (x->map < 0 || map_of(s->tx_base) != x->map)
                    continue; /* rings we cannot name: it will not survive */
                const uint8_t *base = x->map == 0 ? c->region : c->maps[x->map - 1].base;
                x->rx_off = (uint64_t)(s->rx_base - base);
                x->tx_off = (uint64_t)(s->tx_base - base);
                x->rx_size = s->rx_size;
                x->tx_size = s->tx_size;
            }
            s->attach_serial = ++n_socks; /* index + 1 */
        }
        fds[n_fds++] = (struct inh_fd){.fd = fd, .sock = (uint32_t)(s->attach_serial - 1)};
    }
    if (n_fds == 0) {
        err = -ENOENT; /* nothing to keep */
        goto out;
    }

    /* The regions, as descriptors the new program inherits: ours, and
     * those holding the rings of a socket that goes on.  (Passing every
     * region we have mapped would grow the list by one per exec(), and
     * past TAS_MAX_MAPS a program that execs itself again and again
     * would drop the oldest, where its first connection lives.) */
    bool used[TAS_MAX_MAPS + 1] = {true};
    int index[TAS_MAX_MAPS + 1];
    for (uint32_t i = 0; i < n_socks; i++)
        if (socks[i].map >= 0 && socks[i].map <= c->n_maps)
            used[socks[i].map] = true;
    struct inh_map maps[TAS_MAX_MAPS + 1];
    uint32_t n_maps = 0;
    for (int i = 0; i <= c->n_maps; i++) {
        index[i] = -1;
        if (!used[i])
            continue;
        int rfd = i == 0 ? c->region_fd : c->maps[i - 1].fd;
        size_t size = i == 0 ? c->region_size : c->maps[i - 1].size;
        int d = rfd >= 0 ? real_fcntl(rfd, F_DUPFD, (void *)3L) : -1;
        index[i] = (int)n_maps;
        maps[n_maps++] = (struct inh_map){.fd = d, .size = size};
        if (d >= 0)
            st->map_fds[st->n_map_fds++] = d;
    }
    for (uint32_t i = 0; i < n_socks; i++)
        if (socks[i].map >= 0)
            socks[i].map = index[socks[i].map];

    st->memfd = memfd_create("tas-inherit", 0);
    if (st->memfd < 0) {
        err = -errno;
        goto out;
    }
    struct inh_hdr h = {.magic = INH_MAGIC,
                        .version = TAS_ABI_VERSION,
                        .token = st->token,
                        .parent_app = c->hdr.app_id,
                        .n_maps = n_maps,
                        .n_socks = n_socks,
                        .n_fds = n_fds};
    struct iovec v[4] = {{&h, sizeof(h)},
                         {maps, n_maps * sizeof(*maps)},
                         {socks, n_socks * sizeof(*socks)},
                         {fds, n_fds * sizeof(*fds)}};
    size_t total = 0;
    for (int i = 0; i < 4; i++)
        total += v[i].iov_len;
    if ((size_t)real_writev(st->memfd, v, 4) != total)
        err = -EIO;
out:
    for (struct tas_sock *s = c->all; s != NULL; s = s->all_next)
        s->attach_serial = 0;
    free(fds);
    free(socks);
    return err;
}

/* Is any tasd socket's descriptor going to stay open?  Only looks: exec
 * may come from a vfork() child, which shares our memory (Python's
 * subprocess does that, with close-on-exec sockets). */
static bool anything_to_keep(void)
{
    for (int fd = tas_fd_next(0); fd >= 0; fd = tas_fd_next(fd + 1)) {
        struct tas_obj *o = tas_fd_get(fd);
        if (o == NULL || o->kind != TAS_OBJ_SOCK || !inheritable((struct tas_sock *)o))
            continue;
        int fl = real_fcntl(fd, F_GETFD, NULL);
        if (fl >= 0 && !(fl & FD_CLOEXEC))
            return true;
    }
    return false;
}

/* Before exec: returns the environment to pass (envp itself when there is
 * nothing to keep, else a copy with TAS_INHERIT; free with the state). */
char **tas_exec_prepare(char *const envp[], struct tas_exec_state **out)
{
    struct tas_ctx *c = &tas_ctx;
    *out = NULL;
    if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != TAS_CTX_READY ||
        !anything_to_keep())
        return (char **)envp;
    struct tas_exec_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return (char **)envp;
    st->memfd = -1;

    tas_reg_lock();
    tas_lock();
    int err = -ENOENT;
    if (c->state == TAS_CTX_READY && c->all != NULL) {
        st->token = tas_fork_request();
        err = st->token != 0 ? write_table(st) : -EPROTO;
        if (err != 0 && st->token != 0)
            tas_fork_done(st->token, -1);
    }
    tas_unlock();
    tas_reg_unlock();
    if (err != 0) {
        undo(st);
        free(st);
        return (char **)envp;
    }

    size_t n = 0;
    while (envp != NULL && envp[n] != NULL)
        n++;
    char **env = calloc(n + 2, sizeof(*env));
    static char var[64];
    if (env == NULL) {
        tas_exec_failed(st);
        return (char **)envp;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(envp[i], INH_ENV "=", sizeof(INH_ENV)) != 0)
            env[k++] = envp[i];
    snprintf(var, sizeof(var), INH_ENV "=%d", st->memfd);
    env[k++] = var;
    env[k] = NULL;
    st->env = env;
    *out = st;
    return env;
}

/* exec failed: nothing was handed over. */
void tas_exec_failed(struct tas_exec_state *st)
{
    if (st == NULL)
        return;
    tas_lock();
    if (st->token != 0 && tas_ctx.state == TAS_CTX_READY) {
        tas_fork_done(st->token, -1);
        /* tasd stopped giving our listeners connections (as for fork). */
        for (struct tas_sock *s = tas_ctx.listeners; s != NULL; s = s->lnext)
            tas_mark_need_attach(s);
    }
    tas_unlock();
    undo(st);
    free(st->env);
    free(st);
}

/* ---------------------------------------------------- the new program */

static int said_inherit;

static bool read_all(int fd, void *buf, size_t len, off_t off)
{
    return pread(fd, buf, len, off) == (ssize_t)len;
}

static void rebuild(const struct inh_hdr *h, const struct inh_map *maps,
                    void *const *bases, const struct inh_sock *socks,
                    const struct inh_fd *fds)
{
    struct tas_ctx *c = &tas_ctx;
    struct tas_sock **made = calloc(h->n_socks, sizeof(*made));
    if (made == NULL)
        return;
    for (uint32_t i = 0; i < h->n_fds; i++) {
        const struct inh_fd *f = &fds[i];
        if (f->sock >= h->n_socks || f->fd < 0 || f->fd >= TAS_FD_MAX ||
            tas_fd_get(f->fd) != NULL || real_fcntl(f->fd, F_GETFD, NULL) < 0)
            continue;
        struct tas_sock *s = made[f->sock];
        if (s != NULL) { /* another descriptor of the same socket */
            if (tas_fd_set(f->fd, &s->obj) == 0) {
                tas_sock_get(s);
                s->n_dups++;
            }
            continue;
        }
        const struct inh_sock *x = &socks[f->sock];
        bool listening = x->state == TAS_SS_LISTENING;
        if (!listening) {
            if (x->map < 0 || (uint32_t)x->map >= h->n_maps || bases[x->map] == NULL ||
                x->flow >= c->flows_n || c->flows[x->flow] != NULL ||
                x->fp_core >= c->hdr.n_fp || x->rx_size == 0 || x->tx_size == 0 ||
                x->rx_off > maps[x->map].size ||
                x->rx_size > maps[x->map].size - x->rx_off ||
                x->tx_off > maps[x->map].size || x->tx_size > maps[x->map].size - x->tx_off)
                continue;
        }
        s = tas_sock_new(f->fd);
        if (s == NULL)
            continue;
        s->nonblock = x->nonblock;
        s->nodelay = x->nodelay;
        s->keepalive = x->keepalive;
        s->reuseaddr = x->reuseaddr;
        s->reuseport = x->reuseport;
        s->linger_on = x->linger_on;
        s->linger_secs = x->linger_secs;
        s->rcvtimeo_ms = x->rcvtimeo_ms;
        s->sndtimeo_ms = x->sndtimeo_ms;
        s->local = x->local;
        s->peer = x->peer;
        s->local.sin_family = s->peer.sin_family = AF_INET;
        s->bound = true;
        if (listening) {
            s->state = TAS_SS_LISTENING;
            s->listener = x->listener;
            s->backlog = x->backlog;
            tas_listener_add(s);
        } else {
            s->state = x->state == TAS_SS_CLOSED ? TAS_SS_CLOSED : TAS_SS_CONNECTED;
            s->was_connected = true;
            s->flow = x->flow;
            s->gen = x->gen;
            s->fp_core = x->fp_core;
            s->mss = x->mss;
            s->rx_base = (uint8_t *)bases[x->map] + x->rx_off;
            s->rx_size = x->rx_size;
            s->tx_base = (uint8_t *)bases[x->map] + x->tx_off;
            s->tx_size = x->tx_size;
            s->rd_eof = x->rd_eof;
            s->rd_shut = x->rd_shut;
            s->wr_shut = x->wr_shut;
            c->flows[x->flow] = s;
            tas_sock_get(s);
            s->flow_live = true;
        }
        s->need_attach = true;
        c->attach_pending = true;
        if (tas_fd_set(f->fd, &s->obj) != 0) {
            s->fd = -1;
            tas_sock_put(s);
            continue;
        }
        made[f->sock] = s;
    }
    free(made);
}

void tas_inherit_init(void)
{
    const char *v = getenv(INH_ENV);
    if (v == NULL)
        return;
    char *end;
    long mfd = strtol(v, &end, 10);
    unsetenv(INH_ENV); /* for the programs this one starts */
    if (*end != '\0' || mfd < 0 || mfd > INT32_MAX)
        return;
    struct inh_hdr h;
    struct stat sb;
    if (fstat((int)mfd, &sb) != 0 || !read_all((int)mfd, &h, sizeof(h), 0) ||
        h.magic != INH_MAGIC || h.version != TAS_ABI_VERSION || h.n_maps == 0 ||
        h.n_maps > TAS_MAX_MAPS + 1 || h.n_socks == 0 || h.n_socks > INH_MAX ||
        h.n_fds == 0 || h.n_fds > INH_MAX) {
        real_close((int)mfd);
        return;
    }
    size_t lm = h.n_maps * sizeof(struct inh_map), ls = h.n_socks * sizeof(struct inh_sock),
           lf = h.n_fds * sizeof(struct inh_fd);
    struct inh_map *maps = malloc(lm);
    struct inh_sock *socks = malloc(ls);
    struct inh_fd *fds = malloc(lf);
    void *bases[TAS_MAX_MAPS + 1] = {0};
    bool ok = maps && socks && fds && read_all((int)mfd, maps, lm, sizeof(h)) &&
              read_all((int)mfd, socks, ls, sizeof(h) + lm) &&
              read_all((int)mfd, fds, lf, sizeof(h) + lm + ls);
    real_close((int)mfd);

    for (uint32_t i = 0; ok && i < h.n_maps; i++) {
        struct stat rs;
        int rfd = maps[i].fd;
        if (rfd < 0)
            continue;
        if (fstat(rfd, &rs) == 0 && maps[i].size > 0 && (uint64_t)rs.st_size >= maps[i].size) {
            void *b = mmap(NULL, maps[i].size, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
            if (b != MAP_FAILED) {
                bases[i] = b;
                tas_ctx_add_map(b, maps[i].size, rfd);
                continue;
            }
        }
        real_close(rfd);
    }
    if (ok && tas_ctx_register_inherited(h.token, h.parent_app) == 0) {
        tas_lock();
        rebuild(&h, maps, bases, socks, fds);
        tas_unlock();
    } else {
        tas_say_once(&said_inherit, "libtas: tasd sockets inherited across exec() "
                                    "could not be taken over; they are unusable");
    }
    free(maps);
    free(socks);
    free(fds);
}
