#!/usr/bin/env bash
# Cluster tests (`make test-cluster`): three Galera nodes, two app hosts and the front
# balancer of packaging/cluster.sh on loopback, then every tests/cluster/test_*.py.
# Usage: tests/cluster/run.sh [test_module_pattern]. Ports PORT_BASE .. +300: the
# first base from 31500 up (in steps of 400) whose 301 ports are all free on
# 127.0.0.1, unless PORT_BASE is given, so two runs (or a run beside another stack)
# never collide.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export CLUSTER=${CLUSTER:-$REPO/tests/tmp/cluster}
free_port_base() {
    /usr/bin/python3 - <<'PY'
import socket
for base in range(31500, 60000, 400):
    free = True
    for port in range(base, base + 301):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            free = False
        finally:
            s.close()
        if not free:
            break
    if free:
        print(base)
        break
PY
}
export PORT_BASE=${PORT_BASE:-$(free_port_base)}
[ -n "$PORT_BASE" ] || { echo "no free range of 301 ports on 127.0.0.1 for the cluster"; exit 1; }
export WORKERS=${WORKERS:-2}
export ARGON2_MEMORY_KIB=${ARGON2_MEMORY_KIB:-8192} ARGON2_TIME_COST=${ARGON2_TIME_COST:-1}
. "$REPO/packaging/cluster.sh"

trap cluster_stop EXIT INT TERM
rm -rf "$CLUSTER"
mkdir -p "$CLUSTER"
cluster_up || { echo "could not start the cluster; logs:"; tail -n 20 "$CLUSTER"/logs/*.log; exit 1; }
export ADMIN_PASSWORD=admin-password-for-tests
host_do 1 stack_set_admin_password <<<"$ADMIN_PASSWORD" || exit 1
# The integration harness, pointed at the front balancer.
export REPO STATE=$CLUSTER BASE_URL=$(sed -n 's/^front=//p' "$CLUSTER/endpoints") CACERT=$CLUSTER/tls/cert.pem
export PYTHONPATH=$REPO/tests/integration

/usr/bin/python3 "$REPO/tests/integration/runner.py" "${1:-test_*.py}" "$REPO/tests/cluster"
rc=$?
if [ $rc -ne 0 ]; then
    for h in 1 2; do echo "--- host$h worker log ---"; tail -n 20 "$CLUSTER/host$h/logs/workers.log"; done
fi
exit $rc
