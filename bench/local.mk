# bench/local.mk - benchmarks (not tests: nothing here is in TESTS).
#
# rpc_echo is the Linux-side load generator; bench/run.sh runs the echo
# server once on Linux and once under tasd against it and prints the table.
# `sudo make bench` builds what it needs and runs bench/run.sh.
noinst_PROGRAMS += bench/rpc_echo
bench_rpc_echo_SOURCES = bench/rpc_echo.c tests/integration/tutil.c \
	tests/integration/tutil.h

EXTRA_DIST += bench/run.sh

.PHONY: bench
bench: bench/rpc_echo tests/integration/bin/echo_server
	BUILD='$(abs_top_builddir)' SRCDIR='$(abs_top_srcdir)' \
		bash '$(srcdir)/bench/run.sh' $(BENCH_ARGS)
