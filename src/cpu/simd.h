/* Legacy-SSE instruction execution (SSE, SSE2, SSSE3, SSE4.1 subset) on vcpu.fxsave, with
 * floating point from the exact softfloat library in src/cpu/fpu. */
#ifndef HVEMU_CPU_SIMD_H
#define HVEMU_CPU_SIMD_H

#include "cpu/vcpu.h"

/* Execute i if it is a supported legacy-SSE instruction: 0 done, an exception vector, or -1
 * when the instruction is not handled here (the caller raises #UD). */
int simd_exec(struct vcpu *vp, const struct insn *i);

#endif
