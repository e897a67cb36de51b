/* Placeholder for the FPU/SIMD part's fpu_exec (declared in ops.h): every x87/MMX/SSE/AVX
 * instruction raises #UD until src/cpu/fpu/ provides the real entry point and this file is
 * removed. */
#include "cpu/ops.h"

int fpu_exec(struct vcpu *vp, const struct insn *i)
{
    return EXC_UD;
}
