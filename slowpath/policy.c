/* policy.c - what the operator decides per application, user or local
 * port: a rate cap, a connection limit, the congestion control.
 *
 * Rules (slowpath.h's struct sp_policy_spec) come from tasd.conf's policy
 * section at start and again on SIGHUP (systemctl reload: the file's
 * policy replaces the one in force), and from tasctl at run time:
 *     policy set app PID|COMMAND rate MBPS | max-conns N | cc NAME ...
 *     policy get
 *     policy clear app|uid|port KEY
 * A set adds to the target's rule (a new value replaces the old one); a
 * clear removes the target's rule.  Every change applies at once to the
 * live connections, without resetting them: each connection's algorithm
 * is chosen again and the fast path gets the new rate (conn_cc.c).
 *
 * Which rule counts for a connection: for the congestion control, the
 * first of app by pid, app by command, uid, port that names one (the
 * socket's own TCP_CONGESTION comes before all of them); a rate cap and a
 * connection limit of each matching rule hold together.
 *
 * Rate caps of an application or user are the sum of an application's
 * connections: every SP_POLICY_TICK_MS its cap is divided evenly among
 * its connections that moved data in the last SP_POLICY_IDLE_MS, and each
 * of its connections is paced at that share by the fast path's queue
 * manager, so the sum stays within the cap wherever the flows run.  A
 * port's rate, and tcp.rate_limit_mbps, cap each connection.
 *
 * Connection limits: a connection that would exceed one is refused and
 * counted in its rule's refused: a SYN to a listener with an RST (the
 * client's connect() fails with ECONNREFUSED), a connect() with ENOBUFS
 * (where limits.app_max_conns refuses it: sp_conn_reserve, also the last
 * word for a handshake that completes when the limit was reached since
 * its SYN: then it is dropped as for a full accept queue).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "common/json.h"
#include "slowpath/sp.h"

#define SP_POLICY_RULES   256
#define SP_POLICY_TICK_MS 10
#define SP_POLICY_IDLE_MS 100

struct rule {
    struct sp_policy_spec s; /* target and what is set */
    const struct sp_cc_ops *cc;
    uint32_t n_conns; /* port: its live connections counted (c->pol_port) */
    uint64_t refused; /* connections its max_conns refused */
};

static struct rule rules[SP_POLICY_RULES];
static unsigned n_rules;
static uint64_t last_tick_ms;

static bool same_target(const struct sp_policy_spec *a, const struct sp_policy_spec *b)
{
    if (a->kind != b->kind || a->by_comm != b->by_comm)
        return false;
    return a->by_comm ? !strcmp(a->comm, b->comm) : a->key == b->key;
}

static bool app_match(const struct sp_policy_spec *s, const struct sp_app *a)
{
    if (a == NULL)
        return false;
    switch (s->kind) {
    case SP_POL_APP:
        return s->by_comm ? !strncmp(s->comm, a->comm, sizeof(s->comm))
                          : (uint32_t)a->pid == s->key;
    case SP_POL_UID:
        return a->euid == s->key;
    default:
        return false;
    }
}

static bool conn_match(const struct sp_policy_spec *s, const struct sp_conn *c,
                       const struct sp_app *a)
{
    if (s->kind == SP_POL_PORT)
        return ntohs(c->lport) == s->key;
    return app_match(s, a);
}

/* The rules in the order they count for the congestion control. */
static unsigned rank(const struct sp_policy_spec *s)
{
    return s->kind == SP_POL_APP ? (s->by_comm ? 1 : 0) : s->kind;
}

static uint32_t lower(uint32_t a, uint32_t b)
{
    return a == 0 ? b : b == 0 || a < b ? a : b;
}

/* What the rules say of c, an application a's connection: its algorithm
 * and its port's rate cap (conn_cc.c reads them). */
static void conn_fill(struct sp_conn *c, const struct sp_app *a)
{
    const struct rule *best = NULL;
    uint32_t rate = 0;
    for (unsigned i = 0; i < n_rules; i++) {
        const struct rule *r = &rules[i];
        if (!conn_match(&r->s, c, a))
            continue;
        if (r->cc != NULL && (best == NULL || rank(&r->s) < rank(&best->s)))
            best = r;
        if (r->s.kind == SP_POL_PORT && r->s.has_rate)
            rate = lower(rate, r->s.rate_mbps * 1000u);
    }
    c->pol_cc = best != NULL ? best->cc : NULL;
    c->pol_rate_kbps = rate;
}

/* The cap on an application's connections together (0: none). */
static uint32_t app_cap(const struct sp_app *a)
{
    uint32_t cap = 0;
    for (unsigned i = 0; i < n_rules; i++)
        if (rules[i].s.kind != SP_POL_PORT && rules[i].s.has_rate &&
            app_match(&rules[i].s, a))
            cap = lower(cap, rules[i].s.rate_mbps * 1000u);
    return cap;
}

static uint32_t uid_conns(uint32_t uid)
{
    uint32_t n = 0;
    for (const struct sp_app *a = sp.apps; a != NULL; a = a->next)
        if (a->euid == uid && !a->dying)
            n += a->n_conns;
    return n;
}

bool sp_policy_room(struct sp_app *a, uint16_t lport)
{
    for (unsigned i = 0; i < n_rules; i++) {
        struct rule *r = &rules[i];
        uint32_t n;
        if (!r->s.has_max_conns)
            continue;
        if (r->s.kind == SP_POL_PORT) {
            if (ntohs(lport) != r->s.key)
                continue;
            n = r->n_conns;
        } else {
            if (!app_match(&r->s, a))
                continue;
            n = r->s.kind == SP_POL_UID ? uid_conns(r->s.key) : a->n_conns;
        }
        if (n >= r->s.max_conns) {
            r->refused++;
            sp.cnt.policy_refused++;
            return false;
        }
    }
    return true;
}

bool sp_policy_admit(struct sp_conn *c, struct sp_app *a)
{
    if (!sp_policy_room(a, c->lport))
        return false;
    for (unsigned i = 0; i < n_rules; i++)
        if (rules[i].s.kind == SP_POL_PORT && ntohs(c->lport) == rules[i].s.key) {
            rules[i].n_conns++;
            c->pol_port = true;
            break;
        }
    /* A new connection of a capped application starts at a share. */
    c->pol_share_kbps = a->pol_cap_kbps == 0 ? 0 : a->pol_cap_kbps / (a->pol_active + 1);
    conn_fill(c, a);
    return true;
}

void sp_policy_conn_gone(struct sp_conn *c)
{
    if (!c->pol_port)
        return;
    c->pol_port = false;
    for (unsigned i = 0; i < n_rules; i++)
        if (rules[i].s.kind == SP_POL_PORT && ntohs(c->lport) == rules[i].s.key &&
            rules[i].n_conns > 0) {
            rules[i].n_conns--;
            return;
        }
}

/* A connection's port counts towards the first rule of its port. */
static void recount_ports(void)
{
    for (unsigned i = 0; i < n_rules; i++)
        rules[i].n_conns = 0;
    for (struct sp_app *a = sp.apps; a != NULL; a = a->next)
        for (struct sp_conn *c = a->conns; c != NULL; c = c->anext) {
            c->pol_port = false;
            for (unsigned i = 0; i < n_rules; i++)
                if (rules[i].s.kind == SP_POL_PORT && ntohs(c->lport) == rules[i].s.key) {
                    rules[i].n_conns++;
                    c->pol_port = true;
                    break;
                }
        }
}

/* Moved data lately (for the share of its application's cap). */
static bool conn_active(struct sp_conn *c)
{
    if (c->fstate != SP_FLOW_INSTALLED)
        return false;
    const struct fp_flow *f = &fp.flows[c->flow];
    uint32_t acked = sp_rd32(&f->cnt_acked);
    if (acked != c->pol_seen_acked || sp_rd32(&f->tx_avail) != 0 ||
        sp_rd32(&f->tx_sent) != 0) {
        c->pol_seen_acked = acked;
        c->pol_active_ms = sp.now_ms;
    }
    return c->pol_active_ms != 0 && sp.now_ms - c->pol_active_ms < SP_POLICY_IDLE_MS;
}

/* Divide each capped application's rate among its active connections. */
static void share_out(bool all)
{
    for (struct sp_app *a = sp.apps; a != NULL; a = a->next) {
        uint32_t cap = a->dying ? 0 : app_cap(a);
        if (cap == 0 && a->pol_cap_kbps == 0)
            continue;
        a->pol_cap_kbps = cap;
        uint32_t n = 0;
        for (struct sp_conn *c = a->conns; c != NULL; c = c->anext)
            n += conn_active(c);
        a->pol_active = n;
        uint32_t share = cap == 0 ? 0 : cap / (n > 0 ? n : 1);
        if (cap != 0 && share == 0)
            share = 1;
        for (struct sp_conn *c = a->conns; c != NULL; c = c->anext) {
            if (c->pol_share_kbps == share && !all)
                continue;
            c->pol_share_kbps = share;
            if (!all)
                sp_conn_cc_rechoose(c);
        }
    }
}

void sp_policy_tick(void)
{
    if (sp.now_ms - last_tick_ms < SP_POLICY_TICK_MS)
        return;
    last_tick_ms = sp.now_ms;
    share_out(false);
}

/* After a change: shares, port counts, every live connection. */
static void apply(void)
{
    recount_ports();
    share_out(true);
    for (struct sp_conn *c = sp.conns; c != NULL; c = c->lnext) {
        if (c->app == NULL)
            continue;
        conn_fill(c, c->app);
        sp_conn_cc_rechoose(c);
    }
}

static int add(const struct sp_policy_spec *s, char *err, size_t errlen)
{
    struct rule *r = NULL;
    for (unsigned i = 0; i < n_rules && r == NULL; i++)
        if (same_target(&rules[i].s, s))
            r = &rules[i];
    if (r == NULL) {
        if (n_rules == SP_POLICY_RULES) {
            snprintf(err, errlen, "too many policy rules (at most %d)", SP_POLICY_RULES);
            return -ENOSPC;
        }
        r = &rules[n_rules++];
        memset(r, 0, sizeof(*r));
        r->s.kind = s->kind;
        r->s.by_comm = s->by_comm;
        r->s.key = s->key;
        memcpy(r->s.comm, s->comm, sizeof(r->s.comm));
    }
    if (s->has_rate) {
        r->s.has_rate = true;
        r->s.rate_mbps = s->rate_mbps;
    }
    if (s->has_max_conns) {
        r->s.has_max_conns = true;
        r->s.max_conns = s->max_conns;
    }
    if (s->has_cc) {
        r->s.has_cc = true;
        memcpy(r->s.cc, s->cc, sizeof(r->s.cc));
        r->cc = sp_cc_find(s->cc);
    }
    return 0;
}

static bool del(const struct sp_policy_spec *s)
{
    for (unsigned i = 0; i < n_rules; i++)
        if (same_target(&rules[i].s, s)) {
            rules[i] = rules[--n_rules];
            return true;
        }
    return false;
}

int sp_policy_load(const struct sp_policy_spec *specs, unsigned n)
{
    char err[128];
    n_rules = 0;
    for (unsigned i = 0; i < n; i++)
        if (add(&specs[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "tasd: policy: %s\n", err);
            return -ENOSPC;
        }
    apply();
    return 0;
}

void sp_policy_reload(void)
{
    static struct sp_policy_spec specs[SP_MAX_POLICY];
    unsigned n = 0;
    if (sp.cfg.reload_policy == NULL ||
        sp.cfg.reload_policy(specs, SP_MAX_POLICY, &n) != 0) {
        fprintf(stderr, "tasd: reload: the policy in force stays\n");
        return;
    }
    if (sp_policy_load(specs, n) == 0) {
        sp.cnt.policy_reloads++;
        fprintf(stderr, "tasd: reload: %u policy rule(s) from the configuration\n", n);
    }
}

/* ---- tasctl ---------------------------------------------------------- */

static const char *kind_name(uint8_t k)
{
    return k == SP_POL_APP ? "app" : k == SP_POL_UID ? "uid" : "port";
}

static void key_str(const struct sp_policy_spec *s, char *b, size_t n)
{
    if (s->by_comm)
        snprintf(b, n, "%s", s->comm);
    else
        snprintf(b, n, "%u", s->key);
}

/* Connections the rule applies to now. */
static uint32_t rule_conns(const struct rule *r)
{
    if (r->s.kind == SP_POL_PORT)
        return r->n_conns;
    uint32_t n = 0;
    for (const struct sp_app *a = sp.apps; a != NULL; a = a->next)
        if (!a->dying && app_match(&r->s, a))
            n += a->n_conns;
    return n;
}

static struct json_object *rules_json(void)
{
    struct json_object *o = json_object_new_object();
    struct json_object *arr = cm_json_arr(o, "rules");
    for (unsigned i = 0; i < n_rules; i++) {
        const struct rule *r = &rules[i];
        struct json_object *j = json_object_new_object();
        char key[SP_POL_COMM_MAX + 12];
        key_str(&r->s, key, sizeof(key));
        cm_json_str(j, "target", kind_name(r->s.kind));
        cm_json_str(j, "key", key);
        cm_json_add(j, "rate_mbps",
                    r->s.has_rate ? json_object_new_uint64(r->s.rate_mbps) : NULL);
        cm_json_add(j, "max_conns",
                    r->s.has_max_conns ? json_object_new_uint64(r->s.max_conns) : NULL);
        cm_json_add(j, "cc", r->s.has_cc ? json_object_new_string(r->s.cc) : NULL);
        cm_json_u64(j, "conns", rule_conns(r));
        cm_json_u64(j, "refused", r->refused);
        cm_json_push(arr, j);
    }
    return o;
}

static void rules_write(FILE *f)
{
    fprintf(f, "%-6s %-16s %-10s %-10s %-8s %-8s %s\n", "TARGET", "KEY", "RATE_MBPS",
            "MAX_CONNS", "CC", "CONNS", "REFUSED");
    for (unsigned i = 0; i < n_rules; i++) {
        const struct rule *r = &rules[i];
        char key[SP_POL_COMM_MAX + 12], rate[16] = "-", mc[16] = "-";
        key_str(&r->s, key, sizeof(key));
        if (r->s.has_rate)
            snprintf(rate, sizeof(rate), "%u", r->s.rate_mbps);
        if (r->s.has_max_conns)
            snprintf(mc, sizeof(mc), "%u", r->s.max_conns);
        fprintf(f, "%-6s %-16s %-10s %-10s %-8s %-8u %lu\n", kind_name(r->s.kind), key,
                rate, mc, r->s.has_cc ? r->s.cc : "-", rule_conns(r),
                (unsigned long)r->refused);
    }
}

/* Carry out a request; NULL: done (a set or a clear) or a get (*get). */
static int request(int argc, char *const argv[], bool *get, char *err, size_t errlen)
{
    struct sp_policy_spec s;
    *get = false;
    if (argc == 0 || !strcmp(argv[0], "get")) {
        if (argc > 1) {
            snprintf(err, errlen, "policy get takes nothing more");
            return -EINVAL;
        }
        *get = true;
        return 0;
    }
    bool set = !strcmp(argv[0], "set"), clear = !strcmp(argv[0], "clear");
    if (!set && !clear) {
        snprintf(err, errlen, "policy %s: want set, get or clear", argv[0]);
        return -EINVAL;
    }
    int rc = sp_policy_parse(argc - 1, argv + 1, clear, &s, err, errlen);
    if (rc != 0)
        return rc;
    if (clear && !del(&s)) {
        snprintf(err, errlen, "no policy for %s %s", argv[1], argv[2]);
        return -ENOENT;
    }
    if (set && (rc = add(&s, err, errlen)) != 0)
        return rc;
    sp.cnt.policy_changes++;
    apply();
    return 0;
}

int sp_policy_request(FILE *f, int argc, char *const argv[])
{
    char err[160];
    bool get;
    if (request(argc, argv, &get, err, sizeof(err)) != 0) {
        fprintf(f, "error: %s\n", err);
        return 1;
    }
    if (get)
        rules_write(f);
    else
        fprintf(f, "ok\n");
    return 0;
}

struct json_object *sp_policy_request_json(int argc, char *const argv[])
{
    char err[160];
    bool get;
    if (request(argc, argv, &get, err, sizeof(err)) != 0) {
        struct json_object *o = json_object_new_object();
        cm_json_str(o, "error", err);
        return o;
    }
    if (get)
        return rules_json();
    struct json_object *o = json_object_new_object();
    cm_json_bool(o, "ok", true);
    return o;
}
