#!/usr/bin/env bash
# `make test-upgrade`: an administrator's upgrade from the previous release to this
# tree's package, under a real systemd (the container of tests/systemd/container.sh).
#   1. The previous release (the newest version debian/released lists) is built from
#      its commit, once per cache (tests/systemd/previous_release.sh), installed with
#      its Recommends, and ITS README.Debian followed step by step; the admin edits
#      the site as that README says (server_name).
#   2. Data goes in over HTTPS (upgrade_data.py fill): users, two bundle versions,
#      records and observations, attachments, refresh tokens; and what the previous
#      release added where it has it (probed through its API): record history,
#      attachment references, a provisioned device user, a logout, device presence,
#      audit events, an export.
#   3. The backup of this README's "Upgrading", a one-time export link (it lives 60 s),
#      then the upgrade as unattended tools run it: DEBIAN_FRONTEND=noninteractive
#      apt-get install -y ./new.deb, stdin not a terminal, no --force-conf* option.
#   4. Checks: no prompt and exit 0, the link downloads once, the admin's files
#      untouched, no .dpkg-* files, the previous release's retired conffiles (if it
#      had any) forgotten by dpkg, every unit running, nginx reloaded onto the new
#      snippet, the migrations applied, then at once every attachment, device,
#      audit event, record (and its history), hash, user, token and bundle version
#      as before (upgrade_data.py verify) and the new version serving.
#   5. The downgrade to the previous release: refused (by the package itself where the
#      previous release's prerm can refuse it too, as 0.2.0's can; 0.1.0's could not).
# What differs between previous releases is decided from the previous release's own
# files (its conffiles, its prerm, the config its README made), never from its number.
# Usage: tests/systemd/upgrade.sh [DEBDIR]   (default build/deb; needs root, the network
# for apt, and the previous release's commit in this clone's history)
# The container shares this host's network: it takes ports 80, 443 and 3306.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DEBDIR=$(cd "${1:-$REPO/build/deb}" && pwd) || exit 1
SRC=$REPO
[ -d "$DEBDIR/source/debian" ] && SRC=$DEBDIR/source
NEW_DEB=$(ls "$DEBDIR"/synkronus-fcgi_*.deb 2>/dev/null | head -n 1)
[ -n "$NEW_DEB" ] || { echo "no synkronus-fcgi .deb in $DEBDIR (run make deb)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root (debootstrap, mounts, systemd-nspawn)"; exit 1; }
if [ -z "${SYNKRONUS_SYSTEMD_TEST_NS:-}" ]; then
    exec env SYNKRONUS_SYSTEMD_TEST_NS=1 unshare --mount --propagation private "$0" "$@"
fi
. "$SRC/tests/package/readme.sh"
INSTALL=$(printf '%s' "From install to a working HTTPS endpoint")
. "$HERE/container.sh"
ADMIN_PW=admin-password-from-the-upgrade-test
NEW_README=$SRC/debian/README.Debian
NEW_VERSION=$(dpkg-deb -f "$NEW_DEB" Version)

stage_start=$(date +%s) stages=""
stage_done() { local now; now=$(date +%s); stages="$stages  $1: $((now - stage_start)) s"$'\n'; stage_start=$now; }
report_stages() { echo; echo "stage times:"; printf '%s' "$stages"; }

section "the previous release's package (built once per cache)"
PREV_DEB=$("$HERE/previous_release.sh" "$REPO" 2> >(tee "$LOG/previous.log" >&2)) ||
    { fail "build of the previous release"; finish; exit; }
PREV_VERSION=$(dpkg-deb -f "$PREV_DEB" Version)
PREV_COMMIT=$(sed 's/#.*//' "$REPO/debian/released" | awk -v v="$PREV_VERSION" '$1 == v { print $2 }')
README=$WORK/README.Debian.$PREV_VERSION   # the steps the admin of the previous release followed
git -C "$REPO" show "$PREV_COMMIT:debian/README.Debian" >"$README" || { fail "README.Debian of $PREV_COMMIT"; finish; exit; }
pass "previous release $PREV_VERSION ($PREV_COMMIT): $PREV_DEB"
check "the new package's version $NEW_VERSION is newer (dpkg --compare-versions)" \
    dpkg --compare-versions "$NEW_VERSION" gt "$PREV_VERSION"
stage_done "previous release's .deb"

section "boot Debian 12 under systemd-nspawn"
make_base || { fail "debootstrap"; finish; exit; }
stage_done "debootstrap root (cached)"
make_root || { fail "the overlay root"; finish; exit; }
cp "$PREV_DEB" "$ROOT/root/"
mkdir "$ROOT/root/new" && cp "$NEW_DEB" "$ROOT/root/new/"
echo 'APT::Get::Assume-Yes "true";' >"$ROOT/etc/apt/apt.conf.d/90test-assume-yes"
echo insecure >"$ROOT/root/.curlrc"
echo "127.0.0.1 sync.example.org" >>"$ROOT/etc/hosts"
check "ports 80, 443 and 3306 are free (the container shares this host's network)" ports_free || { finish; exit; }
check "the container boots: systemctl is-system-running says running" boot || { finish; exit; }
check "apt-get update inside (the host's apt sources)" sh -c "nsenter -t $pid1 -a apt-get update -qq >'$LOG/apt.log' 2>&1"
stage_done "boot"

section "$PREV_VERSION installed as its README.Debian says"
for n in 1 2 3 4; do check "$PREV_VERSION step $n" run_step $n || { finish; exit; }; done
check "$PREV_VERSION step 5: the first admin" run_step 5 "$ADMIN_PW"
check "$PREV_VERSION step 6: the pool starts" run_step 6
# Step 7: "Edit /etc/nginx/sites-available/synkronus: set server_name to your host name".
in_ct sed -i 's/server_name sync.example.org;/server_name sync.example.org sync.example.net;/' /etc/nginx/sites-available/synkronus
check "$PREV_VERSION step 7: the site edited (server_name)" in_ct grep -q 'server_name sync.example.org sync.example.net;' /etc/nginx/sites-available/synkronus
check "$PREV_VERSION step 7: the edited site enabled, nginx reloaded" run_step 7
# "systemctl reload nginx" returns before nginx listens on the site's port 443 (the master
# rereads its config after the signal): under load step 8's curl, run at once, found no
# listener. An admin reading on takes longer than that; the test waits as long.
check "nginx serves the site (its reload is asynchronous)" wait_for 10 health_ok
step8=$(readme_commands "$README" "$INSTALL" 8)
check "$PREV_VERSION step 8: health and login, as written" run_commands "${step8//the password from step 5/$ADMIN_PW}"
check "the installed version is $PREV_VERSION" test "$(in_ct dpkg-query -W -f='${Version}' synkronus-fcgi)" = "$PREV_VERSION"
stage_done "install $PREV_VERSION and follow its README"

section "data in, through $PREV_VERSION"
check "users, bundle versions, records (one twice), observations, attachments, tokens, a logout, devices, audit" \
    python3 "$HERE/upgrade_data.py" fill 127.0.0.1 443 "$ADMIN_PW" "$WORK/state.json" || { finish; exit; }
stage_done "data in"

# What the previous release left that decides which checks apply (its files and routes,
# not its number). prev_serves ROUTE: fill found the route (state.json's features).
prev_serves() {
    python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["features"].get(sys.argv[2]) else 1)' \
        "$WORK/state.json" "$1"
}
prev_conffiles=$(dpkg-deb --info "$PREV_DEB" conffiles 2>/dev/null | sort)
new_conffiles=$(dpkg-deb --info "$NEW_DEB" conffiles 2>/dev/null | sort)
retired_conffiles=$(comm -23 <(printf '%s\n' "$prev_conffiles" | grep .) <(printf '%s\n' "$new_conffiles" | grep .))
# A config kept from a release whose README put db_password into it (0.1.0) must not
# get a db-password file; one whose README used the generated file keeps it as it is.
if in_ct grep -Eq '^[[:space:]]*db_password[[:space:]]*=' /etc/synkronus/synkronus.conf; then
    config_names_db_password=1
else
    config_names_db_password=0
fi
migrations_before=$(in_ct mariadb -N -e 'SELECT name FROM synkronus.schema_migrations')
prev_prerm_refuses=0
dpkg-deb --info "$PREV_DEB" prerm 2>/dev/null | grep -q 'failed-upgrade' && prev_prerm_refuses=1

section "the upgrade: DEBIAN_FRONTEND=noninteractive apt-get install -y ./new.deb"
admin_files="/etc/synkronus/synkronus.conf /etc/synkronus/jwt-secret /etc/nginx/sites-available/synkronus"
in_ct test -e /etc/synkronus/db-password && admin_files="$admin_files /etc/synkronus/db-password"
sums() { in_ct sha256sum $admin_files; }
sums_before=$(sums)
nginx_workers() { in_ct pgrep -f 'nginx: worker process' | sort -n | tr '\n' ' '; }
workers_before=$(nginx_workers)
backup=$(readme_commands "$NEW_README" Upgrading | grep -E 'mariadb-dump|czf')
check "Upgrading: the README's backup first" run_commands "$backup"
check "the backup holds the records" in_ct sh -c 'grep -q "rec-099" /root/synkronus-before-upgrade.sql'
if prev_serves links; then
    check "a one-time export link, made just before the upgrade (HEAD: valid, unused)" \
        python3 "$HERE/upgrade_data.py" link 127.0.0.1 443 "$ADMIN_PW" "$WORK/state.json"
else
    echo "skip  export link across the upgrade: $PREV_VERSION has no POST /dataexport/links"
fi
since=$(in_ct date '+%Y-%m-%d %H:%M:%S')
upgrade() {
    in_ct sh -c "cd /root/new && DEBIAN_FRONTEND=noninteractive apt-get install -y ./$(basename "$NEW_DEB")" \
        </dev/null >"$LOG/upgrade.log" 2>&1 || { tail -n 30 "$LOG/upgrade.log"; return 1; }
}
check "apt-get exits 0, unattended (stdin is no terminal)" upgrade
stage_done "upgrade"
# The link lives 60 s: it is used first, as soon as the new version answers.
check "the new version answers /health" wait_for 20 health_ok
if prev_serves links; then
    check "the link made before the upgrade downloads once, the same export" \
        python3 "$HERE/upgrade_data.py" download 127.0.0.1 443 "$ADMIN_PW" "$WORK/state.json"
fi
# dpkg's prompt: "Configuration file '...'" then "*** synkronus.conf (Y/I/N/O/D/Z) [default=N] ?".
# (dpkg-maintscript-helper's "Obsolete conffile ... has been modified by you" is no prompt.)
check "no conffile prompt" sh -c "! grep -E \"Configuration file '|Y/I/N/O/D/Z\" '$LOG/upgrade.log'"
check "the installed version is $NEW_VERSION" test "$(in_ct dpkg-query -W -f='${Version}' synkronus-fcgi)" = "$NEW_VERSION"
check "the package is configured (ii)" test "$(in_ct dpkg-query -W -f='${db:Status-Abbrev}' synkronus-fcgi | tr -d ' ')" = ii
check "the admin's files byte for byte as before: $admin_files" test "$(sums)" = "$sums_before"
no_dpkg_leftovers() {
    local left; left=$(in_ct find /etc/synkronus /etc/nginx -name '*.dpkg-*')
    [ -z "$left" ] || { echo "  $left"; return 1; }
}
check "no .dpkg-dist, .dpkg-old or .dpkg-bak files" no_dpkg_leftovers
if [ $config_names_db_password = 1 ]; then
    check "no db-password generated (the kept config names db_password)" in_ct test ! -e /etc/synkronus/db-password
else
    check "the db-password the previous release generated is kept (the config names none)" \
        in_ct test -s /etc/synkronus/db-password
fi
if [ -n "$retired_conffiles" ]; then
    conffiles_retired() {
        local f listed rc=0
        listed=$(in_ct dpkg-query -W -f='${Conffiles}\n' synkronus-fcgi)
        for f in $(printf '%s\n' "$retired_conffiles" | sed 's/ .*//'); do
            printf '%s\n' "$listed" | grep -q "^ $f " && { echo "  dpkg still lists $f as a conffile"; rc=1; }
            in_ct test -e "$f" || { echo "  $f is gone"; rc=1; }
        done
        return $rc
    }
    check "the previous release's conffiles this one no longer ships are retired, the files kept: $(echo $retired_conffiles | tr '\n' ' ')" \
        conffiles_retired
else
    echo "skip  conffile retirement: the previous release ships no conffile that this one drops"
fi
check "the kept config passes the new --check-config (new settings take defaults)" \
    in_ct sh -c 'synkronus-fcgi --check-config | grep -qx "configuration OK"'
units_running() {
    local u rc=0
    for u in synkronus-fcgi.socket synkronus-fcgi.service nginx.service mariadb.service; do
        [ "$(unit $u ActiveState)" = active ] || { echo "  $u: $(unit $u ActiveState)"; rc=1; }
    done
    [ "$(in_ct systemctl is-system-running)" = running ] || { in_ct systemctl --failed --no-legend; rc=1; }
    return $rc
}
check "every unit runs: socket, pool, nginx, mariadb; the system is 'running'" wait_for 20 units_running
check "the pool runs the 4 workers of the kept config" wait_for 10 n_workers 4
dpkg-deb -x "$NEW_DEB" "$WORK/new-unpacked"
check "the snippet in place is the new package's" \
    cmp -s "$ROOT/etc/nginx/snippets/synkronus.conf" "$WORK/new-unpacked/etc/nginx/snippets/synkronus.conf"
reloaded() {
    [ "$(nginx_workers)" != "$workers_before" ] || { echo "  nginx workers unchanged: $workers_before"; return 1; }
    in_ct journalctl -q --no-pager -u nginx.service --since "$since" | grep -q Reload
}
check "nginx was reloaded by the package (new worker processes)" reloaded
migrations_applied() {  # by name: each of the package's, and nothing else
    local want got new
    want=$(ls "$WORK/new-unpacked/usr/share/synkronus/sql/" | grep '\.sql$' | sort)
    got=$(in_ct mariadb -N -e 'SELECT name FROM synkronus.schema_migrations' | sort)
    [ -n "$want" ] && [ "$want" = "$got" ] ||
        { echo "  applied: $(echo $got)"; echo "  the package's: $(echo $want)"; return 1; }
    new=$(comm -13 <(printf '%s\n' "$migrations_before" | sort) <(printf '%s\n' "$got"))
    echo "  applied by the upgrade: $(echo ${new:-none, the previous release had them all})"
}
check "every migration of the new package is applied, unattended" migrations_applied

section "right after the upgrade: the data as before, served by the new version"
check "attachments (first: nginx with the new snippet), records, hashes, users, tokens, bundles, replays" \
    python3 "$HERE/upgrade_data.py" verify 127.0.0.1 443 "$ADMIN_PW" "$WORK/state.json"
served_version() { curl -sk --max-time 10 https://127.0.0.1/version | python3 -c 'import json,sys; print(json.load(sys.stdin)["server"]["version"])'; }
check "/version names $NEW_VERSION" test "$(served_version)" = "$NEW_VERSION"
refuses_later_migrations() {
    local rc
    in_ct mariadb -e "INSERT INTO synkronus.schema_migrations VALUES (9999, '9999_of_a_later_release.sql', REPEAT('0', 64), UTC_TIMESTAMP())" || return 1
    in_ct setpriv --reuid=synkronus --regid=synkronus --clear-groups synkronus-admin migrate >"$LOG/refusal.log" 2>&1
    rc=$?
    in_ct mariadb -e 'DELETE FROM synkronus.schema_migrations WHERE version = 9999'
    cat "$LOG/refusal.log"
    [ $rc != 0 ] && grep -q '9999_of_a_later_release.sql' "$LOG/refusal.log"
}
check "the new migrator refuses a migration newer than it knows (a later release's), naming it" refuses_later_migrations
stage_done "checks after the upgrade"

section "a snippet nginx -t refuses: nginx keeps the old configuration, loudly"
nginx_t_fails_loudly() {
    local before rc
    in_ct sh -c 'echo "not nginx syntax" >/etc/nginx/conf.d/broken-by-the-upgrade-test.conf'
    before=$(nginx_workers)
    in_ct sh -c "cd /root/new && DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall ./$(basename "$NEW_DEB")" \
        </dev/null >"$LOG/reinstall.log" 2>&1
    rc=$?
    in_ct rm -f /etc/nginx/conf.d/broken-by-the-upgrade-test.conf
    [ $rc = 0 ] || { tail -n 20 "$LOG/reinstall.log"; return 1; }
    grep -A12 'nginx -t FAILED' "$LOG/reinstall.log"
    grep -q 'nginx -t FAILED' "$LOG/reinstall.log" && grep -q 'nginx was NOT reloaded' "$LOG/reinstall.log" || return 1
    [ "$(nginx_workers)" = "$before" ] || { echo "  nginx was reloaded anyway"; return 1; }
}
check "reinstall with a broken nginx config: the package says so and does not reload" nginx_t_fails_loudly
check "nginx still serves with the configuration it had" wait_for 20 health_ok
stage_done "nginx -t failure"

section "the downgrade to $PREV_VERSION is refused"
downgrade() {  # downgrade [APT OPTION]: exit status of apt-get, output in the log
    in_ct sh -c "cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y $* ./$(basename "$PREV_DEB")" \
        </dev/null >>"$LOG/downgrade.log" 2>&1
}
refused_by_apt() { ! downgrade && grep -q 'downgraded' "$LOG/downgrade.log"; }
check "apt-get install -y ./$(basename "$PREV_DEB"): apt itself refuses a downgrade" refused_by_apt
package_says_no() {
    downgrade --allow-downgrades
    grep -A4 'refusing to downgrade' "$LOG/downgrade.log"
    grep -q "refusing to downgrade $NEW_VERSION to $PREV_VERSION" "$LOG/downgrade.log"
}
check "apt-get install -y --allow-downgrades: the package refuses, naming both versions" package_says_no
after=$(in_ct dpkg-query -W -f='${Version}' synkronus-fcgi)
if [ $prev_prerm_refuses = 1 ]; then
    # The previous release's prerm refuses as the package being installed (failed-upgrade)
    # too, so dpkg has no script left that lets the downgrade through.
    check "dpkg kept $NEW_VERSION (the previous release's prerm refuses too)" test "$after" = "$NEW_VERSION"
    check "which still serves" wait_for 10 health_ok
elif [ "$after" = "$NEW_VERSION" ]; then
    pass "dpkg kept $NEW_VERSION"
    check "which still serves" wait_for 10 health_ok
else
    # dpkg lets the older package's own prerm (failed-upgrade) overrule the refusal:
    # 0.1.0's passes. Its pool must then refuse to start (postinst's start guard).
    echo "  dpkg went on with $after: its own prerm let it (see README.Debian, Downgrading)"
    refused_to_start() {
        in_ct systemctl restart synkronus-fcgi.service >/dev/null 2>&1
        [ "$(unit synkronus-fcgi.service ActiveState)" != active ] &&
            in_ct journalctl -q --no-pager -u synkronus-fcgi.service --since "$since" |
                grep -q "synkronus-fcgi $after refuses to start: synkronus-fcgi $NEW_VERSION ran on this database"
    }
    check "the $after pool refuses to start, naming both versions" wait_for 10 refused_to_start
    check "nothing serves the migrated database: /health is not 200" test "$(http_code /health)" != 200
fi
stage_done "downgrade"

report_stages
finish
