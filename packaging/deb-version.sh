#!/bin/sh
# Prints the version `make deb` gives the package built from REPO, or fails.
#   - The top entry of debian/changelog names the version; its distribution says
#     whether that version is being released (unstable, ...) or prepared (UNRELEASED).
#   - debian/released lists the versions already released (one "version commit" a line).
# The version built is
#   X~git<commit time UTC, YYYYMMDDHHMMSS>.<commit>  top entry X is UNRELEASED (a snapshot on the
#                                                    way to X: sorts after every release before X,
#                                                    before X itself and in commit-time order)
#   X+git<time>.<commit>                             X is released already (listed) and the top
#                                                    entry still names it: a build after the release
#   X                                                X is the release being made (not listed yet)
# and it must be newer (dpkg --compare-versions gt) than every released version:
# otherwise this prints why and exits 1, so that no two different builds share a version.
# Without git (a source tarball) the version is X, checked the same way.
# Usage: packaging/deb-version.sh [REPO]
set -eu
repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
changelog=$repo/debian/changelog released=$repo/debian/released
top=$(dpkg-parsechangelog -l "$changelog" -S Version)
dist=$(dpkg-parsechangelog -l "$changelog" -S Distribution)
last="" listed=0
if [ -e "$released" ]; then
    for v in $(sed 's/#.*//' "$released" | awk 'NF { print $1 }'); do
        [ "$v" = "$top" ] && listed=1
        if [ -z "$last" ] || dpkg --compare-versions "$v" gt "$last"; then last=$v; fi
    done
fi
version=$top
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    commit=$(git -C "$repo" rev-parse --short=12 HEAD)
    when=$(TZ=UTC git -C "$repo" log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S HEAD)
    if [ "$dist" = UNRELEASED ]; then
        version=$top~git$when.$commit
    elif [ $listed = 1 ]; then
        version=$top+git$when.$commit
    fi
fi
if [ -n "$last" ] && ! dpkg --compare-versions "$version" gt "$last"; then
    echo "deb-version: $version is not newer than $last, the last released version (debian/released)." >&2
    echo "  Add a changelog entry for the next version, e.g.: dch -v <next>~dev -D UNRELEASED" >&2
    exit 1
fi
echo "$version"
