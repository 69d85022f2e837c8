#!/usr/bin/env bash
# `make test-systemd`: the package under a real systemd, as an administrator
# runs it. A debootstrap'ed Debian 12 boots in systemd-nspawn (systemd as PID 1;
# no systemd or D-Bus is needed on this host); the built .deb is installed with
# its Recommends (MariaDB, nginx), then debian/README.Debian is followed step by
# step with the commands read from the README itself, indentation included, each
# step in a fresh shell. Then: the API over HTTPS, the sandbox, the worker
# count, crashes, a clean stop, a reboot, and a purge that leaves nothing.
# Usage: tests/systemd/run.sh [DEBDIR]   (default build/deb; needs root)
# The README and helpers are those of DEBDIR/source, the tree the package was
# built from (packaging/build-deb.sh keeps it).
# The container shares this host's network: it takes ports 80, 443 and 3306.
# The container and the debootstrap'ed root it boots (cached outside the clone):
# tests/systemd/container.sh. The upgrade from the previous release: upgrade.sh.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DEBDIR=$(cd "${1:-$REPO/build/deb}" && pwd) || exit 1
SRC=$REPO
[ -d "$DEBDIR/source/debian" ] && SRC=$DEBDIR/source
DEB=$(ls "$DEBDIR"/synkronus-fcgi_*.deb 2>/dev/null | head -n 1)
[ -n "$DEB" ] || { echo "no synkronus-fcgi .deb in $DEBDIR (run make deb)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root (debootstrap, mounts, systemd-nspawn)"; exit 1; }
# The overlay mounts live and die with a private mount namespace.
if [ -z "${SYNKRONUS_SYSTEMD_TEST_NS:-}" ]; then
    exec env SYNKRONUS_SYSTEMD_TEST_NS=1 unshare --mount --propagation private "$0" "$@"
fi
README=$SRC/debian/README.Debian
. "$SRC/tests/package/readme.sh"
INSTALL=$(printf '%s' "From install to a working HTTPS endpoint")
. "$HERE/container.sh"
ADMIN_PW=admin-password-from-the-systemd-test
COMMIT=$(cat "$SRC/.build-commit" 2>/dev/null || echo "(no .build-commit in $SRC)")
# --- the run -----------------------------------------------------------------

section "boot Debian 12 under systemd-nspawn"
make_base || { fail "debootstrap"; finish; exit; }
make_root || { fail "the overlay root"; finish; exit; }
# Step 1 installs the file it names (this release's version): a snapshot build of the
# same version (X~git..., X+git...) stands in for it under that name.
readme_deb=$(readme_commands "$README" "$INSTALL" 1 | grep -o 'synkronus-fcgi_[^ ]*_amd64\.deb' | head -n 1)
readme_version=${readme_deb#synkronus-fcgi_}
readme_version=${readme_version%_amd64.deb}
deb_version=$(dpkg-deb -f "$DEB" Version)
case "$deb_version" in
    "$readme_version" | "$readme_version~git"* | "$readme_version+git"*)
        pass "README.Debian step 1 installs this version's package ($readme_deb; built $deb_version)" ;;
    *) fail "README.Debian step 1 names $readme_deb, the package built is $deb_version"; finish; exit ;;
esac
cp "$DEB" "$ROOT/root/$readme_deb"
# The administrator answers "yes" to apt, and reads step 8's "add -k".
echo 'APT::Get::Assume-Yes "true";' >"$ROOT/etc/apt/apt.conf.d/90test-assume-yes"
echo insecure >"$ROOT/root/.curlrc"
echo "127.0.0.1 sync.example.org" >>"$ROOT/etc/hosts"
check "ports 80, 443 and 3306 are free (the container shares this host's network)" ports_free || { finish; exit; }
check "the container boots: systemctl is-system-running says running" boot || { finish; exit; }
check "apt-get update inside (the host's apt sources)" sh -c "nsenter -t $pid1 -a apt-get update -qq >'$LOG/apt.log' 2>&1"

section "README.Debian step 1: install with the Recommends"
check "step 1: apt install ./$(basename "$DEB")" run_step 1
check "MariaDB and nginx came with it" in_ct dpkg-query -W mariadb-server nginx
not_enabled() {
    local u
    for u in synkronus-fcgi.socket synkronus-fcgi.service; do
        [ "$(in_ct systemctl is-enabled $u)" = disabled ] && [ "$(unit $u ActiveState)" = inactive ] ||
            { echo "  $u: $(in_ct systemctl is-enabled $u), $(unit $u ActiveState)"; return 1; }
    done
}

section "before the database is configured: nothing runs, nothing starts at boot"
check "socket and pool are installed, not enabled and not started" not_enabled
check "the container reboots" reboot_ct || { finish; exit; }
check "after the reboot, neither socket nor pool was started" not_enabled
check "no pool ever ran: no restarts, no failed unit, the system is 'running'" \
    test "$(unit synkronus-fcgi.service NRestarts)/$(in_ct systemctl is-system-running)" = 0/running

section "README.Debian steps 2 to 8, each in a fresh shell"
check "step 2: database, user, password into the config" run_step 2
check "step 3: the rest of the config, checked" run_step 3
check "step 4: migrate" run_step 4
check "step 5: the first admin" run_step 5 "$ADMIN_PW"
check "step 6: the pool starts" run_step 6
check "step 6: socket and pool enabled for boot" \
    test "$(in_ct systemctl is-enabled synkronus-fcgi.socket synkronus-fcgi.service | sort -u)" = enabled
check "step 6: the 4 workers of step 3 run" wait_for 10 n_workers 4
check "step 7: the site enabled, nginx reloaded" run_step 7
# "systemctl reload nginx" returns before nginx listens on the site's port 443 (the master
# rereads its config after the signal); an admin reading on takes longer than that, and
# the test waits as long.
check "nginx serves the site (its reload is asynchronous)" wait_for 10 health_ok
step8=$(readme_commands "$README" "$INSTALL" 8)
check "step 8: health and login, as written" run_commands "${step8//the password from step 5/$ADMIN_PW}"
check "step 8: /health answered ok" grep -q '"status": *"ok"' "$LOG/readme.log"
check "step 8: the login answered a refresh token" grep -q '"refreshToken"' "$LOG/readme.log"

section "the API over HTTPS"
check "health, login, push, pull, an attachment and /version through nginx" \
    python3 "$HERE/api_check.py" 127.0.0.1 443 admin "$ADMIN_PW" "$COMMIT"
# The unit's hardening (ProtectProc, SystemCallFilter, PrivateTmp) leaves uploads their
# unnamed temporary file and its link by /proc/self/fd; a worker says once if it does not.
no_upload_fallback() { ! in_ct journalctl -q --no-pager -u synkronus-fcgi.service | grep -E 'uploads use named|uploads are renamed'; }
check "uploads under the unit: unnamed files, no fallback" no_upload_fallback
# Grants (issue 18): the hardened pool makes the generation link in its RuntimeDirectory,
# nginx's user resolves it (its grant keys hold the target), and the downloads above left
# kept answers in nginx's cache directory, which only nginx's user may read.
grants_ok() {
    in_ct runuser -u www-data -- realpath -e /run/synkronus-fcgi/generation >/dev/null ||
        { echo "  www-data cannot resolve /run/synkronus-fcgi/generation"; return 1; }
    ! in_ct grep -q 'realpath()' /var/log/nginx/error.log || { echo "  nginx: realpath() failed"; return 1; }
    [ "$(in_ct stat -c '%U %a' /run/synkronus-grants)" = "www-data 700" ] ||
        { echo "  /run/synkronus-grants: $(in_ct stat -c '%U %a' /run/synkronus-grants)"; return 1; }
    in_ct find /run/synkronus-grants -type f | grep -q . || { echo "  no kept answers"; return 1; }
}
check "grants under the unit: the generation link resolves for www-data, nginx keeps answers (0700)" grants_ok
default_site_gone() {  # http://127.0.0.1/ is this server: redirected to HTTPS, served there
    local got
    got=$(curl -s -o /dev/null --max-time 10 -w '%{http_code} %{redirect_url}' http://127.0.0.1/health)
    [ "$got" = "301 https://127.0.0.1/health" ] || { echo "  http://127.0.0.1/health: $got"; return 1; }
    curl -sk --max-time 10 https://127.0.0.1/health | grep -q '"status": *"ok"'
}
check "http://127.0.0.1/ is this server, not Debian's default site" default_site_gone
console_served() {  # the web console (CONTRACT §8) from the package's files, through the packaged nginx
    local page asset
    page=$(curl -sk -D "$LOG/console.headers" --max-time 10 --resolve sync.example.org:443:127.0.0.1 https://sync.example.org/)
    grep -qi "^content-security-policy: default-src 'self'" "$LOG/console.headers" || { echo "  no CSP on GET /"; return 1; }
    asset=$(printf '%s' "$page" | grep -o '/console/[0-9a-f]*/app.js' | head -n 1)
    [ -n "$asset" ] || { echo "  GET / is not the console page"; return 1; }
    [ "$(http_code "$asset")" = 200 ] || { echo "  $asset: $(http_code "$asset")"; return 1; }
}
check "GET / is the web console, its scripts served from /usr/share/synkronus/console" console_served

section "the sandbox"
exposure_ok() {
    local e
    e=$(in_ct systemd-analyze security synkronus-fcgi.service 2>/dev/null |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    echo "  exposure: ${e:-?}"
    [ -n "$e" ] && awk -v e="$e" 'BEGIN { exit !(e <= 1.5) }'
}
check "systemd-analyze security: exposure at most 1.5" exposure_ok
# Writes as the service's user in the mount namespace of a running worker.
as_worker() { in_ct nsenter -t "$(workers | head -n 1)" -m setpriv --reuid=synkronus --regid=synkronus --clear-groups "$@"; }
read_only_there() {
    local p out rc=0
    for p in /run/lock /run /dev/shm /dev/mqueue /etc /var/lib /usr; do
        out=$(as_worker touch "$p/synkronus-sandbox-probe" 2>&1) &&
            { echo "  the worker can write $p"; rc=1; continue; }
        echo "$out" | grep -q 'Read-only file system' || { echo "  $p: $out"; rc=1; }
    done
    return $rc
}
check "the worker cannot write /run/lock, /run, /dev/shm, /dev/mqueue, /etc, /var/lib, /usr (read-only)" read_only_there
check "the worker can write its state directory" \
    as_worker sh -c 'touch /var/lib/synkronus/bundles/probe && rm /var/lib/synkronus/bundles/probe'

section "scaling, crashes"
set_workers() { in_ct sed -i "s|^workers = .*|workers = $1|" /etc/synkronus/synkronus.conf; }
set_workers 3
check "Scaling: 'workers = 3' and the README's restart" run_commands "$(readme_command 'Scaling: the number of workers' 'systemctl restart')"
check "3 workers run after the restart" wait_for 10 n_workers 3
check "and serve" wait_for 10 health_ok
supervisor=$(main_pid) victim=$(workers | head -n 1)
in_ct kill -KILL "$victim"
worker_replaced() { n_workers 3 && ! workers | grep -qx "$victim"; }
check "a worker killed with SIGKILL is replaced by the supervisor" wait_for 10 worker_replaced
check "by the same supervisor" test "$(main_pid)" = "$supervisor"
in_ct kill -KILL "$supervisor"
supervisor_back() {
    [ "$(unit synkronus-fcgi.service ActiveState)" = active ] && [ "$(main_pid)" != "$supervisor" ] &&
        [ "$(main_pid)" != 0 ] && n_workers 3
}
check "the supervisor killed with SIGKILL is restarted by systemd, with 3 workers" wait_for 30 supervisor_back
check "systemd counts one restart" test "$(unit synkronus-fcgi.service NRestarts)" = 1
check "and it serves" wait_for 10 health_ok

section "stop and start, as README.Debian says"
since=$(in_ct date '+%Y-%m-%d %H:%M:%S')
check "Stopping: the README's stop" run_commands "$(readme_command 'Stopping and starting' 'systemctl stop')"
stopped() {
    [ "$(unit synkronus-fcgi.service ActiveState)" = inactive ] && [ "$(unit synkronus-fcgi.socket ActiveState)" = inactive ]
}
check "pool and socket are stopped" stopped
clean_stop() {
    [ "$(unit synkronus-fcgi.service Result)" = success ] || { echo "  result $(unit synkronus-fcgi.service Result)"; return 1; }
    ! in_ct journalctl -q --no-pager -u synkronus-fcgi.service --since "$since" | grep -E 'SIGKILL|timed out|code=killed'
}
check "the stop was clean: every process ended on SIGTERM, result success" clean_stop
check "no socket file is left" in_ct test ! -e /run/synkronus/fcgi.sock
check "a request meanwhile gets 502 from nginx" test "$(http_code /health)" = 502
sleep 1
check "and the pool stays stopped" stopped
check "Stopping and starting: the README's start" run_commands "$(readme_command 'Stopping and starting' 'systemctl start')"
check "it serves again" wait_for 15 health_ok

section "a reboot"
check "the container reboots" reboot_ct || { finish; exit; }
check "after the reboot it serves over HTTPS" wait_for 30 health_ok
check "with the 3 workers of the config" wait_for 10 n_workers 3
check "the login still works" python3 "$HERE/api_check.py" 127.0.0.1 443 admin "$ADMIN_PW" "$COMMIT"

section "purge"
check "Removing: the README's purge" run_commands "$(readme_command Removing 'apt purge')"
leftovers() {
    local left
    left=$(in_ct find / -xdev -path /var/lib/mysql -prune -o -path /root -prune -o -name '*synkronus*' -print 2>/dev/null)
    [ -z "$left" ] || { echo "$left" | sed 's/^/  left: /'; return 1; }
}
check "no synkronus file is left (outside MariaDB's data, which keeps the database)" leftovers
check "no socket file, no /run/synkronus" in_ct test ! -e /run/synkronus
check "no system user or group synkronus" sh -c "! nsenter -t $pid1 -a getent passwd synkronus && ! nsenter -t $pid1 -a getent group synkronus"
check "no database user synkronus" test "$(in_ct mariadb -N -e "SELECT COUNT(*) FROM mysql.user WHERE user = 'synkronus'")" = 0
check "the database itself is kept" test "$(in_ct mariadb -N -e "SHOW DATABASES LIKE 'synkronus'")" = synkronus
check "no unit of the package is known to systemd" \
    sh -c "[ -z \"\$(nsenter -t $pid1 -a systemctl list-unit-files --no-legend 'synkronus*')\" ]"
check "nginx still runs its config" in_ct sh -c 'nginx -t -q && systemctl reload nginx'
check "the system is 'running', no failed unit" test "$(in_ct systemctl is-system-running)" = running

finish
