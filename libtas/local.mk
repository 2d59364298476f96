# libtas/local.mk - build rules for libtas/ (included by Makefile.am).
#
# libtas.so           the tas_* API (socket emulation over tasd), for programs
#                     that link it; libc's functions are called directly.
# libtas_interpose.so the same sources built with -DTAS_INTERPOSE plus
#                     interpose.c, which exports libc's socket names for
#                     LD_PRELOAD; real libc functions come from dlsym(RTLD_NEXT).

libtas_core_sources = \
	libtas/internal.h libtas/libtas.h \
	libtas/libc.c libtas/clock.c libtas/ctx.c libtas/wake.c libtas/post.c libtas/sock.c \
	libtas/alive.c libtas/attached.c libtas/events.c libtas/wait.c libtas/attach.c \
	libtas/register.c libtas/inherit.c libtas/fork.c libtas/ready.c libtas/ring.c \
	libtas/info.c \
	libtas/fdtab.c libtas/sockfd.c libtas/addr.c libtas/epoll.c libtas/fallback.c \
	libtas/hooks.c libtas/socket.c libtas/io.c libtas/sockopt.c libtas/poll.c \
	libtas/exec.c libtas/exit.c

lib_LTLIBRARIES += libtas/libtas.la libtas/libtas_interpose.la

libtas_libtas_la_SOURCES = $(libtas_core_sources)
libtas_libtas_la_LDFLAGS = -version-info 0:0:0 -no-undefined
libtas_libtas_la_LIBADD = -ldl -lpthread

libtas_libtas_interpose_la_SOURCES = $(libtas_core_sources) libtas/interpose.c
libtas_libtas_interpose_la_CPPFLAGS = $(AM_CPPFLAGS) -DTAS_INTERPOSE
libtas_libtas_interpose_la_LDFLAGS = -avoid-version -shared -no-undefined
libtas_libtas_interpose_la_LIBADD = -ldl -lpthread

tasinclude_HEADERS += libtas/libtas.h

# Unit tests: the pure parts, and the whole library against a fake tasd.
check_PROGRAMS += tests/unit/test_libtas_ring tests/unit/test_libtas_ready \
	tests/unit/test_libtas_loopback
TESTS += tests/unit/test_libtas_ring tests/unit/test_libtas_ready \
	tests/unit/test_libtas_loopback

tests_unit_test_libtas_ring_SOURCES = tests/unit/test_libtas_ring.c libtas/ring.c
tests_unit_test_libtas_ring_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_libtas_ring_LDADD = $(CRITERION_LIBS)

tests_unit_test_libtas_ready_SOURCES = tests/unit/test_libtas_ready.c libtas/ready.c
tests_unit_test_libtas_ready_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_libtas_ready_LDADD = $(CRITERION_LIBS)

tests_unit_test_libtas_loopback_SOURCES = tests/unit/test_libtas_loopback.c \
	tests/unit/test_libtas_fake.c tests/unit/test_libtas_fake.h
tests_unit_test_libtas_loopback_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_libtas_loopback_LDADD = libtas/libtas.la $(CRITERION_LIBS) -lpthread
