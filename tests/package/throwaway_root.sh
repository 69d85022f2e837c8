#!/usr/bin/env bash
# Install, README.Debian's steps, upgrade, remove and purge of the package in a
# throwaway root: an overlay over this host's / (every dependency is there, and
# nothing written reaches the host), in a private mount namespace.
# Run by tests/package/run.sh as: unshare --mount --propagation private $0 DEB WORKDIR SRC
# (SRC: the source tree the package was built from, for README.Debian and devstack.sh)
# Exit status: the number of failed checks.
#
# No systemd runs in the root, so starting the pool does what systemd does with
# the two installed units: the state directories, ExecStartPre, then ExecStart as
# User= with the listening socket of ListenStream= (systemd-socket-activate),
# owned as SocketGroup=/SocketMode= say. The sandboxing itself is not exercised.
# The MariaDB is a private one (packaging/devstack.sh) whose socket directory is
# mounted at /run/mysqld, where Debian's clients and README.Debian expect it.
set -u
DEB=$1 WORK=$2 REPO=$3
README=$REPO/debian/README.Debian
. "$REPO/tests/package/readme.sh"
# Below the ephemeral port range (32768-60999), where a busy host's outgoing
# connections could take them.
HTTPS_PORT=28444 HTTP_PORT=28081
export STATE=$WORK/db DB_PORT=23408
. "$REPO/packaging/devstack.sh"

failures=0
pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

root=$WORK/root
log=$WORK/log
pool_pid=""
cleanup() {
    stop_pool >/dev/null 2>&1
    [ -s "$root/run/nginx.pid" ] && kill -QUIT "$(cat "$root/run/nginx.pid")" 2>/dev/null && sleep 0.5
    stack_stop_db
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p "$WORK"/{layer,db} "$root" "$log"

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root "$@"; }
r() { printf '%s%s' "$root" "$1"; }   # a path inside the root, seen from outside

# The writable layer lives on a tmpfs: overlayfs refuses an upper layer on
# overlayfs, which / (and so /tmp) is in many CI containers.
mount -t tmpfs -o size=2g tmpfs "$WORK/layer" && mkdir "$WORK/layer/upper" "$WORK/layer/work" &&
    mount -t overlay overlay -o "lowerdir=/,upperdir=$WORK/layer/upper,workdir=$WORK/layer/work" "$root" ||
    { echo "cannot mount the overlay root"; exit 1; }
mount -t proc proc "$(r /proc)" && mount --rbind /dev "$(r /dev)" && mount -t sysfs sysfs "$(r /sys)" &&
    mount -t tmpfs tmpfs "$(r /run)" && mount -t tmpfs tmpfs "$(r /tmp)" || exit 1
if in_root dpkg-query -W synkronus-fcgi >/dev/null 2>&1 || [ -e "$(r /etc/synkronus)" ]; then
    echo "this host has synkronus-fcgi installed; the throwaway root would not start clean"; exit 1
fi

stack_dirs && stack_start_db 2>>"$log/db.log" || { echo "could not start MariaDB"; cat "$log/db.log"; exit 1; }
mkdir -p "$(r /run/mysqld)" && mount --bind "$STATE/mysql-run" "$(r /run/mysqld)" || exit 1
cp "$DEB" "$(r /tmp/synkronus-fcgi.deb)"

# What systemd does to start synkronus-fcgi.service (see the header).
unit_key() { sed -n "s/^$2=//p" "$(r "/lib/systemd/system/$1")"; }
start_pool() {
    local user group sock d
    user=$(unit_key synkronus-fcgi.service User) group=$(unit_key synkronus-fcgi.service Group)
    for d in $(unit_key synkronus-fcgi.service StateDirectory); do
        install -d -m "$(unit_key synkronus-fcgi.service StateDirectoryMode)" "$(r "/var/lib/$d")"
        in_root chown "$user:$group" "/var/lib/$d"
    done
    # shellcheck disable=SC2046 # the command line of the unit, split as systemd does
    in_root setpriv --reuid="$user" --regid="$group" --clear-groups $(unit_key synkronus-fcgi.service ExecStartPre) \
        >>"$log/pool.log" 2>&1 || { echo "  ExecStartPre failed"; return 1; }
    sock=$(unit_key synkronus-fcgi.socket ListenStream)
    mkdir -p "$(r "$(dirname "$sock")")"
    rm -f "$(r "$sock")"
    (umask "$(unit_key synkronus-fcgi.service UMask)"
     exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin LANG=C.UTF-8 systemd-socket-activate -l "$sock" \
         setpriv --reuid="$user" --regid="$group" --clear-groups $(unit_key synkronus-fcgi.service ExecStart)) \
        >>"$log/pool.log" 2>&1 &
    pool_pid=$!
    for _ in $(seq 1 100); do [ -S "$(r "$sock")" ] && break; sleep 0.05; done
    in_root chown "$(unit_key synkronus-fcgi.socket SocketUser):$(unit_key synkronus-fcgi.socket SocketGroup)" "$sock" &&
        chmod "$(unit_key synkronus-fcgi.socket SocketMode)" "$(r "$sock")" || return 1
    # systemd-socket-activate execs the service at the first connection.
    python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" "$(r "$sock")"
    for _ in $(seq 1 100); do
        grep -q "using the listening socket passed by systemd" "$log/pool.log" && return 0
        kill -0 "$pool_pid" 2>/dev/null || break
        sleep 0.05
    done
    tail -n 20 "$log/pool.log"; return 1
}
# systemctl stop: SIGTERM (KillSignal=) and a clean exit within TimeoutStopSec=.
stop_pool() {
    [ -n "$pool_pid" ] || return 0
    local pid=$pool_pid rc; pool_pid=""
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; echo "  the pool ignored SIGTERM"; return 1; }
    wait "$pid"; rc=$?
    [ $rc = 0 ] || echo "  the pool exited with $rc"
    [ $rc = 0 ]
}
pool_workers() { pgrep -P "$pool_pid" | wc -l; }

https() {  # https PATH [curl args]: through the enabled site, as a client would reach it
    local path=$1; shift
    curl -sk --max-time 10 --resolve "sync.example.org:$HTTPS_PORT:127.0.0.1" "$@" "https://sync.example.org:$HTTPS_PORT$path"
}
login_ok() {
    https /auth/login -H 'Content-Type: application/json' \
        -d "{\"username\": \"admin\", \"password\": \"$ADMIN_PW\"}" | grep -q '"refreshToken"'
}
mode_of() { in_root stat -c '%a %U:%G' "$1"; }
sql() { in_root mariadb -N -e "$1" synkronus; }

# The commands this test emulates (there is no systemd here) must be in
# README.Debian, word for word (leading blanks aside); tests/systemd runs them.
readme_has() {
    local line missing=0
    while IFS= read -r line; do
        line=$(printf '%s' "$line" | sed 's/^[[:space:]]*//')
        [ -z "$line" ] && continue
        sed 's/^[[:space:]]*//' "$README" | grep -qxF -- "$line" || { echo "  not in README.Debian: $line"; missing=1; }
    done <<<"$1"
    return $missing
}
# Runs step N of README.Debian as written (tests/package/readme.sh) in the root,
# in a fresh bash -e, with STDIN as its input (what the admin types at a prompt).
run_readme() {  # run_readme N [STDIN]
    local cmds
    cmds=$(readme_commands "$README" "From install to a working HTTPS endpoint" "$1") ||
        { echo "  README.Debian has no step $1"; return 1; }
    in_root bash -ec "$cmds" <<<"${2:-}" >>"$log/readme.log" 2>&1 || { tail -n 20 "$log/readme.log"; return 1; }
}
dpkg_in_root() {
    in_root dpkg "$@" >>"$log/dpkg.log" 2>&1 || { tail -n 20 "$log/dpkg.log"; return 1; }
}

echo "--- install"
check "dpkg -i installs the package" dpkg_in_root -i /tmp/synkronus-fcgi.deb
system_user() { local e; e=$(in_root getent passwd synkronus) && [ "$(echo "$e" | cut -d: -f3)" -lt 1000 ] &&
    [ "$(echo "$e" | cut -d: -f6)" = /var/lib/synkronus ]; }
check "system user synkronus with home /var/lib/synkronus" system_user
check "config 0640 root:synkronus" test "$(mode_of /etc/synkronus/synkronus.conf)" = "640 root:synkronus"
check "JWT secret generated: 0640 root:synkronus, 256 random bits" \
    sh -c "[ '$(mode_of /etc/synkronus/jwt-secret)' = '640 root:synkronus' ] && grep -qxE '[0-9a-f]{64}' '$(r /etc/synkronus/jwt-secret)'"
check "database password generated: 0640 root:synkronus, 128 random bits, in no file the package ships" \
    sh -c "[ '$(mode_of /etc/synkronus/db-password)' = '640 root:synkronus' ] && grep -qxE '[0-9a-f]{32}' '$(r /etc/synkronus/db-password)' &&
           ! dpkg-deb -c '$DEB' | grep -q db-password"
check "the admin's config and site are made from the templates, not shipped" \
    sh -c "cmp -s '$(r /etc/synkronus/synkronus.conf)' '$(r /usr/share/synkronus/templates/synkronus.conf)' &&
           cmp -s '$(r /etc/nginx/sites-available/synkronus)' '$(r /usr/share/synkronus/templates/nginx-site)' &&
           ! grep -qx /etc/synkronus/synkronus.conf '$(r /var/lib/dpkg/info/synkronus-fcgi.conffiles)'"
check "units not enabled before the database is configured" \
    test ! -L "$(r /etc/systemd/system/sockets.target.wants/synkronus-fcgi.socket)" -a \
         ! -L "$(r /etc/systemd/system/multi-user.target.wants/synkronus-fcgi.service)"
check "the nginx site is left disabled" test ! -e "$(r /etc/nginx/sites-enabled/synkronus)" -a ! -L "$(r /etc/nginx/sites-enabled/synkronus)"
verify_units() {
    local man=yes   # Documentation=man:... is checked where man pages can be read
    in_root man -w synkronus-fcgi >/dev/null 2>&1 || man=no
    in_root systemd-analyze verify --man=$man /lib/systemd/system/synkronus-fcgi.socket /lib/systemd/system/synkronus-fcgi.service \
        >"$log/verify.log" 2>&1 || { cat "$log/verify.log"; return 1; }
    # verify exits 0 on some warnings; none is acceptable.
    ! grep -v '^$' "$log/verify.log" | grep -q . || { cat "$log/verify.log"; return 1; }
}
check "systemd-analyze verify accepts the installed units" verify_units

echo "--- README.Debian steps 2 to 8"
ADMIN_PW=admin-password-from-the-package-test
check "step 2: database, user, password into the config" run_readme 2
check "step 3: config set and checked" run_readme 3
check "step 4: migrate" run_readme 4
check "step 5: the first admin" run_readme 5 "$ADMIN_PW"
# systemctl enable --now synkronus-fcgi.socket synkronus-fcgi.service, emulated:
check "step 6: the pool starts" readme_has "systemctl enable --now synkronus-fcgi.socket synkronus-fcgi.service" && start_pool && sleep 0.5
check "step 6: the pool runs the 4 workers configured" test "$(pool_workers)" = 4
# The admin edits the site; here the ports also move off 80/443, which are not ours on a shared host,
# and Debian's default site goes, for the same reason. "apt install ssl-cert" makes the snakeoil pair.
in_root make-ssl-cert generate-default-snakeoil --force-overwrite >>"$log/ssl-cert.log" 2>&1
sed -i -e "s/listen 80;/listen 127.0.0.1:$HTTP_PORT;/; s/listen 443 ssl http2;/listen 127.0.0.1:$HTTPS_PORT ssl http2;/" \
    -e '/listen \[::\]/d' "$(r /etc/nginx/sites-available/synkronus)"
rm -f "$(r /etc/nginx/sites-enabled/default)"
check "step 7: the site enabled" readme_has "ln -s /etc/nginx/sites-available/synkronus /etc/nginx/sites-enabled/synkronus" &&
    in_root ln -s /etc/nginx/sites-available/synkronus /etc/nginx/sites-enabled/synkronus
# nginx -t && systemctl reload nginx, with nginx started instead of reloaded:
check "step 7: nginx -t, nginx started" sh -c "grep -qF 'nginx -t && systemctl reload nginx' '$README' &&
    chroot '$root' nginx -t -q && chroot '$root' nginx"
for _ in $(seq 1 50); do https /health >/dev/null && break; sleep 0.1; done
check "step 8: GET /health through the site answers ok" sh -c "curl -sk --max-time 10 --resolve 'sync.example.org:$HTTPS_PORT:127.0.0.1' \
    'https://sync.example.org:$HTTPS_PORT/health' | grep -q '\"status\": *\"ok\"'"
check "step 8: the first admin logs in through the site" login_ok
check "HTTP redirects to HTTPS" sh -c "curl -s -o /dev/null -w '%{http_code}' --resolve 'sync.example.org:$HTTP_PORT:127.0.0.1' \
    'http://sync.example.org:$HTTP_PORT/health' | grep -qx 301"

echo "--- upgrade"
# A newer build of the same package: a higher version and one more migration.
version=$(dpkg-deb -f "$DEB" Version)
dpkg-deb -R "$DEB" "$WORK/newer"
sed -i "s/^Version: .*/Version: $version+upgradetest1/" "$WORK/newer/DEBIAN/control"
echo "CREATE TABLE package_upgrade_probe (id INT NOT NULL PRIMARY KEY);" \
    >"$WORK/newer/usr/share/synkronus/sql/999_package_upgrade_probe.sql"
(cd "$WORK/newer" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum >DEBIAN/md5sums)
dpkg-deb --root-owner-group -b "$WORK/newer" "$(r /tmp/synkronus-fcgi-newer.deb)" >/dev/null
in_root install -d -o synkronus -g synkronus /var/lib/synkronus/bundles/versions
echo probe >"$(r /var/lib/synkronus/bundles/versions/probe)"
conf_sum=$(sha256sum <"$(r /etc/synkronus/synkronus.conf)") secret_sum=$(sha256sum <"$(r /etc/synkronus/jwt-secret)")
# The pool keeps running through dpkg (the units say --restart-after-upgrade) ...
check "dpkg -i of the newer build upgrades" dpkg_in_root -i /tmp/synkronus-fcgi-newer.deb
check "the version is the newer one" test "$(in_root dpkg-query -W -f='${Version}' synkronus-fcgi)" = "$version+upgradetest1"
check "the admin's config is kept" test "$(sha256sum <"$(r /etc/synkronus/synkronus.conf)")" = "$conf_sum"
check "no conffile was offered (no .dpkg-dist or .dpkg-old)" sh -c "! grep -q 'Configuration file' '$log/dpkg.log' &&
    [ -z \"\$(find '$(r /etc/synkronus)' '$(r /etc/nginx)' -name '*.dpkg-*')\" ]"
check "the config stays 0640 root:synkronus" test "$(mode_of /etc/synkronus/synkronus.conf)" = "640 root:synkronus"
check "the secret is kept" test "$(sha256sum <"$(r /etc/synkronus/jwt-secret)")" = "$secret_sum"
check "the bundle versions are kept" test "$(cat "$(r /var/lib/synkronus/bundles/versions/probe)")" = probe
# ... and postinst's try-restart restarts it: a clean stop, then ExecStartPre migrates.
check "the pool stops cleanly on SIGTERM" stop_pool
check "the restarted pool serves again" start_pool
check "the new migration was applied before the workers started" test "$(sql 'SELECT version FROM schema_migrations WHERE version = 999')" = 999
check "users survive the upgrade: the admin still logs in" login_ok
stop_pool
kill -QUIT "$(cat "$(r /run/nginx.pid)")" 2>/dev/null; sleep 0.5

echo "--- remove and purge"
check "dpkg -r removes the package" dpkg_in_root -r synkronus-fcgi
check "remove keeps config, secret and state" \
    test ! -e "$(r /usr/sbin/synkronus-fcgi)" -a -e "$(r /etc/synkronus/synkronus.conf)" -a -e "$(r /etc/synkronus/jwt-secret)" \
         -a -e "$(r /var/lib/synkronus/bundles/versions/probe)"
check "dpkg --purge purges it" dpkg_in_root --purge synkronus-fcgi
check "purge removes /etc/synkronus (config and secrets)" test ! -e "$(r /etc/synkronus)"
check "purge removes the site postinst made, and the start guard" \
    test ! -e "$(r /etc/nginx/sites-available/synkronus)" -a ! -e "$(r /etc/systemd/system/synkronus-fcgi.service.d)"
check "purge removes /var/lib/synkronus" test ! -e "$(r /var/lib/synkronus)"
check "purge removes the permissions override" sh -c "! chroot '$root' dpkg-statoverride --list /etc/synkronus/synkronus.conf >/dev/null"
check "purge removes the unit links and the nginx files" \
    test ! -e "$(r /etc/systemd/system/sockets.target.wants/synkronus-fcgi.socket)" -a \
         ! -L "$(r /etc/systemd/system/multi-user.target.wants/synkronus-fcgi.service)" -a \
         ! -e "$(r /etc/nginx/snippets/synkronus.conf)" -a ! -L "$(r /etc/nginx/sites-enabled/synkronus)"
check "nginx's config is still valid after the purge" sh -c "chroot '$root' nginx -t -q"

exit $failures
