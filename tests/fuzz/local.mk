# tests/fuzz/local.mk - the libFuzzer harness of the receive path.
#
# fuzz_rx is built with $(FUZZ_CC) (clang, found by configure) and
# -fsanitize=fuzzer,address,undefined, outside libtool and automake's
# compiler rules; without such a clang it is not built and t_fuzz.sh
# skips (exit 77) saying why.  `make check` runs it for a fixed number of
# inputs over the committed corpus; `make fuzz-long` runs it for
# FUZZ_SECONDS (default 600).  mkcorpus writes the seed corpus.
fuzz_rx_srcs = $(srcdir)/tests/fuzz/fuzz_rx.c $(srcdir)/fastpath/rx.c \
	$(srcdir)/common/tcp_opts.c $(srcdir)/slowpath/frame.c \
	$(srcdir)/slowpath/icmp.c $(srcdir)/slowpath/arp.c
fuzz_rx_deps = $(fuzz_rx_srcs) $(srcdir)/fastpath/classify.h $(srcdir)/fastpath/rx.h \
	$(srcdir)/common/tcp_opts.h $(srcdir)/fastpath/fastpath.h $(srcdir)/fastpath/flow.h \
	$(srcdir)/slowpath/tcp.h $(srcdir)/slowpath/arp.h $(srcdir)/common/cksum.h $(srcdir)/common/proto.h
FUZZ_FLAGS = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1 \
	-std=gnu11 -Wall -Wextra -Wno-unused-parameter

if HAVE_FUZZER
fuzz_bin = tests/fuzz/fuzz_rx
check_SCRIPTS = $(fuzz_bin)
CLEANFILES += $(fuzz_bin)
$(fuzz_bin): $(fuzz_rx_deps)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_FLAGS) $(AM_CPPFLAGS) $(CPPFLAGS) -o $@ $(fuzz_rx_srcs)
endif

check_PROGRAMS += tests/fuzz/mkcorpus
tests_fuzz_mkcorpus_SOURCES = tests/fuzz/mkcorpus.c tests/unit/test_frames.h slowpath/frame.c

TESTS += tests/fuzz/t_fuzz.sh
EXTRA_DIST += tests/fuzz/t_fuzz.sh tests/fuzz/fuzz_rx.c tests/fuzz/corpus

.PHONY: fuzz-long
fuzz-long: $(fuzz_bin)
	FUZZ_LONG=1 BUILD='$(abs_top_builddir)' SRCDIR='$(abs_top_srcdir)' \
		$(SHELL) $(srcdir)/tests/fuzz/t_fuzz.sh
