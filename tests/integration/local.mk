# tests/integration/local.mk - integration tests (network namespaces, root).
#
# The test programs are ordinary socket programs (plain libc); the scripts
# run them under tasd (LD_PRELOAD=libtas_interpose.so) in one namespace
# against the Linux stack in another.  `make check` as root runs them; as
# another user each exits 77 (skipped).  TAS_TEST_MODE=linux runs the same
# scripts with Linux in place of tasd.  lib.sh finds the programs, tasd,
# tasctl and the library through BUILD (the build directory).
itest_progs = tests/integration/bin/echo_server tests/integration/bin/echo_client \
	tests/integration/bin/tcp_send tests/integration/bin/tcp_recv \
	tests/integration/bin/close_test tests/integration/bin/fork_server \
	tests/integration/bin/dup_server tests/integration/bin/exec_server \
	tests/integration/bin/sem_epoll tests/integration/bin/sem_poll \
	tests/integration/bin/sem_threads tests/integration/bin/sem_io \
	tests/integration/bin/sem_sockopt tests/integration/bin/sem_fortify \
	tests/integration/bin/garbage_app tests/integration/bin/tcp_duplex \
	tests/integration/bin/conn_hold tests/integration/bin/conn_churn \
	tests/integration/bin/syn_flood tests/integration/bin/thread_server \
	tests/integration/bin/seccomp_server tests/integration/bin/echo_static
check_PROGRAMS += $(itest_progs)
# The demo server is built by plain `make` (tests/demo.sh needs it).
noinst_PROGRAMS += tests/integration/bin/http_hello

itest_util = tests/integration/tutil.c tests/integration/tutil.h
tests_integration_bin_echo_server_SOURCES = tests/integration/echo_server.c $(itest_util)
tests_integration_bin_echo_client_SOURCES = tests/integration/echo_client.c $(itest_util)
tests_integration_bin_tcp_send_SOURCES = tests/integration/tcp_send.c $(itest_util)
tests_integration_bin_tcp_recv_SOURCES = tests/integration/tcp_recv.c $(itest_util)
tests_integration_bin_close_test_SOURCES = tests/integration/close_test.c $(itest_util)
tests_integration_bin_fork_server_SOURCES = tests/integration/fork_server.c $(itest_util)
tests_integration_bin_dup_server_SOURCES = tests/integration/dup_server.c $(itest_util)
tests_integration_bin_exec_server_SOURCES = tests/integration/exec_server.c $(itest_util)
tests_integration_bin_garbage_app_SOURCES = tests/integration/garbage_app.c $(itest_util)
sem_util = tests/integration/semutil.c tests/integration/semutil.h $(itest_util)
tests_integration_bin_sem_epoll_SOURCES = tests/integration/sem_epoll.c $(sem_util)
tests_integration_bin_sem_epoll_LDADD = -lpthread
tests_integration_bin_sem_poll_SOURCES = tests/integration/sem_poll.c $(sem_util)
tests_integration_bin_sem_poll_LDADD = -lpthread
tests_integration_bin_sem_threads_SOURCES = tests/integration/sem_threads.c $(sem_util)
tests_integration_bin_sem_threads_LDADD = -lpthread
tests_integration_bin_thread_server_SOURCES = tests/integration/thread_server.c $(itest_util)
tests_integration_bin_seccomp_server_SOURCES = tests/integration/seccomp_server.c $(itest_util)
# echo_server linked statically: a program the shim cannot reach (t_tasrun)
tests_integration_bin_echo_static_SOURCES = tests/integration/echo_server.c $(itest_util)
tests_integration_bin_echo_static_LDFLAGS = -all-static
tests_integration_bin_thread_server_LDADD = -lpthread
tests_integration_bin_tcp_duplex_SOURCES = tests/integration/tcp_duplex.c $(itest_util)
tests_integration_bin_sem_io_SOURCES = tests/integration/sem_io.c $(itest_util)
tests_integration_bin_sem_sockopt_SOURCES = tests/integration/sem_sockopt.c $(itest_util)
# Built as distributions build programs: the fortified entry points
# (__read_chk, __recv_chk, __poll_chk, ...) must reach the shim too.
tests_integration_bin_sem_fortify_SOURCES = tests/integration/sem_fortify.c $(itest_util)
tests_integration_bin_sem_fortify_CPPFLAGS = $(AM_CPPFLAGS) -U_FORTIFY_SOURCE \
	-D_FORTIFY_SOURCE=2
tests_integration_bin_sem_fortify_CFLAGS = $(AM_CFLAGS) -O2
# Many connections held (t_connscale, bench/connscale.sh) and many
# short-lived ones (t_shortconn, bench/shortconn.sh).
tests_integration_bin_conn_hold_SOURCES = tests/integration/conn_hold.c $(itest_util)
tests_integration_bin_conn_churn_SOURCES = tests/integration/conn_churn.c $(itest_util)
# The SYN flooder (t_synflood, bench/synflood.sh).
tests_integration_bin_syn_flood_SOURCES = tests/integration/syn_flood.c
tests_integration_bin_http_hello_SOURCES = tests/integration/http_hello.c $(itest_util)

itest_scripts = tests/integration/t_echo.sh tests/integration/t_client.sh \
	tests/integration/t_bulk.sh tests/integration/t_close.sh \
	tests/integration/t_options.sh tests/integration/t_tasctl.sh \
	tests/integration/t_shutdown.sh tests/integration/t_systemd.sh tests/integration/t_loss.sh \
	tests/integration/t_fork.sh tests/integration/t_dup.sh tests/integration/t_kill.sh \
	tests/integration/t_fallback.sh tests/integration/t_exec.sh \
	tests/integration/t_sockbuf.sh tests/integration/t_ecn.sh \
	tests/integration/t_synflood.sh tests/integration/t_keepalive.sh \
	tests/integration/t_epoll.sh tests/integration/t_poll.sh tests/integration/t_threads.sh \
	tests/integration/t_thctx.sh tests/integration/t_unpriv.sh tests/integration/t_seccomp.sh \
	tests/integration/t_instances.sh tests/integration/t_tasrun.sh tests/integration/t_capture.sh \
	tests/integration/t_garbage.sh tests/integration/t_malformed.sh \
	tests/integration/t_fault.sh tests/integration/t_impair.sh tests/integration/t_peer_gone.sh \
	tests/integration/t_io.sh tests/integration/t_sockopt.sh tests/integration/t_fortify.sh \
	tests/integration/t_forkpy.sh tests/integration/t_forkexec.sh \
	tests/integration/t_connscale.sh tests/integration/t_shortconn.sh tests/integration/t_afxdp.sh \
	tests/integration/t_spthread.sh tests/integration/t_cork.sh tests/integration/t_fpcores.sh tests/integration/t_tso.sh \
	tests/integration/t_idle.sh tests/integration/t_connburst.sh tests/integration/t_cc.sh \
	tests/integration/t_policy.sh tests/integration/t_dctcp.sh \
	tests/integration/t_kroutes.sh tests/integration/t_nspawn.sh \
	tests/integration/t_kneigh.sh
TESTS += $(itest_scripts)
AM_TESTS_ENVIRONMENT = BUILD='$(abs_top_builddir)'; SRCDIR='$(abs_top_srcdir)'; \
	export BUILD SRCDIR;

EXTRA_DIST += $(itest_scripts) tests/integration/lib.sh tests/integration/hold_conns.py \
	tests/integration/forge_rst.py \
	tests/integration/ka_server.py tests/integration/cork_server.py \
	tests/integration/idle_client.py tests/integration/unpriv.py \
	tests/integration/sem_peer.py \
	tests/integration/raw_frames.py tests/integration/sem_sockopt.allowed \
	tests/integration/fork_patterns.py tests/integration/fork_client.py \
	tests/integration/prom_check.py tests/integration/cc_sock.py \
	tests/integration/nspawn_check.sh

# Files of the test harness that live outside tests/integration/: the demo
# and CI.  (The man pages are the top Makefile.am's.)
EXTRA_DIST += tests/demo.sh .ci/run .ci/deps
