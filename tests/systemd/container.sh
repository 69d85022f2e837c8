# Sourced by tests/systemd/run.sh and tests/systemd/upgrade.sh: a debootstrap'ed
# Debian 12 booted in systemd-nspawn, checks, and README.Debian's steps run in it.
# The caller sets REPO, README (the README.Debian to follow), INSTALL (its install
# section's title) and may set SYSTEMD_TEST_CACHE.
# The debootstrap'ed root is cached outside the clone, in
# /var/cache/synkronus-ci/systemd/base (SYSTEMD_TEST_CACHE): made when absent,
# used when present; the downloaded .debs are kept in .../archives. Every run
# boots a fresh overlay over it, so nothing a run does reaches the cache.
CACHE=${SYSTEMD_TEST_CACHE:-/var/cache/synkronus-ci/systemd}
started=$(date +%s)

failures=0 passes=0
section() { echo; echo "=== $*"; }
pass() { echo "ok    $*"; passes=$((passes + 1)); }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; return 1; fi; }
finish() {
    echo
    echo "systemd: $passes passed, $failures failed in $(($(date +%s) - started)) s"
    [ "$failures" = 0 ]
}

WORK=$(mktemp -d /tmp/synkronus-systemd.XXXXXX)
ROOT=$WORK/root LOG=$WORK/log
mkdir -p "$ROOT" "$LOG" "$WORK/layer" "$CACHE/archives"
nspawn_pid="" pid1=""

# --- the container -----------------------------------------------------------

# The base root: Debian 12 as debootstrap makes it, with this host's apt sources.
SUITE=bookworm
INCLUDE=systemd-sysv,dbus,procps,curl,ca-certificates
make_base() {
    local base=$CACHE/base stamp="$SUITE minbase $INCLUDE" mirror
    [ "$(cat "$base/.systemd-test-base" 2>/dev/null)" = "$stamp" ] && return 0
    mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1)
    echo "debootstrap $SUITE into $base (once per cache)"
    rm -rf "$base" "$base.tmp"
    debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$base.tmp" "${mirror:-http://deb.debian.org/debian}" \
        >"$LOG/debootstrap.log" 2>&1 || { tail -n 20 "$LOG/debootstrap.log"; return 1; }
    rm -f "$base.tmp/etc/apt/sources.list"
    cp /etc/apt/sources.list "$base.tmp/etc/apt/" 2>/dev/null
    cp /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources "$base.tmp/etc/apt/sources.list.d/" 2>/dev/null
    echo "$stamp" >"$base.tmp/.systemd-test-base"
    mv "$base.tmp" "$base"
}

# A fresh writable overlay over the base, on a tmpfs (overlayfs refuses an
# upper layer on overlayfs, which / is in many CI containers).
make_root() {
    mount -t tmpfs -o size=3g tmpfs "$WORK/layer" && mkdir "$WORK/layer/upper" "$WORK/layer/work" &&
        mount -t overlay overlay -o "lowerdir=$CACHE/base,upperdir=$WORK/layer/upper,workdir=$WORK/layer/work" "$ROOT"
}

boot() {
    systemd-nspawn -D "$ROOT" -M synkronus-test -b --register=no --keep-unit --console=pipe \
        --bind="$CACHE/archives:/var/cache/apt/archives" >>"$LOG/console.log" 2>&1 </dev/null &
    nspawn_pid=$! pid1=""
    local c
    for _ in $(seq 1 200); do
        for c in $(pgrep -P "$nspawn_pid"); do
            [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && pid1=$c
        done
        [ -n "$pid1" ] && break
        kill -0 "$nspawn_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$pid1" ] || { tail -n 30 "$LOG/console.log"; return 1; }
    local state
    # systemctl needs PID 1's private bus, which comes up a moment after PID 1.
    for _ in $(seq 1 100); do [ -S "/proc/$pid1/root/run/systemd/private" ] && break; sleep 0.1; done
    state=$(timeout 120 nsenter -t "$pid1" -a systemctl is-system-running --wait 2>/dev/null)
    [ "$state" = running ] && return 0
    echo "  system state: $state"
    in_ct systemctl --failed --no-pager --no-legend
    in_ct journalctl -b --no-pager -q -n 20 -u "*.service" -p warning
    return 1
}
in_ct() {
    nsenter -t "$pid1" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root TERM=dumb \
        DEBIAN_FRONTEND=noninteractive "$@"
}
# SIGTERM makes systemd-nspawn power the container off cleanly. Killing
# systemd-nspawn would orphan the container, still holding its ports: the last
# resort is SIGKILL to the container's PID 1, which ends its whole PID namespace.
nspawn_exited() {  # nspawn_exited SECONDS: waits that long for systemd-nspawn to end
    for _ in $(seq 1 $(($1 * 10))); do kill -0 "$nspawn_pid" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}
kill_ct() {
    [ -n "$pid1" ] && kill -KILL "$pid1" 2>/dev/null
    nspawn_exited 10 || kill -KILL "$nspawn_pid" 2>/dev/null
    wait "$nspawn_pid" 2>/dev/null
    nspawn_pid=""
}
shutdown_ct() {
    [ -n "$nspawn_pid" ] || return 0
    kill -TERM "$nspawn_pid" 2>/dev/null
    nspawn_exited 90 || { echo "the container did not power off within 90 s: killed"; kill_ct; return 1; }
    wait "$nspawn_pid" 2>/dev/null
    nspawn_pid=""
}
reboot_ct() {
    in_ct systemctl reboot
    local rc
    nspawn_exited 90 || { echo "  the container did not reboot within 90 s"; kill_ct; return 1; }
    wait "$nspawn_pid"; rc=$?
    nspawn_pid=""
    [ $rc = 133 ] || { echo "  systemd-nspawn exited with $rc, not 133 (reboot)"; return 1; }
    boot
}
cleanup() {
    shutdown_ct
    umount "$ROOT" "$WORK/layer" 2>/dev/null
    if [ "$failures" != 0 ]; then
        echo "logs of the failed run:"; for f in "$LOG"/*.log; do echo "--- $f"; tail -n 40 "$f"; done
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- helpers -----------------------------------------------------------------

# run_step N [STDIN]: README.Debian's step N, as written, in a fresh shell
# in root's home directory (where step 1's .deb lies); stops at the first error.
run_step() {
    local cmds
    cmds=$(readme_commands "$README" "$INSTALL" "$1") || { echo "  README.Debian has no step $1"; return 1; }
    run_commands "$cmds" "${2:-}"
}
run_commands() {
    [ -n "$1" ] || { echo "  no such command in README.Debian"; return 1; }
    echo "### $1" >>"$LOG/readme.log"
    in_ct bash -ec "cd /root"$'\n'"$1" <<<"${2:-}" >>"$LOG/readme.log" 2>&1 || { tail -n 20 "$LOG/readme.log"; return 1; }
}
# The README command of SECTION that matches PATTERN.
readme_command() { readme_commands "$README" "$1" | grep -E -- "$2"; }

unit() { in_ct systemctl show -p "$2" --value "$1"; }
main_pid() { unit synkronus-fcgi.service MainPID; }
workers() { in_ct pgrep -P "$(main_pid)" | sort -n; }
worker_count() { workers | wc -l; }
wait_for() {  # wait_for SECONDS COMMAND...: until COMMAND succeeds
    local n=$(($1 * 10)); shift
    for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    "$@"
}
health_ok() { curl -sk --max-time 10 --resolve sync.example.org:443:127.0.0.1 https://sync.example.org/health | grep -q '"status": *"ok"'; }
http_code() { curl -sk -o /dev/null --max-time 10 -w '%{http_code}' --resolve sync.example.org:443:127.0.0.1 "https://sync.example.org$1"; }
n_workers() {
    [ "$(worker_count)" = "$1" ] && return 0
    echo "  supervisor $(main_pid), workers: $(workers | tr '\n' ' ')"; return 1
}
ports_free() {  # the container's MariaDB and nginx would fail on a taken port
    python3 -c '
import socket, sys
taken = []
for port in (80, 443, 3306):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx and MariaDB: TIME_WAIT is no owner
    try:
        s.bind(("0.0.0.0", port))
    except OSError:
        taken.append(str(port))
    s.close()
if taken:
    print("  taken on this host: " + " ".join(taken))
sys.exit(1 if taken else 0)'
}
