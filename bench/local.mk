# bench/local.mk - benchmarks (not tests: nothing here is in TESTS).
#
# rpc_echo is the Linux-side load generator; bench/run.sh runs the echo
# server once on Linux and once under tasd against it and prints the table.
# `sudo make bench` builds what it needs and runs bench/run.sh;
# `sudo make bench-connscale`, `bench-shortconn`, `bench-synflood` and
# `bench-procs` run bench/connscale.sh, bench/shortconn.sh,
# bench/synflood.sh and bench/procs.sh (BENCH_ARGS passes options to each).
# All of them use benchlib.sh on top of tests/integration/lib.sh.
#
# `sudo make bench-instructions` runs bench/instructions.sh (instructions
# per RPC, callgrind over net_memif).
#
# udp_echo (a UDP echo and ARP responder on bare DPDK, one queue pair) and
# udp_rpc (its Linux client) measure the raw I/O limit of the test port:
# `sudo make bench-rawio` runs bench/rawio.sh, the ceiling for tasd's rates.
noinst_PROGRAMS += bench/rpc_echo bench/udp_echo bench/udp_rpc
bench_rpc_echo_SOURCES = bench/rpc_echo.c tests/integration/tutil.c \
	tests/integration/tutil.h
bench_udp_echo_SOURCES = bench/udp_echo.c common/cksum.h
bench_udp_echo_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS)
bench_udp_echo_LDADD = $(DPDK_LIBS)
bench_udp_rpc_SOURCES = bench/udp_rpc.c tests/integration/tutil.c \
	tests/integration/tutil.h

EXTRA_DIST += bench/run.sh bench/connscale.sh bench/shortconn.sh bench/synflood.sh bench/procs.sh bench/benchlib.sh \
	bench/procstat.py bench/rawio.sh bench/matrix.sh bench/instructions.sh

.PHONY: bench
bench: bench/rpc_echo tests/integration/bin/echo_server
	BUILD='$(abs_top_builddir)' SRCDIR='$(abs_top_srcdir)' \
		bash '$(srcdir)/bench/run.sh' $(BENCH_ARGS)

.PHONY: bench-connscale bench-shortconn bench-synflood bench-rawio bench-procs
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

bench-procs: tests/integration/bin/echo_server tests/integration/bin/echo_client \
		tests/integration/bin/http_hello
	BUILD='$(abs_top_builddir)' SRCDIR='$(abs_top_srcdir)' \
		bash '$(srcdir)/bench/procs.sh' $(BENCH_ARGS)

bench-rawio: bench/udp_echo bench/udp_rpc
	BUILD='$(abs_top_builddir)' SRCDIR='$(abs_top_srcdir)' \
		bash '$(srcdir)/bench/rawio.sh' $(BENCH_ARGS)

# Instructions per RPC in the fast path and the library, counted by
# callgrind over a net_memif port between two tasd instances (no kernel in
# the data path): bench/instructions.sh.
.PHONY: bench-instructions
bench-instructions: bench/rpc_echo tests/integration/bin/echo_server
	BUILD='$(abs_top_builddir)' SRCDIR='$(abs_top_srcdir)' \
		bash '$(srcdir)/bench/instructions.sh' $(BENCH_ARGS)
