#!/bin/sh
# `make deb`: builds the binary package from a clean copy of the source tree and
# puts the .deb, .buildinfo and .changes into OUT (default build/deb).
# The copy holds what a clone would (git's tracked and new files, nothing that
# .gitignore names: no build/, run/, tests/tmp/), so the package never picks up
# local build products, and dpkg-buildpackage's clean step never wipes the
# working tree's build/.
# OUT/source/ keeps that copy, so tests/package/run.sh tests the package
# against the very tree it was built from, even while the working tree moves on.
# Usage: packaging/build-deb.sh [OUT]   (DEB_BUILD_OPTIONS is passed through)
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$repo/build/deb}" && cd "${1:-$repo/build/deb}" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synkronus-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
src=$tmp/synkronus-fcgi
mkdir "$src"

cd "$repo"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard |
        xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done; :' sh |
        xargs -0 cp -a --parents -t "$src"
else
    tar -c --exclude=./build --exclude=./run --exclude=./tests/tmp --exclude=./.git . | tar -x -C "$src"
fi

rm -rf "$out/source" "$out"/synkronus-fcgi*_*
cp -a "$src" "$out/source"
cd "$src"
dpkg-buildpackage -us -uc -b -jauto
mv "$tmp"/*.deb "$tmp"/synkronus-fcgi_*.buildinfo "$tmp"/synkronus-fcgi_*.changes "$out"/
ls -l "$out"/synkronus-fcgi_*.deb
