#!/usr/bin/env bash
# `make test-sanitize`: the unit tests, then the integration tests, against the
# AddressSanitizer + UBSan build in BIN_DIR (default build/asan).
#
# Every instrumented process (unit tests, supervisor, workers, synkronus-admin run
# by the tests) writes its reports into one directory. A report inside a forked
# FastCGI worker kills only that worker, and the supervisor replaces it, so the
# tests may well pass: the run therefore fails when any report file exists at the
# end, whatever the tests said.
# Usage: tests/sanitize/run.sh [BIN_DIR [test_module_pattern]]
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(cd "${1:-$REPO/build/asan}" && pwd) || exit 1
REPORTS=$REPO/tests/tmp/sanitizer-reports
rm -rf "$REPORTS"
mkdir -p "$REPORTS"

# halt_on_error/abort_on_error: the first report ends the process (and the
# build's -fno-sanitize-recover=all makes every UBSan check fatal too).
# detect_leaks: LeakSanitizer at every normal exit, including a worker's own
# (core/sanitizer.h); the suppressions name third-party libraries only.
export ASAN_OPTIONS="log_path=$REPORTS/asan:halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:detect_invalid_pointer_pairs=0:disable_coredump=1"
export UBSAN_OPTIONS="log_path=$REPORTS/ubsan:halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$REPO/tests/sanitize/lsan.supp:print_suppressions=0"

rc=0
echo "== unit tests ($BIN/unit-tests)"
"$BIN/unit-tests" --report_level=short || rc=1

echo "== integration tests against $BIN"
# Own state directory, so a plain `make test` stack is never reused or wiped.
STATE=$REPO/tests/tmp/stack-asan BIN=$BIN SANITIZED=1 "$REPO/tests/integration/run.sh" "${2:-test_*.py}" || rc=1

if [ -n "$(ls -A "$REPORTS")" ]; then
    echo "== sanitizer reports (each fails the run):"
    for f in "$REPORTS"/*; do
        echo "--- $f"
        head -n 60 "$f"
    done
    rc=1
fi
[ $rc -eq 0 ] && echo "test-sanitize: passed, no sanitizer reports"
exit $rc
