# tests/integration/local.mk - integration tests (network namespaces, root).
