/* Default for the FPU/SIMD part's entry point fpu_exec (declared in ops.h): MMX runs in mmx.c,
 * legacy SSE in simd.c, x87 in x87.c, everything else (AVX) raises #UD. It steps aside by itself once src/cpu/fpu/ provides the real fpu_exec together with
 * the header cpu/fpu/fpu_exec.h (which can still call simd_exec). */
#include "cpu/ops.h"
#include "cpu/simd.h"
#include "cpu/simd_ext.h"
#include "cpu/x87.h"

#if defined(__has_include)
#if __has_include("cpu/fpu/fpu_exec.h")
#define HVEMU_HAVE_FPU_EXEC 1
#endif
#endif

#ifndef HVEMU_HAVE_FPU_EXEC
int fpu_exec(struct vcpu *vp, const struct insn *i)
{
    int v = mmx_exec(vp, i);
    if (v < 0)
        v = sse42_exec(vp, i);
    if (v < 0)
        v = aes_exec(vp, i);
    if (v < 0)
        v = xsave_exec(vp, i);
    if (v < 0)
        v = sse_rcp_exec(vp, i);
    if (v < 0)
        v = simd_exec(vp, i);
    if (v < 0)
        v = x87_exec(vp, i);
    return v < 0 ? EXC_UD : v;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int fpu_hook_unused;
#endif
