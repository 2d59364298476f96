# fastpath/local.mk - build rules for fastpath/ (included by Makefile.am).
