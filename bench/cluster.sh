#!/usr/bin/env bash
# `make bench-cluster`: push and pull through two app hosts on a three-node Galera
# cluster against the same through one host on one MariaDB, in the same run, rounds
# alternating so both see the same machine; the median of BENCH_ROUNDS runs each.
# Both sides get the same number of client connections (split over the two hosts on
# the cluster). The pull row is also measured with db_wsrep_sync_wait = 1 on the
# cluster: what read-your-writes across hosts would cost.
#
# On one 2-core machine the cluster runs three mariadbd, two nginx and two worker
# pools on the cores one server uses alone, and every commit waits for a
# certification round across the three; the figure says what synchronous
# replication costs here, not how far it scales with a machine per node and host.
#
# Settings: BENCH_PORT_BASE (31700; the cluster takes +11..+202, the single stack
# +301..+303), BENCH_SECONDS (3), BENCH_ROUNDS (3), BENCH_CLIENTS (8),
# BENCH_SEED_RECORDS (20000), BENCH_DIR (/tmp/synkronus-bench-cluster).
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=${BENCH_DIR:-/tmp/synkronus-bench-cluster}
BASEP=${BENCH_PORT_BASE:-31700}
SECONDS_RUN=${BENCH_SECONDS:-3}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-8}
SEED=${BENCH_SEED_RECORDS:-20000}
CLIENT=$REPO/build/bench-client
export WORKERS=${BENCH_WORKERS:-$((2 * $(nproc)))}
OUT=$REPO/build/bench
RAW=$OUT/cluster-raw.txt
LOG=$OUT/cluster.log
ADMIN_PASSWORD=bench-admin-password

CLUSTER=$DIR/cluster PORT_BASE=$BASEP
. "$REPO/packaging/cluster.sh"
SINGLE=$DIR/single
say() { echo "[bench-cluster] $*" >&2; }
fail() { say "$*"; exit 1; }
single() { (STATE=$SINGLE HTTPS_PORT=$((BASEP + 301)) HTTP_PORT=$((BASEP + 302)) DB_PORT=$((BASEP + 303)); eval "$*"); }

[ -x "$CLIENT" ] || fail "$CLIENT is missing: run 'make bench-cluster'"
mkdir -p "$OUT"
: >"$RAW"
: >"$LOG"
if [ -e "$DIR" ]; then
    [ -e "$DIR/.bench-cluster" ] || fail "$DIR exists and was not made by bench/cluster.sh; set BENCH_DIR"
    cluster_stop; single stack_stop; rm -rf "$DIR"
fi
mkdir -p "$DIR" "$SINGLE"
touch "$DIR/.bench-cluster"
cleanup() { say "stopping"; cluster_stop; single stack_stop; rm -rf "$CLUSTER"/node*/data "$SINGLE/mysql"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting one MariaDB and one host ($WORKERS workers)"
single stack_up || fail "the single stack did not start (logs in $SINGLE/logs)"
single stack_set_admin_password <<<"$ADMIN_PASSWORD" || fail "admin"
say "starting three Galera nodes and two hosts ($WORKERS workers each)"
cluster_up || fail "the cluster did not start (logs in $CLUSTER/logs)"
host_do 1 stack_set_admin_password <<<"$ADMIN_PASSWORD" || fail "admin"

token() {
    curl -sS --cacert "$CLUSTER/tls/cert.pem" -X POST "https://127.0.0.1:$1/auth/login" -H 'Content-Type: application/json' \
        -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' >"$2" || fail "login on $1 failed"
}
# The single stack has its own certificate; the client trusts any (it measures, not verifies).
token "$(host_https_port 1)" "$DIR/cluster-token"
curl -sS --cacert "$SINGLE/tls/cert.pem" -X POST "https://127.0.0.1:$((BASEP + 301))/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' >"$DIR/single-token" || fail "login failed"

SDB=(--db-socket "$SINGLE/mysql-run/mysqld.sock" --db-user root --db-name "$DB_NAME")
CDB=(--db-socket "$(node_sock 1)" --db-user root --db-name "$DB_NAME")
say "seeding $SEED records into each"
"$CLIENT" seed --count "$SEED" "${SDB[@]}" >>"$LOG" 2>&1 || fail "seeding failed"
"$CLIENT" seed --count "$SEED" "${CDB[@]}" >>"$LOG" 2>&1 || fail "seeding failed"

rate_of() { sed -n 's/^rate=\([0-9.]*\).*/\1/p'; }
# measure KEY SIDE MODE ARGS: the single host with CLIENTS connections, or both cluster
# hosts with half each (rates added).
measure() {
    local key=$1 side=$2 mode=$3 r1 r2 rate
    shift 3
    if [ "$side" = single ]; then
        rate=$("$CLIENT" "$mode" --port $((BASEP + 301)) --token-file "$DIR/single-token" "${SDB[@]}" \
            --clients "$CLIENTS" --seconds "$SECONDS_RUN" --warmup 1 "$@" 2>>"$LOG" | rate_of)
    else
        "$CLIENT" "$mode" --port "$(host_https_port 1)" --token-file "$DIR/cluster-token" "${CDB[@]}" \
            --clients $((CLIENTS / 2)) --seconds "$SECONDS_RUN" --warmup 1 "$@" 2>>"$LOG" | rate_of >"$DIR/r1" &
        local first=$!
        "$CLIENT" "$mode" --port "$(host_https_port 2)" --token-file "$DIR/cluster-token" "${CDB[@]}" \
            --clients $((CLIENTS / 2)) --seconds "$SECONDS_RUN" --warmup 1 "$@" 2>>"$LOG" | rate_of >"$DIR/r2"
        wait "$first"  # only the other client: the nodes and hosts are background jobs of this shell too
        r1=$(cat "$DIR/r1"); r2=$(cat "$DIR/r2")
        rate=$(echo "${r1:-0} ${r2:-0}" | awk '{print $1 + $2}')
    fi
    echo "$key $side ${rate:-0}" | tee -a "$RAW" >&2
}

restart_cluster_workers() {  # with SYNKRONUS_DB_WSREP_SYNC_WAIT=$1
    local h
    for h in 1 2; do
        host_do "$h" "stack_stop_workers; SYNKRONUS_DB_WSREP_SYNC_WAIT=$1 stack_start_workers" || fail "workers"
    done
}

[ "${BENCH_ONLY:-}" = retries ] || for r in $(seq 1 "$ROUNDS"); do
    measure pull_500 single pull --limit 500
    measure pull_500 cluster pull --limit 500
    measure push_b100 single push --batch 100
    measure push_b100 cluster push --batch 100
    measure push_b10 single push --batch 10
    measure push_b10 cluster push --batch 10
done
if [ "${BENCH_ONLY:-}" != retries ]; then
    restart_cluster_workers 1
    for r in $(seq 1 "$ROUNDS"); do measure pull_500 cluster_sync_wait pull --limit 500; done
    restart_cluster_workers 0
fi

# Issue 15: do presence and audit writes make pushes rerun? Two rows of rounds, each
# round running "off" and "on" back to back (the order alternating from round to
# round, so neither side always runs first), with the same load on both sides:
#   - pushes of 10 records: CLIENTS connections, split over both hosts ("both") or
#     all through host 1 ("host1": pushes then never collide with each other, since
#     a node's local pushes queue on the counter lock, so any push rerun there would
#     be one that presence or audit writes caused);
#   - beside them, the same on both sides: 2 pull connections per host, pulling
#     pages of 50 flat out, and on each host a loop of admin requests (curl, one at a
#     time) for the whole run.
# "off": device_presence = off, and the admin loops only read (GET /admin/audit), so
# nothing but the pushes writes. "on": device_presence = on with presence_interval = 0
# (every push and pull writes its device's row; the pullers of both hosts use the
# same client ids, so the hosts write the same rows), and the admin loops change a
# user's role back and forth (one audit event each, in the change's transaction).
# Counted from the workers' debug log: push reruns ("push reran"), presence reruns
# and presence writes given up after every rerun, role-change reruns; from Galera:
# aborted local transactions (certification failures plus brute-force aborts) over
# the three nodes. services/presence.h says why presence and audit writes cannot
# rerun a push; the "host1" row checks it under load (push reruns must be 0 there).
# BENCH_ONLY=retries runs only this part; BENCH_RETRY_ROUNDS (4), BENCH_RETRY_SECONDS (5).
RETRY_ROUNDS=${BENCH_RETRY_ROUNDS:-4}
RETRY_SECONDS=${BENCH_RETRY_SECONDS:-5}
galera_aborts() {
    local n s=0 v
    for n in 1 2 3; do
        v=$(node_sql "$n" -N -e "SELECT SUM(VARIABLE_VALUE) FROM information_schema.GLOBAL_STATUS
            WHERE VARIABLE_NAME IN ('WSREP_LOCAL_CERT_FAILURES', 'WSREP_LOCAL_BF_ABORTS')")
        s=$((s + ${v:-0}))
    done
    echo "$s"
}
committed() { node_sql 1 -N -e "SELECT last_change_id FROM \`$DB_NAME\`.sync_counter"; }
admin_loop() {  # HOST USER write|read: role changes (or audit reads) until killed
    local role
    while :; do
        for role in read-only read-write; do
            if [ "$3" = write ]; then
                curl -sS -o /dev/null --cacert "$CLUSTER/tls/cert.pem" -H "Authorization: Bearer $(cat "$DIR/cluster-token")" \
                    -H 'Content-Type: application/json' -d "{\"username\":\"$2\",\"role\":\"$role\"}" \
                    "https://127.0.0.1:$(host_https_port "$1")/admin/users/role" 2>>"$LOG"
            else
                curl -sS -o /dev/null --cacert "$CLUSTER/tls/cert.pem" -H "Authorization: Bearer $(cat "$DIR/cluster-token")" \
                    "https://127.0.0.1:$(host_https_port "$1")/admin/audit?actor=admin&limit=1" 2>>"$LOG"
            fi
        done
    done
}
log_count() {  # PATTERN L1 L2: lines matching since the log line counts L1, L2; N in "reran N time" summed
    { tail -n +$(($2 + 1)) "$CLUSTER/host1/logs/workers.log"; tail -n +$(($3 + 1)) "$CLUSTER/host2/logs/workers.log"; } |
        if [ "$1" = given-up ]; then grep -c 'device presence not written'; else
            sed -n "s/.*$1 reran \([0-9]*\) time.*/\1/p" | awk '{s += $1} END {print s + 0}'; fi
}
retry_run() {  # SHAPE SIDE ROUND
    local shape=$1 side=$2 h loops=() pullers=() a0 a1 k0 k1 l1 l2 rate r1 r2 first
    for h in 1 2; do
        if [ "$side" = on ]; then
            host_do "$h" "stack_stop_workers; SYNKRONUS_LOG_LEVEL=debug SYNKRONUS_DEVICE_PRESENCE=on SYNKRONUS_PRESENCE_INTERVAL=0 stack_start_workers"
        else
            host_do "$h" "stack_stop_workers; SYNKRONUS_LOG_LEVEL=debug SYNKRONUS_DEVICE_PRESENCE=off stack_start_workers"
        fi || fail "workers"
    done
    a0=$(galera_aborts); k0=$(committed)
    l1=$(wc -l <"$CLUSTER/host1/logs/workers.log"); l2=$(wc -l <"$CLUSTER/host2/logs/workers.log")
    for h in 1 2; do
        admin_loop "$h" "bench-role-$h" "$([ "$side" = on ] && echo write || echo read)" & loops+=($!)
        "$CLIENT" pull --port "$(host_https_port "$h")" --token-file "$DIR/cluster-token" "${CDB[@]}" --clients 2 \
            --limit 50 --seconds $((RETRY_SECONDS + 1)) --warmup 0 >/dev/null 2>>"$LOG" & pullers+=($!)
    done
    if [ "$shape" = host1 ]; then
        rate=$("$CLIENT" push --port "$(host_https_port 1)" --token-file "$DIR/cluster-token" "${CDB[@]}" \
            --clients "$CLIENTS" --seconds "$RETRY_SECONDS" --warmup 0 --batch 10 2>>"$LOG" | rate_of)
    else
        "$CLIENT" push --port "$(host_https_port 1)" --token-file "$DIR/cluster-token" "${CDB[@]}" \
            --clients $((CLIENTS / 2)) --seconds "$RETRY_SECONDS" --warmup 0 --batch 10 2>>"$LOG" | rate_of >"$DIR/r1" &
        first=$!
        "$CLIENT" push --port "$(host_https_port 2)" --token-file "$DIR/cluster-token" "${CDB[@]}" \
            --clients $((CLIENTS / 2)) --seconds "$RETRY_SECONDS" --warmup 0 --batch 10 2>>"$LOG" | rate_of >"$DIR/r2"
        wait "$first"
        r1=$(cat "$DIR/r1"); r2=$(cat "$DIR/r2")
        rate=$(echo "${r1:-0} ${r2:-0}" | awk '{print $1 + $2}')
    fi
    # Counted once the pushes are done (the pullers and admin loops still run).
    a1=$(galera_aborts); k1=$(committed)
    kill "${loops[@]}" 2>/dev/null; wait "${loops[@]}" "${pullers[@]}" 2>/dev/null
    echo "$shape $side $3 ${rate:-0} $(((k1 - k0) / 10)) $(log_count push "$l1" "$l2") $(log_count 'presence write' "$l1" "$l2")" \
        "$(log_count given-up "$l1" "$l2") $(log_count 'role change' "$l1" "$l2") $((a1 - a0)) $(cut -d' ' -f1 /proc/loadavg)" |
        tee -a "$OUT/cluster-retries.txt" >&2
}
for h in 1 2; do
    curl -sS -o /dev/null --cacert "$CLUSTER/tls/cert.pem" -H "Authorization: Bearer $(cat "$DIR/cluster-token")" \
        -H 'Content-Type: application/json' -d "{\"username\":\"bench-role-$h\",\"password\":\"bench-role-password\",\"role\":\"read-write\"}" \
        "https://127.0.0.1:$(host_https_port 1)/users/create" || fail "cannot create bench-role-$h"
done
: >"$OUT/cluster-retries.txt"
for r in $(seq 1 "$RETRY_ROUNDS"); do
    for shape in both host1; do
        if [ $((r % 2)) = 1 ]; then retry_run "$shape" off "$r"; retry_run "$shape" on "$r"
        else retry_run "$shape" on "$r"; retry_run "$shape" off "$r"; fi
    done
done
for h in 1 2; do host_do "$h" "stack_stop_workers; stack_start_workers" || fail "workers"; done

/usr/bin/python3 - "$RAW" "$OUT/cluster-retries.txt" <<'PY' | tee "$OUT/cluster-results.txt"
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    key, side, rate = line.split()
    runs[(key, side)].append(float(rate))
med = {k: statistics.median(v) for k, v in runs.items()}
print(f"{'':12} {'one host, one server':>22} {'two hosts, Galera x3':>22} {'ratio':>7}")
for key, unit in (("pull_500", "rec/s"), ("push_b100", "rec/s"), ("push_b10", "rec/s")):
    s, c = med.get((key, "single"), 0), med.get((key, "cluster"), 0)
    print(f"{key:12} {s:>14.1f} {unit:8} {c:>13.1f} {unit:8} {c / s if s else 0:>6.2f}x")
w = med.get(("pull_500", "cluster_sync_wait"), 0)
c = med.get(("pull_500", "cluster"), 0)
print(f"{'pull_500 with wsrep_sync_wait=1 on the cluster':50} {w:>8.1f} rec/s ({w / c if c else 0:.2f}x of without)")
# Issue 15: shape side round rate pushes push_reruns presence_reruns presence_given_up role_reruns galera_aborts load1
rows = collections.defaultdict(list)
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) == 11:
        rows[(f[0], f[1])].append([float(x) for x in f[2:]])
if rows:
    print("push reruns beside presence and audit writes (pushes of 10; off: presence off, admin reads;")
    print("on: presence written on every request, role changes; same pushers, pullers and admin loops):")
    print(f"  {'pushes through':15} {'side':4} {'reruns/1000 pushes: median (rounds)':46} {'pushes':>7} {'rec/s':>7}"
          f" {'presence reruns/given up':>25} {'role reruns':>11} {'Galera aborts':>13} {'load':>9}")
    for shape, label in (("both", "both hosts"), ("host1", "host 1 only")):
        for side in ("off", "on"):
            rr = rows.get((shape, side))
            if not rr:
                continue
            per = [1000 * r[3] / r[2] if r[2] else 0 for r in rr]
            loads = [r[8] for r in rr]
            print(f"  {label:15} {side:4} {statistics.median(per):7.1f} ({', '.join(f'{x:.0f}' for x in per)})"
                  f"{'':{max(0, 36 - len(', '.join(f'{x:.0f}' for x in per)))}} {sum(r[2] for r in rr):>7.0f}"
                  f" {statistics.median(r[1] for r in rr):>7.0f} {sum(r[4] for r in rr):>15.0f}/{sum(r[5] for r in rr):<9.0f}"
                  f" {sum(r[6] for r in rr):>11.0f} {sum(r[7] for r in rr):>13.0f} {min(loads):>4.1f}-{max(loads):<4.1f}")
PY
