# tests/local.mk - unit tests (Criterion) and the integration suite.
# Unit test programs are added by each module's local.mk (tests/unit/*).
include $(srcdir)/tests/unit/local.mk
include $(srcdir)/tests/integration/local.mk
include $(srcdir)/tests/fuzz/local.mk
