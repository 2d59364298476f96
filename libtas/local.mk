# libtas/local.mk - build rules for libtas/ (included by Makefile.am).
#
# libtas.so           the tas_* API (socket emulation over tasd), for programs
#                     that link it; libc's functions are called directly.
# libtas_interpose.so the same sources built with -DTAS_INTERPOSE plus
#                     interpose.c, which exports libc's socket names for
#                     LD_PRELOAD; real libc functions come from dlsym(RTLD_NEXT).

libtas_core_sources = \
	libtas/core/core.h libtas/posix/posix.h libtas/libtas.h \
	libtas/core/libc.c libtas/core/clock.c libtas/core/ctx.c libtas/core/wake.c libtas/core/post.c libtas/core/sock.c \
	libtas/core/alive.c libtas/core/attached.c libtas/core/events.c libtas/core/wait.c libtas/core/attach.c \
	libtas/core/register.c libtas/core/inherit.c libtas/core/fork.c libtas/core/ready.c libtas/core/ring.c \
	libtas/core/info.c libtas/core/idle.c libtas/core/qctx.c libtas/core/leave.c libtas/core/msgio.c libtas/core/revive.c libtas/core/exe.c \
	libtas/posix/fdtab.c libtas/posix/sockfd.c libtas/posix/addr.c libtas/posix/epoll.c libtas/posix/fallback.c \
	libtas/posix/hooks.c libtas/posix/socket.c libtas/posix/io.c libtas/posix/sockopt.c libtas/posix/poll.c \
	libtas/posix/exec.c libtas/posix/exit.c

lib_LTLIBRARIES += libtas/libtas.la libtas/libtas_interpose.la

libtas_libtas_la_SOURCES = $(libtas_core_sources)
libtas_libtas_la_LDFLAGS = -version-info 0:0:0 -no-undefined
libtas_libtas_la_LIBADD = -ldl -lpthread

libtas_libtas_interpose_la_SOURCES = $(libtas_core_sources) libtas/posix/interpose.c
libtas_libtas_interpose_la_CPPFLAGS = $(AM_CPPFLAGS) -DTAS_INTERPOSE
libtas_libtas_interpose_la_LDFLAGS = -avoid-version -shared -no-undefined
libtas_libtas_interpose_la_LIBADD = -ldl -lpthread

tasinclude_HEADERS += libtas/libtas.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = libtas/libtas.pc

# Unit tests: the pure parts, and the whole library against a fake tasd.
check_PROGRAMS += tests/unit/test_libtas_ring tests/unit/test_libtas_ready \
	tests/unit/test_libtas_loopback
TESTS += tests/unit/test_libtas_ring tests/unit/test_libtas_ready \
	tests/unit/test_libtas_loopback

tests_unit_test_libtas_ring_SOURCES = tests/unit/test_libtas_ring.c libtas/core/ring.c
tests_unit_test_libtas_ring_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_libtas_ring_LDADD = $(CRITERION_LIBS)

tests_unit_test_libtas_ready_SOURCES = tests/unit/test_libtas_ready.c libtas/core/ready.c
tests_unit_test_libtas_ready_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_libtas_ready_LDADD = $(CRITERION_LIBS)

tests_unit_test_libtas_loopback_SOURCES = tests/unit/test_libtas_loopback.c \
	tests/unit/test_libtas_fake.c tests/unit/test_libtas_fake.h
tests_unit_test_libtas_loopback_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_libtas_loopback_LDADD = libtas/libtas.la $(CRITERION_LIBS) -lpthread
