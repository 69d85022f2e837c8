#!/bin/sh
# Fails when an #include, direct or through other headers, breaks the one-way
# layering of the README:
#   core <- domain <- db <- services <- handlers (and tools, which never sees handlers);
#   domain knows no HTTP and no SQL; handlers reach storage only through services/
#   (no repository header, no connector header, and no db/ header of their own).
#
# Checked by the compiler's preprocessor, so transitive includes count: each file of
# a layer is preprocessed with only a view of the layers it may see on the include
# path (a directory of symlinks to the allowed headers, in place of -I.), so an
# #include of anything else, at any depth, is "No such file" and fails the check.
# The connector's headers are system headers, so for handlers/ the full dependency
# list is searched for them as well.
#
# Usage: tests/check_layers.sh [SOURCE_ROOT [LAYER...]]   (default: the repository, every layer)
# tests/check_layers_test.sh plants a transitive include in a copy and expects failure.
set -u
root=$(cd "${1:-$(dirname "$0")/..}" && pwd) || exit 2
[ $# -gt 0 ] && shift
layers=${*:-core domain db services handlers tools}
cd "$root" || exit 2
CXX=${CXX:-g++}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-layers.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# view NAME SPEC...: SPEC is a folder ("core") or a folder minus some of its headers
# ("core-api_error.h-http.h").
view() {
  name=$1; shift
  for spec in "$@"; do
    dir=${spec%%-*}
    mkdir -p "$tmp/$name/$dir"
    for f in "$dir"/*.h; do
      [ -e "$f" ] || continue
      case "-${spec#"$dir"}-" in *"-$(basename "$f")-"*) continue ;; esac
      ln -s "$root/$f" "$tmp/$name/$f"
    done
  done
}

# What domain/ must not reach: HTTP (the edge's types and errors).
http='-api_error.h-http.h-router.h-problem.h-fcgi_server.h-json_request.h'
# What handlers/ may reach of db/: plain row types, the error type, the handle's
# declaration (no repository, no connector, no SQL).
db_plain='-sql.h-lease.h-migrate.h-change_counter.h'
for f in db/*_repository.h; do db_plain="$db_plain-$(basename "$f")"; done

view core core
view domain "core$http" domain
view db core domain db
view services core domain db services
view handlers core domain "db$db_plain" services handlers
view tools core domain db services tools

fail=0
for layer in $layers; do
  for f in "$layer"/*.h "$layer"/*.cpp; do
    [ -e "$f" ] || continue
    # -M: preprocess only, list every file reached.
    if ! deps=$($CXX -std=c++20 -DRAPIDJSON_HAS_STDSTRING=1 -I"$tmp/$layer" -M "$f" 2>"$tmp/err"); then
      msg=$(grep -m1 'fatal error' "$tmp/err" | sed "s|$tmp/$layer/||g")
      echo "$f: $layer/ reaches a header outside its layers: ${msg:-$(head -n1 "$tmp/err")}"
      fail=1
      continue
    fi
    if [ "$layer" = handlers ]; then
      bad=$(printf '%s\n' "$deps" | tr ' ' '\n' | grep -E '/cppconn/|/mysql_[a-z_]*\.h' | head -n1)
      [ -n "$bad" ] && { echo "$f: handlers/ reaches the database connector: $bad"; fail=1; }
      grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"db/' "$f" |
        sed 's|$|    (handlers/ include no db/ header: call a service)|' | grep . && fail=1
    fi
  done
done
if [ $fail -ne 0 ]; then
  echo "layering broken (see README: Layout)" >&2
  exit 1
fi
echo "layers: ok"
