# tests/unit/local.mk - Criterion unit tests.

# epoll and poll semantics of libtas against the fake tasd (the other libtas
# unit tests are listed in libtas/local.mk).
check_PROGRAMS += tests/unit/test_libtas_epoll
TESTS += tests/unit/test_libtas_epoll
tests_unit_test_libtas_epoll_SOURCES = tests/unit/test_libtas_epoll.c \
	tests/unit/test_libtas_fake.c tests/unit/test_libtas_fake.h
tests_unit_test_libtas_epoll_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_libtas_epoll_LDADD = libtas/libtas.la $(CRITERION_LIBS) -lpthread

# One context per thread (libtas/core/qctx.c), against the fake tasd.
check_PROGRAMS += tests/unit/test_libtas_threads
TESTS += tests/unit/test_libtas_threads
tests_unit_test_libtas_threads_SOURCES = tests/unit/test_libtas_threads.c \
	tests/unit/test_libtas_fake.c tests/unit/test_libtas_fake.h
tests_unit_test_libtas_threads_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_test_libtas_threads_LDADD = libtas/libtas.la $(CRITERION_LIBS) -lpthread
