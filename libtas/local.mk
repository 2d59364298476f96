# libtas/local.mk - build rules for libtas/ (included by Makefile.am).
