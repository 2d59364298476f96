/* exec.c - tasd sockets that survive exec().
 *
 * exec() closes descriptors with FD_CLOEXEC and keeps the others; a tasd
 * socket kept that way must work in the new program, whose libtas starts
 * from nothing.  So before exec (tp_exec_prepare) the library:
 *   1. asks tasd to record what the process holds for the next program,
 *      exactly as for a fork child (TAS_MSG_FORK: a token);
 *   2. writes the sockets whose descriptors stay open (state, tasd ids,
 *      ring offsets, options, and every descriptor number naming each)
 *      into a memfd that stays open, with the shared regions their rings
 *      live in as descriptors that stay open too;
 *   3. passes the memfd's number to the new program in TAS_INHERIT.
 * The new program's libtas (tp_inherit_init, from its constructor) maps
 * the regions, registers with the token, and rebuilds the sockets, which
 * then take themselves over on first use like a fork child's (attach.c).
 * If exec fails, tp_exec_failed undoes it all.  Everything read back is
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
#include <sys/syscall.h>
#include <unistd.h>

#include "libtas/posix/posix.h"

#define INH_MAGIC   0x74617369u                /* "tasi" */
#define INH_VERSION (TAS_ABI_VERSION << 8 | 3) /* the table's own format: 3 */
#define INH_ENV     "TAS_INHERIT"
#define INH_MAX     65536 /* sockets or descriptors */

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
    uint8_t state; /* TC_SS_LISTENING or TC_SS_CONNECTED/CLOSED with a flow */
    uint8_t nonblock, nodelay, keepalive, reuseaddr, reuseport, rd_eof, rd_shut;
    uint8_t wr_shut, linger_on;
    uint8_t release; /* only to let go of: the new program has no descriptor */
    uint8_t v6;
    int32_t linger_secs, rcvtimeo_ms, sndtimeo_ms, map;
    uint32_t listener, backlog, flow, gen;
    uint32_t acc_of; /* waits in the accept queue of socks[acc_of - 1] */
    uint16_t fp_core, mss;
    uint32_t rx_size, tx_size, rx_max, tx_max;
    uint64_t rx_off;   /* the rx ring's start, where the tx ring ends */
    uint64_t info_off; /* its struct tas_flow_info */
    struct sockaddr_in local, peer;
};
struct inh_fd {
    int32_t fd;
    uint32_t sock;
};

struct tp_exec_state {
    uint64_t token;
    char **env;
    int memfd;
    int map_fds[TC_MAX_MAPS + 1];
    int n_map_fds;
};

static bool inheritable(const struct tc_sock *s)
{
    return !s->app_closed && !s->detached && !s->dead &&
           (s->state == TC_SS_LISTENING || s->flow_live);
}

/* The descriptors open now, in the order /proc/self/fd lists them, or,
 * without /proc, the ones our table names.  The kernel's list also has the
 * copies libtas did not see made: a vfork() child's dup2() of a socket onto
 * 0 and 1 (subprocess's stdin=conn) changes only its own descriptors. */
struct fd_iter {
    int dfd;
    long n, pos;
    int tab; /* next number to look at in our table, without /proc */
    char buf[2048] __attribute__((aligned(8)));
};
struct dent64 {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

static void fdi_start(struct fd_iter *it)
{
    it->dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    it->n = it->pos = 0;
    it->tab = 0;
}

static int fdi_next(struct fd_iter *it)
{
    if (it->dfd < 0) {
        int fd = tp_fd_next(it->tab);
        it->tab = fd + 1;
        return fd;
    }
    for (;;) {
        if (it->pos >= it->n) {
            it->n = syscall(SYS_getdents64, it->dfd, it->buf, sizeof(it->buf));
            it->pos = 0;
            if (it->n <= 0)
                return -1;
        }
        const struct dent64 *d = (const void *)(it->buf + it->pos);
        it->pos += d->reclen;
        char *end;
        long fd = strtol(d->name, &end, 10);
        if (d->name[0] >= '0' && d->name[0] <= '9' && *end == '\0' && fd != it->dfd &&
            fd <= INT32_MAX)
            return (int)fd;
    }
}

static void fdi_end(struct fd_iter *it)
{
    if (it->dfd >= 0)
        real_close(it->dfd);
}

/* The tasd socket descriptor fd names, found by the identity of the kernel
 * socket behind it (our table may say another one: see fd_iter). */
static struct tc_sock *sock_of(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
        return NULL;
    struct tc_obj *o = tp_fd_get(fd);
    if (o != NULL && o->kind != TC_OBJ_SOCK)
        return NULL; /* one of ours, or an epoll set */
    struct tc_sock *s = (struct tc_sock *)o;
    if (s != NULL && s->kino == st.st_ino && s->kdev == st.st_dev)
        return s;
    for (s = tc_ctx.all; s != NULL; s = s->all_next)
        if (s->kino != 0 && s->kino == st.st_ino && s->kdev == st.st_dev)
            return s;
    return NULL;
}

/* Which of our mappings holds p: 0 = the current region, i + 1 = maps[i]. */
static int map_of(const void *p)
{
    const struct tc_ctx *c = &tc_ctx;
    const uint8_t *b = p;
    if (b >= (const uint8_t *)c->region &&
        b < (const uint8_t *)c->region + c->region_size)
        return 0;
    for (int i = 0; i < c->n_maps; i++)
        if (b >= (const uint8_t *)c->maps[i].base &&
            b < (const uint8_t *)c->maps[i].base + c->maps[i].size)
            return i + 1;
    return -1;
}

static void undo(struct tp_exec_state *st)
{
    if (st->memfd >= 0)
        real_close(st->memfd);
    for (int i = 0; i < st->n_map_fds; i++)
        real_close(st->map_fds[i]);
    st->memfd = -1;
    st->n_map_fds = 0;
}

/* The table being written. */
struct table {
    struct inh_fd *fds;
    struct inh_sock *socks;
    uint32_t n_fds, n_socks, cap_fds, cap_socks;
};

static bool grow(void **v, uint32_t *cap, uint32_t n, size_t size)
{
    if (n < *cap)
        return true;
    uint32_t nc = *cap ? 2 * *cap : 64;
    void *p = realloc(*v, nc * size);
    if (p == NULL)
        return false;
    *v = p;
    *cap = nc;
    return true;
}

/* s as an entry of the table (the next one); its index + 1 is kept in
 * s->attach_serial.  False if its rings cannot be named or memory is out. */
static bool add_sock(struct table *t, struct tc_sock *s, uint32_t acc_of)
{
    const struct tc_ctx *c = &tc_ctx;
    if (t->n_socks >= INH_MAX ||
        !grow((void **)&t->socks, &t->cap_socks, t->n_socks, sizeof(*t->socks)))
        return false;
    struct inh_sock *x = &t->socks[t->n_socks];
    memset(x, 0, sizeof(*x));
    x->state = s->state;
    x->nonblock = s->nonblock;
    x->v6 = s->v6;
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
    x->acc_of = acc_of;
    if (s->state != TC_SS_LISTENING) {
        x->flow = s->flow;
        x->gen = s->gen;
        x->fp_core = s->fp_core;
        x->mss = s->mss;
        x->map = map_of(s->rx_base);
        if (x->map < 0 || map_of(s->tx_base) != x->map || s->info == NULL ||
            map_of((const uint8_t *)s->info) != x->map || s->tx_end != s->rx_base)
            return false; /* rings we cannot name: it will not survive */
        const uint8_t *base = x->map == 0 ? c->region : c->maps[x->map - 1].base;
        x->rx_off = (uint64_t)(s->rx_base - base);
        x->info_off = (uint64_t)((const uint8_t *)s->info - base);
        x->rx_size = s->rx_size;
        x->tx_size = s->tx_size;
        x->rx_max = s->rx_max;
        x->tx_max = s->tx_max;
    }
    s->attach_serial = ++t->n_socks;
    return true;
}

/* write_table's second half of the sockets: the connections waiting to be
 * accepted on a kept listener, then what tasd recorded for the new program
 * but it will not have (marked release). */
static void add_accepted_and_released(struct table *t)
{
    struct tc_ctx *c = &tc_ctx;
    /* Connections waiting to be accepted on a listener that goes on: the
     * new program accepts them, unless this is a vfork() child, whose
     * parent (in whose memory we run) keeps them. */
    uint32_t n_kept = t->n_socks;
    for (uint32_t i = 0; i < n_kept && !tc_foreign(); i++) {
        if (t->socks[i].state != TC_SS_LISTENING)
            continue;
        struct tc_sock *l = NULL;
        for (struct tc_sock *s = c->listeners; s != NULL && l == NULL; s = s->lnext)
            if (s->attach_serial == i + 1)
                l = s;
        for (struct tc_sock *a = l != NULL ? l->acc_head : NULL; a != NULL;
             a = a->acc_next)
            if (a->attach_serial == 0)
                (void)add_sock(t, a, i + 1); /* (if not, it is released below) */
    }
    /* What tasd recorded for the new program but it will not have: it lets
     * go of these at once. */
    for (struct tc_sock *s = c->all; s != NULL; s = s->all_next) {
        if (s->attach_serial != 0)
            continue;
        struct inh_sock *x;
        if (!add_sock(t, s, 0)) {
            if (t->n_socks >= INH_MAX || t->n_socks >= t->cap_socks)
                continue; /* out of memory: it stays held until the program exits */
            x = &t->socks[t->n_socks++]; /* (its rings do not matter) */
        } else {
            x = &t->socks[t->n_socks - 1];
        }
        x->release = 1;
        x->map = -1;
        x->acc_of = 0;
    }
}

/* Write the table; 0 or -errno.  Lock held. */
static int write_table(struct tp_exec_state *st)
{
    struct tc_ctx *c = &tc_ctx;
    struct table t = {0};

    for (struct tc_sock *s = c->all; s != NULL; s = s->all_next)
        s->attach_serial = inheritable(s) ? 0 : UINT64_MAX; /* index below */
    int err = 0;
    struct fd_iter it;
    /* Descriptors that stay open, and the sockets they name. */
    fdi_start(&it);
    for (int fd = fdi_next(&it); fd >= 0 && t.n_fds < INH_MAX; fd = fdi_next(&it)) {
        struct tc_sock *s = sock_of(fd);
        if (s == NULL)
            continue;
        int fl = real_fcntl(fd, F_GETFD, NULL);
        if (s->attach_serial == UINT64_MAX || fl < 0 || (fl & FD_CLOEXEC))
            continue;
        if (!grow((void **)&t.fds, &t.cap_fds, t.n_fds, sizeof(*t.fds))) {
            err = -ENOMEM;
            break;
        }
        if (s->attach_serial == 0 && !add_sock(&t, s, 0))
            continue;
        t.fds[t.n_fds++] =
            (struct inh_fd){.fd = fd, .sock = (uint32_t)(s->attach_serial - 1)};
    }
    fdi_end(&it);
    it.dfd = -1;
    if (err != 0)
        goto out;
    if (t.n_fds == 0) {
        err = -ENOENT; /* nothing to keep */
        goto out;
    }
    add_accepted_and_released(&t);

    /* The regions, as descriptors the new program inherits: ours, and
     * those holding the rings of a socket that goes on.  (Passing every
     * region we have mapped would grow the list by one per exec(), and
     * past TC_MAX_MAPS a program that execs itself again and again
     * would drop the oldest, where its first connection lives.) */
    bool used[TC_MAX_MAPS + 1] = {true};
    int index[TC_MAX_MAPS + 1];
    for (uint32_t i = 0; i < t.n_socks; i++)
        if (t.socks[i].map >= 0 && t.socks[i].map <= c->n_maps)
            used[t.socks[i].map] = true;
    struct inh_map maps[TC_MAX_MAPS + 1];
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
    for (uint32_t i = 0; i < t.n_socks; i++)
        if (t.socks[i].map >= 0)
            t.socks[i].map = index[t.socks[i].map];

    st->memfd = memfd_create("tas-inherit", 0);
    if (st->memfd < 0) {
        err = -errno;
        goto out;
    }
    struct inh_hdr h = {.magic = INH_MAGIC,
                        .version = INH_VERSION,
                        .token = st->token,
                        .parent_app = c->hdr.app_id,
                        .n_maps = n_maps,
                        .n_socks = t.n_socks,
                        .n_fds = t.n_fds};
    struct iovec v[4] = {{&h, sizeof(h)},
                         {maps, n_maps * sizeof(*maps)},
                         {t.socks, t.n_socks * sizeof(*t.socks)},
                         {t.fds, t.n_fds * sizeof(*t.fds)}};
    size_t total = 0;
    for (int i = 0; i < 4; i++)
        total += v[i].iov_len;
    if ((size_t)real_writev(st->memfd, v, 4) != total)
        err = -EIO;
out:
    fdi_end(&it);
    for (struct tc_sock *s = c->all; s != NULL; s = s->all_next)
        s->attach_serial = 0;
    free(t.fds);
    free(t.socks);
    return err;
}

/* Is any tasd socket's descriptor going to stay open?  Only looks: exec
 * may come from a vfork() child, which shares our memory (Python's
 * subprocess does that, with close-on-exec sockets). */
static bool anything_to_keep(void)
{
    struct fd_iter it;
    bool keep = false;
    fdi_start(&it);
    for (int fd = fdi_next(&it); fd >= 0 && !keep; fd = fdi_next(&it)) {
        const struct tc_sock *s = sock_of(fd);
        if (s == NULL || !inheritable(s))
            continue;
        int fl = real_fcntl(fd, F_GETFD, NULL);
        keep = fl >= 0 && !(fl & FD_CLOEXEC);
    }
    fdi_end(&it);
    return keep;
}

/* Before exec: returns the environment to pass (envp itself when there is
 * nothing to keep, else a copy with TAS_INHERIT; free with the state). */
char **tp_exec_prepare(char *const envp[], struct tp_exec_state **out)
{
    struct tc_ctx *c = &tc_ctx;
    *out = NULL;
    if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != TC_CTX_READY ||
        !anything_to_keep())
        return (char **)envp;
    struct tp_exec_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return (char **)envp;
    st->memfd = -1;

    tc_reg_lock();
    tc_lock();
    int err = -ENOENT;
    if (c->state == TC_CTX_READY && c->all != NULL) {
        /* Connections tasd announced that we have not read yet would be
         * left out of the record: read them into the accept queues. */
        if (!tc_foreign())
            tc_process();
        /* A vfork() child's parent goes on accepting when we exec, and
         * would not know to attach its listeners again: tasd leaves them
         * taking connections. */
        st->token = tc_fork_request(tc_foreign() ? TAS_FORK_PARENT_GOES_ON : 0);
        err = st->token != 0 ? write_table(st) : -EPROTO;
        if (err != 0 && st->token != 0)
            tc_fork_done(st->token, -1);
    }
    tc_unlock();
    tc_reg_unlock();
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
        tp_exec_failed(st);
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
void tp_exec_failed(struct tp_exec_state *st)
{
    if (st == NULL)
        return;
    tc_lock();
    if (st->token != 0 && tc_ctx.state == TC_CTX_READY) {
        tc_fork_done(st->token, -1);
        /* tasd may have stopped giving our listeners connections (as for
         * fork); attaching one that still gets them changes nothing. */
        for (struct tc_sock *s = tc_ctx.listeners; s != NULL; s = s->lnext)
            tc_mark_need_attach(s);
    }
    tc_unlock();
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

/* A socket of the table, made with fd (-1: one waiting to be accepted);
 * NULL if its entry does not hold up. */
static struct tc_sock *make(const struct inh_hdr *h, const struct inh_map *maps,
                            void *const *bases, const struct inh_sock *x, int fd)
{
    struct tc_ctx *c = &tc_ctx;
    bool listening = x->state == TC_SS_LISTENING;
    if (x->release || (listening && fd < 0))
        return NULL;
    if (!listening &&
        (x->map < 0 || (uint32_t)x->map >= h->n_maps || bases[x->map] == NULL ||
         x->flow >= c->flows_n || c->flows[x->flow] != NULL ||
         x->fp_core >= c->hdr.n_fp || x->rx_size == 0 || x->tx_size == 0 ||
         x->rx_size > x->rx_max || x->tx_size > x->tx_max ||
         x->rx_off > maps[x->map].size || x->rx_max > maps[x->map].size - x->rx_off ||
         x->tx_max > x->rx_off || x->info_off > maps[x->map].size ||
         maps[x->map].size - x->info_off < sizeof(struct tas_flow_info)))
        return NULL;
    struct tc_sock *s = tp_sock_new_fd(fd);
    if (s == NULL)
        return NULL;
    if (fd >= 0 && tp_fd_set(fd, &s->obj) != 0) {
        s->fd = -1;
        tc_sock_put(s);
        return NULL;
    }
    /* (Its one reference is the descriptor's, or the accept list's.) */
    s->nonblock = x->nonblock;
    s->v6 = x->v6 != 0;
    s->nodelay = x->nodelay;
    s->keepalive = x->keepalive;
    if (s->keepalive)
        tp_keepalive_read(s);
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
        s->state = TC_SS_LISTENING;
        s->listener = x->listener;
        s->backlog = x->backlog;
        tc_listener_add(s);
    } else {
        s->state = x->state == TC_SS_CLOSED ? TC_SS_CLOSED : TC_SS_CONNECTED;
        s->was_connected = true;
        s->flow = x->flow;
        s->gen = x->gen;
        s->fp_core = x->fp_core;
        s->mss = x->mss;
        s->rx_base = (uint8_t *)bases[x->map] + x->rx_off;
        s->rx_size = x->rx_size;
        s->rx_max = x->rx_max;
        s->tx_end = s->rx_base;
        s->tx_size = x->tx_size;
        s->tx_max = x->tx_max;
        s->tx_base = s->tx_end - s->tx_size;
        s->info = (const struct tas_flow_info *)((uint8_t *)bases[x->map] + x->info_off);
        s->rd_eof = x->rd_eof;
        s->rd_shut = x->rd_shut;
        s->wr_shut = x->wr_shut;
        c->flows[x->flow] = s;
        tc_sock_get(s);
        s->flow_live = true;
    }
    s->need_attach = true;
    c->attach_pending = true;
    return s;
}

/* tasd recorded for us all the old program held; what we did not rebuild
 * (its descriptors were closed, or its entry is bad) we let go of at once,
 * as the kernel would have closed it. */
static void release(const struct inh_sock *x)
{
    if (x->state == TC_SS_LISTENING) {
        struct tas_spin_unlisten u = {.listener = x->listener};
        tc_sp_post(NULL, TAS_SPIN_UNLISTEN, &u, sizeof(u));
    } else {
        struct tas_spin_flow f = {.flow = x->flow, .gen = x->gen};
        tc_sp_post(NULL, TAS_SPIN_CLOSE, &f, sizeof(f));
    }
}

static void rebuild(const struct inh_hdr *h, const struct inh_map *maps,
                    void *const *bases, const struct inh_sock *socks,
                    const struct inh_fd *fds)
{
    struct tc_sock **made = calloc(h->n_socks, sizeof(*made));
    if (made == NULL)
        return;
    for (uint32_t i = 0; i < h->n_fds; i++) {
        const struct inh_fd *f = &fds[i];
        if (f->sock >= h->n_socks || f->fd < 0 || f->fd >= TP_FD_MAX ||
            tp_fd_get(f->fd) != NULL || real_fcntl(f->fd, F_GETFD, NULL) < 0)
            continue;
        struct tc_sock *s = made[f->sock];
        if (s != NULL) { /* another descriptor of the same socket */
            if (tp_fd_set(f->fd, &s->obj) == 0) {
                tc_sock_get(s);
                s->n_dups++;
            }
            continue;
        }
        made[f->sock] = make(h, maps, bases, &socks[f->sock], f->fd);
    }
    /* Connections that waited in a kept listener's accept queue wait in
     * ours (the old program was this process: nobody else takes them). */
    for (uint32_t i = 0; i < h->n_socks; i++) {
        const struct inh_sock *x = &socks[i];
        if (x->acc_of == 0 || x->acc_of > h->n_socks || made[i] != NULL)
            continue;
        struct tc_sock *l = made[x->acc_of - 1];
        if (l == NULL || l->state != TC_SS_LISTENING)
            continue;
        struct tc_sock *s = make(h, maps, bases, x, -1);
        if (s == NULL)
            continue;
        s->acc_inherited = true;
        tc_listener_enqueue(l, s);
        made[i] = s;
    }
    for (uint32_t i = 0; i < h->n_socks; i++)
        if (made[i] == NULL)
            release(&socks[i]);
    free(made);
}

void tp_inherit_init(void)
{
    const char *v = getenv(INH_ENV);
    if (v == NULL)
        return;
    char *end;
    long mfd = strtol(v, &end, 10);
    unsetenv(INH_ENV); /* for the programs this one starts */
    if (*end != '\0' || mfd < 0 || mfd > INT32_MAX)
        return;
    tp_core_start();
    struct inh_hdr h;
    struct stat sb;
    if (fstat((int)mfd, &sb) != 0 || !read_all((int)mfd, &h, sizeof(h), 0) ||
        h.magic != INH_MAGIC || h.version != INH_VERSION || h.n_maps == 0 ||
        h.n_maps > TC_MAX_MAPS + 1 || h.n_socks == 0 || h.n_socks > INH_MAX ||
        h.n_fds == 0 || h.n_fds > INH_MAX) {
        real_close((int)mfd);
        return;
    }
    size_t lm = h.n_maps * sizeof(struct inh_map),
           ls = h.n_socks * sizeof(struct inh_sock), lf = h.n_fds * sizeof(struct inh_fd);
    struct inh_map *maps = malloc(lm);
    struct inh_sock *socks = malloc(ls);
    struct inh_fd *fds = malloc(lf);
    void *bases[TC_MAX_MAPS + 1] = {0};
    bool ok = maps && socks && fds && read_all((int)mfd, maps, lm, sizeof(h)) &&
              read_all((int)mfd, socks, ls, sizeof(h) + lm) &&
              read_all((int)mfd, fds, lf, sizeof(h) + lm + ls);
    real_close((int)mfd);

    for (uint32_t i = 0; ok && i < h.n_maps; i++) {
        struct stat rs;
        int rfd = maps[i].fd;
        if (rfd < 0)
            continue;
        if (fstat(rfd, &rs) == 0 && maps[i].size > 0 &&
            (uint64_t)rs.st_size >= maps[i].size) {
            void *b =
                mmap(NULL, maps[i].size, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
            if (b != MAP_FAILED) {
                bases[i] = b;
                tc_ctx_add_map(b, maps[i].size, rfd);
                continue;
            }
        }
        real_close(rfd);
    }
    if (ok && tc_ctx_register_inherited(h.token, h.parent_app) == 0) {
        tc_lock();
        rebuild(&h, maps, bases, socks, fds);
        tc_unlock();
    } else {
        tc_say_once(&said_inherit, "libtas: tasd sockets inherited across exec() "
                                   "could not be taken over; they are unusable");
    }
    free(maps);
    free(socks);
    free(fds);
}
