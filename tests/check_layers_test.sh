#!/bin/sh
# Shows that tests/check_layers.sh sees transitive includes: in a copy of the source
# folders, each plant below adds an #include to a header of a layer that may have it,
# so that a lower layer (or handlers/) reaches it only through that header, which a
# check of direct includes would pass. The check must fail on every plant, and pass
# on the unplanted copy.
set -u
repo=$(cd "$(dirname "$0")/.." && pwd) || exit 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-layers-test.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

copy() {
  rm -rf "$tmp/src"
  mkdir -p "$tmp/src/tests"
  for d in core domain db services handlers tools; do cp -r "$repo/$d" "$tmp/src/$d"; done
  cp "$repo/tests/check_layers.sh" "$tmp/src/tests/"
}

# plant FILE INCLUDE LAYER WHY: prepends `#include INCLUDE` to FILE of the copy and
# checks LAYER.
fail=0
plant() {
  copy
  sed -i "0,/^#include/s||#include $2\n#include|" "$tmp/src/$1"
  if "$tmp/src/tests/check_layers.sh" "$tmp/src" "$3" >"$tmp/out" 2>&1; then
    echo "FAIL: the layer check passed with $2 planted in $1 ($4)"
    fail=1
  else
    echo "ok: planted $2 in $1: $(grep -m1 -v '^layering broken' "$tmp/out")"
  fi
}

plant core/json.h '"core/api_error.h"' domain "domain/ reaches HTTP errors through core/json.h"
plant services/auth_service.h '"db/user_repository.h"' handlers "handlers/ reach a repository through a service header"
plant db/database.h '<cppconn/resultset.h>' handlers "handlers/ reach the connector through db/database.h"

copy
if ! "$tmp/src/tests/check_layers.sh" "$tmp/src" domain handlers >"$tmp/out" 2>&1; then
  echo "FAIL: the layer check fails on the unplanted copy:"; cat "$tmp/out"; fail=1
fi
[ $fail -eq 0 ] && echo "check_layers_test: ok"
exit $fail
