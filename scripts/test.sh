#!/usr/bin/env bash
# README's second command: install what is missing, then build and run every test twice: in a
# release build and in an AddressSanitizer + UndefinedBehaviorSanitizer build. Ends with one
# "N passed, N failed" line summing every Criterion suite.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --linux-test || { echo "hvemu: installing dependencies failed" >&2; exit 1; }
jobs=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0 status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_suites() { # build-dir label
  local dir=$1 label=$2
  for t in "$dir"/tests/test_*; do
    [ -x "$t" ] || continue
    local name
    name=$(basename "$t")
    echo "== $label: $name"
    "$t" --jobs="$jobs" --short-filename >"$log" 2>&1
    local rc=$?
    grep -vE '^\[----\]|^\[RUN \]|^\[PASS\]' "$log" | tail -n 40
    local line p f c
    line=$(grep -E 'Synthesis: Tested' "$log" | tail -n 1)
    p=$(sed -nE 's/.*Passing: ([0-9]+).*/\1/p' <<<"$line")
    f=$(sed -nE 's/.*Failing: ([0-9]+).*/\1/p' <<<"$line")
    c=$(sed -nE 's/.*Crashing: ([0-9]+).*/\1/p' <<<"$line")
    if [ -z "$line" ]; then
      echo "$label/$name: no Criterion summary (exit $rc)"
      failed=$((failed + 1)); status=1; continue
    fi
    passed=$((passed + p)); failed=$((failed + f + c))
    [ "$rc" -ne 0 ] && status=1
  done
}

build() { # dir extra-cmake-args...
  local dir=$1; shift
  cmake -S . -B "$dir" "$@" >/dev/null && cmake --build "$dir" -j"$jobs" >"$log" 2>&1 || {
    cat "$log"; echo "hvemu: build in $dir failed"; echo "0 passed, 1 failed"; exit 1; }
}

build build -DCMAKE_BUILD_TYPE=Release
# The Debian kernel boot test (tests/integration/test_linux.c) runs in the release build only:
# under the sanitizers it would take many minutes.
HVEMU_TEST_LINUX=1 run_suites build release
build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHVEMU_SANITIZE=ON -DHVEMU_SDL=OFF
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
  UBSAN_OPTIONS=print_stacktrace=1 run_suites build-asan asan+ubsan

echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
