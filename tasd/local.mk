# tasd/local.mk - the tasd daemon: tasd/ plus the fast- and slow-path sources
# that fastpath/local.mk and slowpath/local.mk add to tasd_SOURCES.
sbin_PROGRAMS += tasd/tasd
tasd_tasd_SOURCES = tasd/main.c tasd/config.c tasd/config.h tasd/port.c \
	tasd/port.h tasd/control.c tasd/control.h
tasd_tasd_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS) $(NL_CFLAGS) $(CONFIG_CFLAGS) $(SYSTEMD_CFLAGS)
tasd_tasd_LDADD = $(DPDK_LIBS) $(NL_LIBS) $(CONFIG_LIBS) $(SYSTEMD_LIBS) -lpthread
