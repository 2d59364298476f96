# slowpath/local.mk - build rules for slowpath/ (included by Makefile.am).
