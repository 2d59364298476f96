# conf/local.mk - the default configuration, installed as
# $(sysconfdir)/tasd/tasd.conf.
tasdconfdir = $(sysconfdir)/tasd
dist_tasdconf_DATA = conf/tasd.conf
