#!/usr/bin/env bash
# Integration tests: a private MariaDB, the worker pool and nginx on loopback, then
# every tests/integration/test_*.py through HTTPS. Everything is stopped at the end.
# Usage: tests/integration/run.sh [test_module_pattern [directory of the test modules]]
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export STATE=${STATE:-$REPO/tests/tmp/stack}
export WORKERS=${WORKERS:-3}
# The binaries under test: build/ unless a caller (make test-sanitize) names another build.
export BIN=${BIN:-$REPO/build}
# Cheaper Argon2 parameters keep the many logins of the suite fast; the hashing code is the same.
export ARGON2_MEMORY_KIB=${ARGON2_MEMORY_KIB:-8192} ARGON2_TIME_COST=${ARGON2_TIME_COST:-1}
. "$REPO/packaging/devstack.sh"
# Ports: HTTPS_PORT, HTTP_PORT and DB_PORT when given, else free ones chosen now, so
# the suite runs beside whatever else holds a port (`make test` checks that).
stack_choose_ports || exit 1
echo "test stack: https $HTTPS_PORT, http $HTTP_PORT, MariaDB $DB_PORT, state $STATE"

stack_lock || exit 1
# Stopping ignores further INT/TERM (a TERM to the process group may come twice), so
# it always finishes; whatever still holds the stack's lock afterwards is stopped too.
cleanup() { trap '' INT TERM; stack_stop; stack_stop_stragglers; }
trap cleanup EXIT
trap 'exit 143' INT TERM

# A fresh stack each run; the lock file stays (it is held).
find "$STATE" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
stack_up || { echo "could not start the test stack; logs:"; tail -n 30 "$STATE"/logs/*.log; exit 1; }
export ADMIN_PASSWORD=admin-password-for-tests
printf '%s\n' "$ADMIN_PASSWORD" | stack_admin create-user admin admin >/dev/null || exit 1
export REPO BASE_URL="https://127.0.0.1:$HTTPS_PORT" CACERT="$STATE/tls/cert.pem"

# A second argument names another directory of test modules (tests/browser).
/usr/bin/python3 "$REPO/tests/integration/runner.py" "${1:-test_*.py}" ${2:+"$2"}
rc=$?
if [ $rc -ne 0 ]; then
    echo "--- last worker log lines ---"; tail -n 40 "$STATE/logs/workers.log"
    echo "--- last nginx error log lines ---"; tail -n 20 "$STATE/logs/nginx-error.log"
fi
exit $rc
