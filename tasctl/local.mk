# tasctl/local.mk - tasctl, the command-line client of tasd's control socket.
bin_PROGRAMS += tasctl/tasctl
tasctl_tasctl_SOURCES = tasctl/tasctl.c tasctl/metrics.c tasctl/metrics.h tasctl/apps.c \
	tasctl/apps.h tasctl/net.c tasctl/net.h tasctl/flows.c tasctl/flows.h tasctl/jsonget.h
tasctl_tasctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tasctl_tasctl_LDADD = $(JSONC_LIBS)
