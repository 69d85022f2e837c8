#!/usr/bin/env bash
# Several app hosts on a three-node MariaDB Galera cluster, all on loopback, state under
# one directory. Sourced by tests/cluster/run.sh and bench/run.sh; run directly it is
# `make run-cluster`, in the foreground until Ctrl-C or SIGTERM stops everything.
#
#   CLUSTER      state directory (run-cluster)
#   PORT_BASE    first port (31000); node N uses BASE+10N+1 (client), +2 (gmcast),
#                +3 (IST), +4 (SST); host N BASE+100+10N+1 (HTTPS), +2 (HTTP);
#                the front balancer BASE+201 (HTTPS), BASE+202 (HTTP)
#   WORKERS      workers per host (2), ADMIN_PASSWORD as for `make run`
#
# Joiners get their state by mariabackup SST (Debian's mariadb-backup, streamed by
# socat): the donor stays readable and writable while it copies, and it writes into
# the joiner's datadir through the joiner's own SST script, running as the same user
# as the joiner's mariadbd. The rsync method runs an rsync daemon whose module
# permissions failed on a 0700 datadir here ("Permission denied") when mariadbd runs as
# root, and it blocks the donor for the whole copy.
#
# Each host is a packaging/devstack.sh stack (its own nginx, worker pool, config and
# logs under CLUSTER/hostN) whose database is the cluster, with node N first in its
# db_hosts, and whose bundle directory is CLUSTER/shared/bundles.

CLUSTER_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=${REPO:-$CLUSTER_REPO}
CLUSTER=${CLUSTER:-$REPO/run-cluster}
PORT_BASE=${PORT_BASE:-31000}
NODES=3
HOSTS=2
. "$CLUSTER_REPO/packaging/devstack.sh"

cluster_log() { echo "[cluster] $*" >&2; }

node_port() { echo $((PORT_BASE + 10 * $1 + ${2:-1})); }  # node, offset (1 client, 2 gmcast, 3 IST, 4 SST)
host_https_port() { echo $((PORT_BASE + 100 + 10 * $1 + 1)); }
host_http_port() { echo $((PORT_BASE + 100 + 10 * $1 + 2)); }
front_https_port() { echo $((PORT_BASE + 201)); }
front_http_port() { echo $((PORT_BASE + 202)); }
node_dir() { echo "$CLUSTER/node$1"; }
node_sock() { echo "$CLUSTER/node$1/mysqld.sock"; }

# Root SQL on node N (over its socket).
node_sql() { local n=$1; shift; mariadb --no-defaults -uroot --socket="$(node_sock "$n")" "$@"; }

node_status() { node_sql "$1" -N -B -e "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | cut -f2; }

# The Galera settings that matter for the application (README, Scaling) and the
# loopback ports of node N.
node_write_cnf() {
    local n=$1 d; d=$(node_dir "$n")
    local members="" k
    for k in $(seq 1 $NODES); do members+="${members:+,}127.0.0.1:$(node_port "$k" 2)"; done
    cat >"$d/my.cnf" <<CNF
[mysqld]
datadir=$d/data
socket=$d/mysqld.sock
pid-file=$d/mysqld.pid
port=$(node_port "$n")
bind-address=127.0.0.1
user=root
log-error=$CLUSTER/logs/node$n.log
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_bin
max-connections=300
innodb-buffer-pool-size=192M
innodb-log-file-size=64M
innodb-flush-log-at-trx-commit=2
# Galera needs row-based replication and interleaved auto-increment locks.
binlog-format=ROW
default-storage-engine=InnoDB
innodb-autoinc-lock-mode=2
wsrep-on=ON
wsrep-provider=/usr/lib/galera/libgalera_smm.so
wsrep-cluster-name=synkronus
wsrep-cluster-address=gcomm://$members
wsrep-node-name=node$n
wsrep-node-address=127.0.0.1:$(node_port "$n" 2)
wsrep-node-incoming-address=127.0.0.1:$(node_port "$n")
wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:$(node_port "$n" 2);ist.recv_addr=127.0.0.1:$(node_port "$n" 3);gcache.size=256M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT6S
wsrep-sst-method=mariabackup
wsrep-sst-receive-address=127.0.0.1:$(node_port "$n" 4)
wsrep-sst-auth=root:
wsrep-slave-threads=2
[sst]
sst-syslog=-1
CNF
}

# Starts node N's mariadbd (a datadir is made the first time). With "new" it
# bootstraps a new cluster; otherwise it joins the running ones (IST or SST).
node_start() {
    local n=$1 mode=${2:-join} d; d=$(node_dir "$n")
    mkdir -p "$d" "$CLUSTER/logs"
    node_write_cnf "$n"
    if [ ! -d "$d/data/mysql" ]; then
        mariadb-install-db --defaults-file="$d/my.cnf" --auth-root-authentication-method=normal \
            --skip-test-db --wsrep-on=OFF >"$CLUSTER/logs/node$n-install.log" 2>&1 || {
            cat "$CLUSTER/logs/node$n-install.log" >&2; return 1; }
    fi
    local extra=()
    # After a crash grastate.dat says seqno -1: recover the position from InnoDB first
    # (as mysqld_safe and galera_recovery do), so the node rejoins by IST, not a full SST.
    if [ -f "$d/data/grastate.dat" ] && grep -q '^seqno: *-1' "$d/data/grastate.dat"; then
        local pos
        pos=$(mariadbd --defaults-file="$d/my.cnf" --wsrep-recover --log-error="$CLUSTER/logs/node$n-recover.log" 2>/dev/null;
              sed -n 's/.*WSREP: Recovered position: *//p' "$CLUSTER/logs/node$n-recover.log" | tail -1)
        [ -n "$pos" ] && extra+=(--wsrep-start-position="$pos")
    fi
    if [ "$mode" = new ]; then
        # The dev cluster always restarts from node 1, which is stopped last; a crashed
        # run leaves safe_to_bootstrap at 0 on every node, and here node 1 is the one to trust.
        [ -f "$d/data/grastate.dat" ] && sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$d/data/grastate.dat"
        extra+=(--wsrep-new-cluster)
    fi
    setsid mariadbd --defaults-file="$d/my.cnf" "${extra[@]}" >>"$CLUSTER/logs/node$n.log" 2>&1 &
    echo $! >"$CLUSTER/node$n.pid"
}

# Waits until node N is Synced and in the primary component (SST can take a while).
node_wait_synced() {
    local n=$1 pid; pid=$(cat "$CLUSTER/node$n.pid")
    for _ in $(seq 1 600); do
        [ "$(node_status "$n" wsrep_local_state_comment)" = Synced ] &&
            [ "$(node_status "$n" wsrep_cluster_status)" = Primary ] && return 0
        kill -0 "$pid" 2>/dev/null || { cluster_log "node$n exited"; tail -20 "$CLUSTER/logs/node$n.log" >&2; return 1; }
        sleep 0.2
    done
    cluster_log "node$n did not reach Synced"; return 1
}

node_stop() { STATE=$CLUSTER stack_kill "node$1.pid"; }

# SIGKILL, as a crash: no clean shutdown, no leave message to the others.
node_crash() {
    local f="$CLUSTER/node$1.pid"
    [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$(cat "$f")" 2>/dev/null || break; sleep 0.05; done
    rm -f "$f"
}

cluster_start_nodes() {
    node_start 1 new && node_wait_synced 1 || return 1
    local n
    for n in $(seq 2 $NODES); do node_start "$n" && node_wait_synced "$n" || return 1; done
}

# The database, its user and the shared secrets, on the cluster (users and grants
# replicate like DDL).
cluster_setup_db() {
    mkdir -p "$CLUSTER/shared/bundles" "$CLUSTER/tls"
    STATE=$CLUSTER stack_cert && STATE=$CLUSTER stack_secrets || return 1
    local pw; pw=$(cat "$CLUSTER/db-password")
    node_sql 1 <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$pw';
GRANT ALL ON \`$DB_NAME\`.* TO '$DB_USER'@'127.0.0.1';
SQL
}

# db_hosts of host H: node H first, then the others in order.
host_db_hosts() {
    local h=$1 list k first=$(( ($1 - 1) % NODES + 1 ))
    list="127.0.0.1:$(node_port "$first")"
    for k in $(seq 1 $NODES); do [ "$k" = "$first" ] || list+=",127.0.0.1:$(node_port "$k")"; done
    echo "$list"
}

# Runs devstack commands (a shell string) for host H, with its STATE, ports, database
# and shared paths set.
host_do() {
    local h=$1; shift
    (
        STATE=$CLUSTER/host$h HTTPS_PORT=$(host_https_port "$h") HTTP_PORT=$(host_http_port "$h")
        BUNDLE_DIR=$CLUSTER/shared/bundles ATTACHMENT_DIR=$CLUSTER/shared/attachments
        STACK_DB_CONF="db_hosts = $(host_db_hosts "$h")"
        eval "$*"
    )
}

host_prepare() {
    local d="$CLUSTER/host$1"
    mkdir -p "$d/tls"
    cp "$CLUSTER/tls/cert.pem" "$CLUSTER/tls/key.pem" "$d/tls/"
    cp "$CLUSTER/jwt-secret" "$CLUSTER/db-password" "$d/"
    host_do "$1" "stack_dirs && stack_write_config"
}

host_start() { host_do "$1" "stack_start_workers && stack_start_nginx"; }
host_stop() { host_do "$1" "stack_stop_nginx; stack_stop_workers"; }
# Both the host's nginx and its workers die at once, as when a machine goes away.
host_crash() {
    local f
    for f in nginx.pid workers.pid; do
        f=$CLUSTER/host$1/$f
        [ -f "$f" ] && kill -KILL -- "-$(cat "$f")" 2>/dev/null
        rm -f "$f"
    done
}

front_start() {
    local d="$CLUSTER/front" servers="" h
    mkdir -p "$d"/{body,proxy,fastcgi,uwsgi,scgi}
    for h in $(seq 1 $HOSTS); do servers+="        server 127.0.0.1:$(host_https_port "$h") max_fails=1 fail_timeout=5s;"$'\n'; done
    {
        sed -e "s#@STATE@#$CLUSTER#g" -e "s#@FRONT@#$d#g" -e "s#@HTTPS_PORT@#$(front_https_port)#g" \
            -e "s#@HTTP_PORT@#$(front_http_port)#g" "$CLUSTER_REPO/nginx/front.conf.in" |
            awk -v servers="$servers" '/@SERVERS@/ { printf "%s", servers; next } { print }'
    } >"$d/nginx.conf"
    nginx -t -q -c "$d/nginx.conf" -e "$CLUSTER/logs/front-error.log" || return 1
    setsid nginx -c "$d/nginx.conf" -e "$CLUSTER/logs/front-error.log" &
    echo $! >"$CLUSTER/front.pid"
    for _ in $(seq 1 100); do
        curl -s -o /dev/null --cacert "$CLUSTER/tls/cert.pem" "https://127.0.0.1:$(front_https_port)/health" && return 0
        sleep 0.05
    done
    cluster_log "front nginx did not come up"; return 1
}

cluster_write_endpoints() {
    {
        echo "front=https://127.0.0.1:$(front_https_port)"
        local h n
        for h in $(seq 1 $HOSTS); do echo "host$h=https://127.0.0.1:$(host_https_port "$h")"; done
        for n in $(seq 1 $NODES); do echo "node$n=127.0.0.1:$(node_port "$n")"; done
        echo "cacert=$CLUSTER/tls/cert.pem"
    } >"$CLUSTER/endpoints"
}

cluster_stop() {
    local h n
    STATE=$CLUSTER stack_kill front.pid
    for h in $(seq 1 $HOSTS); do host_stop "$h"; done
    # Node 1 last, so it holds the newest state and may bootstrap the next start.
    for n in $(seq $NODES -1 1); do node_stop "$n"; done
}

# Everything up: nodes, database, migrations (once, from host 1), hosts, front.
cluster_up() {
    mkdir -p "$CLUSTER/logs"
    cluster_start_nodes && cluster_setup_db || return 1
    local h
    for h in $(seq 1 $HOSTS); do host_prepare "$h" || return 1; done
    host_do 1 "stack_admin migrate >/dev/null" || return 1
    for h in $(seq 1 $HOSTS); do host_start "$h" || return 1; done
    front_start && cluster_write_endpoints
}

cluster_main() {
    set -u
    WORKERS=${WORKERS:-2}
    cleanup() { trap - INT TERM EXIT; echo; cluster_log "stopping"; cluster_stop; exit 0; }
    trap cleanup INT TERM EXIT
    cluster_up || { cluster_log "start-up failed; logs in $CLUSTER/logs and $CLUSTER/host*/logs"; exit 1; }
    local password
    password=$(stack_choose_admin_password "$CLUSTER/credentials")
    host_do 1 stack_set_admin_password <<<"$password" || exit 1
    (umask 077; printf 'url=https://127.0.0.1:%s\nusername=admin\npassword=%s\ncacert=%s\n' \
        "$(front_https_port)" "$password" "$CLUSTER/tls/cert.pem" >"$CLUSTER/credentials")
    cat <<MSG

  synkronus-fcgi on a Galera cluster:
$(sed 's/^/    /' "$CLUSTER/endpoints")
  admin user: admin, password: $password   (also in $CLUSTER/credentials)
  node pids:  $CLUSTER/node1.pid .. node$NODES.pid
  logs:       $CLUSTER/logs/, $CLUSTER/host*/logs/

  try:  curl --cacert $CLUSTER/tls/cert.pem https://127.0.0.1:$(front_https_port)/health

  Ctrl-C stops everything.
MSG
    # In the foreground until interrupted. Nodes and hosts may be killed and restarted
    # by other tools meanwhile (that is what the pid files are for), so only the front
    # balancer's death ends the run.
    while kill -0 "$(cat "$CLUSTER/front.pid")" 2>/dev/null; do sleep 1; done
    cluster_log "the front nginx stopped; see $CLUSTER/logs"
    exit 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then cluster_main "$@"; fi
