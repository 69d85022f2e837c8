#!/bin/sh
# `make deb`: builds the binary package from a clean copy of the source tree and
# puts the .deb, .buildinfo and .changes into OUT (default build/deb).
# The copy holds what a clone would (git's tracked and new files, nothing that
# .gitignore names: no build/, run/, tests/tmp/), so the package never picks up
# local build products, and dpkg-buildpackage's clean step never wipes the
# working tree's build/.
# OUT/source/ keeps that copy, so tests/package/run.sh tests the package
# against the very tree it was built from, even while the working tree moves on.
# With --reuse, a package that OUT already holds for the very same copy (and
# DEB_BUILD_OPTIONS) is kept instead of rebuilt: `make test-systemd` after
# `make test-deb` tests the package that one built.
# The version is packaging/deb-version.sh's: the build fails when it is not newer
# than the last released version (debian/released).
# Usage: packaging/build-deb.sh [--reuse] [OUT]   (DEB_BUILD_OPTIONS is passed through)
set -eu
reuse=0
[ "${1:-}" = --reuse ] && { reuse=1; shift; }
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
    # The copy has no .git; the Makefile reads the commit for GET /version from here.
    git rev-parse --short=12 HEAD >"$src/.build-commit"
else
    tar -c --exclude=./build --exclude=./run --exclude=./tests/tmp --exclude=./.git . | tar -x -C "$src"
fi

# The version (packaging/deb-version.sh): refused when not newer than the last
# release; a snapshot gets its own changelog entry in the copy, so the .deb, the
# changelog it carries and GET /version all name the snapshot.
version=$(packaging/deb-version.sh "$repo")
if [ "$version" != "$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)" ]; then
    {
        echo "synkronus-fcgi ($version) UNRELEASED; urgency=medium"
        echo
        echo "  * Snapshot of commit $(cat "$src/.build-commit" 2>/dev/null || echo unknown), not a release."
        echo
        echo " -- $(dpkg-parsechangelog -l "$src/debian/changelog" -S Maintainer)  $(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct HEAD)}")"
        echo
        cat "$src/debian/changelog"
    } >"$src/debian/changelog.new"
    mv "$src/debian/changelog.new" "$src/debian/changelog"
fi

fingerprint=$( (cd "$src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
                echo "DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-}") | sha256sum | cut -d' ' -f1)
if [ $reuse = 1 ] && [ "$(cat "$out/source.fingerprint" 2>/dev/null)" = "$fingerprint" ] &&
    ls "$out"/synkronus-fcgi_*.deb >/dev/null 2>&1; then
    echo "$out holds the package of this tree already:"
    ls -l "$out"/synkronus-fcgi_*.deb
    exit 0
fi
rm -rf "$out/source" "$out/source.fingerprint" "$out"/synkronus-fcgi*_*
cp -a "$src" "$out/source"
cd "$src"
dpkg-buildpackage -us -uc -b -jauto
mv "$tmp"/*.deb "$tmp"/synkronus-fcgi_*.buildinfo "$tmp"/synkronus-fcgi_*.changes "$out"/
echo "$fingerprint" >"$out/source.fingerprint"
ls -l "$out"/synkronus-fcgi_*.deb
