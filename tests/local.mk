# tests/local.mk - unit tests (Criterion), the integration suite and the
# real programs (tests/apps), and the layer and call checks (tests/static).
# Unit test programs are added by each module's local.mk (tests/unit/*).
include $(srcdir)/tests/unit/local.mk
include $(srcdir)/tests/integration/local.mk
include $(srcdir)/tests/apps/local.mk
include $(srcdir)/tests/fuzz/local.mk
# The walls between layers: which folder may include which (no build needed).
TESTS += tests/static/t_layers.sh
EXTRA_DIST += tests/static/t_layers.sh
# No circles of calls between files (reads the built objects).
TESTS += tests/static/t_calls.sh
EXTRA_DIST += tests/static/t_calls.sh tests/static/calls.py
# The manuals name every flag and request of tasd, tasctl and tas-run.
TESTS += tests/static/t_manpages.sh
EXTRA_DIST += tests/static/t_manpages.sh
