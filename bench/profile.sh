#!/usr/bin/env bash
# `make bench-profile` (issue 18): where a small request spends its time. A private
# stack (the bench's ports and BENCH_STATE/../profile), then for each of a 4 KB
# attachment upload, a 4 KB attachment download, a bundle-file 304 and the manifest,
# 4 clients for PROFILE_SECONDS (5) while
#   - `strace -c -f` counts the workers' and nginx's system calls (per request below),
#   - MariaDB's status counters count statements, commits and its fsyncs,
#   - `perf record -g` samples the workers and nginx (a second, separate run: strace
#     slows the processes it traces, perf hardly does),
# and prints, per request: syscalls by name, DB statements and commits, and the top
# of each perf profile. Output: build/bench/profile.txt.
# PROFILE_CASES picks cases (default: the four small requests). pull_c1 (issue 18,
# pulls): one client pulling pages of 500 from PROFILE_SEED_RECORDS (20,000) seeded
# records of about 1 KB, also with perf on MariaDB; pull_gzip_c1 the same asking for
# gzip, as OkHttp does.
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
export REPO
BENCH_STATE=${BENCH_STATE:-/tmp/benchstack}
export STATE=${PROFILE_STATE:-$(dirname "$BENCH_STATE")/profile}
export HTTPS_PORT=${BENCH_HTTPS_PORT:-29443} HTTP_PORT=${BENCH_HTTP_PORT:-29080} DB_PORT=${BENCH_DB_PORT:-29407}
export WORKERS=${BENCH_WORKERS:-$((2 * $(nproc)))}
SECONDS_EACH=${PROFILE_SECONDS:-5}
CASE_NAMES=${PROFILE_CASES:-upload_4k download_4k bundle_304 manifest}
SEED_RECORDS=${PROFILE_SEED_RECORDS:-20000}
OUT=$REPO/build/bench/profile.txt
CLIENT=$REPO/build/bench-client
. "$REPO/packaging/devstack.sh"
say() { echo "[profile] $*" >&2; }
fail() { say "$*"; exit 1; }
[ -x "$CLIENT" ] || fail "$CLIENT is missing: run 'make bench-profile'"
command -v perf >/dev/null && command -v strace >/dev/null || fail "needs perf (linux-perf) and strace"
mkdir -p "$(dirname "$OUT")"
if [ -e "$STATE" ]; then
    [ -e "$STATE/.bench-stack" ] || fail "$STATE exists and was not made by bench/profile.sh"
    stack_stop
    rm -rf "$STATE"
fi
mkdir -p "$STATE"
touch "$STATE/.bench-stack"
trap 'stack_stop; rm -rf "$STATE/mysql"' EXIT
trap 'exit 130' INT TERM

stack_dirs
stack_up || { tail -n 30 "$STATE"/logs/*.log >&2; fail "the stack did not start"; }
printf '%s\n' profile-password | stack_admin create-user admin admin >/dev/null || fail "cannot create the admin user"
BASE="https://127.0.0.1:$HTTPS_PORT"
CURL=(curl -sS --cacert "$STATE/tls/cert.pem")
"${CURL[@]}" -X POST "$BASE/auth/login" -H 'Content-Type: application/json' \
    -d '{"username":"admin","password":"profile-password"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' >"$STATE/token" || fail "login failed"
AUTH=(-H "Authorization: Bearer $(cat "$STATE/token")")

python3 - "$STATE/bundle.zip" <<'PY'
import json, os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("app/index.html", "<!doctype html><title>profile</title>")
    z.writestr("app/assets/small-4k.bin", os.urandom(4096))
    for i in range(20):
        z.writestr(f"app/assets/img-{i:02d}.bin", os.urandom(2048))
    z.writestr("forms/f/schema.json", json.dumps({"type": "object", "properties": {"core_id": {"type": "string", "x-core": True}}}))
    z.writestr("forms/f/ui.json", json.dumps({"type": "VerticalLayout", "elements": []}))
PY
"${CURL[@]}" -o /dev/null "${AUTH[@]}" -F "bundle=@$STATE/bundle.zip;type=application/zip" "$BASE/app-bundle/push" || fail "bundle push failed"
head -c 4096 /dev/urandom >"$STATE/att-4k.bin"
"${CURL[@]}" -o /dev/null "${AUTH[@]}" -X PUT -F "file=@$STATE/att-4k.bin;type=application/octet-stream" \
    "$BASE/attachments/att-4k.bin" || fail "attachment upload failed"
etag_of() { "${CURL[@]}" -o /dev/null -D - "${AUTH[@]}" "$BASE$1" | tr -d '\r' | awk 'tolower($1) == "etag:" {print $2}'; }
BUNDLE_ETAG=$(etag_of /app-bundle/download/app/assets/small-4k.bin)

G="get --port $HTTPS_PORT --clients 4 --token-file $STATE/token"
declare -A CASES=(
    [upload_4k]="upload --port $HTTPS_PORT --token-file $STATE/token --size 4096 --clients 4"
    [download_4k]="$G --path /attachments/att-4k.bin"
    [bundle_304]="$G --path /app-bundle/download/app/assets/small-4k.bin --expect 304 --header If-None-Match:$BUNDLE_ETAG"
    [manifest]="$G --path /app-bundle/manifest"
)
DBARGS="--db-socket $STATE/mysql-run/mysqld.sock --db-user root --db-name $DB_NAME"
CASES[pull_c1]="pull --port $HTTPS_PORT --token-file $STATE/token $DBARGS --limit 500 --clients 1"
CASES[pull_gzip_c1]="${CASES[pull_c1]} --gzip"
case " $CASE_NAMES " in
*" pull"*)
    say "seeding $SEED_RECORDS records"
    "$CLIENT" seed --count "$SEED_RECORDS" $DBARGS >/dev/null || fail "seeding failed"
    ;;
esac
workers() { stack_worker_pids | paste -sd, -; }
nginx_pids() { { cat "$STATE/nginx.pid"; pgrep -P "$(cat "$STATE/nginx.pid")"; } | paste -sd, -; }
db_status() {
    stack_sql -N -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions','Com_select','Com_insert','Com_update',
        'Com_delete','Com_commit','Com_begin','Innodb_data_fsyncs','Innodb_os_log_fsyncs')" | sort
}

: >"$OUT"
for name in $CASE_NAMES; do
    say "$name"
    # shellcheck disable=SC2086
    "$CLIENT" ${CASES[$name]} --seconds 1 --warmup 0 >/dev/null 2>&1  # warm
    db_status >"$STATE/db-before"
    strace -c -f -qq -o "$STATE/strace-workers.txt" -p "$(workers)" &
    sw=$!
    strace -c -f -qq -o "$STATE/strace-nginx.txt" -p "$(nginx_pids)" &
    sn=$!
    sleep 0.5
    # shellcheck disable=SC2086
    line=$("$CLIENT" ${CASES[$name]} --seconds "$SECONDS_EACH" --warmup 0 2>>"$STATE/client.log")
    sleep 0.3
    kill -INT $sw $sn
    wait $sw $sn 2>/dev/null
    db_status >"$STATE/db-after"
    ops=$(echo "$line" | sed -n 's/.* ops=\([0-9]*\).*/\1/p')
    # Requests done while traced (the client counts only the measured window; the
    # statements and syscalls of its last in-flight requests are within noise).
    {
        echo "=== $name: $line"
        echo "--- per request (ops=$ops, 4 clients, traced by strace -c -f)"
        join "$STATE/db-before" "$STATE/db-after" | awk -v n="$ops" '{printf "  db %-22s %6.2f\n", $1, ($3 - $2) / n}'
        for side in workers nginx; do
            awk -v n="$ops" -v s="$side" 'NR > 2 && $NF != "total" && $1 !~ /^-/ {
                printf "  %-7s %-16s %7.2f calls  %8.1f us\n", s, $NF, $4 / n, $2 * 1e6 / n
            }' "$STATE/strace-$side.txt" | sort -k3,3nr | head -14
        done
    } >>"$OUT"
    # perf: a separate run, not traced.
    # shellcheck disable=SC2086
    perf record -q -g -o "$STATE/perf-workers.data" -p "$(workers)" -- sleep "$SECONDS_EACH" 2>/dev/null &
    pw=$!
    perf record -q -g -o "$STATE/perf-nginx.data" -p "$(nginx_pids)" -- sleep "$SECONDS_EACH" 2>/dev/null &
    pn=$!
    pd=
    if [[ $name == pull* ]]; then
        perf record -q -g -o "$STATE/perf-db.data" -p "$(cat "$STATE/mariadb.pid")" -- sleep "$SECONDS_EACH" 2>/dev/null &
        pd=$!
    fi
    # shellcheck disable=SC2086
    line=$("$CLIENT" ${CASES[$name]} --seconds "$SECONDS_EACH" --warmup 0 --watch "nginx=$(cat "$STATE/nginx.pid"),workers=$(cat "$STATE/workers.pid"),db=$(cat "$STATE/mariadb.pid")" 2>>"$STATE/client.log")
    wait $pw $pn $pd
    {
        echo "--- untraced: $line"
        for side in workers nginx $([ -n "$pd" ] && echo db); do
            echo "--- perf, $side: self time by shared object, then the top symbols"
            perf report -q -i "$STATE/perf-$side.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^$' | grep '%' | head -8
            perf report -q -i "$STATE/perf-$side.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep '%' | head -14
        done
    } >>"$OUT"
done
cat "$OUT"
