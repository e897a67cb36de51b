# Shared by bench/*.sh (sourced, not run): Release build, timed runs under hvemu and QEMU TCG,
# parsing of hvemu's --stats line, and the checksum a host build of a guest's C code computes.
# Environment: HVEMU_BENCH_BUILD (build dir, default build-bench), HVEMU_BENCH_TIMEOUT (seconds
# per run, default 900), HVEMU_BENCH_REPEAT (runs of each measurement, the fastest is shown;
# default 1: use 3 on a busy machine), HVEMU_BENCH_NO_BUILD=1 (use the build dir as it is, e.g.
# while the tree does not build), QEMU (binary, default qemu-system-x86_64; QEMU=none skips it).
# shellcheck shell=bash

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_build=${HVEMU_BENCH_BUILD:-$bench_root/build-bench}
bench_timeout=${HVEMU_BENCH_TIMEOUT:-900}
bench_qemu=${QEMU:-qemu-system-x86_64}
bench_tmp=$(mktemp -d)
trap 'rm -rf "$bench_tmp"' EXIT

die() { echo "$0: $*" >&2; exit 1; }

# Release build of hvemu and the guests; a cached build dir is reused.
bench_build_release() {
    if [ "${HVEMU_BENCH_NO_BUILD:-0}" = 1 ]; then
        [ -x "$bench_build/hvemu" ] || die "no $bench_build/hvemu (HVEMU_BENCH_NO_BUILD=1 skips the build)"
        echo "using $bench_build as built (HVEMU_BENCH_NO_BUILD=1)"
        return 0
    fi
    echo "building (Release) in $bench_build ..."
    cmake -S "$bench_root" -B "$bench_build" -DCMAKE_BUILD_TYPE=Release -DHVEMU_TESTS=OFF \
        >"$bench_tmp/cmake.log" 2>&1 || { cat "$bench_tmp/cmake.log" >&2; die "cmake configure failed"; }
    cmake --build "$bench_build" --target hvemu roms -j2 >"$bench_tmp/build.log" 2>&1 ||
        { tail -40 "$bench_tmp/build.log" >&2; die "build failed (HVEMU_BENCH_NO_BUILD=1 runs an earlier build)"; }
    [ -x "$bench_build/hvemu" ] || die "no $bench_build/hvemu after the build"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# bench_timed OUT ERR CMD...: runs CMD with the timeout, stdout to OUT, stderr to ERR;
# sets run_status and run_wall (seconds).
bench_timed() {
    local out=$1 err=$2
    shift 2
    local t0 t1
    t0=$(now)
    set +e
    timeout -k 5 "$bench_timeout" "$@" >"$out" 2>"$err" </dev/null
    run_status=$?
    set -e
    t1=$(now)
    run_wall=$(elapsed "$t0" "$t1")
}

# bench_best OUT ERR CMD...: bench_timed HVEMU_BENCH_REPEAT times (default 1), keeping the output
# and figures of the fastest run; stops at the first run whose status differs from the first's.
bench_best() {
    local out=$1 err=$2
    shift 2
    local best_wall="" best_status="" i
    for ((i = 0; i < ${HVEMU_BENCH_REPEAT:-1}; i++)); do
        bench_timed "$out.try" "$err.try" "$@"
        [ -z "$best_status" ] || [ "$run_status" = "$best_status" ] || break
        if [ -z "$best_wall" ] || awk -v a="$run_wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
            best_wall=$run_wall
            best_status=$run_status
            mv "$out.try" "$out"
            mv "$err.try" "$err"
        fi
    done
    run_wall=$best_wall
    run_status=$best_status
}

# Fields of hvemu's --stats line in ERR: stat_insns stat_secs stat_mips stat_decode stat_tlb.
bench_parse_stats() {
    local line
    line=$(grep -E '^hvemu: [0-9]+ instructions in' "$1" | tail -1 || true)
    stat_insns=$(sed -nE 's/^hvemu: ([0-9]+) instructions.*/\1/p' <<<"$line")
    stat_secs=$(sed -nE 's/.* instructions in ([0-9.]+) s.*/\1/p' <<<"$line")
    stat_mips=$(sed -nE 's/.*: ([0-9.]+) MIPS.*/\1/p' <<<"$line")
    stat_decode=$(sed -nE 's/.*decode-cache hit rate ([0-9.]+%).*/\1/p' <<<"$line")
    stat_tlb=$(sed -nE 's/.*TLB hit rate ([0-9.]+%).*/\1/p' <<<"$line")
    [ -n "$stat_insns" ]
}

# Console tail and hvemu's own messages, for a run that did not end as it should.
bench_report_failure() {
    local what=$1 out=$2 err=$3 status=$4
    echo "FAILED: $what: exit status $status$([ "$status" = 124 ] && echo " (timed out after ${bench_timeout} s)")"
    echo "--- last console lines:"
    tail -n 15 "$out" | sed 's/^/    /'
    echo "--- hvemu stderr:"
    tail -n 15 "$err" | sed 's/^/    /'
}

# bench_host_checksum SRC ARG: the checksum line of SRC built for the host with -DBENCH_HOST
# (empty when this host cannot build it); prints nothing else.
bench_host_checksum() {
    local src=$1 arg=$2 name
    name=$(basename "$src" .c)
    [ "$(uname -m)" = x86_64 ] || return 0
    ${CC:-cc} -std=c11 -O2 -DBENCH_HOST -o "$bench_tmp/$name.host" "$src" 2>/dev/null || return 0
    "$bench_tmp/$name.host" "$arg" | sed -nE 's/.*checksum ([0-9a-f]+).*/\1/p'
}

# bench_guest NAME MEM APPEND ZERO_APPEND: runs roms guest NAME with command line APPEND (empty:
# the guest's defaults) under hvemu and QEMU TCG and prints the figures; QEMU's boot and exit time
# is measured with ZERO_APPEND (a run that does no work). Returns 1 when the guest failed or
# printed a wrong checksum under hvemu.
bench_guest() {
    local name=$1 mem=$2 append=$3 zero_append=$4
    local elf=$bench_build/roms/$name.elf
    [ -f "$elf" ] || die "no $elf (are the guests built? HVEMU_BUILD_ROMS needs an x86-64 GCC/Clang)"
    local rc=0

    echo "== $name (${append:-defaults}, --mem $mem) =="
    local expect
    expect=$(bench_host_checksum "$bench_root/roms/guests/$name.c" "${append:-x}")

    local hv_args=("$bench_build/hvemu" --stats --mem "$mem" "$elf")
    [ -n "$append" ] && hv_args+=(--append "$append")
    bench_best "$bench_tmp/hv.out" "$bench_tmp/hv.err" "${hv_args[@]}"
    local hv_wall=$run_wall hv_status=$run_status got
    got=$(sed -nE 's/.*checksum ([0-9a-f]+).*/\1/p' "$bench_tmp/hv.out" | tail -1)
    if [ "$hv_status" -ne 0 ] || ! bench_parse_stats "$bench_tmp/hv.err"; then
        bench_report_failure "hvemu $name" "$bench_tmp/hv.out" "$bench_tmp/hv.err" "$hv_status"
        echo "    (rerun with --trace exit,int to see the failing RIP: ${hv_args[*]} --trace exit,int)"
        rc=1
    else
        printf 'hvemu: %s guest instructions, %s s host (wall %s s), %s MIPS\n' \
            "$stat_insns" "$stat_secs" "$hv_wall" "$stat_mips"
        printf 'hvemu: decode-cache hit rate %s, TLB hit rate %s\n' "$stat_decode" "$stat_tlb"
    fi
    if [ -n "$expect" ]; then
        if [ "$got" = "$expect" ]; then
            echo "checksum: $got (matches the host build)"
        else
            echo "checksum: WRONG: guest printed '${got:-nothing}', host build computes $expect"
            rc=1
        fi
    else
        echo "checksum: ${got:-none printed} (no host build to compare with)"
    fi

    if [ "$bench_qemu" = none ] || ! command -v "$bench_qemu" >/dev/null 2>&1; then
        echo "qemu: skipped$([ "$bench_qemu" = none ] || echo " ($bench_qemu not found)")"
        return $rc
    fi
    # QEMU ignores hvemu's S5 SLP_TYP, so the guest leaves through isa-debug-exit: status 1.
    # shellcheck disable=SC2054 # the commas belong to -device's argument
    local q_args=("$bench_qemu" -M q35 -accel tcg -m "$mem" -display none -monitor none
        -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$elf")
    bench_best "$bench_tmp/q0.out" "$bench_tmp/q0.err" "${q_args[@]}" -append "$zero_append"
    local q_start=$run_wall
    [ -n "$append" ] && q_args+=(-append "$append")
    bench_best "$bench_tmp/q.out" "$bench_tmp/q.err" "${q_args[@]}"
    local q_wall=$run_wall q_got
    q_got=$(sed -nE 's/.*checksum ([0-9a-f]+).*/\1/p' "$bench_tmp/q.out" | tail -1)
    if [ "$run_status" -ne 1 ]; then
        bench_report_failure "qemu $name" "$bench_tmp/q.out" "$bench_tmp/q.err" "$run_status"
        return $rc
    fi
    printf 'qemu:  wall %s s (%s s of it boot and exit, measured with %s), checksum %s\n' \
        "$q_wall" "$q_start" "$zero_append" "$q_got"
    if [ "$hv_status" -eq 0 ] && [ -n "$stat_insns" ]; then
        awk -v n="$stat_insns" -v hs="$stat_secs" -v hw="$hv_wall" -v qw="$q_wall" -v q0="$q_start" 'BEGIN {
            qn = qw - q0
            if (qn < 0.2) { print "ratio: run too short next to QEMU'"'"'s boot time to compare"; exit }
            printf "qemu:  ~%.0f MIPS (hvemu'"'"'s instruction count / (wall - boot))\n", n / qn / 1e6
            printf "ratio: hvemu time / QEMU time = %.2f by wall time, %.2f by run time (wall - boot)\n", hw / qw, hs / qn
        }'
    fi
    return $rc
}
