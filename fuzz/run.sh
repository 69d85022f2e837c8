#!/usr/bin/env bash
# Runs each fuzz target for SECONDS, starting from its seeds in fuzz/corpus/<name>/.
# New inputs go to BUILD_DIR/corpus/<name>/ (never into the repository); a crash,
# sanitizer report, leak or failed invariant leaves BUILD_DIR/artifacts/<name>-*
# and fails the run. Fix the bug, then add the artifact to fuzz/corpus/<name>/ as
# its regression input.
# Usage: fuzz/run.sh BUILD_DIR SECONDS NAME...
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
build=$1 seconds=$2
shift 2
failed=()
for name in "$@"; do
    work="$build/corpus/$name" artifacts="$build/artifacts"
    mkdir -p "$work" "$artifacts"
    echo "== fuzz $name (${seconds}s)"
    # -timeout: an input that takes seconds is a hang worth a report (the parsers
    # see request bodies); -rss_limit_mb: the server's own limits keep every
    # parser far below this, so exceeding it is a bug. One process, one job:
    # the machine is shared.
    if ! "$build/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=16384 \
        -artifact_prefix="$artifacts/$name-" -print_final_stats=1 \
        "$work" "$REPO/fuzz/corpus/$name" >"$build/$name.log" 2>&1; then
        failed+=("$name")
        tail -n 60 "$build/$name.log"
    else
        grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$build/$name.log" | tr '\n' ' '
        echo
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing FAILED: ${failed[*]} (inputs in $build/artifacts/, logs in $build/<name>.log)"
    exit 1
fi
echo "fuzzing: ${#@} targets, no findings"
