# systemd/local.mk - build rules for systemd/ (included by Makefile.am).
