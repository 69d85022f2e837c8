#!/usr/bin/env bash
# `make bench-admin` (issue 15): a store of BENCH_ADMIN_RECORDS (1,000,000) records
# made straight in MariaDB (20 form types, 500 clients, 50 users, 1 in 10 deleted,
# synced_at spread over 100 days, ~300-byte data), with 200 versions of one record's
# history among 100,000 others, BENCH_ADMIN_ATTACHMENTS (250,000) attachments (1 in 20
# deleted), one device_presence row per client and 1,000 users; the record counts
# (record_counts) are then filled by migration 011's own statements, timed (what a
# live upgrade makes pushes wait). Then the server time of GET /admin/overview (served
# from its cache row, and recomputed: the cache row deleted before each request), of
# the first page (100) of GET /admin/records under each single filter, and of one
# record with its history.
# Server time: to the first byte after the TLS handshake on loopback, the median of
# BENCH_ADMIN_REPEAT (7) requests. Not part of `make test`.
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
export REPO
export STATE=${BENCH_STATE:-/tmp/benchstack}-admin
export HTTPS_PORT=${BENCH_HTTPS_PORT:-29443} HTTP_PORT=${BENCH_HTTP_PORT:-29080} DB_PORT=${BENCH_DB_PORT:-29407}
export WORKERS=2
N=${BENCH_ADMIN_RECORDS:-1000000}
REPEAT=${BENCH_ADMIN_REPEAT:-7}
NATT=${BENCH_ADMIN_ATTACHMENTS:-250000}
ADMIN_PASSWORD=bench-admin-password
. "$REPO/packaging/devstack.sh"
say() { echo "[bench-admin] $*" >&2; }

if [ -e "$STATE" ]; then
    [ -e "$STATE/.bench-stack" ] || { say "$STATE exists and was not made by this script"; exit 1; }
    stack_stop
    rm -rf "$STATE"
fi
mkdir -p "$STATE" && touch "$STATE/.bench-stack"
trap 'stack_stop; rm -rf "$STATE/mysql"' EXIT
stack_up || { tail -n 30 "$STATE"/logs/*.log >&2; exit 1; }
printf '%s\n' "$ADMIN_PASSWORD" | stack_admin create-user admin admin >/dev/null || exit 1

say "making $N records"
T0=$(date +%s)
stack_sql "$DB_NAME" <<SQL || exit 1
SET SESSION unique_checks = 0;
INSERT INTO sync_records (id, schema_type, schema_version, data, hash, deleted, change_id, last_modified,
    last_modified_by, origin_client_id)
SELECT CONCAT('rec-', seq), CONCAT('form-', seq % 20), '1',
       CONCAT('{"household":"', SHA2(seq, 256), '","members":', seq % 9, ',"note":"', REPEAT('x', 150), '"}'),
       SHA2(CONCAT('h', seq), 256), seq % 10 = 0, seq,
       TIMESTAMP('2026-08-01') + INTERVAL (seq * 8640 DIV $N) * 1000 SECOND,
       CONCAT('user-', seq % 50), CONCAT('device-', seq % 500)
FROM seq_1_to_$N;
UPDATE sync_counter SET last_change_id = $N WHERE id = 1;
INSERT INTO sync_record_history (record_id, change_id, schema_type, schema_version, data, hash, deleted, synced_at,
    modified_by, client_id, replaced_by, replaced_at)
SELECT CONCAT('rec-', seq * 10 + 1), -seq, 'form-1', '1', '{"old":true}', SHA2(seq, 256), 0,
       TIMESTAMP('2026-08-01'), 'user-1', 'device-1', 'push', UTC_TIMESTAMP(3)
FROM seq_1_to_100000;
INSERT INTO sync_record_history (record_id, change_id, schema_type, schema_version, data, hash, deleted, synced_at,
    modified_by, client_id, replaced_by, replaced_at)
SELECT 'rec-4242', -seq, 'form-2', '1', CONCAT('{"version":', seq, '}'), SHA2(seq, 256), 0,
       TIMESTAMP('2026-08-01'), 'user-2', 'device-2', IF(seq % 7 = 0, 'conflict', 'push'), UTC_TIMESTAMP(3)
FROM seq_1_to_200;
INSERT INTO attachments (attachment_id, sha256, size, content_type, deleted, version, changed_at, changed_by)
SELECT CONCAT(UUID(), '.jpg'), SHA2(CONCAT('a', seq), 256), 50000 + seq % 100000, 'image/jpeg', seq % 20 = 0,
       $N + seq, UTC_TIMESTAMP(3), 'user-1'
FROM seq_1_to_$NATT;
UPDATE sync_counter SET last_change_id = $N + $NATT WHERE id = 1;
INSERT INTO device_presence (client_id, username, generation, first_seen, last_seen, pull_cursor, written_at)
SELECT CONCAT('device-', seq), CONCAT('user-', seq % 50), 'records', TIMESTAMP('2026-08-01'),
       UTC_TIMESTAMP(3) - INTERVAL seq HOUR, seq, UTC_TIMESTAMP(3)
FROM seq_0_to_499;
INSERT INTO users (username, password_hash, role, token_version, created_at)
SELECT CONCAT('bench-user-', seq), 'x', 'read-write', 0, UTC_TIMESTAMP() FROM seq_1_to_999;
ANALYZE TABLE sync_records, sync_record_history, attachments;
SQL
say "made in $(($(date +%s) - T0)) s: $(stack_sql -N "$DB_NAME" -e 'SELECT COUNT(*) FROM sync_records') records"
# The records were made behind the pushes' back: count them with migration 011's own
# statements (from START TRANSACTION on), as an upgrade of this store would.
T0=$(date +%s%N)
sed -n '/^START TRANSACTION;/,$p' "$REPO/sql/011_record_counts.sql" | stack_sql "$DB_NAME" || exit 1
RECOUNT_MS=$((($(date +%s%N) - T0) / 1000000))
say "record_counts filled by migration 011's statements in $RECOUNT_MS ms (pushes wait that long on the counter lock)"
# The attachments likewise, with migration 012's statements.
T0=$(date +%s%N)
sed -n '/^START TRANSACTION;/,$p' "$REPO/sql/012_attachment_totals.sql" | stack_sql "$DB_NAME" || exit 1
ATT_TOTALS_MS=$((($(date +%s%N) - T0) / 1000000))
say "attachment_totals filled by migration 012's statements in $ATT_TOTALS_MS ms"

BASE="https://127.0.0.1:$HTTPS_PORT"
CURL=(curl -sS --cacert "$STATE/tls/cert.pem")
TOKEN=$("${CURL[@]}" "$BASE/auth/login" -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

# The server's time of one request: time to the first byte after the TLS handshake
# (loopback, so nginx and the worker); GET /health, first, shows the floor.
# A second argument is run before each request (untimed).
measure() {
    local path=$1 before=${2:-} i
    for i in $(seq 1 "$REPEAT"); do
        [ -z "$before" ] || eval "$before"
        "${CURL[@]}" -o /dev/null -w '%{http_code} %{time_starttransfer} %{time_pretransfer}\n' \
            -H "Authorization: Bearer $TOKEN" "$BASE$path"
    done | awk -v p="$path" '$1 != 200 {bad = $1} {t[NR] = ($2 - $3) * 1000} END {
        n = asort(t); printf "%s %s %.1f\n", p, (bad ? "HTTP" bad : "ok"), t[int((n + 1) / 2)] }'
}
# The overview computed afresh: no cache row, so the request counts the store itself.
uncache_overview() { stack_sql "$DB_NAME" -e 'DELETE FROM overview_cache' || exit 1; }
say "server time (median of $REPEAT, ms): first byte minus the TLS handshake"
{
    measure "/health"
    measure "/admin/overview" uncache_overview | sed 's|^/admin/overview |/admin/overview(recomputed) |'
    measure "/admin/overview"
    measure "/admin/records"
    measure "/admin/records?form_type=form-7"
    measure "/admin/records?client_id=device-123"
    measure "/admin/records?username=user-17"
    measure "/admin/records?deleted=true"
    measure "/admin/records?deleted=false"
    measure "/admin/records?changed_after=2026-10-01T00:00:00Z"
    measure "/admin/records?changed_before=2026-09-01T00:00:00Z"
    measure "/admin/records/rec-4242"
    echo "migration-011-recount ok $RECOUNT_MS"
    echo "migration-012-attachment-totals ok $ATT_TOTALS_MS"
    # The overview's statements one by one, straight against MariaDB (its profiler, ms).
    stack_sql -N "$DB_NAME" <<'SQL' | tail -n 5 | awk -F'\t' '{printf "overview-sql:%s ok %.1f\n", substr($3, 1, 40), $2 * 1000}'
SET profiling = 1;
SELECT active_version FROM bundle_state WHERE id = 1;
SELECT COUNT(*) FROM users;
SELECT COUNT(*), COALESCE(SUM(last_seen >= UTC_TIMESTAMP() - INTERVAL 1 DAY), 0) FROM device_presence;
SELECT attachments, bytes FROM attachment_totals WHERE id = 1;
SELECT c.form_type, SUM(c.records), SUM(IF(c.deleted = 1, c.records, 0)), (SELECT DATE_FORMAT(s.last_modified, '%Y-%m-%dT%H:%i:%s.%fZ') FROM sync_records s FORCE INDEX (sync_records_by_type_synced) WHERE s.schema_type = c.form_type ORDER BY s.last_modified DESC LIMIT 1) FROM record_counts c GROUP BY c.form_type HAVING SUM(c.records) > 0 ORDER BY c.form_type;
SHOW PROFILES;
SQL
} | tee "$REPO/build/bench/admin-records.txt"
stack_sql "$DB_NAME" -e "EXPLAIN SELECT change_id FROM sync_records FORCE INDEX (sync_records_by_client_change)
    WHERE origin_client_id = 'device-123' AND change_id < 9223372036854775807 ORDER BY change_id DESC LIMIT 101" >&2
