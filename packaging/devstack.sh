#!/usr/bin/env bash
# A private stack on loopback: MariaDB, the FastCGI worker pool and nginx, all under
# one state directory. Sourced by `make run` (packaging/run.sh), the integration
# tests and the benchmarks. Nothing here touches the system's own services.
#
# Set before calling: STATE (directory), HTTPS_PORT, HTTP_PORT, DB_PORT; optional
# WORKERS, BIN (directory of the binaries), SQL_DIR, LOCATIONS_CONF, HTTP_CONF,
# BUNDLE_DIR (STATE/bundles), ATTACHMENT_DIR (STATE/attachments), STACK_DB_CONF (the config's database lines; the private
# MariaDB's socket by default).
# FASTCGI_READ_TIMEOUT (nginx's wait for a worker, e.g. 2s; the fault tests shorten it).

REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BIN=${BIN:-$REPO/build}
SQL_DIR=${SQL_DIR:-$REPO/sql}
LOCATIONS_CONF=${LOCATIONS_CONF:-$REPO/nginx/synkronus-locations.conf}
HTTP_CONF=${HTTP_CONF:-$REPO/nginx/synkronus-http.conf}
TYPES_CONF=${TYPES_CONF:-$REPO/nginx/synkronus-types.conf}
WORKERS=${WORKERS:-$((2 * $(nproc)))}
DB_NAME=${DB_NAME:-synkronus}
DB_USER=${DB_USER:-synkronus}

stack_log() { echo "[stack] $*" >&2; }

# A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice from its
# ephemeral range, which the fixed ports of the docs and of other stacks are not in).
stack_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Free ports for each of HTTPS_PORT, HTTP_PORT and DB_PORT the caller left unset (or
# empty), exported: a test stack must start on a machine where another program holds
# any fixed port. A port is only free when chosen; nginx's or MariaDB's bind failing on
# one taken meanwhile fails the start-up, which says so in its log.
stack_choose_ports() {
    local v p
    for v in HTTPS_PORT HTTP_PORT DB_PORT; do
        [ -n "${!v:-}" ] && continue
        p=$(stack_free_port) || return 1
        # Three distinct ports, even if the kernel hands the same one out twice.
        while [ "$p" = "${HTTPS_PORT:-}" ] || [ "$p" = "${HTTP_PORT:-}" ] || [ "$p" = "${DB_PORT:-}" ]; do
            p=$(stack_free_port) || return 1
        done
        export "$v=$p"
    done
}

# Bundle and attachment files: on storage that every host of a cluster shares.
stack_bundle_dir() { echo "${BUNDLE_DIR:-$STATE/bundles}"; }
stack_attachment_dir() { echo "${ATTACHMENT_DIR:-$STATE/attachments}"; }

# One stack per state directory: a second one would unlink the first one's FastCGI
# socket and start a second MariaDB on its data. The lock is an flock on STATE/.lock
# held through fd 9 by the calling shell and inherited by the services it starts, so
# it lasts while any of them runs; the file names the pid of the shell that took it.
stack_lock() {
    mkdir -p "$STATE"
    exec 9<>"$STATE/.lock"
    if ! flock -n 9; then
        local pid
        pid=$(cat "$STATE/.lock" 2>/dev/null)
        pid=${pid:-unknown}
        stack_log "$STATE is in use by another instance (pid $pid); stop it first (Ctrl-C in its" \
            "terminal, or kill $pid), or set STATE to another directory"
        exec 9>&-
        return 1
    fi
    echo $$ >"$STATE/.lock"
}

stack_dirs() {
    mkdir -p "$STATE"/{logs,nginx/body,nginx/fastcgi,nginx/proxy,nginx/uwsgi,nginx/scgi,tls,mysql-run} "$(stack_bundle_dir)" "$(stack_attachment_dir)"
}

# Self-signed certificate for localhost and 127.0.0.1 (made once, kept).
stack_cert() {
    [ -s "$STATE/tls/cert.pem" ] && return 0
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -sha256 \
        -keyout "$STATE/tls/key.pem" -out "$STATE/tls/cert.pem" \
        -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
        -addext "extendedKeyUsage=serverAuth" >/dev/null 2>&1
}

stack_secrets() {
    [ -s "$STATE/jwt-secret" ] || (umask 077; openssl rand -hex 32 >"$STATE/jwt-secret")
    [ -s "$STATE/db-password" ] || (umask 077; openssl rand -hex 16 >"$STATE/db-password")
}

# A freshly initialised, never started data directory, made once per MariaDB version
# and copied for each new stack (a copy takes a second, mariadb-install-db several;
# the test suites start a fresh stack every run). It is what mariadb-install-db
# would write, so a stack cannot tell. Made under a temporary name and renamed, so
# two stacks starting at once never copy half of one.
stack_db_seed_dir() {
    echo "${MARIADB_SEED_DIR:-$REPO/build/mariadb-seed}/$(mariadbd --version | md5sum | cut -c1-12)"
}
stack_db_seed() {
    local seed tmp
    seed=$(stack_db_seed_dir)
    [ -d "$seed/mysql" ] && return 0
    mkdir -p "$(dirname "$seed")" 2>/dev/null || return 1
    tmp=$(mktemp -d "$seed.tmp.XXXXXX") || return 1
    mariadb-install-db --no-defaults --datadir="$tmp/data" --auth-root-authentication-method=normal \
        --user=root --skip-test-db >"$STATE/logs/mariadb-install.log" 2>&1 || {
        cat "$STATE/logs/mariadb-install.log" >&2; rm -rf "$tmp"; return 1; }
    mv -T "$tmp/data" "$seed" 2>/dev/null || [ -d "$seed/mysql" ]  # another stack may have won
    rm -rf "$tmp"
    [ -d "$seed/mysql" ]
}

stack_start_db() {
    local datadir="$STATE/mysql"
    if [ ! -d "$datadir/mysql" ]; then
        stack_log "initialising MariaDB in $datadir"
        if ! { stack_db_seed && cp -aT "$(stack_db_seed_dir)" "$datadir"; }; then
            # No seed (a read-only tree): initialise in place, as before.
            rm -rf "$datadir"
            mariadb-install-db --no-defaults --datadir="$datadir" --auth-root-authentication-method=normal \
                --user=root --skip-test-db >"$STATE/logs/mariadb-install.log" 2>&1 || {
                cat "$STATE/logs/mariadb-install.log" >&2; return 1; }
        fi
    fi
    # setsid: a Ctrl-C reaches only the script, which stops the services in order.
    setsid mariadbd --no-defaults --datadir="$datadir" --socket="$STATE/mysql-run/mysqld.sock" \
        --pid-file="$STATE/mysql-run/mysqld.pid" --port="$DB_PORT" --bind-address=127.0.0.1 --user=root \
        --innodb-buffer-pool-size=512M --innodb-log-file-size=256M --max-connections=500 \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_bin --skip-name-resolve \
        --log-error="$STATE/logs/mariadb.log" &
    echo $! >"$STATE/mariadb.pid"
    for _ in $(seq 1 150); do
        mariadb --no-defaults -uroot --socket="$STATE/mysql-run/mysqld.sock" -e 'SELECT 1' >/dev/null 2>&1 && return 0
        kill -0 "$(cat "$STATE/mariadb.pid")" 2>/dev/null || { tail -20 "$STATE/logs/mariadb.log" >&2; return 1; }
        sleep 0.2
    done
    stack_log "MariaDB did not come up"; return 1
}

stack_sql() { mariadb --no-defaults -uroot --socket="$STATE/mysql-run/mysqld.sock" "$@"; }

stack_setup_db() {
    local pw; pw=$(cat "$STATE/db-password")
    stack_sql <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$pw';
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$pw';
GRANT ALL ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
GRANT ALL ON \`$DB_NAME\`.* TO '$DB_USER'@'127.0.0.1';
SQL
}

stack_write_config() {
    cat >"$STATE/synkronus.conf" <<CONF
# Written by packaging/devstack.sh for a private stack.
listen = $STATE/fcgi.sock
socket_mode = 0666
workers = $WORKERS
${STACK_DB_CONF:-db_socket = $STATE/mysql-run/mysqld.sock}
db_user = $DB_USER
db_password = $(cat "$STATE/db-password")
db_name = $DB_NAME
jwt_secret_file = $STATE/jwt-secret
bundle_dir = $(stack_bundle_dir)
attachment_dir = $(stack_attachment_dir)
grant_generation_link = $STATE/generation
sql_dir = $SQL_DIR
argon2_memory_kib = ${ARGON2_MEMORY_KIB:-19456}
argon2_time_cost = ${ARGON2_TIME_COST:-2}
CONF
    chmod 600 "$STATE/synkronus.conf"
}

stack_admin() { "$BIN/synkronus-admin" --config "$STATE/synkronus.conf" "$@"; }

# The admin account with the password read from stdin: created, or its password reset.
# The admin password of a dev stack: ADMIN_PASSWORD if given, else the one kept in
# the credentials file $1 from an earlier run, else a new random one.
stack_choose_admin_password() {
    if [ -n "${ADMIN_PASSWORD:-}" ]; then
        printf '%s\n' "$ADMIN_PASSWORD"
    elif [ -s "$1" ]; then
        sed -n 's/^password=//p' "$1"
    else
        openssl rand -base64 18 | tr -d '/+=' | cut -c1-20
    fi
}

stack_set_admin_password() {
    local password; IFS= read -r password
    if stack_admin list-users | cut -f1 | grep -qx admin; then
        printf '%s\n' "$password" | stack_admin reset-password admin >/dev/null
    else
        printf '%s\n' "$password" | stack_admin create-user admin admin >/dev/null
    fi
}

# The pids of the supervisor's live children (its workers), zombies left out.
stack_worker_pids() {
    local sup pid
    sup=$(cat "$STATE/workers.pid" 2>/dev/null) || return 0
    for pid in $(pgrep -P "$sup"); do
        [ "$(sed 's/.*) //; s/ .*//' "/proc/$pid/stat" 2>/dev/null)" = Z ] || echo "$pid"
    done
}

# Returns once the socket exists and the supervisor has forked its whole pool (the
# `workers` of the config, SYNKRONUS_WORKERS if set): whoever reads the worker pids
# next (a test, a bench) sees every one of them, not the first few.
stack_start_workers() {
    rm -f "$STATE/fcgi.sock"
    setsid "$BIN/synkronus-fcgi" --config "$STATE/synkronus.conf" >>"$STATE/logs/workers.log" 2>&1 &
    echo $! >"$STATE/workers.pid"
    local want=${SYNKRONUS_WORKERS:-$(sed -n 's/^workers = //p' "$STATE/synkronus.conf")}
    for _ in $(seq 1 400); do
        if [ -S "$STATE/fcgi.sock" ] && [ "$(stack_worker_pids | wc -l)" -ge "${want:-1}" ]; then return 0; fi
        kill -0 "$(cat "$STATE/workers.pid")" 2>/dev/null || { tail -20 "$STATE/logs/workers.log" >&2; return 1; }
        sleep 0.05
    done
    stack_log "workers did not come up"; return 1
}

stack_stop_workers() { stack_kill workers.pid; }
stack_stop_nginx() { stack_kill nginx.pid; }

# The web console's files: CONSOLE_DIR when given (an installed tree), else
# console/ of this checkout laid out under STATE as the package lays it out.
stack_console_dir() {
    if [ -n "${CONSOLE_DIR:-}" ]; then echo "$CONSOLE_DIR"; return; fi
    rm -rf "$STATE/console" && "$REPO/packaging/console-stage.sh" "$REPO/console" "$STATE/console" >&2
    echo "$STATE/console"
}

stack_nginx_conf() {
    sed -e "s#/run/synkronus/fcgi.sock#$STATE/fcgi.sock#g" \
        -e "s#/var/lib/synkronus/bundles/#$(stack_bundle_dir)/#g" \
        -e "s#/var/lib/synkronus/attachments/#$(stack_attachment_dir)/#g" \
        -e "s#/var/log/nginx/access.log#$STATE/logs/nginx-access.log#g" \
        ${FASTCGI_READ_TIMEOUT:+-e "s#^fastcgi_read_timeout .*#fastcgi_read_timeout $FASTCGI_READ_TIMEOUT;#"} \
        -e "s#/usr/share/synkronus/console#$(stack_console_dir)#g" \
        -e "s#/run/synkronus-fcgi/generation#$STATE/generation#g" \
        -e "s#/etc/nginx/snippets/synkronus-types.conf#$STATE/nginx/synkronus-types.conf#g" \
        "$LOCATIONS_CONF" >"$STATE/nginx/synkronus-locations.conf"
    sed -e "s#/run/synkronus/fcgi.sock#$STATE/fcgi.sock#g" -e "s#/run/synkronus-grants#$STATE/nginx/grants#g" \
        "$HTTP_CONF" >"$STATE/nginx/synkronus-http.conf"
    cp "$TYPES_CONF" "$STATE/nginx/synkronus-types.conf"
    cp /etc/nginx/fastcgi_params "$STATE/nginx/fastcgi_params"
    sed -e "s#@STATE@#$STATE#g" -e "s#@HTTPS_PORT@#$HTTPS_PORT#g" -e "s#@HTTP_PORT@#$HTTP_PORT#g" \
        "$REPO/nginx/dev.conf.in" >"$STATE/nginx/nginx.conf"
}

stack_start_nginx() {
    stack_nginx_conf
    nginx -t -q -c "$STATE/nginx/nginx.conf" -e "$STATE/logs/nginx-error.log" || return 1
    setsid nginx -c "$STATE/nginx/nginx.conf" -e "$STATE/logs/nginx-error.log" &
    echo $! >"$STATE/nginx.pid"
    for _ in $(seq 1 100); do
        curl -s -o /dev/null --cacert "$STATE/tls/cert.pem" "https://127.0.0.1:$HTTPS_PORT/health" && return 0
        kill -0 "$(cat "$STATE/nginx.pid")" 2>/dev/null || { tail -20 "$STATE/logs/nginx-error.log" >&2; return 1; }
        sleep 0.05
    done
    stack_log "nginx did not come up"; return 1
}

stack_reload_nginx() { stack_nginx_conf; kill -HUP "$(cat "$STATE/nginx.pid")"; sleep 0.3; }

# Stops the process in STATE/<pidfile>: TERM, then KILL after a grace period.
stack_kill() {
    local f="$STATE/$1" pid
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -f "$f"
}

stack_stop_db() { stack_kill mariadb.pid; }

stack_stop() {
    stack_kill nginx.pid
    stack_kill workers.pid
    stack_kill mariadb.pid
}

# The processes outside this shell's session that hold STATE/.lock open. Every service
# inherits the lock's fd and runs in a session of its own (setsid), so this finds one
# whose pid file was never written (a TERM between `setsid … &` and `echo $!`) or a
# worker that outlived its supervisor; this shell's own children (a sleep, the
# command substitution running this) share its session and are left alone.
stack_sid() { local st; read -r st 2>/dev/null <"/proc/$1/stat" || return 1; set -- ${st##*) }; echo "$4"; }
stack_lock_holders() {
    local f pid sid mine seen=" "
    mine=$(stack_sid $$)
    for f in $(find /proc/[0-9]*/fd -maxdepth 1 -lname "$STATE/.lock" 2>/dev/null); do
        pid=${f#/proc/}; pid=${pid%%/*}
        case $seen in *" $pid "*) continue ;; esac
        seen="$seen$pid "
        sid=$(stack_sid "$pid") || continue  # gone meanwhile (the find itself holds the fd too)
        [ "$sid" != "$mine" ] && echo "$pid"
    done
    return 0
}

stack_stop_stragglers() {
    local pids
    pids=$(stack_lock_holders)
    [ -n "$pids" ] || return 0
    stack_log "stopping leftover processes: $(echo $pids)"
    kill -TERM $pids 2>/dev/null
    for _ in $(seq 1 50); do pids=$(stack_lock_holders); [ -n "$pids" ] || return 0; sleep 0.1; done
    kill -KILL $pids 2>/dev/null
}

# Everything up to a serving stack (data under STATE is reused when present).
stack_up() {
    stack_dirs && stack_cert && stack_secrets && stack_start_db && stack_setup_db && stack_write_config &&
        stack_admin migrate >/dev/null && stack_start_workers && stack_start_nginx
}
