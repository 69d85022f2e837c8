#!/usr/bin/env bash
# `make bench`: sync (issue 4) and app-bundle (issue 3) throughput through nginx over
# HTTPS, each figure next to its ceiling measured in the same run on the same
# machine (MariaDB directly, or a static nginx location with no auth), and printed
# as a ratio. The machine is small and shared, so absolute numbers drift from run to
# run; the ratios are what to read. For the sync rows, ours and the ceiling alternate
# in short runs (BENCH_ROUNDS of each), and the median of each side is reported; the
# bundle and attachment rows run in paired groups (paired(), below). For one client,
# the server's own SQL statements are also replayed straight against MariaDB, which
# splits the gap into the database's share and the HTTP/FastCGI/JSON share.
#
# Order: seed 100,000 records, pull (before any push, so the table is the seeded
# one), push, then bundles (skipped with a message while the routes are missing),
# then attachments (downloads against a static location over the same files,
# uploads against writing the same bytes to the same disk).
# Pulls and pushes run in both generations of the API (side "obs": observations,
# CONTRACT §7) next to the record rows, in the same rounds.
#
# Settings (environment): BENCH_STATE (default /tmp/benchstack), BENCH_HTTPS_PORT,
# BENCH_HTTP_PORT, BENCH_DB_PORT (29443, 29080, 29407), BENCH_WORKERS (default: what
# the server does with workers = 0, two per core), BENCH_SECONDS (measured seconds
# per run, 3), BENCH_WARMUP (1), BENCH_ROUNDS (3), BENCH_SEED_RECORDS (100000),
# BENCH_BUNDLE_CLIENTS (4), BENCH_ONLY (sync, history, presence,
# issue15 (history and presence), bundles or attachments; sync-rows: the pull and
# push rows of sync without its history and presence pairs; pulls: its pull rows only), BENCH_KEEP (keep the
# database and bundle store under BENCH_STATE after the run), BENCH_SMALL_PAIRS (10),
# BENCH_SMALL_SECONDS (1), BENCH_SMALL_METHOD (pairs; rounds: the bundle and attachment
# rows as before issue 18's pairs, for comparing the two methods).
# Output: the table on stdout and in build/bench/results.txt; every raw run in
# build/bench/raw.txt; the clients' error messages in build/bench/bench.log.
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
export REPO
export STATE=${BENCH_STATE:-/tmp/benchstack}
export HTTPS_PORT=${BENCH_HTTPS_PORT:-29443} HTTP_PORT=${BENCH_HTTP_PORT:-29080} DB_PORT=${BENCH_DB_PORT:-29407}
export WORKERS=${BENCH_WORKERS:-$((2 * $(nproc)))}
RUN_SECONDS=${BENCH_SECONDS:-3}
WARMUP=${BENCH_WARMUP:-1}
ROUNDS=${BENCH_ROUNDS:-3}
SEED_RECORDS=${BENCH_SEED_RECORDS:-100000}
BUNDLE_CLIENTS=${BENCH_BUNDLE_CLIENTS:-4}
ONLY=${BENCH_ONLY:-}

OUT=$REPO/build/bench
RAW=$OUT/raw.txt
LOG=$OUT/bench.log
RESULTS=$OUT/results.txt
CLIENT=$REPO/build/bench-client
ADMIN_PASSWORD=bench-admin-password

. "$REPO/packaging/devstack.sh"

say() { echo "[bench] $*" >&2; }
fail() { say "$*"; exit 1; }

[ -x "$CLIENT" ] || fail "$CLIENT is missing: run 'make bench'"
mkdir -p "$OUT"
: >"$RAW"
: >"$LOG"

# The state directory is wiped, so it must be ours (or not exist yet).
if [ -e "$STATE" ]; then
    [ -e "$STATE/.bench-stack" ] || fail "$STATE exists and was not made by bench/run.sh; set BENCH_STATE"
    stack_stop  # a stack left behind by an interrupted run
    rm -rf "$STATE"
fi
mkdir -p "$STATE"
touch "$STATE/.bench-stack"

cleanup() {
    say "stopping the stack"
    stack_stop
    # The database holds a gigabyte or so of benchmark rows; the logs stay for a look.
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$STATE/mysql" "$STATE/bundles" "$STATE/attachments" "$STATE/disk-write"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T_START=$(date +%s)
fact() { echo "fact $1 $2" >>"$RAW"; }
fact started "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
fact nproc "$(nproc)"
fact workers "$WORKERS"
fact seconds "$RUN_SECONDS"
fact rounds "$ROUNDS"
fact loadavg_before "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"

# --- the stack, with a static no-auth location over the bundle store (the ceiling)
stack_dirs
mkdir -p "$STATE/static"
cat >"$STATE/nginx/extra-bench.conf" <<CONF
# bench/run.sh: the ceiling for bundle downloads, nginx serving the same files with no auth.
location /_static_ceiling/ {
    alias $STATE/bundles/versions/;
}
location /_static_attachment/ {
    alias $STATE/attachments/files/;
}
location /_static_misc/ {
    alias $STATE/static/;
    default_type application/json;
}
# The same routes with a new FastCGI connection per request (as before issue 18's kept
# connections): the hop's own baseline, measured in the same rounds. The worker sees
# the path without /_once (the last REQUEST_URI nginx sends is the one it keeps).
location ~ ^/_once(?<bench_once_uri>/.*)\$ {
    include fastcgi_params;
    fastcgi_param REQUEST_URI \$bench_once_uri\$is_args\$args;
    fastcgi_param REQUEST_ID \$request_id;
    fastcgi_keep_conn off;
    fastcgi_pass unix:$STATE/fcgi.sock;
}
CONF
say "starting MariaDB, $WORKERS workers and nginx in $STATE"
stack_up || { tail -n 30 "$STATE"/logs/*.log >&2; fail "the stack did not start"; }
printf '%s\n' "$ADMIN_PASSWORD" | stack_admin create-user admin admin >/dev/null || fail "cannot create the admin user"

BASE="https://127.0.0.1:$HTTPS_PORT"
CURL=(curl -sS --cacert "$STATE/tls/cert.pem")
"${CURL[@]}" -X POST "$BASE/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' >"$STATE/token" ||
    fail "login failed"
TOKEN=$(cat "$STATE/token")

DBARGS=(--db-socket "$STATE/mysql-run/mysqld.sock" --db-user root --db-name "$DB_NAME")
API=(--port "$HTTPS_PORT" --token-file "$STATE/token")

watch_pids() { echo "nginx=$(cat "$STATE/nginx.pid"),workers=$(cat "$STATE/workers.pid"),db=$(cat "$STATE/mariadb.pid")"; }
worker_pids() { cat "/proc/$(cat "$STATE/workers.pid")/task/"*/children 2>/dev/null || pgrep -P "$(cat "$STATE/workers.pid")"; }

# Resets the peak RSS (VmHWM) of every worker; restarts the workers where the kernel refuses.
reset_worker_peaks() {
    local ok=1 p
    for p in $(worker_pids); do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || ok=0; done
    if [ $ok = 0 ]; then
        say "cannot reset VmHWM; restarting the workers instead"
        stack_stop_workers && stack_start_workers || fail "workers did not restart"
    fi
}
# Largest VmHWM over the workers, KiB.
worker_peak_kib() {
    local p max=0 v
    for p in $(worker_pids); do
        v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null)
        [ -n "$v" ] && [ "$v" -gt "$max" ] && max=$v
    done
    echo "$max"
}

# Worker memory (issue 18): "pid rss pss" in KiB per worker, from /proc/PID/smaps_rollup
# (PSS shares the pages the workers have in common, the code and the libraries, among
# them, so the sum of PSS is what the pool really costs the machine; the sum of RSS
# counts those pages once per worker).
mem_sample() {
    local p
    for p in $(worker_pids); do
        awk -v p="$p" '/^Rss:/ {r = $2} /^Pss:/ {s = $2} END {if (r) print p, r, s}' "/proc/$p/smaps_rollup" 2>/dev/null
    done
}
# mem_fact NAME: one sample now, as `fact NAME pid:rss:pss,... sum_rss sum_pss`.
mem_fact() {
    mem_sample | awk -v n="$1" '{l = l (l ? "," : "") $1 ":" $2 ":" $3; r += $2; s += $3}
        END {print "fact", n, l, r, s}' >>"$RAW"
}
# Samples every worker every 0.25 s until mem_watch_stop; the fact is the sample whose
# PSS sum was the largest, with each worker's figures in it.
mem_watch_start() {
    MEM_WATCH_FILE=$STATE/mem-watch.txt
    : >"$MEM_WATCH_FILE"
    (while :; do mem_sample | awk '{l = l (l ? "," : "") $1 ":" $2 ":" $3; r += $2; s += $3} END {print l, r, s}' \
        >>"$MEM_WATCH_FILE"; sleep 0.25; done) &
    MEM_WATCH_PID=$!
}
mem_watch_stop() {
    kill "$MEM_WATCH_PID" 2>/dev/null
    wait "$MEM_WATCH_PID" 2>/dev/null
    sort -k3,3n "$MEM_WATCH_FILE" | tail -1 | awk -v n="$1" 'NF == 3 {print "fact", n, $0}' >>"$RAW"
}

# run KEY SIDE MODE ARGS...: one timed run of the client, appended to raw.txt.
run() {
    local key=$1 side=$2 line
    shift 2
    line=$("$CLIENT" "$@" --seconds "$RUN_SECONDS" --warmup "$WARMUP" --watch "$(watch_pids)" 2>>"$LOG")
    [ -n "$line" ] || line="rate=0 errors=1"
    echo "$key $side $line" >>"$RAW"
    printf '  %-16s %-7s %s\n' "$key" "$side" "$(echo "$line" | awk '{print $1, $6, $8, $10, $11, $12, $13, $14}')" >&2
}

# rounds KEY SIDE "ARGS" [SIDE "ARGS"]...: ROUNDS rounds, each running every side once,
# back to back, so ours and its ceiling see the same machine. Empty ARGS are skipped.
rounds() {
    local key=$1 r i
    shift
    local args=("$@")
    for r in $(seq 1 "$ROUNDS"); do
        for ((i = 0; i < ${#args[@]}; i += 2)); do
            [ -n "${args[i + 1]}" ] || continue
            # shellcheck disable=SC2086
            run "$key" "${args[i]}" ${args[i + 1]}
        done
    done
}

# The bundle and attachment rows (issue 18): small requests, thousands a second, whose
# ceiling (static nginx) swings 2x with other people's load on this shared machine, so
# 3 rounds of 3 s gave the 4 KB download anything from 0.30 to 0.50 on the same code.
# They take the method of issue 15's on/off rows (see pairs() below): BENCH_SMALL_PAIRS
# groups of short runs (BENCH_SMALL_SECONDS after 0.5 s of warmup), one run of every side
# per group, back to back, the order reversed every other group (so neither ours nor the
# ceiling always runs first, right after the other's load); the stack and the client at
# nice BENCH_PAIR_NICE while they run. report.py gives each row the median of its groups'
# ratios, with their middle half and range (each ratio from two runs seconds apart, so a
# shift in the machine's load between groups cancels out of it).
SMALL_PAIRS=${BENCH_SMALL_PAIRS:-10}
SMALL_SECONDS=${BENCH_SMALL_SECONDS:-1}
SMALL_METHOD=${BENCH_SMALL_METHOD:-pairs}
fact small_method "$SMALL_METHOD"
fact small_pairs "$SMALL_PAIRS"
fact small_seconds "$SMALL_SECONDS"
# paired KEY SIDE "ARGS" [SIDE "ARGS"]...: as rounds(), in groups; empty ARGS are skipped.
paired() {
    [ "$SMALL_METHOD" = pairs ] || { rounds "$@"; return; }
    local key=$1 i j side line order=()
    shift
    local args=("$@")
    for ((j = 0; j < ${#args[@]}; j += 2)); do [ -z "${args[j + 1]}" ] || order+=("$j"); done
    stack_renice "$PAIR_NICE"  # every call: workers restarted since run at 0 otherwise
    for i in $(seq 1 "$SMALL_PAIRS"); do
        for ((j = 0; j < ${#order[@]}; j++)); do
            local at=${order[$([ $((i % 2)) = 1 ] && echo "$j" || echo $((${#order[@]} - 1 - j)))]}
            side=${args[at]}
            # shellcheck disable=SC2086
            line=$(nice -n "$PAIR_NICE" "$CLIENT" ${args[at + 1]} --seconds "$SMALL_SECONDS" --warmup 0.5 \
                --watch "$(watch_pids)" 2>>"$LOG")
            [ -n "$line" ] || line="rate=0 errors=1"  # keeps the groups aligned in report.py
            echo "$key $side $line pair=$i load1=$(cut -d' ' -f1 /proc/loadavg)" >>"$RAW"
            printf '  %-16s %-7s %s\n' "$key" "$side" "$(echo "$line" | awk '{print $1, $6}')" >&2
        done
    done
    stack_renice 0
}

bench_sync() {
    say "seeding $SEED_RECORDS records of ~1 KB straight into sync_records"
    "$CLIENT" seed --count "$SEED_RECORDS" "${DBARGS[@]}" >>"$LOG" 2>&1 || fail "seeding failed (see $LOG)"
    # The ceiling's insert table starts as a copy, so both sides insert into a table of the same size.
    stack_sql "$DB_NAME" -e "CREATE TABLE bench_ceiling LIKE sync_records;
        INSERT INTO bench_ceiling SELECT * FROM sync_records; ANALYZE TABLE sync_records, bench_ceiling;" >/dev/null ||
        fail "cannot create the ceiling table"
    fact seed_records "$(stack_sql -N "$DB_NAME" -e 'SELECT COUNT(*) FROM sync_records')"
    fact avg_data_bytes "$(stack_sql -N "$DB_NAME" -e 'SELECT ROUND(AVG(LENGTH(data))) FROM sync_records')"

    say "pull: pages of 500 (ceiling: SELECT ... WHERE change_id > ? ORDER BY change_id LIMIT 500)"
    reset_worker_peaks
    local c b
    mem_watch_start
    for c in 1 4; do
        rounds "pull_c$c" ceiling "db-select ${DBARGS[*]} --limit 500 --clients $c" \
            sql "$([ $c = 1 ] && echo "db-select ${DBARGS[*]} --server-sql --limit 500 --clients $c")" \
            ours "pull ${API[*]} ${DBARGS[*]} --limit 500 --clients $c" \
            obs "pull ${API[*]} ${DBARGS[*]} --limit 500 --clients $c --observations"
    done
    mem_watch_stop mem_load_pull
    fact peak_rss_pull_kib "$(worker_peak_kib)"
    # What a mobile client really asks for (OkHttp adds Accept-Encoding: gzip); informative.
    run pull_gzip_c1 ours pull "${API[@]}" "${DBARGS[@]}" --limit 500 --clients 1 --gzip

    [ "$ONLY" = pulls ] && return  # the pull rows alone (comparing pull changes in alternating runs)
    say "push: batches of 100 and 500 fresh records and observations (ceiling: multi-row INSERT of the same rows)"
    reset_worker_peaks
    mem_watch_start
    for b in 100 500; do
        for c in 1 4 16; do
            rounds "push_b${b}_c$c" ceiling "db-insert ${DBARGS[*]} --table bench_ceiling --batch $b --clients $c" \
                sql "$([ $c = 1 ] && echo "db-insert ${DBARGS[*]} --server-sql --batch $b --clients $c")" \
                ours "push ${API[*]} --batch $b --clients $c" \
                obs "push ${API[*]} --batch $b --clients $c --observations"
        done
    done
    mem_watch_stop mem_load_push
    fact peak_rss_push_kib "$(worker_peak_kib)"
    sleep 1
    mem_fact mem_rest_after_sync
}

# A bundle with a 4 KB and a 1 MB file, a form and a few more app files.
make_bundle() {
    /usr/bin/python3 - "$1" <<'PY'
import json, os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("app/index.html", "<!doctype html><title>bench</title><script src='assets/app.js'></script>")
    z.writestr("app/assets/small-4k.bin", os.urandom(4096))
    z.writestr("app/assets/large-1m.bin", os.urandom(1 << 20))
    for i in range(20):
        z.writestr(f"app/assets/img-{i:02d}.bin", os.urandom(2048))
    schema = {"type": "object", "properties": {"core_id": {"type": "string", "x-core": True},
              "name": {"type": "string"}, "age": {"type": "integer"}}}
    z.writestr("forms/household_survey/schema.json", json.dumps(schema))
    z.writestr("forms/household_survey/ui.json", json.dumps({"type": "VerticalLayout", "elements": []}))
PY
}

# The value of a response header of a GET (empty when absent).
header_of() {
    local path=$1 name=$2
    shift 2
    "${CURL[@]}" -o /dev/null -D - "$@" "$BASE$path" | tr -d '\r' |
        awk -v n="$(echo "$name" | tr 'A-Z' 'a-z')" 'BEGIN{FS=": "} tolower($1)==n {print substr($0, length($1)+3)}' | tail -1
}

bench_bundles() {
    local status
    status=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/app-bundle/versions")
    if [ "$status" = 404 ]; then
        say "SKIPPED bundles: GET /app-bundle/versions answers 404, the bundle routes are not there yet"
        fact bundles_skipped "GET /app-bundle/versions answered 404 (bundle routes not built yet)"
        return 0
    fi
    say "bundles: pushing a bundle with a 4 KB and a 1 MB file"
    make_bundle "$STATE/bench-bundle.zip"
    status=$("${CURL[@]}" -o "$STATE/push-response.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -F "bundle=@$STATE/bench-bundle.zip;type=application/zip" "$BASE/app-bundle/push")
    if [ "$status" != 200 ]; then
        say "SKIPPED bundles: POST /app-bundle/push answered $status: $(head -c 300 "$STATE/push-response.json")"
        fact bundles_skipped "POST /app-bundle/push answered $status"
        return 0
    fi
    "${CURL[@]}" -H "Authorization: Bearer $TOKEN" "$BASE/app-bundle/manifest" >"$STATE/static/manifest.json"

    # The same files, found on disk, for the static location.
    local small large
    small=$(cd "$STATE/bundles/versions" && find . -path '*/app/assets/small-4k.bin' | head -1)
    large=$(cd "$STATE/bundles/versions" && find . -path '*/app/assets/large-1m.bin' | head -1)
    if [ -z "$small" ] || [ -z "$large" ]; then
        say "SKIPPED bundles: the pushed files are not under $STATE/bundles/versions"
        fact bundles_skipped "pushed files not found under bundles/versions"
        return 0
    fi
    small=/_static_ceiling/${small#./}
    large=/_static_ceiling/${large#./}
    local auth=(-H "Authorization: Bearer $TOKEN")
    # Both paths must hand out the same bytes, or the comparison means nothing.
    "${CURL[@]}" "${auth[@]}" -o "$STATE/dl-ours.bin" "$BASE/app-bundle/download/app/assets/large-1m.bin"
    "${CURL[@]}" -o "$STATE/dl-static.bin" "$BASE$large"
    if ! cmp -s "$STATE/dl-ours.bin" "$STATE/dl-static.bin" || [ "$(stat -c %s "$STATE/dl-ours.bin")" != 1048576 ]; then
        say "SKIPPED bundles: the authorized download and the static file differ"
        fact bundles_skipped "the authorized download of large-1m.bin differs from the file on disk"
        return 0
    fi
    local etag static_etag
    etag=$(header_of /app-bundle/download/app/assets/small-4k.bin ETag "${auth[@]}")
    static_etag=$(header_of "$small" ETag)
    fact bundle_etag "$etag"
    local G="get --port $HTTPS_PORT --clients $BUNDLE_CLIENTS"
    local A="--token-file $STATE/token"
    say "bundles: $BUNDLE_CLIENTS clients; ceiling: the same files from a static nginx location, no auth"
    # With the 4 KB file: worker round trips with no auth, the floor of any route a worker
    # answers (an unknown route: no database; /health: one query).
    paired dl_4k ceiling "$G --path $small" ours "$G $A --path /app-bundle/download/app/assets/small-4k.bin" \
        worker_404 "$G --path /_bench/no-such-route --expect 404" health "$G --path /health" \
        worker_404_once "$G --path /_once/_bench/no-such-route --expect 404" \
        once "$G $A --path /_once/app-bundle/download/app/assets/small-4k.bin"
    paired dl_1m ceiling "$G --path $large" ours "$G $A --path /app-bundle/download/app/assets/large-1m.bin"
    # If-None-Match with the ETag each side hands out (nginx's own for the static file).
    paired not_modified ceiling "$G --path $small --expect 304 --header If-None-Match:$static_etag" \
        ours "$G $A --path /app-bundle/download/app/assets/small-4k.bin --expect 304 --header If-None-Match:$etag" \
        once "$G $A --path /_once/app-bundle/download/app/assets/small-4k.bin --expect 304 --header If-None-Match:$etag"
    paired manifest ceiling "$G --path /_static_misc/manifest.json" ours "$G $A --path /app-bundle/manifest" \
        once "$G $A --path /_once/app-bundle/manifest"
}

bench_attachments() {
    say "attachments: uploading a 4 KB and a 1 MB file"
    local auth=(-H "Authorization: Bearer $TOKEN") f status
    head -c 4096 /dev/urandom >"$STATE/att-4k.bin"
    head -c 1048576 /dev/urandom >"$STATE/att-1m.bin"
    for f in att-4k att-1m; do
        status=$("${CURL[@]}" -o "$STATE/att-response.json" -w '%{http_code}' "${auth[@]}" -X PUT \
            -F "file=@$STATE/$f.bin;type=application/octet-stream" "$BASE/attachments/$f.bin")
        if [ "$status" != 200 ]; then
            say "SKIPPED attachments: PUT /attachments/$f.bin answered $status: $(head -c 300 "$STATE/att-response.json")"
            fact attachments_skipped "PUT /attachments/$f.bin answered $status"
            return 0
        fi
    done
    local small large
    small=$(sha256sum "$STATE/att-4k.bin" | cut -c1-64)
    large=$(sha256sum "$STATE/att-1m.bin" | cut -c1-64)
    small=/_static_attachment/${small:0:2}/$small
    large=/_static_attachment/${large:0:2}/$large
    "${CURL[@]}" "${auth[@]}" -o "$STATE/dl-ours.bin" "$BASE/attachments/att-1m.bin"
    "${CURL[@]}" -o "$STATE/dl-static.bin" "$BASE$large"
    if ! cmp -s "$STATE/dl-ours.bin" "$STATE/att-1m.bin" || ! cmp -s "$STATE/dl-static.bin" "$STATE/att-1m.bin"; then
        say "SKIPPED attachments: the authorized download or the static file differs from the upload"
        fact attachments_skipped "the downloads of att-1m.bin differ from the upload"
        return 0
    fi
    local G="get --port $HTTPS_PORT --clients $BUNDLE_CLIENTS"
    local A="--token-file $STATE/token"
    say "attachments: downloads with $BUNDLE_CLIENTS clients; ceiling: the same files from a static location, no auth"
    paired att_dl_4k ceiling "$G --path $small" ours "$G $A --path /attachments/att-4k.bin" \
        once "$G $A --path /_once/attachments/att-4k.bin"
    paired att_dl_1m ceiling "$G --path $large" ours "$G $A --path /attachments/att-1m.bin"
    local att_etag static_att_etag
    att_etag=$(header_of /attachments/att-4k.bin ETag "${auth[@]}")
    static_att_etag=$(header_of "$small" ETag)
    paired att_not_modified ceiling "$G --path $small --expect 304 --header If-None-Match:$static_att_etag" \
        ours "$G $A --path /attachments/att-4k.bin --expect 304 --header If-None-Match:$att_etag" \
        once "$G $A --path /_once/attachments/att-4k.bin --expect 304 --header If-None-Match:$att_etag"
    # Small uploads from 4 clients (issue 18): the ceiling is the same bytes written to a
    # temporary file, fsynced and renamed (and the directory fsynced), plus a one-row
    # INSERT committed, by 4 clients at once: what "durable and recorded" costs here.
    mkdir -p "$STATE/disk-write"
    stack_sql "$DB_NAME" -e "CREATE TABLE bench_upload_ceiling (id VARCHAR(255) PRIMARY KEY,
        sha256 CHAR(64) NOT NULL, size BIGINT NOT NULL, content_type VARCHAR(255) NOT NULL)" >/dev/null ||
        fail "cannot create the upload ceiling table"
    say "attachments: 4 KB uploads, 4 clients; ceiling: write + fsync + rename + one-row INSERT, 4 clients"
    mem_watch_start
    paired att_up_4k ceiling "disk-write --size 4096 --dir $STATE/disk-write --clients 4 --db-row --table bench_upload_ceiling ${DBARGS[*]}" \
        ours "upload --port $HTTPS_PORT $A --size 4096 --clients 4 --distinct"
    mem_watch_stop mem_load_upload
    say "attachments: 5 MB uploads, 1 client; ceiling: the same bytes written, fsynced and renamed on the same disk"
    reset_worker_peaks
    # What a worker holds anyway (a login's Argon2 memory stays in glibc's heap),
    # so the figure after the uploads can be read against it.
    fact peak_rss_before_upload_kib "$(worker_peak_kib)"
    paired att_up_5m ceiling "disk-write --size 5242880 --dir $STATE/disk-write --clients 1" \
        ours "upload --port $HTTPS_PORT $A --size 5242880 --clients 1"
    fact peak_rss_upload_kib "$(worker_peak_kib)"
}

# Issue 15's on/off comparisons (record history, device presence) run two worker
# pools side by side: pool NAME listens on STATE/fcgi-NAME.sock with its settings,
# and nginx reaches the pool that STATE/fcgi.sock (a symlink) names. nginx opens a
# new FastCGI connection for every request (fastcgi_keep_conn off), so switching
# sides is one rename between two runs: no restart, both pools stay warm, and the
# sides alternate every few seconds, each pair of runs back to back (the order
# flipping from pair to pair), so a change in the machine's other load lands on
# both sides of a pair alike. The figure is the median of the pairs' ratios.
# The machine is shared: while the pairs run, the stack (MariaDB, nginx, both pools)
# and the client run at nice -10 (BENCH_PAIR_NICE), so other users' work takes less
# of the time slices from one run than from the next; both sides get the same.
# BENCH_PAIRS (15) pairs of BENCH_PAIR_SECONDS (2) each, after 0.5 s of warmup.
PAIRS=${BENCH_PAIRS:-15}
PAIR_NICE=${BENCH_PAIR_NICE:--10}
stack_renice() {  # NICENESS: MariaDB, nginx and every worker pool's processes, every thread
    local p pid pids=()  # (a nice value is per thread; threads made later inherit their maker's)
    for p in "$STATE/mariadb.pid" "$STATE/nginx.pid" "$STATE/workers.pid" "$STATE"/pool-*.pid; do
        [ -f "$p" ] || continue
        for pid in "$(cat "$p")" $(pgrep -P "$(cat "$p")"); do
            # shellcheck disable=SC2207  # thread ids: digits only
            pids+=($(ls "/proc/$pid/task" 2>/dev/null))
        done
    done
    [ "$(id -u)" = 0 ] || { say "not root: the pairs run at normal priority"; return 0; }
    renice -n "$1" -p "${pids[@]}" >/dev/null 2>&1 || true  # a thread that ended meanwhile is no matter
}
PAIR_SECONDS=${BENCH_PAIR_SECONDS:-2}
pool_start() {  # NAME VAR=VALUE...: a pool with those settings, its supervisor in STATE/pool-NAME.pid
    local name=$1 sock=$STATE/fcgi-$1.sock sup
    shift
    rm -f "$sock"
    env "$@" SYNKRONUS_LISTEN="$sock" setsid "$BIN/synkronus-fcgi" --config "$STATE/synkronus.conf" \
        >>"$STATE/logs/workers.log" 2>&1 &
    sup=$!
    echo "$sup" >"$STATE/pool-$name.pid"
    for _ in $(seq 1 400); do
        [ -S "$sock" ] && [ "$(pgrep -c -P "$sup")" -ge "$WORKERS" ] && return 0
        kill -0 "$sup" 2>/dev/null || break
        sleep 0.05
    done
    fail "pool $name did not come up"
}
pools_ready() { stack_renice "$PAIR_NICE"; }
pool_use() {  # NAME: nginx's next requests go to that pool
    ln -sfn "fcgi-$1.sock" "$STATE/fcgi.sock.next" && mv -Tf "$STATE/fcgi.sock.next" "$STATE/fcgi.sock" || fail "switch"
    cp "$STATE/pool-$1.pid" "$STATE/workers.pid"  # what the client's --watch reads
}
pools_stop() {  # NAME...: stops the pools, back to the stack's own workers
    local name
    stack_renice 0
    rm -f "$STATE/workers.pid" "$STATE/fcgi.sock"
    for name in "$@"; do stack_kill "pool-$name.pid"; rm -f "$STATE/fcgi-$name.sock"; done
    stack_start_workers || fail "workers did not restart"
}
# Write statements MariaDB has run so far (what a presence write or a history row adds).
db_writes() {
    stack_sql -N -e "SELECT SUM(VARIABLE_VALUE) FROM information_schema.GLOBAL_STATUS
        WHERE VARIABLE_NAME IN ('COM_INSERT', 'COM_UPDATE', 'COM_INSERT_SELECT', 'COM_DELETE', 'COM_REPLACE')"
}
# pairs KEY "CLIENT ARGS": PAIRS pairs of an "on" and an "off" run, back to back; each
# raw line also gets the write statements of the run (its warmup included) and load1.
pairs() {
    local key=$1 args=$2 i side line w0
    for i in $(seq 1 "$PAIRS"); do
        for side in $([ $((i % 2)) = 1 ] && echo on off || echo off on); do
            pool_use "$side"
            # shellcheck disable=SC2086
            w0=$(db_writes)
            line=$(nice -n "$PAIR_NICE" "$CLIENT" $args --seconds "$PAIR_SECONDS" --warmup 0.5 --watch "$(watch_pids)" 2>>"$LOG")
            [ -n "$line" ] || line="rate=0 errors=1"
            echo "$key $side $line db_writes=$(($(db_writes) - w0)) load1=$(cut -d' ' -f1 /proc/loadavg)" >>"$RAW"
            printf '  %-22s %-4s %s\n' "$key" "$side" "$(echo "$line" | awk '{print $1, $6}')" >&2
        done
    done
}

# Record history (issue 15): pushes with record_history_days = 365 (on) against 0
# (off, no history written), for a push that inserts every record and one that
# updates every record. Target: on/off >= 0.85.
bench_history() {
    say "history: push batches of 100, 4 clients, inserting and updating, history on (365 days) vs off (0), $PAIRS pairs"
    stack_stop_workers
    pool_start on SYNKRONUS_RECORD_HISTORY_DAYS=365
    pool_start off SYNKRONUS_RECORD_HISTORY_DAYS=0
    pools_ready
    fact history_loadavg_before "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
    pairs push_hist_ins_b100_c4 "push ${API[*]} --batch 100 --clients 4"
    pairs push_hist_upd_b100_c4 "push ${API[*]} --batch 100 --clients 4 --update"
    fact history_loadavg_after "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
    pools_stop on off
}

# Device presence (issue 15): pulls (pages of 500) with device_presence = on (the
# default presence_interval, 60 s) against off (nothing kept or written). Target:
# on/off >= 0.95. Pulls need records: BENCH_ONLY=presence seeds them as bench_sync does.
bench_presence() {
    say "presence: pulls, pages of 500, 1 and 4 clients, device_presence on vs off, $PAIRS pairs"
    stack_stop_workers
    pool_start on SYNKRONUS_DEVICE_PRESENCE=on
    pool_start off SYNKRONUS_DEVICE_PRESENCE=off
    pools_ready
    fact presence_loadavg_before "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
    local c
    for c in 1 4; do pairs "pull_presence_c$c" "pull ${API[*]} ${DBARGS[*]} --limit 500 --clients $c"; done
    fact presence_loadavg_after "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
    pools_stop on off
}

seed_if_alone() {  # BENCH_ONLY=history|presence|issue15: the records bench_sync would have seeded
    say "seeding $SEED_RECORDS records of ~1 KB straight into sync_records"
    "$CLIENT" seed --count "$SEED_RECORDS" "${DBARGS[@]}" >>"$LOG" 2>&1 || fail "seeding failed (see $LOG)"
}

sleep 1
mem_fact mem_rest_start  # the pool at rest: started, one login served
case "$ONLY" in "" | sync | sync-rows | pulls) bench_sync ;; esac
case "$ONLY" in history | presence | issue15) seed_if_alone ;; esac
case "$ONLY" in "" | sync | history | issue15) bench_history ;; esac
case "$ONLY" in "" | sync | presence | issue15) bench_presence ;; esac
case "$ONLY" in "" | bundles) bench_bundles ;; esac
case "$ONLY" in "" | attachments) bench_attachments ;; esac

sleep 1
mem_fact mem_rest_end  # the pool after every run, idle
fact loadavg_after "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
fact elapsed_s "$(($(date +%s) - T_START))"
fact errors_logged "$(grep -c 'first error' "$LOG")"
/usr/bin/python3 "$REPO/bench/report.py" "$RAW" | tee "$RESULTS"
say "table written to $RESULTS (raw runs: $RAW)"
