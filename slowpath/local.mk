# slowpath/local.mk - build rules for slowpath/ (included by Makefile.am).
# The slow path is linked into tasd; its pure files (no DPDK) are also
# linked straight into their unit tests.
tasd_tasd_SOURCES += slowpath/slowpath.h slowpath/sp.h \
	slowpath/loop.c slowpath/fdset.c slowpath/state.c slowpath/sync_in.c slowpath/cmd.c \
	slowpath/app.c slowpath/app_out.c slowpath/cred.c slowpath/conn_table.c slowpath/conn.c slowpath/conn_app.c \
	slowpath/holds.c slowpath/connect.c slowpath/listeners.c slowpath/listen.c slowpath/fork.c \
	slowpath/conn_timer.c slowpath/timers.c \
	slowpath/time_wait.c slowpath/flood.c \
	slowpath/tcp_in.c slowpath/tcp_out.c slowpath/neigh.c slowpath/stats.c \
	slowpath/tcp.h slowpath/tcp_state.c slowpath/isn.c slowpath/frame.c \
	slowpath/icmp.c slowpath/slots.h slowpath/slots.c \
	slowpath/wheel.h slowpath/wheel.c \
	slowpath/arp.h slowpath/arp.c \
	slowpath/route.h slowpath/route.c slowpath/nlwatch.c slowpath/kroutes.c slowpath/kneigh.c \
	slowpath/cc.h slowpath/cc.c slowpath/cc_reno.c slowpath/cc_none.c \
	slowpath/cc_cubic.c slowpath/cc_dctcp.c slowpath/cc_timely.c slowpath/conn_cc.c \
	slowpath/policy.c slowpath/policy_rule.c

check_PROGRAMS += tests/unit/test_arp tests/unit/test_sp_route \
	tests/unit/test_sp_conn tests/unit/test_sp_cc tests/unit/test_sp_wheel
TESTS += tests/unit/test_arp tests/unit/test_sp_route \
	tests/unit/test_sp_conn tests/unit/test_sp_cc tests/unit/test_sp_wheel

tests_unit_test_arp_SOURCES = tests/unit/test_arp.c slowpath/arp.c slowpath/arp.h
tests_unit_test_arp_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_arp_LDADD = $(CRITERION_LIBS)

tests_unit_test_sp_route_SOURCES = tests/unit/test_sp_route.c slowpath/route.c \
	slowpath/route.h
tests_unit_test_sp_route_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_sp_route_LDADD = $(DPDK_LIBS) $(CRITERION_LIBS)

tests_unit_test_sp_conn_SOURCES = tests/unit/test_sp_conn.c slowpath/tcp_state.c \
	slowpath/isn.c fastpath/syncookie.c slowpath/frame.c slowpath/icmp.c slowpath/tcp.h slowpath/slots.c \
	slowpath/slots.h
tests_unit_test_sp_conn_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_sp_conn_LDADD = $(CRITERION_LIBS)

tests_unit_test_sp_cc_SOURCES = tests/unit/test_sp_cc.c slowpath/cc.c slowpath/cc_reno.c \
	slowpath/cc_none.c slowpath/cc_cubic.c slowpath/cc_dctcp.c slowpath/cc_timely.c \
	slowpath/policy_rule.c slowpath/cc.h
tests_unit_test_sp_cc_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_sp_cc_LDADD = $(CRITERION_LIBS) -lm

tests_unit_test_sp_wheel_SOURCES = tests/unit/test_sp_wheel.c slowpath/wheel.c \
	slowpath/wheel.h
tests_unit_test_sp_wheel_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_sp_wheel_LDADD = $(CRITERION_LIBS)
