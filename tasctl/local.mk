# tasctl/local.mk - build rules for tasctl/ (included by Makefile.am).
