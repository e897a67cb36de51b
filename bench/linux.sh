#!/usr/bin/env bash
# Linux benchmark: boots Debian's kernel with the busybox initramfs of scripts/mkinitramfs.sh
# (--smp 1) under hvemu and under QEMU TCG, and prints the host wall time to the init's start
# marker, the time of a fixed workload (sha256sum of 16 MiB of /dev/zero), and the time to
# power-off, with the hvemu/QEMU ratios. A run that fails or hangs is reported with its exit
# status and the last console lines (every run has a timeout).
#
# usage: bench/linux.sh [KERNEL]   (default: the newest /boot/vmlinuz-*)
# environment: as bench/common.sh, plus HVEMU_BENCH_LINUX_TIMEOUT (seconds per boot, default
# 600) and HVEMU_BENCH_LINUX_APPEND (extra kernel parameters for both runs, e.g. "nokaslr").
# The time-stamped console logs stay in build-bench/linux/{hvemu,qemu}.log (stderr: *.log.err).
# exit status: 0, or 1 when Linux did not reach power-off under hvemu with the right digest.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

kernel=${1:-$(printf '%s\n' /boot/vmlinuz-* | sort -V | tail -1)}
if [ ! -r "$kernel" ]; then
    die "no readable kernel '$kernel' (give one, or install linux-image-amd64)"
fi
linux_timeout=${HVEMU_BENCH_LINUX_TIMEOUT:-600}
mem=512M
marker_start="HVEMU-INIT: start"
marker_done="HVEMU-INIT: done"
# Parameters the kernel proper does not know (nokaslr: only the decompressor reads it) reach init
# as leading words of its command; "true;" ends that command (sh: not found) before the workload.
workload="true; dd if=/dev/zero bs=1M count=16 2>/dev/null | sha256sum"
digest=080acf35a507ac9849cfcba47dc2ad83e01b75663a516279c8b9d243b719643e # of 16 MiB of zeros
append="console=ttyS0 panic=-1${HVEMU_BENCH_LINUX_APPEND:+ $HVEMU_BENCH_LINUX_APPEND} -- $workload"

bench_build_release
initrd=$bench_build/linux/initramfs.cpio.gz
mkdir -p "$(dirname "$initrd")"
# Built once and kept: a new one differs (file times), and so would the instruction count.
if [ ! -s "$initrd" ] || [ "$bench_root/scripts/mkinitramfs.sh" -nt "$initrd" ]; then
    sh "$bench_root/scripts/mkinitramfs.sh" "$initrd" 2>"$bench_tmp/mkinitramfs.log" ||
        { cat "$bench_tmp/mkinitramfs.log" >&2; die "scripts/mkinitramfs.sh failed"; }
fi

# boot_timed LOG CMD...: runs CMD with the timeout, writing each console line to LOG prefixed by
# the seconds since the start; sets boot_status, t_start, t_done, t_end (empty when not seen)
# and boot_cpu (user + system seconds; empty without /usr/bin/time).
boot_timed() {
    local log=$1
    shift
    local t0=${EPOCHREALTIME/[.,]/} line d timer=()
    [ -x /usr/bin/time ] && timer=(/usr/bin/time -f '%U %S' -o "$log.time")
    set +e
    {
        "${timer[@]}" timeout -k 5 "$linux_timeout" "$@" </dev/null 2>"$log.err"
        echo "BENCH-EXIT $?"
    } | while IFS= read -r line; do
        d=$((${EPOCHREALTIME/[.,]/} - t0)) # microseconds, without a fork per line
        printf '%d.%03d %s\n' $((d / 1000000)) $((d % 1000000 / 1000)) "${line%$'\r'}"
    done >"$log"
    set -e
    boot_status=$(sed -nE 's/^[0-9.]+ BENCH-EXIT ([0-9]+)$/\1/p' "$log" | tail -1)
    t_start=$(grep -F "$marker_start" "$log" | head -1 | cut -d' ' -f1 || true)
    t_done=$(grep -F "$marker_done" "$log" | head -1 | cut -d' ' -f1 || true)
    t_end=$(tail -1 "$log" | cut -d' ' -f1)
    boot_cpu=""
    [ ${#timer[@]} -eq 0 ] || boot_cpu=$(tail -1 "$log.time" | awk 'NF == 2 { printf "%.2f", $1 + $2 }')
}

# report NAME LOG: prints the figures of one boot; returns 1 when it did not complete.
report() {
    local name=$1 log=$2
    local got
    got=$(grep -oE '[0-9a-f]{64}' "$log" | head -1 || true)
    if [ "$boot_status" != 0 ] || [ -z "$t_done" ] || [ "$got" != "$digest" ]; then
        local why="exit status $boot_status"
        [ "$boot_status" = 124 ] && why="$why (timed out after ${linux_timeout} s)"
        if [ -z "$t_start" ]; then
            why="$why, init not reached"
        elif [ -z "$t_done" ]; then
            why="$why, init started at $t_start s, workload not finished"
        else
            why="$why, init started at $t_start s, workload done in $(sub "$t_start" "$t_done") s, no power-off"
        fi
        echo "$name: FAILED: $why, workload digest ${got:-not printed} (want $digest)"
        echo "--- last console lines (seconds since start; all of them in $log):"
        grep -v BENCH-EXIT "$log" | tail -n 20 | sed 's/^/    /'
        echo "--- stderr:"
        tail -n 10 "$log.err" | sed 's/^/    /'
        return 1
    fi
    printf '%s: init start %s s, workload %s s, power-off %s s (CPU %s s), digest ok\n' \
        "$name" "$t_start" "$(sub "$t_start" "$t_done")" "$t_end" "${boot_cpu:-?}"
}

echo "== linux: $(basename "$kernel"), --smp 1, $mem, command line: $append =="
rc=0
logs=$bench_build/linux
boot_timed "$logs/hvemu.log" "$bench_build/hvemu" --stats --smp 1 --mem "$mem" \
    --kernel "$kernel" --initrd "$initrd" --append "$append"
hv_ok=1
report hvemu "$logs/hvemu.log" || { hv_ok=0; rc=1; }
if bench_parse_stats "$logs/hvemu.log.err"; then
    printf 'hvemu: %s guest instructions, %s MIPS, decode-cache hit rate %s, TLB hit rate %s\n' \
        "$stat_insns" "$stat_mips" "$stat_decode" "$stat_tlb"
fi
hv=("$t_start" "$t_done" "$t_end" "${boot_cpu:-0}")

if [ "$bench_qemu" = none ] || ! command -v "$bench_qemu" >/dev/null 2>&1; then
    echo "qemu: skipped$([ "$bench_qemu" = none ] || echo " ($bench_qemu not found)")"
    exit $rc
fi
boot_timed "$logs/qemu.log" "$bench_qemu" -M q35 -accel tcg -smp 1 -m "$mem" -display none \
    -monitor none -serial stdio -no-reboot -kernel "$kernel" -initrd "$initrd" -append "$append"
report qemu "$logs/qemu.log" || exit $rc
# Ratios of what both runs reached: a hvemu run that hangs after the workload still compares.
awk -v hs="${hv[0]}" -v hd="${hv[1]}" -v he="${hv[2]}" -v hc="${hv[3]}" -v ok="$hv_ok" \
    -v qs="$t_start" -v qd="$t_done" -v qe="$t_end" -v qc="${boot_cpu:-0}" 'BEGIN {
    if (hs == "") exit
    printf "ratio: hvemu time / QEMU time: init start %.2f", hs / qs
    if (hd != "") printf ", workload %.2f", (hd - hs) / (qd - qs)
    if (ok) printf ", power-off %.2f", he / qe
    if (ok && hc > 0 && qc > 0) printf ", CPU %.2f", hc / qc
    printf " (>1: hvemu is slower)\n"
}'
exit $rc
