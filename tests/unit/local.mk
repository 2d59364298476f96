# tests/unit/local.mk - Criterion unit tests.
