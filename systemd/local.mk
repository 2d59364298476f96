# systemd/local.mk - tasd.service, with the install paths filled in, goes to
# $(systemdsystemunitdir); sysusers/tasd.conf (group tasd, to which tasd
# gives control.sock, and app.sock with apps.group = "tasd") to
# $(sysusersdir), and an install without DESTDIR makes the
# group at once with systemd-sysusers where it exists.
systemdsystemunit_DATA = systemd/tasd.service
EXTRA_DIST += systemd/tasd.service.in
CLEANFILES += systemd/tasd.service

systemd/tasd.service: $(srcdir)/systemd/tasd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/systemd/tasd.service.in > $@.tmp && mv $@.tmp $@

sysusers_DATA = systemd/sysusers/tasd.conf
EXTRA_DIST += systemd/sysusers/tasd.conf
install-data-hook: install-sysusers-group
.PHONY: install-sysusers-group
install-sysusers-group:
	if test -z '$(DESTDIR)' && command -v systemd-sysusers >/dev/null 2>&1; then \
		systemd-sysusers '$(sysusersdir)/tasd.conf' || \
			echo "note: systemd-sysusers could not make group tasd"; \
	fi
