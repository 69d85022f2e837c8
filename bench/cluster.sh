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

for r in $(seq 1 "$ROUNDS"); do
    measure pull_500 single pull --limit 500
    measure pull_500 cluster pull --limit 500
    measure push_b100 single push --batch 100
    measure push_b100 cluster push --batch 100
    measure push_b10 single push --batch 10
    measure push_b10 cluster push --batch 10
done
restart_cluster_workers 1
for r in $(seq 1 "$ROUNDS"); do measure pull_500 cluster_sync_wait pull --limit 500; done
restart_cluster_workers 0

/usr/bin/python3 - "$RAW" <<'PY' | tee "$OUT/cluster-results.txt"
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
PY
