# bench/local.mk - benchmarks (not tests: nothing here is in TESTS).
#
# rpc_echo is the Linux-side load generator; bench/run.sh runs the echo
# server once on Linux and once under tasd against it and prints the table.
# `sudo make bench` builds what it needs and runs bench/run.sh;
# `sudo make bench-connscale`, `bench-shortconn` and `bench-synflood` run
# bench/connscale.sh, bench/shortconn.sh and bench/synflood.sh (BENCH_ARGS passes options to
# each).  All of them use benchlib.sh on top of tests/integration/lib.sh.
noinst_PROGRAMS += bench/rpc_echo
bench_rpc_echo_SOURCES = bench/rpc_echo.c tests/integration/tutil.c \
	tests/integration/tutil.h

EXTRA_DIST += bench/run.sh bench/connscale.sh bench/shortconn.sh bench/synflood.sh bench/benchlib.sh \
	bench/procstat.py

.PHONY: bench
bench: bench/rpc_echo tests/integration/bin/echo_server
	BUILD='$(abs_top_builddir)' SRCDIR='$(abs_top_srcdir)' \
		bash '$(srcdir)/bench/run.sh' $(BENCH_ARGS)

.PHONY: bench-connscale bench-shortconn bench-synflood
bench-connscale: bench/rpc_echo tests/integration/bin/echo_server tests/integration/bin/conn_hold
	BUILD='$(abs_top_builddir)' SRCDIR='$(abs_top_srcdir)' \
		bash '$(srcdir)/bench/connscale.sh' $(BENCH_ARGS)

bench-shortconn: tests/integration/bin/echo_server tests/integration/bin/conn_churn
	BUILD='$(abs_top_builddir)' SRCDIR='$(abs_top_srcdir)' \
		bash '$(srcdir)/bench/shortconn.sh' $(BENCH_ARGS)

bench-synflood: tests/integration/bin/echo_server tests/integration/bin/tcp_send \
		tests/integration/bin/tcp_recv tests/integration/bin/syn_flood
	BUILD='$(abs_top_builddir)' SRCDIR='$(abs_top_srcdir)' \
		bash '$(srcdir)/bench/synflood.sh' $(BENCH_ARGS)
