#!/usr/bin/env bash
# `make test-deb`: checks the package that packaging/build-deb.sh built into DEBDIR.
#   0. versions: snapshots, releases, the refusal of one not newer than the last release
#   1. lintian: no errors, no warnings; every override carries a comment
#   2. Build-Depends complete and minimal (against the headers and libraries used)
#   3. the control fields, conffiles and file list against the expected layout
#   4. the shipped files agree: config = the binary's declaration, socket and
#      bundle paths of the units, the config and the nginx snippet
#   5. the integration smoke tests through the unpacked binaries and nginx snippet
#   6. install, README.Debian's steps, upgrade, remove and purge in a throwaway
#      root, where `systemd-analyze verify` checks the installed units
# Usage: tests/package/run.sh [DEBDIR]   (default build/deb)
# The tests, migrations and README are those of DEBDIR/source, the tree the
# package was built from (packaging/build-deb.sh keeps it), else this tree.
# Ports and state: STATE=/tmp/pkgstack, 24443/24080, MariaDB 24407 for step 5;
# step 6 uses 28444/28081 and 23408.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DEBDIR=$(cd "${1:-$REPO/build/deb}" && pwd) || exit 1
[ -d "$DEBDIR/source/debian" ] && REPO=$DEBDIR/source
DEB=$(ls "$DEBDIR"/synkronus-fcgi_*.deb 2>/dev/null | head -n 1)
CHANGES=$(ls "$DEBDIR"/synkronus-fcgi_*.changes 2>/dev/null | head -n 1)
[ -n "$DEB" ] && [ -n "$CHANGES" ] || { echo "no synkronus-fcgi .deb/.changes in $DEBDIR (run make deb)"; exit 1; }

WORK=$(mktemp -d /tmp/synkronus-pkgtest.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
failures=0
section() { echo; echo "=== $*"; }
passes=0
pass() { echo "ok    $*"; passes=$((passes + 1)); }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

ROOT=$WORK/unpacked
dpkg-deb -x "$DEB" "$ROOT"
dpkg-deb -e "$DEB" "$WORK/control"

section "0. versions (packaging/deb-version.sh)"
check "snapshots, releases and the refusal of a version not newer than the last release" "$HERE/versions.sh"
check "the package's version is the one packaging/deb-version.sh gives this tree" \
    test "$(dpkg-deb -f "$DEB" Version)" = "$(cd "$REPO" && dpkg-parsechangelog -S Version)"

section "1. lintian"
if lintian --fail-on error,warning --display-level ">=info" "$CHANGES" >"$WORK/lintian.txt" 2>&1; then
    pass "lintian: no errors or warnings"
else
    fail "lintian"
fi
grep -v '^running with root privileges' "$WORK/lintian.txt" | sed -n '1,40p'
overrides_commented() {
    local f ok=0
    for f in "$REPO"/debian/*lintian-overrides; do
        [ -e "$f" ] || continue
        # Every override line follows a comment line (or another override under one).
        awk '/^#/ { c = 1; next } /^[[:space:]]*$/ { c = 0; next } { if (!c) { print FILENAME ": " $0; bad = 1 } }
             END { exit bad }' "$f" || ok=1
    done
    return $ok
}
check "every lintian override says why" overrides_commented

section "2. Build-Depends"
build_depends() {  # the package names of Build-Depends, without versions and profiles
    sed -n '/^Build-Depends:/,/^[A-Z][A-Za-z-]*:/p' "$REPO/debian/control" | sed '$d' | sed 's/^Build-Depends://' |
        tr ',' '\n' | sed 's/([^)]*)//g; s/<[^>]*>//g; s/\[[^]]*\]//g; s/[[:space:]]//g' | grep -v '^$'
}
package_deps() {  # the Depends of an installed package, and theirs (two levels)
    local p
    for p in $(dpkg-query -W -f='${Depends}\n' "$1" 2>/dev/null | tr ',|' '\n\n' | sed 's/([^)]*)//g; s/:.*//; s/[[:space:]]//g'); do
        echo "$p"
        dpkg-query -W -f='${Depends}\n' "$p" 2>/dev/null | tr ',|' '\n\n' | sed 's/([^)]*)//g; s/:.*//; s/[[:space:]]//g'
    done | grep -v '^$' | sort -u
}
owner_of() { dpkg -S "$1" 2>/dev/null | head -n 1 | cut -d: -f1; }
check_build_depends() {
    local bd allowed used h lib f pkg rc=0 multiarch
    multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
    bd=$(build_depends)
    # build-essential brings the C and C++ runtime headers.
    allowed=$(printf '%s\n' $bd; for p in $bd; do package_deps "$p"; done
              echo libc6-dev; echo linux-libc-dev; dpkg-query -W -f='${Package}\n' 'libstdc++-*-dev' 2>/dev/null)
    used=""
    for h in $(cd "$REPO" && grep -rhoE '^#include <[^>]+>' core db domain handlers tests/unit | sed 's/#include <//; s/>//' | sort -u); do
        for f in "/usr/include/$h" "/usr/include/$multiarch/$h"; do
            [ -e "$f" ] || continue
            pkg=$(owner_of "$f"); used="$used $pkg"
            printf '%s\n' $allowed | grep -qx "$pkg" || { echo "  <$h> comes from $pkg, not in Build-Depends"; rc=1; }
            break
        done
    done
    for lib in $(sed -n 's/^LIBS *:= *//p' "$REPO/Makefile") -lboost_unit_test_framework; do
        f=/usr/lib/$multiarch/lib${lib#-l}.so
        [ -e "$f" ] || f=/usr/lib/$multiarch/lib${lib#-l}.a   # libpthread: only a stub archive since glibc 2.34
        [ -e "$f" ] || { echo "  $lib: no lib${lib#-l}.so or .a"; rc=1; continue; }
        pkg=$(owner_of "$f"); used="$used $pkg"   # the -dev package owns the .so link
        printf '%s\n' $allowed | grep -qx "$pkg" || { echo "  $lib comes from $pkg, not in Build-Depends"; rc=1; }
    done
    for p in $bd; do
        [ "$p" = debhelper-compat ] && continue
        local hit=0 q
        for q in "$p" $(package_deps "$p"); do printf '%s\n' $used | grep -qx "$q" && hit=1; done
        [ $hit = 1 ] || { echo "  Build-Depends $p: nothing from it is used"; rc=1; }
    done
    return $rc
}
check "Build-Depends name every header and library used, and nothing else" check_build_depends

section "3. control fields, conffiles, file list"
field() { sed -n "s/^$1: //p" "$WORK/control/control"; }
depends_ok() {
    local names; names=$(field Depends | tr ',|' '\n\n' | sed 's/(.*//; s/[[:space:]]//g')
    printf '%s\n' $names | grep -qx adduser && ! printf '%s\n' $names | grep -qE '^nginx|-server'
}
check "Depends on adduser (postinst), not on nginx or a database server" depends_ok
optional_ok() {
    local both; both="$(field Recommends), $(field Suggests)"
    echo "$both" | grep -q nginx && echo "$both" | grep -qE 'mysql-server|mariadb-server'
}
check "Recommends or Suggests nginx and a MySQL/MariaDB server" optional_ok
# Only what the package owns and the admin never edits: the admin's config and site
# are made by postinst from templates (no upgrade asks about them).
cat >"$WORK/conffiles.expected" <<'EOF'
/etc/nginx/conf.d/synkronus.conf
/etc/nginx/snippets/synkronus-types.conf
/etc/nginx/snippets/synkronus.conf
EOF
check "conffiles: the three nginx files the package owns, nothing the admin edits" \
    diff -u "$WORK/conffiles.expected" <(sort "$WORK/control/conffiles")
{
    grep -v '^#' "$HERE/expected-files" | grep -vx '@SQL@'
    for f in "$REPO"/sql/*.sql; do echo "-rw-r--r-- root/root ./usr/share/synkronus/sql/$(basename "$f")"; done
    # The web console: every file of console/, as the package lays it out.
    echo "drwxr-xr-x root/root ./usr/share/synkronus/console/"
    (cd "$REPO/console" && find . -mindepth 1 -type d | sed 's#^\./#drwxr-xr-x root/root ./usr/share/synkronus/console/#; s#$#/#'
     find . -type f | sed 's#^\./#-rw-r--r-- root/root ./usr/share/synkronus/console/#')
} | sort >"$WORK/files.expected"
dpkg-deb -c "$DEB" | awk '{ print $1, $2, $6 }' | sort >"$WORK/files.actual"
check "file list, modes and owners as expected (tests/package/expected-files)" \
    diff -u "$WORK/files.expected" "$WORK/files.actual"

section "4. the shipped files agree"
unit_key() { sed -n "s/^$2=//p" "$1"; }
svc=$ROOT/lib/systemd/system/synkronus-fcgi.service
sock=$ROOT/lib/systemd/system/synkronus-fcgi.socket
conf=$ROOT/usr/share/synkronus/synkronus.conf.defaults
conf_key() { sed -n "s/^$1 = //p" "$conf"; }
check "the shipped list of defaults is the declaration the packaged binary prints" \
    cmp -s "$conf" <("$ROOT/usr/sbin/synkronus-fcgi" --print-default-config)
template_ok() {  # the admin's starting config: comments only, so every key takes its default
    ! grep -v '^#' "$ROOT/usr/share/synkronus/templates/synkronus.conf" | grep -q . &&
        grep -q /usr/share/synkronus/synkronus.conf.defaults "$ROOT/usr/share/synkronus/templates/synkronus.conf"
}
check "the admin's config template sets nothing and names the list of defaults" template_ok
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/secret"
check "the list of defaults passes --check-config (with a secret)" \
    sh -c "SYNKRONUS_JWT_SECRET_FILE='$WORK/secret' '$ROOT/usr/sbin/synkronus-fcgi' --config '$conf' --check-config >/dev/null"
packaged_commit() {  # GET /version's build.commit; the package is built from a copy without .git
    local c
    c=$(cat "$REPO/.build-commit" 2>/dev/null) && echo "$c" | grep -qxE '[0-9a-f]{12}' ||
        { echo "  no commit in $REPO/.build-commit"; return 1; }
    grep -qaF "$c" "$ROOT/usr/sbin/synkronus-fcgi" || { echo "  $c is not in the packaged binary"; return 1; }
}
check "the packaged binary carries the commit it was built from" packaged_commit
socket_path=$(unit_key "$sock" ListenStream)
# The snippet passes every request to $synkronus_fcgi, which names one of the
# http-level conf's upstreams (kept connections for GET, one per request else), or
# (an attachment upload, issue 18) to the kept one by name; each upstream's servers
# are that one socket.
one_socket() {
    local http="$ROOT/etc/nginx/conf.d/synkronus.conf"
    [ "$(conf_key listen)" = "$socket_path" ] &&
        ! grep -o 'fastcgi_pass [^;]*' "$ROOT/etc/nginx/snippets/synkronus.conf" |
            grep -vqxE 'fastcgi_pass (\$synkronus_fcgi|synkronus_fcgi_keep)' &&
        grep -qx 'upstream synkronus_fcgi_keep {' "$http" &&
        grep -q 'server unix:' "$http" &&
        ! grep -o 'server unix:[^;]*' "$http" | grep -vqx "server unix:$socket_path"
}
check "socket unit, config 'listen' and every upstream the snippet passes to name one socket ($socket_path)" one_socket
socket_for_nginx() { [ "$(unit_key "$sock" SocketGroup)" = www-data ] && [ "$(unit_key "$sock" SocketMode)" = 0660 ]; }
check "nginx (www-data) may connect to the socket" socket_for_nginx
# store_agrees KEY SUBDIR: the snippet serves files from the store the config names,
# and the unit makes that store one of its state directories.
store_agrees() {
    local dir; dir=$(conf_key "$1")
    grep -qE "alias $dir/$2/(\\\$1)?;" "$ROOT/etc/nginx/snippets/synkronus.conf" &&
        unit_key "$svc" StateDirectory | tr ' ' '\n' | sed 's|^|/var/lib/|' | grep -qx "$dir"
}
check "the snippet serves bundles from bundle_dir ($(conf_key bundle_dir)), a state directory of the unit" \
    store_agrees bundle_dir versions
check "the snippet serves attachments from attachment_dir ($(conf_key attachment_dir)), a state directory of the unit" \
    store_agrees attachment_dir files
# The grant chain's keys hold the generation link the workers move (grant_generation_link):
# the snippet resolves that path, and the unit makes its directory (RuntimeDirectory).
generation_agrees() {
    local link; link=$(conf_key grant_generation_link)
    [ -n "$link" ] && grep -q "root $link;" "$ROOT/etc/nginx/snippets/synkronus.conf" &&
        ! grep -E '^\s*root /run/' "$ROOT/etc/nginx/snippets/synkronus.conf" | grep -vq "root $link;" &&
        [ "/run/$(unit_key "$svc" RuntimeDirectory)" = "$(dirname "$link")" ]
}
check "the snippet's grant keys resolve grant_generation_link ($(conf_key grant_generation_link)), in the unit's RuntimeDirectory" \
    generation_agrees
site_ok() {
    grep -q 'include snippets/synkronus.conf;' "$ROOT/usr/share/synkronus/templates/nginx-site" &&
        ! grep -q fastcgi_pass "$ROOT/usr/share/synkronus/templates/nginx-site"
}
check "the site includes the package's snippet and holds none of its locations" site_ok
pool_unit_ok() {
    [ "$(unit_key "$svc" User)" = synkronus ] && [ "$(unit_key "$svc" ExecStartPre)" = "/usr/sbin/synkronus-admin migrate" ] &&
        [ "$(unit_key "$svc" ExecStart)" = /usr/sbin/synkronus-fcgi ] && grep -qx 'Requires=synkronus-fcgi.socket' "$svc"
}
check "one pool unit as user synkronus, migrations before the workers, the socket required" pool_unit_ok
check "the worker count is set in one place, the config's 'workers'" \
    sh -c "! grep -Eq '^[^#]*(workers|SYNKRONUS_)' '$svc' '$sock'"
exposure_ok() {  # systemd's own score of the sandbox, 0 (tight) to 10; 1.7 when written
    systemd-analyze security --offline=yes --threshold=25 "$svc" >"$WORK/security.txt" 2>&1 ||
        { tail -n 3 "$WORK/security.txt"; return 1; }
}
check "systemd-analyze security: exposure at most 2.5 ($(systemd-analyze security --offline=yes "$svc" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: //p'))" exposure_ok
sandboxed() {
    local k
    for k in ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes Restart=on-failure; do
        grep -qx "$k" "$svc" || { echo "  missing $k"; return 1; }
    done
    ! grep -q '^ReadWritePaths=' "$svc"   # writes go to the StateDirectory= only
}
check "sandboxed, writable state directory only, restarted on failure" sandboxed
scripts_ok() {
    grep -q "deb-systemd-invoke try-restart 'synkronus-fcgi.service'" "$WORK/control/postinst" &&
        ! grep -q "deb-systemd-invoke start 'synkronus-fcgi.service'" "$WORK/control/postinst" &&
        ! grep -q "deb-systemd-invoke stop 'synkronus-fcgi.service'" "$WORK/control/preinst" 2>/dev/null &&
        ! grep -qE '\bsed\b' "$WORK/control/postinst" "$WORK/control/postrm"
}
check "maintainer scripts: pool not started at install, try-restarted on upgrade, no sed" scripts_ok

section "5. integration smoke tests through the unpacked package"
pattern='test_service*.py'
ls "$REPO"/tests/integration/$pattern >/dev/null 2>&1 || pattern='test_*.py'
if BIN=$ROOT/usr/sbin SQL_DIR=$ROOT/usr/share/synkronus/sql \
    LOCATIONS_CONF=$ROOT/etc/nginx/snippets/synkronus.conf HTTP_CONF=$ROOT/etc/nginx/conf.d/synkronus.conf \
    TYPES_CONF=$ROOT/etc/nginx/snippets/synkronus-types.conf \
    CONSOLE_DIR=$ROOT/usr/share/synkronus/console \
    STATE=/tmp/pkgstack HTTPS_PORT=24443 HTTP_PORT=24080 DB_PORT=24407 \
    "$REPO/tests/integration/run.sh" "$pattern" >"$WORK/integration.log" 2>&1; then
    pass "integration ($pattern): $(tail -n 1 "$WORK/integration.log")"
    rm -rf /tmp/pkgstack   # kept only when something failed
else
    tail -n 40 "$WORK/integration.log"
    fail "integration ($pattern) through the packaged binaries and snippet"
fi

section "6. install, README.Debian, upgrade, remove, purge in a throwaway root"
if [ "$(id -u)" != 0 ] || ! unshare --mount true 2>/dev/null; then
    echo "SKIPPED: needs root and mount namespaces (it runs in CI as root)"
else
    unshare --mount --propagation private "$HERE/throwaway_root.sh" "$DEB" "$WORK/root-test" "$REPO"
    rc=$?
    [ $rc = 0 ] || failures=$((failures + rc))
fi

echo
echo "package: $passes passed, $failures failed"
[ $failures = 0 ]
