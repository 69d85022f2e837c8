#!/usr/bin/env bash
# `make bench-export` (issue 17; not part of `make test`): BENCH_EXPORT_RECORDS
# records (default 1,000,000) of one form type, exported as CSV and as Parquet
# through nginx, each beside a plain SELECT of the same rows by the mariadb client
# (its rate is the ceiling), with the serving worker's peak RSS (VmHWM, reset
# before each export) and the archive sizes. DuckDB counts the Parquet rows.
# Settings: BENCH_STATE, BENCH_HTTPS_PORT, BENCH_HTTP_PORT, BENCH_DB_PORT as bench/run.sh.
# Output: stdout and build/bench/export.txt.
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
export REPO
export STATE=${BENCH_STATE:-/tmp/benchstack}
export HTTPS_PORT=${BENCH_HTTPS_PORT:-29443} HTTP_PORT=${BENCH_HTTP_PORT:-29080} DB_PORT=${BENCH_DB_PORT:-29407}
export WORKERS=${BENCH_WORKERS:-2}
N=${BENCH_EXPORT_RECORDS:-1000000}
OUT=$REPO/build/bench
mkdir -p "$OUT"
RESULTS=$OUT/export.txt
ADMIN_PASSWORD=bench-admin-password
say() { echo "[bench-export] $*" >&2; }
fail() { say "$*"; exit 1; }
. "$REPO/packaging/devstack.sh"

if [ -e "$STATE" ]; then
    [ -e "$STATE/.bench-stack" ] || fail "$STATE exists and was not made by a bench script; set BENCH_STATE"
    stack_stop
    rm -rf "$STATE"
fi
mkdir -p "$STATE"
touch "$STATE/.bench-stack"
cleanup() { stack_stop; rm -rf "$STATE/mysql"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

stack_dirs
stack_up || { tail -n 30 "$STATE"/logs/*.log >&2; fail "the stack did not start"; }
printf '%s\n' "$ADMIN_PASSWORD" | stack_admin create-user admin admin >/dev/null || fail "cannot create the admin user"
BASE="https://127.0.0.1:$HTTPS_PORT"
CURL=(curl -sS --cacert "$STATE/tls/cert.pem")
TOKEN=$("${CURL[@]}" -X POST "$BASE/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') || fail "login failed"

say "seeding $N records"
t0=$(date +%s.%N)
for ((from = 1; from <= N; from += 100000)); do
    to=$((from + 99999 < N ? from + 99999 : N))
    stack_sql "$DB_NAME" -e "INSERT INTO sync_records (id, schema_type, schema_version, data, hash, deleted, change_id,
        last_modified, last_modified_by, origin_client_id, created_at, updated_at, geolocation)
      SELECT CONCAT('r', seq), 'bench', '1',
        CONCAT('{\"flag\":', IF(seq % 3 = 0, 'true', 'false'), ',\"h\":\"', SHA2(seq, 256), '\",\"n\":', seq,
               ',\"p\":{\"q\":', seq / 7, ',\"s\":\"say \\\\\"hi\\\\\" ', seq % 1000, '\"},\"tags\":[1,\"x\"]}'),
        SHA2(seq, 256), seq % 50 = 0, seq, UTC_TIMESTAMP(3), 'bench', 'bench', '2026-01-01T00:00:00Z', NULL,
        '{\"latitude\":47.5,\"longitude\":8.25}'
      FROM seq_${from}_to_${to}" || fail "seeding failed"
done
stack_sql "$DB_NAME" -e "UPDATE sync_counter SET last_change_id = $N WHERE id = 1"
say "seeded in $(echo "$(date +%s.%N) - $t0" | bc) s"

worker_pids() { pgrep -P "$(cat "$STATE/workers.pid")"; }
reset_peaks() { for p in $(worker_pids); do echo 5 >"/proc/$p/clear_refs"; done; }
peak_kib() {
    local max=0 v p
    for p in $(worker_pids); do
        v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status")
        [ "$v" -gt "$max" ] && max=$v
    done
    echo "$max"
}

# The ceiling: the rows the export reads, in one SELECT, read by the client to /dev/null.
t0=$(date +%s.%N)
stack_sql "$DB_NAME" --quick -N -B -e "SELECT change_id, id, schema_version, created_at, updated_at, last_modified,
    deleted, geolocation, last_modified_by, data FROM sync_records WHERE schema_type = 'bench'" >/dev/null
select_s=$(echo "$(date +%s.%N) - $t0" | bc)

declare -A secs size peak
for fmt in csv parquet; do
    reset_peaks
    t0=$(date +%s.%N)
    "${CURL[@]}" -o "$STATE/export.$fmt.zip" -H "Authorization: Bearer $TOKEN" "$BASE/dataexport/$fmt" || fail "$fmt export failed"
    secs[$fmt]=$(echo "$(date +%s.%N) - $t0" | bc)
    size[$fmt]=$(stat -c %s "$STATE/export.$fmt.zip")
    peak[$fmt]=$(peak_kib)
done
rm -rf "$STATE/pq" && mkdir "$STATE/pq" && unzip -q "$STATE/export.parquet.zip" -d "$STATE/pq"
parquet_bytes=$(stat -c %s "$STATE/pq/bench.parquet")
csv_bytes=$(unzip -p "$STATE/export.csv.zip" bench.csv | wc -c)
rows=$(cd "$REPO/build/jsreaders" && node --input-type=module -e "
import { DuckDBInstance } from '@duckdb/node-api'
const c = await (await DuckDBInstance.create(':memory:')).connect()
const r = await c.runAndReadAll(\"SELECT count(*) AS n, count(DISTINCT observation_id) AS d FROM read_parquet('$STATE/pq/bench.parquet')\")
const o = r.getRowObjects()[0]; console.log(o.n + '/' + o.d)")

{
    echo "export of $N records (one form type, 9 data leaves), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'plain SELECT (mariadb client)  %8.1f s  %9.0f records/s\n' "$select_s" "$(echo "$N / $select_s" | bc -l)"
    for fmt in csv parquet; do
        printf '%-30s %8.1f s  %9.0f records/s  ratio to SELECT %.2f  worker VmHWM %.1f MiB  zip %.1f MiB\n' \
            "GET /dataexport/$fmt" "${secs[$fmt]}" "$(echo "$N / ${secs[$fmt]}" | bc -l)" \
            "$(echo "$select_s / ${secs[$fmt]}" | bc -l)" "$(echo "${peak[$fmt]} / 1024" | bc -l)" \
            "$(echo "${size[$fmt]} / 1048576" | bc -l)"
    done
    printf 'bench.csv %.1f MiB uncompressed; bench.parquet %.1f MiB (Snappy); DuckDB reads %s rows/distinct ids\n' \
        "$(echo "$csv_bytes / 1048576" | bc -l)" "$(echo "$parquet_bytes / 1048576" | bc -l)" "$rows"
} | tee "$RESULTS"
for fmt in csv parquet; do
    [ "${peak[$fmt]}" -lt $((64 * 1024)) ] || fail "$fmt: worker peak RSS ${peak[$fmt]} KiB is not under 64 MiB"
done
[ "$rows" = "$N/$N" ] || fail "DuckDB read $rows rows, expected $N"
