# tests/apps/local.mk - real, unmodified Debian programs under tasd.
#
# Each script starts its own instances (redis-server, memcached, lighttpd,
# nginx, iperf3, python3, curl, socat; configuration in the run's temp dir, never a
# host service) in the namespaces of tests/integration/lib.sh, loads them
# from the Linux peer and checks the results.  `make check` as root runs
# them; TAS_TEST_MODE=linux runs the same scripts on the Linux stack.  The
# programs come from .ci/deps.

apps_scripts = tests/apps/t_redis.sh tests/apps/t_memcached.sh tests/apps/t_lighttpd.sh \
	tests/apps/t_iperf3.sh tests/apps/t_curl.sh tests/apps/t_python.sh \
	tests/apps/t_together.sh tests/apps/t_restart.sh tests/apps/t_sshd.sh tests/apps/t_nginx_single.sh tests/apps/t_nginx.sh \
	tests/apps/t_socat.sh
TESTS += $(apps_scripts)
EXTRA_DIST += $(apps_scripts) tests/apps/apps.sh \
	tests/apps/memcache_check.py tests/apps/echo_asyncio.py tests/apps/README
