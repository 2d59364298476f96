/* test_config.c - tasd's configuration loader (tasd/config.c, with its
 * table of settings tasd/config_table.c): the file, the command line, and
 * the error messages a user sees.
 *
 * Each test writes a small libconfig file, calls tasd_config_load with an
 * argv like tasd's, and checks the resulting struct or what went to stderr.
 * Every call passes --config, so a /etc/tasd/tasd.conf on the machine never
 * leaks in.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tasd/config.h"

static char err[8192];       /* what the last load wrote to stderr */
static char path[64];        /* the last file written */
static char written[16][64]; /* every file this test wrote, removed at fini */
static int n_written;

/* Write text to a fresh file; returns its path. */
static const char *conf(const char *text)
{
    int fd;

    snprintf(path, sizeof(path), "/tmp/test_config-XXXXXX");
    fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    if (n_written < 16)
        memcpy(written[n_written++], path, sizeof(path));
    return path;
}

/* tasd_config_load on a NULL-terminated list of arguments, capturing stderr
 * (and stdout, for --help). */
static int load(struct tasd_config *c, ...)
{
    char *argv[64] = {"tasd"};
    int argc = 1, saved_err, saved_out, rc;
    FILE *tmp = tmpfile();
    size_t n;
    va_list ap;

    va_start(ap, c);
    while ((argv[argc] = va_arg(ap, char *)) != NULL)
        argc++;
    va_end(ap);

    fflush(stderr);
    fflush(stdout);
    saved_err = dup(2);
    saved_out = dup(1);
    dup2(fileno(tmp), 2);
    dup2(fileno(tmp), 1);
    rc = tasd_config_load(c, argc, argv);
    fflush(stderr);
    fflush(stdout);
    dup2(saved_err, 2);
    dup2(saved_out, 1);
    close(saved_err);
    close(saved_out);
    rewind(tmp);
    n = fread(err, 1, sizeof(err) - 1, tmp);
    err[n] = '\0';
    fclose(tmp);
    return rc;
}

static uint32_t ip(const char *s)
{
    struct in_addr a;
    cr_assert(inet_pton(AF_INET, s, &a) == 1);
    return a.s_addr;
}

static void unlink_conf(void)
{
    for (int i = 0; i < n_written; i++)
        unlink(written[i]);
}

TestSuite(config, .fini = unlink_conf);

Test(config, good_file_sets_every_group)
{
    struct tasd_config c;
    const char *f = conf("ip = \"10.0.0.2/24\";\n"
                         "routes = ( { dest = \"0.0.0.0/0\"; gateway = \"10.0.0.1\"; },\n"
                         "           { dest = \"192.168.0.0/16\"; } );\n"
                         "host_if = { name = \"tas0\"; ip = \"10.0.0.1/24\"; };\n"
                         "dpdk = \"--no-huge --vdev net_tap0\";\n"
                         "fp_cores = 2;\n"
                         "poll = \"busy\";\n"
                         "slow_path_thread = \"own\";\n"
                         "run_dir = \"/tmp/tasd-run\";\n"
                         "limits = { max_flows = 1024; queue_entries = 256; };\n"
                         "tcp = { rx_buf_size = 65536; sack = false; cc = \"none\";\n"
                         "        rto_min_ms = 100; };\n");

    cr_assert_eq(load(&c, "--config", f, NULL), 0, "stderr: %s", err);
    cr_assert_str_eq(c.config_file, f);
    cr_assert_eq(c.ip, ip("10.0.0.2"));
    cr_assert_eq(c.prefix, 24);
    cr_assert_eq(c.n_routes, 2);
    cr_assert_eq(c.routes[0].dest, 0);
    cr_assert_eq(c.routes[0].prefix, 0);
    cr_assert_eq(c.routes[0].gw, ip("10.0.0.1"));
    cr_assert_eq(c.routes[1].dest, ip("192.168.0.0"));
    cr_assert_eq(c.routes[1].prefix, 16);
    cr_assert_eq(c.routes[1].gw, 0);
    cr_assert_str_eq(c.host_if, "tas0");
    cr_assert_eq(c.host_ip, ip("10.0.0.1"));
    cr_assert_str_eq(c.dpdk_args, "--no-huge --vdev net_tap0");
    cr_assert_eq(c.fp_cores, 2);
    cr_assert_eq(c.poll, TASD_POLL_BUSY);
    cr_assert_eq(c.sp_thread, TASD_SP_OWN);
    cr_assert_str_eq(c.run_dir, "/tmp/tasd-run");
    cr_assert_eq(c.max_flows, 1024);
    cr_assert_eq(c.queue_entries, 256);
    cr_assert_eq(c.rx_buf_size, 65536);
    cr_assert_not(c.sack);
    cr_assert_str_eq(c.cc, "none");
    cr_assert_eq(c.rto_min_ms, 100);
    cr_assert_not(c.check_only);
}

Test(config, unset_keys_keep_their_defaults)
{
    struct tasd_config c;

    cr_assert_eq(load(&c, "--config", conf("ip = \"10.0.0.2/24\";\n"), NULL), 0);
    cr_assert_str_eq(c.run_dir, "/run/tasd");
    cr_assert_eq(c.fp_cores, 1);
    cr_assert_eq(c.poll, TASD_POLL_ADAPTIVE);
    cr_assert_eq(c.poll_max_sleep_us, 2000);
    cr_assert_eq(c.sp_thread, TASD_SP_AUTO);
    cr_assert_eq(c.max_flows, 131072);
    cr_assert_eq(c.app_max_conns, 65536);
    cr_assert_eq(c.app_mem_mb, 0);
    cr_assert_eq(c.max_ctx, 16);
    cr_assert_eq(c.queue_entries, 1024);
    cr_assert_eq(c.rx_buf_size, 131072);
    cr_assert_eq(c.tx_buf_size, 131072);
    cr_assert_eq(c.rx_buf_initial, 3072);
    cr_assert_eq(c.tx_buf_initial, 1024);
    cr_assert(c.timestamps && c.window_scaling && c.sack);
    cr_assert_eq(c.rto_min_ms, 200);
    cr_assert_eq(c.rto_initial_ms, 1000);
    cr_assert_eq(c.rto_max_ms, 60000);
    cr_assert_eq(c.max_retries, 15);
    cr_assert_eq(c.syn_retries, 6);
    cr_assert_eq(c.time_wait_ms, 60000);
    cr_assert_eq(c.arp_timeout_ms, 60000);
    cr_assert_eq(c.control_interval_us, 1000);
    cr_assert_str_eq(c.cc, "reno");
    cr_assert_eq(c.rate_limit_mbps, 0);
    cr_assert_eq(c.host_if[0], '\0');
    cr_assert_eq(c.n_routes, 0);
}

Test(config, syntax_error_names_file_and_line_and_exits_2)
{
    struct tasd_config c;
    char want[128];
    const char *f = conf("ip = \"10.0.0.2/24\";\n"
                         "fp_cores = 1;\n"
                         "poll = ;\n");

    cr_assert_eq(load(&c, "--config", f, NULL), 2);
    snprintf(want, sizeof(want), "tasd: %s:3: ", f);
    cr_assert(strstr(err, want), "stderr: %s", err);
}

Test(config, out_of_range_value_names_file_line_and_key)
{
    struct tasd_config c;
    char want[160];
    const char *f = conf("ip = \"10.0.0.2/24\";\n"
                         "tcp = {\n"
                         "    rto_min_ms = 0;\n"
                         "};\n");

    cr_assert_eq(load(&c, "--config", f, NULL), 2);
    snprintf(want, sizeof(want),
             "tasd: %s:3: tcp.rto_min_ms: must be an integer between 1 and 60000\n", f);
    cr_assert_str_eq(err, want);
}

Test(config, buffer_size_must_be_a_power_of_two)
{
    struct tasd_config c;

    cr_assert_eq(load(&c, "--config",
                      conf("ip = \"10.0.0.2/24\";\n"
                           "tcp = { tx_buf_size = 100000; };\n"),
                      NULL),
                 2);
    cr_assert(strstr(err, ":2: tcp.tx_buf_size: must be a power of two between 4096 and "
                          "16777216"),
              "stderr: %s", err);
    cr_assert_eq(load(&c, "--config", conf("ip = \"10.0.0.2/24\";\n"), "--rx-buf-size",
                      "33554432", NULL),
                 2);
    cr_assert(strstr(err, "--rx-buf-size 33554432: must be a power of two"), "stderr: %s",
              err);
}

Test(config, wrong_type_is_an_error)
{
    struct tasd_config c;

    cr_assert_eq(load(&c, "--config",
                      conf("ip = \"10.0.0.2/24\";\n"
                           "fp_cores = \"2\";\n"
                           "tcp = { sack = 1; };\n"),
                      NULL),
                 2);
    cr_assert(strstr(err, ":2: fp_cores: must be an integer between 1 and 8"), "%s", err);
    cr_assert(strstr(err, ":3: tcp.sack: must be true or false"), "%s", err);
}

Test(config, unknown_key_is_rejected_at_top_level_and_in_groups)
{
    struct tasd_config c;
    const char *f = conf("ip = \"10.0.0.2/24\";\n"
                         "fp_core = 2;\n"
                         "tcp = { rto_minimum = 5; };\n");

    cr_assert_eq(load(&c, "--config", f, NULL), 2);
    cr_assert(strstr(err, ":2: fp_core: unknown setting"), "stderr: %s", err);
    cr_assert(strstr(err, ":3: tcp.rto_minimum: unknown setting"), "stderr: %s", err);
}

Test(config, command_line_overrides_the_file)
{
    struct tasd_config c;
    const char *f = conf("ip = \"10.0.0.2/24\";\n"
                         "fp_cores = 2;\n"
                         "poll = \"busy\";\n"
                         "tcp = { timestamps = true; rto_min_ms = 300; };\n");

    cr_assert_eq(load(&c, "--config", f, "--ip", "10.9.0.5/16", "--fp-cores", "3",
                      "--poll", "adaptive", "--timestamps", "off", "--rto-min-ms", "250",
                      "--run-dir", "/tmp/r", "--dpdk", "--no-huge -m 512", NULL),
                 0, "stderr: %s", err);
    cr_assert_eq(c.ip, ip("10.9.0.5"));
    cr_assert_eq(c.prefix, 16);
    cr_assert_eq(c.fp_cores, 3);
    cr_assert_eq(c.poll, TASD_POLL_ADAPTIVE);
    cr_assert_not(c.timestamps);
    cr_assert_eq(c.rto_min_ms, 250);
    cr_assert_str_eq(c.run_dir, "/tmp/r");
    cr_assert_str_eq(c.dpdk_args, "--no-huge -m 512");
}

Test(config, route_flags_replace_the_files_routes)
{
    struct tasd_config c;
    const char *f =
        conf("ip = \"10.0.0.2/24\";\n"
             "routes = ( { dest = \"172.16.0.0/12\"; gateway = \"10.0.0.9\"; } );\n");

    cr_assert_eq(load(&c, "--config", f, "--route", "0.0.0.0/0,10.0.0.1", "--route",
                      "192.168.4.0/22", "--route", "default,10.0.0.254", NULL),
                 0, "stderr: %s", err);
    cr_assert_eq(c.n_routes, 3);
    cr_assert_eq(c.routes[0].dest, 0);
    cr_assert_eq(c.routes[0].prefix, 0);
    cr_assert_eq(c.routes[0].gw, ip("10.0.0.1"));
    cr_assert_eq(c.routes[1].dest, ip("192.168.4.0"));
    cr_assert_eq(c.routes[1].prefix, 22);
    cr_assert_eq(c.routes[1].gw, 0);
    cr_assert_eq(c.routes[2].gw, ip("10.0.0.254"));
}

Test(config, malformed_routes_are_rejected)
{
    struct tasd_config c;
    const char *f = conf("ip = \"10.0.0.2/24\";\n");

    cr_assert_eq(load(&c, "--config", f, "--route", "10.1.0.1/16,10.0.0.1", NULL), 2);
    cr_assert(strstr(err, "--route 10.1.0.1/16,10.0.0.1: destination has bits set"), "%s",
              err);
    cr_assert_eq(load(&c, "--config", f, "--route", "10.1.0.0/33", NULL), 2);
    cr_assert_eq(load(&c, "--config", f, "--route", "10.1.0.0/16,10.0.0", NULL), 2);
    cr_assert(strstr(err, "gateway must be an IPv4 address"), "%s", err);
    cr_assert_eq(load(&c, "--config", f, "--route", "10.1.0.0", NULL), 2);
}

Test(config, gateway_outside_the_subnet_names_the_route_line)
{
    struct tasd_config c;
    char want[160];
    const char *f = conf("ip = \"10.0.0.2/24\";\n"
                         "routes = (\n"
                         "  { dest = \"0.0.0.0/0\"; gateway = \"10.0.1.1\"; }\n"
                         ");\n");

    cr_assert_eq(load(&c, "--config", f, NULL), 2);
    snprintf(
        want, sizeof(want),
        "tasd: %s:3: routes[0].gateway: 10.0.1.1 is not a neighbour in 10.0.0.2/24\n", f);
    cr_assert_str_eq(err, want);
}

Test(config, missing_address_is_an_error)
{
    struct tasd_config c;

    cr_assert_eq(load(&c, "--config", conf("fp_cores = 1;\n"), NULL), 2);
    cr_assert(strstr(err, "no address: set ip in"), "stderr: %s", err);
    cr_assert(strstr(err, "--ip ADDR/PREFIX"), "stderr: %s", err);
}

Test(config, bad_address_is_an_error)
{
    struct tasd_config c;
    const char *f = conf("");

    cr_assert_eq(load(&c, "--config", f, "--ip", "10.0.0.2", NULL), 2);
    cr_assert(strstr(err, "--ip 10.0.0.2: must be an IPv4 address with prefix length"),
              "%s", err);
    cr_assert_eq(load(&c, "--config", f, "--ip", "224.0.0.1/24", NULL), 2);
    cr_assert_eq(load(&c, "--config", f, "--ip", "10.0.0.300/24", NULL), 2);
}

Test(config, host_interface_needs_an_address)
{
    struct tasd_config c;
    const char *f = conf("ip = \"10.0.0.2/24\";\nhost_if = { name = \"tas0\"; };\n");

    cr_assert_eq(load(&c, "--config", f, NULL), 2);
    cr_assert(strstr(err, "host_if.ip: required"), "stderr: %s", err);
    cr_assert_eq(load(&c, "--config", f, "--host-ip", "10.0.0.1/24", NULL), 0, "%s", err);
    cr_assert_eq(load(&c, "--config", f, "--host-if", "", NULL), 0, "%s", err);
    cr_assert_eq(c.host_if[0], '\0');
}

Test(config, rto_bounds_must_be_in_order)
{
    struct tasd_config c;

    cr_assert_eq(load(&c, "--config",
                      conf("ip = \"10.0.0.2/24\";\n"
                           "tcp = { rto_initial_ms = 100; };\n"),
                      NULL),
                 2);
    cr_assert(strstr(err, ":2: tcp.rto_initial_ms: must be between"), "stderr: %s", err);
}

Test(config, bad_command_line_usage_exits_2)
{
    struct tasd_config c;
    const char *f = conf("ip = \"10.0.0.2/24\";\n");

    cr_assert_eq(load(&c, "--config", f, "--no-such-flag", NULL), 2);
    cr_assert(strstr(err, "unknown option '--no-such-flag'"), "%s", err);
    cr_assert_eq(load(&c, "--config", f, "--fp-cores", NULL), 2);
    cr_assert(strstr(err, "--fp-cores needs an argument"), "%s", err);
    cr_assert_eq(load(&c, "--config", f, "stray", NULL), 2);
    cr_assert_eq(load(&c, "--config", f, "--fp-cores", "9", NULL), 2);
    cr_assert(strstr(err, "--fp-cores 9: must be an integer between 1 and 8"), "%s", err);
    cr_assert_eq(load(&c, "--config", f, "--poll", "sometimes", NULL), 2);
    cr_assert(strstr(err, "--poll sometimes: must be \"adaptive\" or \"busy\""), "%s", err);
    cr_assert_eq(load(&c, "--config", f, "--tso", "maybe", NULL), 2);
    cr_assert(strstr(err, "must be \"auto\", \"on\" or \"off\""), "%s", err);
    cr_assert_eq(load(&c, "--config", f, "--tso", "off", NULL), 0);
    cr_assert_eq(c.tso, TASD_TSO_OFF);
    cr_assert_eq(load(&c, "--config", f, "--tso", "on", "--poll", "busy", NULL), 0);
    cr_assert_eq(c.tso, TASD_TSO_ON);
    cr_assert_eq(c.poll, TASD_POLL_BUSY);
    cr_assert_eq(load(&c, "--config", f, "--sp-thread", "both", NULL), 2);
    cr_assert(strstr(err, "must be \"auto\", \"own\" or \"shared\""), "%s", err);
    cr_assert_eq(load(&c, "--config", f, "--sp-thread", "shared", NULL), 0);
    cr_assert_eq(c.sp_thread, TASD_SP_SHARED);
    cr_assert_eq(load(&c, "--config", f, "--sack", "maybe", NULL), 2);
    cr_assert_eq(load(&c, "--config", "/nonexistent/tasd.conf", NULL), 2);
    cr_assert(strstr(err, "/nonexistent/tasd.conf: cannot read"), "%s", err);
}

Test(config, check_config_help_and_version)
{
    struct tasd_config c;
    const char *f = conf("ip = \"10.0.0.2/24\";\n");

    cr_assert_eq(load(&c, "--config", f, "--check-config", NULL), 0);
    cr_assert(c.check_only);
    cr_assert_eq(load(&c, "--config", f, "--help", NULL), 1);
    cr_assert(strstr(err, "--rx-buf-size"), "help lists every setting");
    cr_assert_eq(load(&c, "--version", NULL), 1);
    cr_assert(strncmp(err, "tasd ", 5) == 0, "%s", err);
}

Test(config, shipped_default_configuration_is_valid)
{
    struct tasd_config c;
    char file[512];
    const char *srcdir = getenv("srcdir");

    snprintf(file, sizeof(file), "%s/conf/tasd.conf", srcdir ? srcdir : ".");
    if (access(file, R_OK) != 0)
        cr_skip_test("%s not found", file);
    cr_assert_eq(load(&c, "--check-config", "--config", file, NULL), 0, "stderr: %s",
                 err);
    cr_assert_str_eq(c.host_if, "tas0");
    cr_assert_eq(c.ip, ip("10.77.0.2"));
}

Test(config, eal_arguments_split_on_spaces_and_quotes)
{
    char s[] = "--no-huge  -m 512 --vdev 'net_tap0,iface=tas 0' \"a\\\"b\" x\\ y";
    char *argv[8];

    cr_assert_eq(tasd_split_args(s, argv, 8), 7);
    cr_assert_str_eq(argv[0], "--no-huge");
    cr_assert_str_eq(argv[1], "-m");
    cr_assert_str_eq(argv[2], "512");
    cr_assert_str_eq(argv[3], "--vdev");
    cr_assert_str_eq(argv[4], "net_tap0,iface=tas 0");
    cr_assert_str_eq(argv[5], "a\"b");
    cr_assert_str_eq(argv[6], "x y");

    char open[] = "--vdev 'net_tap0";
    cr_assert_eq(tasd_split_args(open, argv, 8), -EINVAL);
    char many[] = "a b c d";
    cr_assert_eq(tasd_split_args(many, argv, 3), -E2BIG);
    char none[] = "   ";
    cr_assert_eq(tasd_split_args(none, argv, 3), 0);
}

Test(config, impairment_is_refused_unless_explicitly_allowed)
{
    struct tasd_config c;
    const char *f = conf("ip = \"10.0.0.2/24\";\nimpair = { rx_drop = 20; };\n");

    cr_assert_eq(load(&c, "--config", f, NULL), 2);
    cr_assert(strstr(err, ":2: impair.rx_drop: refused:"), "stderr: %s", err);
    cr_assert(strstr(err, "--impair-allow on"), "stderr: %s", err);
    cr_assert_eq(load(&c, "--config", f, "--impair-allow", "on", NULL), 0, "%s", err);
    cr_assert_eq(c.impair_rx.drop, 20u);
    cr_assert(c.impair_allow);
    /* Flags alone are refused the same way. */
    cr_assert_eq(load(&c, "--config", conf("ip = \"10.0.0.2/24\";\n"), "--impair-tx-dup",
                      "10", NULL),
                 2);
    cr_assert(strstr(err, "--impair-tx-dup 10: refused:"), "stderr: %s", err);
}

Test(config, impairment_is_off_by_default_and_allow_alone_changes_nothing)
{
    struct tasd_config c;

    cr_assert_eq(load(&c, "--config", conf("ip = \"10.0.0.2/24\";\n"), "--impair-allow",
                      "on", NULL),
                 0, "%s", err);
    cr_assert_not(tasd_impair_dir_active(&c.impair_rx));
    cr_assert_not(tasd_impair_dir_active(&c.impair_tx));
    cr_assert_eq(load(&c, "--config", conf("ip = \"10.0.0.2/24\";\n"), NULL), 0);
    cr_assert_not(c.impair_allow);
}

Test(config, impairment_shares_and_delays_are_checked)
{
    struct tasd_config c;
    const char *f = conf("ip = \"10.0.0.2/24\";\nimpair = { allow = true; };\n");

    cr_assert_eq(load(&c, "--config", f, "--impair-rx-drop", "1001", NULL), 2);
    cr_assert(strstr(err, "must be 0 or an integer between 1 and 1000"), "%s", err);
    cr_assert_eq(load(&c, "--config", f, "--impair-tx-delay", "100", NULL), 2);
    cr_assert(strstr(err, "--impair-tx-delay 100: needs impair.tx_delay_us"), "%s", err);
    cr_assert_eq(load(&c, "--config", f, "--impair-rx-delay-us", "500", NULL), 2);
    cr_assert(strstr(err, "--impair-rx-delay-us 500: needs impair.rx_delay "), "%s", err);
    cr_assert_eq(load(&c, "--config", f, "--impair-rx-delay", "100",
                      "--impair-rx-delay-us", "500", "--impair-seed", "4000000000", NULL),
                 0, "%s", err);
    cr_assert_eq(c.impair_rx.delay_us, 500u);
    cr_assert_eq(c.impair_seed, 4000000000u);
}

Test(config, apps_group_and_users_are_resolved_or_rejected_by_name)
{
    struct tasd_config c;
    const char *f = conf("ip = \"10.0.0.2/24\";\n"
                         "apps = { group = \"root\"; users = \"nobody, 4242,root\"; };\n");

    cr_assert_eq(load(&c, "--config", f, NULL), 0, "stderr: %s", err);
    cr_assert_eq(c.app_gid, 0);
    cr_assert_eq(c.n_app_uids, 3);
    cr_assert_eq(c.app_uids[0], 65534);
    cr_assert_eq(c.app_uids[1], 4242);
    cr_assert_eq(c.app_uids[2], 0);

    f = conf("ip = \"10.0.0.2/24\";\n"
             "apps = { group = \"no-such-group-here\";\n"
             "         users = \"nobody,no-such-user-here\"; };\n");
    cr_assert_eq(load(&c, "--config", f, NULL), 2);
    cr_assert(strstr(err, ":2: apps.group: no group \"no-such-group-here\""), "stderr: %s",
              err);
    cr_assert(strstr(err, ":3: apps.users: no user \"no-such-user-here\""), "stderr: %s",
              err);
}

Test(config, apps_default_is_every_user)
{
    struct tasd_config c;
    cr_assert_eq(load(&c, "--config", "/dev/null", "--ip", "10.0.0.2/24", NULL), 0,
                 "stderr: %s", err);
    cr_assert_eq(c.app_gid, -1);
    cr_assert_eq(c.n_app_uids, 0);
}

Test(config, policy_rules_from_the_file_and_the_command_line)
{
    struct tasd_config c;
    const char *f = conf("ip = \"10.0.0.2/24\";\n"
                         "tcp = { cc = \"cubic\"; };\n"
                         "policy = ( { app = \"nginx\"; rate_mbps = 100; },\n"
                         "           { uid = 1000; cc = \"dctcp\"; max_conns = 50; },\n"
                         "           { port = 80; max_conns = 7; },\n"
                         "           { app = 4242; cc = \"timely\"; } );\n");

    cr_assert_eq(load(&c, "--config", f, NULL), 0, "stderr: %s", err);
    cr_assert_str_eq(c.cc, "cubic");
    cr_assert_eq(c.n_policy, 4);
    cr_assert(c.policy[0].kind == SP_POL_APP && c.policy[0].by_comm &&
              !strcmp(c.policy[0].comm, "nginx") && c.policy[0].rate_mbps == 100);
    cr_assert(c.policy[1].kind == SP_POL_UID && c.policy[1].key == 1000 &&
              !strcmp(c.policy[1].cc, "dctcp") && c.policy[1].max_conns == 50);
    cr_assert(c.policy[2].kind == SP_POL_PORT && c.policy[2].key == 80);
    cr_assert(c.policy[3].kind == SP_POL_APP && !c.policy[3].by_comm &&
              c.policy[3].key == 4242);
    cr_assert_eq(load(&c, "--config", f, "--policy", "port 443 rate 10", NULL), 0,
                 "stderr: %s", err);
    cr_assert_eq(c.n_policy, 1, "--policy replaces the file's rules");
    cr_assert(c.policy[0].kind == SP_POL_PORT && c.policy[0].key == 443);
}

Test(config, bad_policy_rules_name_the_line_and_the_reason)
{
    struct tasd_config c;
    const char *f = conf("ip = \"10.0.0.2/24\";\n"
                         "policy = ( { app = \"x\"; rate_mbps = 1; },\n"
                         "           { port = 80; cc = \"bbr\"; } );\n");
    cr_assert_eq(load(&c, "--config", f, NULL), 2);
    cr_assert(strstr(err, ":3") != NULL && strstr(err, "unknown congestion control"),
              "%s", err);
    f = conf(
        "ip = \"10.0.0.2/24\";\npolicy = ( { uid = 1; port = 2; rate_mbps = 1; } );\n");
    cr_assert_eq(load(&c, "--config", f, NULL), 2);
    cr_assert(strstr(err, "exactly one of app, uid, port"), "%s", err);
    f = conf("ip = \"10.0.0.2/24\";\npolicy = ( { port = 80; speed = 1; } );\n");
    cr_assert_eq(load(&c, "--config", f, NULL), 2);
    cr_assert(strstr(err, "unknown setting"), "%s", err);
    f = conf("ip = \"10.0.0.2/24\";\n");
    cr_assert_eq(load(&c, "--config", f, "--policy", "app 1 rate 0", NULL), 2);
    cr_assert(strstr(err, "rate 0"), "%s", err);
    cr_assert_eq(load(&c, "--config", f, "--cc", "bbr", NULL), 2);
    cr_assert(strstr(err, "reno, cubic, dctcp, timely, none"), "%s", err);
}
