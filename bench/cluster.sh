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

# Issue 15: presence and audit writes from both hosts under a push load, against the
# same load without them, alternating by round. "off": device_presence = off and no
# admin activity. "on": device_presence = on with presence_interval = 1 (each device's
# row written up to once a second, 60 times the default) and, on each host, an admin
# changing a user's role back and forth as fast as it can (one audit event each, in
# the change's transaction). Push retries: the reruns the workers log for pushes
# (log_level = debug on both sides, "push reran N time(s)"), per 1000 pushes (batches
# of 10, CLIENTS connections over both hosts); beside them Galera's own count of
# aborted local transactions (certification failures plus brute-force aborts, over
# the three nodes), which also holds any presence or audit transaction that lost.
# BENCH_ONLY=retries runs only this part.
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
role_loop() {  # HOST USER: role changes until killed
    local url="https://127.0.0.1:$(host_https_port "$1")/admin/users/role" role
    while :; do
        for role in read-only read-write; do
            curl -sS -o /dev/null --cacert "$CLUSTER/tls/cert.pem" -H "Authorization: Bearer $(cat "$DIR/cluster-token")" \
                -H 'Content-Type: application/json' -d "{\"username\":\"$2\",\"role\":\"$role\"}" "$url" 2>>"$LOG"
        done
    done
}
for h in 1 2; do
    curl -sS -o /dev/null --cacert "$CLUSTER/tls/cert.pem" -H "Authorization: Bearer $(cat "$DIR/cluster-token")" \
        -H 'Content-Type: application/json' -d "{\"username\":\"bench-role-$h\",\"password\":\"bench-role-password\",\"role\":\"read-write\"}" \
        "https://127.0.0.1:$(host_https_port 1)/users/create" || fail "cannot create bench-role-$h"
done
: >"$OUT/cluster-retries.txt"
for r in $(seq 1 "$ROUNDS"); do
    for side in off on; do
        for h in 1 2; do
            if [ $side = on ]; then
                host_do "$h" "stack_stop_workers; SYNKRONUS_LOG_LEVEL=debug SYNKRONUS_DEVICE_PRESENCE=on SYNKRONUS_PRESENCE_INTERVAL=1 stack_start_workers"
            else
                host_do "$h" "stack_stop_workers; SYNKRONUS_LOG_LEVEL=debug SYNKRONUS_DEVICE_PRESENCE=off stack_start_workers"
            fi || fail "workers"
        done
        loops=()
        if [ $side = on ]; then
            for h in 1 2; do role_loop "$h" "bench-role-$h" & loops+=($!); done
        fi
        a0=$(galera_aborts); k0=$(committed); e0=$(node_sql 1 -N -e "SELECT COUNT(*) FROM \`$DB_NAME\`.audit_log")
        l1=$(wc -l <"$CLUSTER/host1/logs/workers.log"); l2=$(wc -l <"$CLUSTER/host2/logs/workers.log")
        measure push_b10_presence_audit "$side" push --batch 10
        a1=$(galera_aborts); k1=$(committed); e1=$(node_sql 1 -N -e "SELECT COUNT(*) FROM \`$DB_NAME\`.audit_log")
        [ ${#loops[@]} = 0 ] || { kill "${loops[@]}"; wait "${loops[@]}" 2>/dev/null; }
        reruns=$({ tail -n +$((l1 + 1)) "$CLUSTER/host1/logs/workers.log"; tail -n +$((l2 + 1)) "$CLUSTER/host2/logs/workers.log"; } |
            sed -n 's/.*push reran \([0-9]*\) time.*/\1/p' | awk '{s += $1} END {print s + 0}')
        echo "$side $((a1 - a0)) $(((k1 - k0) / 10)) $((e1 - e0)) $reruns" | tee -a "$OUT/cluster-retries.txt" >&2
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
# Issue 15: side, Galera aborts (cert failures + BF aborts, 3 nodes), pushes, audit events, push reruns
ret = collections.defaultdict(lambda: [0, 0, 0, 0])
per_round = collections.defaultdict(list)
for line in open(sys.argv[2]):
    side, aborts, pushes, events, reruns = line.split()
    for i, v in enumerate((aborts, pushes, events, reruns)):
        ret[side][i] += int(v)
    if int(pushes):
        per_round[side].append(1000 * int(reruns) / int(pushes))
if ret:
    print("pushes of 10 through both hosts; on: presence (interval 1 s) and audit writes (role changes on both")
    print("hosts); push reruns per 1000 pushes (rounds' range), and Galera's aborted local transactions:")
    for side in ("off", "on"):
        a, p, e, n = ret[side]
        rate = med.get(("push_b10_presence_audit", side), 0)
        rr = per_round[side] or [0]
        print(f"  {side:4} {rate:>8.1f} rec/s {p:>6} pushes {n:>5} reruns {1000 * n / p if p else 0:>6.1f}/1000"
              f" ({min(rr):.0f}-{max(rr):.0f})  {a:>5} Galera aborts  {e:>5} audit events")
PY
