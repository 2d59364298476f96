# fastpath/local.mk - build rules for fastpath/ (included by Makefile.am).
# The fast path is linked into tasd; its pure files (no DPDK) are also linked
# straight into their unit tests.
tasd_tasd_SOURCES += fastpath/fastpath.h fastpath/internal.h fastpath/clock.h \
	fastpath/flow.h fastpath/flowtab.h fastpath/flowtab.c fastpath/classify.h fastpath/init.c \
	fastpath/rx.c fastpath/rx.h fastpath/input.c fastpath/tx.c fastpath/qman.c \
	fastpath/appq.c fastpath/cork.c fastpath/idle.c fastpath/activity.c fastpath/cmd.c fastpath/loop.c \
	fastpath/syn.c fastpath/syncookie.c fastpath/syncookie.h

check_PROGRAMS += tests/unit/test_seq tests/unit/test_queue \
	tests/unit/test_tcp_opts tests/unit/test_rx tests/unit/test_classify \
	tests/unit/test_flowtab tests/unit/test_fp_io
TESTS += tests/unit/test_seq tests/unit/test_queue \
	tests/unit/test_tcp_opts tests/unit/test_rx tests/unit/test_classify \
	tests/unit/test_flowtab tests/unit/test_fp_io

tests_unit_test_seq_SOURCES = tests/unit/test_seq.c
tests_unit_test_seq_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_seq_LDADD = $(CRITERION_LIBS)

tests_unit_test_queue_SOURCES = tests/unit/test_queue.c
tests_unit_test_queue_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_queue_LDADD = $(CRITERION_LIBS)

tests_unit_test_tcp_opts_SOURCES = tests/unit/test_tcp_opts.c common/tcp_opts.c
tests_unit_test_tcp_opts_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_tcp_opts_LDADD = $(CRITERION_LIBS)

tests_unit_test_rx_SOURCES = tests/unit/test_rx.c fastpath/rx.c
tests_unit_test_rx_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_rx_LDADD = $(CRITERION_LIBS)

# The flow table on a real rte_hash (an EAL without huge pages or devices).
tests_unit_test_flowtab_SOURCES = tests/unit/test_flowtab.c fastpath/flowtab.c \
	fastpath/flowtab.h
tests_unit_test_flowtab_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_flowtab_LDADD = $(DPDK_LIBS) $(CRITERION_LIBS)

# Receive and transmit of the whole fast path on a DPDK net_ring port.
tests_unit_test_fp_io_SOURCES = tests/unit/test_fp_io.c fastpath/flowtab.c fastpath/init.c \
	fastpath/rx.c fastpath/input.c fastpath/tx.c fastpath/qman.c fastpath/appq.c \
	fastpath/cork.c fastpath/idle.c fastpath/activity.c fastpath/cmd.c fastpath/loop.c \
	fastpath/syn.c fastpath/syncookie.c common/tcp_opts.c common/json.c
tests_unit_test_fp_io_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS) $(JSONC_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_fp_io_LDADD = $(DPDK_LIBS) $(JSONC_LIBS) $(CRITERION_LIBS) -lpthread

tests_unit_test_classify_SOURCES = tests/unit/test_classify.c tests/unit/test_frames.h \
	fastpath/rx.c common/tcp_opts.c slowpath/frame.c
tests_unit_test_classify_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_classify_LDADD = $(CRITERION_LIBS)
