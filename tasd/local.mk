# tasd/local.mk - the tasd daemon: tasd/ plus the fast- and slow-path sources
# that fastpath/local.mk and slowpath/local.mk add to tasd_tasd_SOURCES.
sbin_PROGRAMS += tasd/tasd
tasd_tasd_SOURCES = common/port.h common/cksum.h common/proto.h common/tcp_opts.c common/tcp_opts.h common/json.c common/json.h tasd/main.c tasd/config.c tasd/config.h tasd/config_table.c tasd/config_table.h tasd/args.c tasd/port.c tasd/port_stats.c \
	tasd/port.h tasd/control.c tasd/control.h tasd/hostif.c tasd/hostif.h \
	tasd/impair.c tasd/impair.h tasd/impair_port.c tasd/instance.c tasd/instance.h
tasd_tasd_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS) $(NL_CFLAGS) $(CONFIG_CFLAGS) $(SYSTEMD_CFLAGS) \
	$(JSONC_CFLAGS)
tasd_tasd_LDADD = $(DPDK_LIBS) $(NL_LIBS) $(CONFIG_LIBS) $(SYSTEMD_LIBS) $(JSONC_LIBS) -lpthread -lm

# The configuration (loader and settings table) has no DPDK in it: its test
# links it alone.
check_PROGRAMS += tests/unit/test_config
TESTS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c tasd/config.c tasd/config_table.c \
	tasd/args.c tasd/config.h tasd/config_table.h slowpath/policy_rule.c slowpath/cc.c \
	slowpath/cc_reno.c slowpath/cc_cubic.c slowpath/cc_dctcp.c slowpath/cc_timely.c \
	slowpath/cc_none.c

# The impairment model has no DPDK in it either.
check_PROGRAMS += tests/unit/test_impair
TESTS += tests/unit/test_impair
tests_unit_test_impair_SOURCES = tests/unit/test_impair.c tasd/impair.c tasd/impair.h
tests_unit_test_impair_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_impair_LDADD = $(CRITERION_LIBS) -lm
tests_unit_test_config_CFLAGS = $(AM_CFLAGS) $(CONFIG_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_config_LDADD = $(CONFIG_LIBS) $(CRITERION_LIBS) -lm
