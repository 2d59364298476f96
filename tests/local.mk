# tests/local.mk - unit tests (Criterion), the integration suite and the
# real programs (tests/apps).
# Unit test programs are added by each module's local.mk (tests/unit/*).
include $(srcdir)/tests/unit/local.mk
include $(srcdir)/tests/integration/local.mk
include $(srcdir)/tests/apps/local.mk
