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

# Seconds since the epoch, to the microsecond, without a fork.
now() { echo "${EPOCHREALTIME/,/.}"; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# bench_timed OUT ERR CMD...: runs CMD with the timeout, stdout to OUT, stderr to ERR; sets
# run_status, run_wall and run_cpu (user + system seconds of CMD and its children; empty without
# /usr/bin/time). CPU time is the steadier figure when other jobs share the cores.
bench_timed() {
    local out=$1 err=$2
    shift 2
    local t0 t1 timer=()
    [ -x /usr/bin/time ] && timer=(/usr/bin/time -f '%U %S' -o "$bench_tmp/cpu.time")
    t0=$(now)
    set +e
    "${timer[@]}" timeout -k 5 "$bench_timeout" "$@" >"$out" 2>"$err" </dev/null
    run_status=$?
    set -e
    t1=$(now)
    run_wall=$(sub "$t0" "$t1")
    run_cpu=""
    if [ ${#timer[@]} -gt 0 ]; then
        # The last line: time(1) puts "Command exited with non-zero status N" before it.
        run_cpu=$(tail -1 "$bench_tmp/cpu.time" | awk 'NF == 2 { printf "%.2f", $1 + $2 }')
    fi
}

# bench_best OUT ERR CMD...: bench_timed HVEMU_BENCH_REPEAT times (default 1), keeping the output
# and figures of the fastest run (by CPU time when known); stops when a run's status differs
# from the first's.
bench_best() {
    local out=$1 err=$2
    shift 2
    local best="" best_wall="" best_cpu="" best_status="" i key
    for ((i = 0; i < ${HVEMU_BENCH_REPEAT:-1}; i++)); do
        bench_timed "$out.try" "$err.try" "$@"
        [ -z "$best_status" ] || [ "$run_status" = "$best_status" ] || break
        key=${run_cpu:-$run_wall}
        if [ -z "$best" ] || awk -v a="$key" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$key
            best_wall=$run_wall
            best_cpu=$run_cpu
            best_status=$run_status
            mv "$out.try" "$out"
            mv "$err.try" "$err"
        fi
    done
    run_wall=$best_wall
    run_cpu=$best_cpu
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

# Console tail and the emulator's own messages, for a run that did not end as it should.
bench_report_failure() {
    local what=$1 out=$2 err=$3 status=$4
    echo "FAILED: $what: exit status $status$([ "$status" = 124 ] && echo " (timed out after ${bench_timeout} s)")"
    echo "--- last console lines:"
    tail -n 15 "$out" | sed 's/^/    /'
    echo "--- stderr:"
    tail -n 15 "$err" | sed 's/^/    /'
}

# bench_host_checksum SRC ARG: the checksum SRC prints when built for the host with -DBENCH_HOST
# and run with ARG (empty when this host cannot build it).
bench_host_checksum() {
    local src=$1 arg=$2 name
    name=$(basename "$src" .c)
    [ "$(uname -m)" = x86_64 ] || return 0
    ${CC:-cc} -std=c11 -O2 -DBENCH_HOST -o "$bench_tmp/$name.host" "$src" 2>/dev/null || return 0
    "$bench_tmp/$name.host" "$arg" | sed -nE 's/.*checksum ([0-9a-f]+).*/\1/p'
}

# bench_guest NAME MEM APPEND ZERO_APPEND: runs roms guest NAME with command line APPEND (empty:
# the guest's defaults) under hvemu and QEMU TCG and prints the figures; QEMU's boot and exit
# time is measured with ZERO_APPEND (a run that does no work). Returns 1 when the guest failed
# or printed a wrong checksum under hvemu.
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
    local hv_wall=$run_wall hv_cpu=$run_cpu hv_status=$run_status got hv_ok=0
    got=$(sed -nE 's/.*checksum ([0-9a-f]+).*/\1/p' "$bench_tmp/hv.out" | tail -1)
    if [ "$hv_status" -ne 0 ] || ! bench_parse_stats "$bench_tmp/hv.err"; then
        bench_report_failure "hvemu $name" "$bench_tmp/hv.out" "$bench_tmp/hv.err" "$hv_status"
        echo "    (where it stops: ${hv_args[*]} --trace exit,int)"
        rc=1
    else
        hv_ok=1
        printf 'hvemu: %s guest instructions in %s s (run loop; wall %s s, CPU %s s): %s MIPS\n' \
            "$stat_insns" "$stat_secs" "$hv_wall" "${hv_cpu:-?}" "$stat_mips"
        [ -n "$hv_cpu" ] && awk -v n="$stat_insns" -v c="$hv_cpu" 'BEGIN {
            if (c > 0) printf "hvemu: %.1f MIPS by CPU time\n", n / c / 1e6 }'
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
    local q0_wall=$run_wall q0_cpu=$run_cpu
    [ -n "$append" ] && q_args+=(-append "$append")
    bench_best "$bench_tmp/q.out" "$bench_tmp/q.err" "${q_args[@]}"
    local q_wall=$run_wall q_cpu=$run_cpu q_got
    q_got=$(sed -nE 's/.*checksum ([0-9a-f]+).*/\1/p' "$bench_tmp/q.out" | tail -1)
    if [ "$run_status" -ne 1 ]; then
        bench_report_failure "qemu $name" "$bench_tmp/q.out" "$bench_tmp/q.err" "$run_status"
        return $rc
    fi
    printf 'qemu:  wall %s s, CPU %s s; boot and exit alone (%s): wall %s s, CPU %s s; checksum %s\n' \
        "$q_wall" "${q_cpu:-?}" "$zero_append" "$q0_wall" "${q0_cpu:-?}" "$q_got"
    [ "$hv_ok" = 1 ] || return $rc
    awk -v n="$stat_insns" -v hs="$stat_secs" -v hw="$hv_wall" -v hc="${hv_cpu:-0}" \
        -v qw="$q_wall" -v q0w="$q0_wall" -v qc="${q_cpu:-0}" -v q0c="${q0_cpu:-0}" 'BEGIN {
        qn = qw - q0w; qcn = qc - q0c
        if (qn < 0.2) { print "ratio: run too short next to QEMU'"'"'s boot time to compare"; exit }
        printf "qemu:  ~%.0f MIPS by wall time", n / qn / 1e6
        if (qcn > 0.1) printf ", ~%.0f by CPU time", n / qcn / 1e6
        printf " (hvemu'"'"'s instruction count over QEMU'"'"'s time less boot)\n"
        printf "ratio: hvemu time / QEMU time: %.2f by wall time, %.2f by run time", hw / qw, hs / qn
        if (hc > 0 && qcn > 0.1) printf ", %.2f by CPU time", hc / qcn
        printf " (>1: hvemu is slower)\n"
    }'
    return $rc
}
