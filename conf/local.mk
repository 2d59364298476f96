# conf/local.mk - build rules for conf/ (included by Makefile.am).
