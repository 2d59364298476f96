# tasrun/local.mk - tas-run, the wrapper that starts a program over tasd.
bin_PROGRAMS += tasrun/tas-run
tasrun_tas_run_SOURCES = tasrun/tas-run.c
tasrun_tas_run_CPPFLAGS = $(AM_CPPFLAGS) -DTAS_INTERPOSE_PATH='"$(libdir)/libtas_interpose.so"'
tasrun_tas_run_LDADD = libtas/libtas.la
