#!/bin/sh
# Prints the path of the previous release's .deb: the newest version that
# debian/released lists, built from its commit with that commit's own
# packaging/build-deb.sh. The build is cached outside the clone, keyed by the
# commit (CI_CACHE, default /var/cache/synkronus-ci): built when absent, reused
# when present. Progress goes to stderr.
# Usage: tests/systemd/previous_release.sh [REPO]   (needs the commit in REPO's history)
set -eu
repo=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
cache=${CI_CACHE:-/var/cache/synkronus-ci}
line=$(grep -v '^#' "$repo/debian/released" | grep . | sort -k1,1 -V | tail -n 1)
version=${line%% *} commit=${line##* }
[ -n "$version" ] && [ "$version" != "$commit" ] || { echo "no released version in $repo/debian/released" >&2; exit 1; }
out=$cache/release-$version-$commit
if ls "$out"/synkronus-fcgi_"$version"_*.deb >/dev/null 2>&1; then
    ls "$out"/synkronus-fcgi_"$version"_*.deb
    exit 0
fi
git -C "$repo" cat-file -e "$commit^{commit}" 2>/dev/null ||
    { echo "commit $commit of release $version is not in $repo (a shallow clone?)" >&2; exit 1; }
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
echo "building release $version from $commit into $out (once per cache)" >&2
mkdir "$tmp/src"
git -C "$repo" archive "$commit" | tar -x -C "$tmp/src"
git -C "$repo" rev-parse --short=12 "$commit" >"$tmp/src/.build-commit"
started=$(date +%s)
(cd "$tmp/src" && DEB_BUILD_OPTIONS=nocheck packaging/build-deb.sh "$tmp/out") >"$tmp/build.log" 2>&1 ||
    { tail -n 30 "$tmp/build.log" >&2; exit 1; }
ls "$tmp/out"/synkronus-fcgi_"$version"_*.deb >/dev/null 2>&1 ||
    { echo "the build of $commit made no synkronus-fcgi_$version .deb" >&2; ls "$tmp/out" >&2; exit 1; }
rm -rf "$tmp/out/source"
mv "$tmp/build.log" "$tmp/out/"
rm -rf "$out"
mv "$tmp/out" "$out"
echo "built release $version in $(($(date +%s) - started)) s" >&2
ls "$out"/synkronus-fcgi_"$version"_*.deb
