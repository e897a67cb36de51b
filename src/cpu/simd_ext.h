/* Entry points of the SIMD extensions beside simd.c: MMX (mmx.c), SSE4.1/4.2 additions
 * (sse42.c), AES-NI and PCLMULQDQ (aes.c), the XSAVE family (xsave.c), the SSE reciprocal
 * approximations (sse_rcp.c). Each returns 0, an exception vector, or -1 when the
 * instruction is not its own (fpu_exec then tries the next one). */
#ifndef HVEMU_CPU_SIMD_EXT_H
#define HVEMU_CPU_SIMD_EXT_H

#include "cpu/vcpu.h"

int mmx_exec(struct vcpu *vp, const struct insn *i);
int sse42_exec(struct vcpu *vp, const struct insn *i);
int aes_exec(struct vcpu *vp, const struct insn *i);
int xsave_exec(struct vcpu *vp, const struct insn *i);
int sse_rcp_exec(struct vcpu *vp, const struct insn *i);

#endif
