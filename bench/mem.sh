#!/usr/bin/env bash
# Memory benchmark: the bench_mem guest (sequential and random loads/stores and a pointer chase
# over 64 MiB, through 2 MiB and 4 KiB pages; ~149e6 instructions a pass, 4 passes by default)
# under hvemu --stats and under QEMU TCG; prints the same figures as bench/cpu.sh.
#
# usage: bench/mem.sh [PASSES [PHASES]]   (PASSES default 4; PHASES a mask of the phases to run,
#        default 127 = all: 1 sequential stores, 2 sequential loads, 4 random read-modify-writes
#        with 2 MiB pages, 8 the same with 4 KiB pages, 16 sequential loads with 4 KiB pages,
#        32 pointer-chain build, 64 pointer chase with 4 KiB pages; see roms/guests/bench_mem.c)
# exit status: 0, or 1 when the guest failed or printed a wrong checksum under hvemu.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

passes=${1:-}
phases=${2:-}
[ -z "$passes" ] || [[ $passes =~ ^[0-9]+$ ]] || die "PASSES must be a number"
[ -z "$phases" ] || [[ $phases =~ ^[0-9]+$ ]] || die "PHASES must be a number"
args="${passes:+passes=$passes}${passes:+${phases:+ }}${phases:+phases=$phases}"
bench_build_release
bench_guest bench_mem 256M "$args" passes=0
