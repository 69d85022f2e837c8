#!/usr/bin/env bash
# Lays out the web console for nginx: copies console/ (SRC) to DEST and writes into
# index.html the content hash of every other file, so /console/<hash>/... names
# change whenever a script or style does and browsers may cache them for a year.
# Used by `make install` (the package) and packaging/devstack.sh (make run, tests).
# Usage: packaging/console-stage.sh SRC DEST [install mode prefix, e.g. "install -m 0644"]
set -euo pipefail
src=$1 dest=$2
cd "$src"
files=$(find . -type f ! -name index.html | sed 's#^\./##' | LC_ALL=C sort)
hash=$(for f in $files; do printf '%s\n' "$f"; sha256sum <"$f"; done | sha256sum | cut -c1-16)
mkdir -p "$dest"
for f in $files; do install -D -m 0644 "$f" "$dest/$f"; done
sed "s#@ASSET_VERSION@#$hash#g" index.html >"$dest/index.html.tmp"
chmod 0644 "$dest/index.html.tmp"
mv "$dest/index.html.tmp" "$dest/index.html"
