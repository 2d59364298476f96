# systemd/local.mk - tasd.service, with the install paths filled in, goes to
# $(systemdsystemunitdir).
systemdsystemunit_DATA = systemd/tasd.service
EXTRA_DIST += systemd/tasd.service.in
CLEANFILES += systemd/tasd.service

systemd/tasd.service: $(srcdir)/systemd/tasd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/systemd/tasd.service.in > $@.tmp && mv $@.tmp $@
