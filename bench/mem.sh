#!/usr/bin/env bash
# Memory benchmark: the bench_mem guest (sequential and random loads/stores and a pointer chase
# over 64 MiB, through 2 MiB and 4 KiB pages; ~149e6 instructions a pass, 4 passes by default)
# under hvemu --stats and under QEMU TCG; prints the same figures as bench/cpu.sh.
#
# usage: bench/mem.sh [PASSES]   (default 4)
# exit status: 0, or 1 when the guest failed or printed a wrong checksum under hvemu.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

passes=${1:-}
[ -z "$passes" ] || [[ $passes =~ ^[0-9]+$ ]] || die "PASSES must be a number"
bench_build_release
bench_guest bench_mem passes "$passes" 256M
