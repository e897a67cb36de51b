#!/usr/bin/env bash
# CPU benchmark: the bench_cpu guest (integer mix, ~1.55e9 instructions by default) under hvemu
# --stats and under QEMU TCG; prints instructions, host seconds, MIPS, decode-cache and TLB hit
# rates, the checksum check against a host build, QEMU's wall time and the ratio.
#
# usage: bench/cpu.sh [ITERS]    (ITERS: iterations of the guest's loop, ~838k instructions each;
#                                 default 1850; e.g. `bench/cpu.sh 10` for a quick check)
# exit status: 0, or 1 when the guest failed or printed a wrong checksum under hvemu.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

iters=${1:-}
[ -z "$iters" ] || [[ $iters =~ ^[0-9]+$ ]] || die "ITERS must be a number"
bench_build_release
bench_guest bench_cpu 256M "${iters:+iters=$iters}" iters=0
