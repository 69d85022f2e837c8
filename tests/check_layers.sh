#!/bin/sh
# Fails when an #include breaks the one-way layering of the README:
#   core <- domain <- db <- services <- handlers (and tools, which never sees handlers),
#   and domain knows no HTTP and no SQL.
# Only quoted project includes are checked (system headers use <>).
cd "$(dirname "$0")/.." || exit 2
# layer:what it must not include (folders, or single headers of a lower layer)
rules='core:domain/ db/ services/ handlers/
domain:db/ services/ handlers/ core/api_error.h core/http.h core/router.h core/problem.h core/fcgi_server.h
db:services/ handlers/
services:handlers/
tools:handlers/'
broken=$(echo "$rules" | while IFS=: read -r layer banned; do
  for f in "$layer"/*.h "$layer"/*.cpp; do
    [ -e "$f" ] || continue
    for b in $banned; do
      grep -Hn "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"$b" "$f" | sed "s|\$|    ($layer/ must not include $b)|"
    done
  done
done)
if [ -n "$broken" ]; then
  printf 'layering broken:\n%s\n' "$broken" >&2
  exit 1
fi
echo "layers: ok"
