#!/usr/bin/env bash
# The package's versions (packaging/deb-version.sh) in a scratch git repository:
# a snapshot on the way to X is X~git<time>.<commit>, a build after release X
# without a new entry is X+git..., a release is X; every one must be newer than
# the last released version, and dpkg orders them as the releases go.
# Usage: tests/package/versions.sh   (exit status: the number of failed checks)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d /tmp/synkronus-versions.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
failures=0
check() { local what=$1; shift; if "$@"; then echo "ok    $what"; else echo "FAIL  $what"; failures=$((failures + 1)); fi; }

r=$WORK/repo
mkdir -p "$r/debian" "$r/packaging"
cp "$REPO/packaging/deb-version.sh" "$r/packaging/"
git -C "$r" init -q
git -C "$r" config user.email t@example.org && git -C "$r" config user.name t
entry() {  # entry VERSION DIST: a changelog whose top entry is that
    printf 'synkronus-fcgi (%s) %s; urgency=medium\n\n  * x\n\n -- T <t@example.org>  Sun, 06 Dec 2026 20:00:00 +0000\n' "$1" "$2" \
        >"$r/debian/changelog"
    git -C "$r" add -A && GIT_COMMITTER_DATE="2026-12-06T2${3:-0}:00:00Z" git -C "$r" commit -qm "$1 $2" --allow-empty
}
version() { "$r/packaging/deb-version.sh" "$r" 2>"$WORK/err"; }
printf '0.1.0 %s\n' 3502146eb38e9cd44a11a183af468b1ec932954d >"$r/debian/released"

entry 0.2.0 UNRELEASED 0
snap1=$(version); c1=$(git -C "$r" rev-parse --short=12 HEAD)
check "UNRELEASED 0.2.0 builds 0.2.0~git<commit time>.<commit> ($snap1)" test "$snap1" = "0.2.0~git20261206200000.$c1"
entry 0.2.0 UNRELEASED 1
snap2=$(version)
check "a later snapshot sorts after the earlier one" dpkg --compare-versions "$snap2" gt "$snap1"
entry 0.2.0 unstable 2
release=$(version)
check "the release entry builds exactly 0.2.0" test "$release" = 0.2.0
check "releases and snapshots sort: 0.1.0 < snapshots < 0.2.0" \
    sh -c "dpkg --compare-versions 0.1.0 lt '$snap1' && dpkg --compare-versions '$snap2' lt '$release'"
printf '0.2.0 %s\n' "$(git -C "$r" rev-parse HEAD)" >>"$r/debian/released"
entry 0.2.0 unstable 3
after=$(version)
check "a build after release 0.2.0 without a new entry is 0.2.0+git..., after 0.2.0 ($after)" \
    sh -c "case '$after' in 0.2.0+git20261206230000.*) dpkg --compare-versions '$after' gt 0.2.0;; *) false;; esac"
entry 0.2.1 UNRELEASED 4
check "the next entry's snapshots sort after that" dpkg --compare-versions "$(version)" gt "$after"
entry 0.1.5 unstable 5
check "a version older than the last release is refused" sh -c "! '$r/packaging/deb-version.sh' '$r' 2>'$WORK/err'"
check "naming the last release" grep -q "not newer than 0.2.0, the last released version" "$WORK/err"
entry 0.2.0 unstable 5
sed -i '$d' "$r/debian/released"; printf '0.2.0 %s\n' 0000000000000000000000000000000000000000 >>"$r/debian/released"
check "so is a release whose version is listed already, unless built as +git" test "$(version)" != 0.2.0
check "the released list of this tree parses, and this tree's version is newer than its releases" \
    sh -c "'$REPO/packaging/deb-version.sh' '$REPO' >/dev/null"
exit $failures
