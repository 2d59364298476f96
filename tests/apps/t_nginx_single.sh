#!/bin/bash
# t_nginx_single.sh - t_nginx.sh with nginx as one process (master_process
# off: no fork), which tasd supports today: 100 MiB with sendfile on and
# off, sha256 compared, and wrk with no socket error.
APPS_NGINX_MASTER=off exec bash "$(dirname "$0")/t_nginx.sh" "$@"
