#!/usr/bin/env bash
# `make run`: MariaDB, the worker pool and nginx in the foreground, state in ./run.
# Ctrl-C stops everything. HTTPS_PORT (8443), HTTP_PORT (8080), DB_PORT (3407),
# WORKERS and ADMIN_PASSWORD can be set in the environment.
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
STATE=${STATE:-$REPO/run}
HTTPS_PORT=${HTTPS_PORT:-8443}
HTTP_PORT=${HTTP_PORT:-8080}
DB_PORT=${DB_PORT:-3407}
. "$REPO/packaging/devstack.sh"

# Before the trap: a refused start must leave the running instance alone.
stack_lock || exit 1
# Stopping ignores every further INT and TERM: a TERM sent to the whole process group
# (a supervisor, a test harness, Ctrl-C) reaches this script twice, once directly and
# once from make, which passes its own TERM on to its child, and a second TERM that
# ended the cleanup half-way left nginx, the workers or MariaDB running (they are in
# their own sessions, out of the group's reach). Whatever still holds the state's
# lock after the ordered stop (a service started an instant before the TERM, whose
# pid file was not yet written) is stopped too. make waits for this script to exit.
cleanup() {
    trap '' INT TERM
    trap - EXIT
    echo; stack_log "stopping"
    stack_stop
    stack_stop_stragglers
    exit "${1:-0}"
}
trap 'cleanup 0' INT TERM
trap 'cleanup $?' EXIT

stack_dirs && stack_cert && stack_secrets && stack_start_db && stack_setup_db && stack_write_config &&
    stack_admin migrate >/dev/null || { stack_log "start-up failed; logs in $STATE/logs"; exit 1; }

# The admin account: ADMIN_PASSWORD if given, else one generated on first run.
password=$(stack_choose_admin_password "$STATE/credentials")
stack_set_admin_password <<<"$password" || exit 1
url="https://127.0.0.1:$HTTPS_PORT"
(umask 077; printf 'url=%s\nusername=admin\npassword=%s\ncacert=%s\n' "$url" "$password" "$STATE/tls/cert.pem" >"$STATE/credentials")

stack_start_workers && stack_start_nginx || { stack_log "start-up failed; logs in $STATE/logs"; exit 1; }

cat <<MSG

  synkronus-fcgi is running at $url   (HTTP $HTTP_PORT redirects there)
  admin user:  admin
  password:    $password
  certificate: $STATE/tls/cert.pem   (self-signed for localhost and 127.0.0.1)
  written to:  $STATE/credentials
  logs:        $STATE/logs/

  try:  curl --cacert $STATE/tls/cert.pem $url/health

  Ctrl-C stops everything.
MSG
# Stay in the foreground until a service dies or we are interrupted.
while kill -0 "$(cat "$STATE/nginx.pid")" 2>/dev/null && kill -0 "$(cat "$STATE/workers.pid")" 2>/dev/null \
    && kill -0 "$(cat "$STATE/mariadb.pid")" 2>/dev/null; do
    sleep 0.5
done
stack_log "a service stopped unexpectedly; see $STATE/logs"
exit 1
