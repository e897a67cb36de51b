/* Differential forms: legacy-SSE integer and floating-point instructions (SSE2 baseline,
 * SSSE3/SSE4.1 gated on the host), XMM registers compared bit for bit (NaN propagation, the
 * default NaN, denormals and signed zeros included). MXCSR is the reset value, 0x1F80. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "diff_harness.h"
#include "vectors/fpu_vectors.h"

/* Packed op xmm, xmm/m128 with a mandatory prefix (0 = none) in map 0F (1), 0F38 (2),
 * 0F3A (3); the memory form must be 16-byte aligned. */
#define PX(nm, pfx, mp, opc, ln)                                                            \
    {.name = nm, .sizes = S32, .prefix = (pfx), .map = (mp), .op = (opc), .enc = E_R_RM,     \
     .mem = M_BOTH, .xmm = XR | XM, .lanes = (ln), .align16 = 1},
/* As PX with an imm8. */
#define PXI(nm, pfx, mp, opc, ln)                                                           \
    {.name = nm, .sizes = S32, .prefix = (pfx), .map = (mp), .op = (opc), .enc = E_R_RM,     \
     .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = (ln), .align16 = 1},
/* Scalar or unaligned op xmm, xmm/mN (no alignment rule). */
#define SX(nm, pfx, mp, opc, ln)                                                            \
    {.name = nm, .sizes = S32, .prefix = (pfx), .map = (mp), .op = (opc), .enc = E_R_RM,     \
     .mem = M_BOTH, .xmm = XR | XM, .lanes = (ln)},

#define SSE2_INT_LIST(X)                                                                    \
    X("paddb", 0xFC) X("paddw", 0xFD) X("paddd", 0xFE) X("paddq", 0xD4) X("psubb", 0xF8)     \
    X("psubw", 0xF9) X("psubd", 0xFA) X("psubq", 0xFB) X("paddsb", 0xEC) X("paddsw", 0xED)   \
    X("paddusb", 0xDC) X("paddusw", 0xDD) X("psubsb", 0xE8) X("psubusw", 0xD9)              \
    X("pand", 0xDB) X("pandn", 0xDF) X("por", 0xEB) X("pxor", 0xEF) X("pcmpeqb", 0x74)       \
    X("pcmpeqw", 0x75) X("pcmpeqd", 0x76) X("pcmpgtb", 0x64) X("pcmpgtw", 0x65)             \
    X("pcmpgtd", 0x66) X("pmullw", 0xD5) X("pmulhw", 0xE5) X("pmulhuw", 0xE4)               \
    X("pmuludq", 0xF4) X("pmaddwd", 0xF5) X("psadbw", 0xF6) X("pavgb", 0xE0) X("pavgw", 0xE3) \
    X("pminub", 0xDA) X("pmaxub", 0xDE) X("pminsw", 0xEA) X("pmaxsw", 0xEE)                 \
    X("packsswb", 0x63) X("packuswb", 0x67) X("packssdw", 0x6B) X("punpcklbw", 0x60)        \
    X("punpcklwd", 0x61) X("punpckldq", 0x62) X("punpckhbw", 0x68) X("punpckhwd", 0x69)     \
    X("punpckhdq", 0x6A) X("punpcklqdq", 0x6C) X("punpckhqdq", 0x6D) X("psllw", 0xF1)       \
    X("pslld", 0xF2) X("psllq", 0xF3) X("psrlw", 0xD1) X("psrld", 0xD2) X("psrlq", 0xD3)     \
    X("psraw", 0xE1) X("psrad", 0xE2)
#define SSE2_INT(nm, opc) PX(nm, 0x66, 1, opc, L_INT)

/* Shift by immediate: 66 0F 71/72/73 /digit ib, register only. */
#define SHIFT_IMM(nm, opc, k)                                                               \
    {.name = nm " imm", .sizes = S32, .prefix = 0x66, .map = 1, .op = (opc), .enc = E_RM_EXT, \
     .ext = (k), .imm = I_8, .xmm = XM, .lanes = L_INT},

static const struct diff_form sse_int_forms[] = {
    SSE2_INT_LIST(SSE2_INT)
    SHIFT_IMM("psrlw", 0x71, 2) SHIFT_IMM("psraw", 0x71, 4) SHIFT_IMM("psllw", 0x71, 6)
    SHIFT_IMM("psrld", 0x72, 2) SHIFT_IMM("psrad", 0x72, 4) SHIFT_IMM("pslld", 0x72, 6)
    SHIFT_IMM("psrlq", 0x73, 2) SHIFT_IMM("psrldq", 0x73, 3) SHIFT_IMM("psllq", 0x73, 6)
    SHIFT_IMM("pslldq", 0x73, 7)
    PXI("pshufd", 0x66, 1, 0x70, L_INT)
    PXI("pshufhw", 0xF3, 1, 0x70, L_INT)
    PXI("pshuflw", 0xF2, 1, 0x70, L_INT)
    PX("movdqa load", 0x66, 1, 0x6F, L_INT)
    SX("movdqu load", 0xF3, 1, 0x6F, L_INT)
    {.name = "movdqa store", .sizes = S32, .prefix = 0x66, .map = 1, .op = 0x7F, .enc = E_RM_R,
     .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT, .align16 = 1},
    {.name = "movdqu store", .sizes = S32, .prefix = 0xF3, .map = 1, .op = 0x7F, .enc = E_RM_R,
     .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT},
    SX("movq xmm,xmm/m64", 0xF3, 1, 0x7E, L_INT)
    {.name = "movq xmm/m64,xmm", .sizes = S32, .prefix = 0x66, .map = 1, .op = 0xD6,
     .enc = E_RM_R, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT},
    {.name = "movd/q xmm,r/m", .sizes = SDQ, .prefix = 0x66, .map = 1, .op = 0x6E,
     .enc = E_R_RM, .mem = M_BOTH, .xmm = XR, .lanes = L_INT},
    {.name = "movd/q r/m,xmm", .sizes = SDQ, .prefix = 0x66, .map = 1, .op = 0x7E,
     .enc = E_RM_R, .mem = M_BOTH, .xmm = XR, .lanes = L_INT},
    {.name = "pmovmskb r,xmm", .sizes = S32, .prefix = 0x66, .map = 1, .op = 0xD7,
     .enc = E_R_RM, .xmm = XM, .lanes = L_INT},
    {.name = "pextrw r,xmm,imm", .sizes = S32, .prefix = 0x66, .map = 1, .op = 0xC5,
     .enc = E_R_RM, .imm = I_8, .xmm = XM, .lanes = L_INT},
    {.name = "pinsrw xmm,r/m,imm", .sizes = S32, .prefix = 0x66, .map = 1, .op = 0xC4,
     .enc = E_R_RM, .imm = I_8, .mem = M_BOTH, .xmm = XR, .lanes = L_INT},
};

#define SSSE3(nm, opc) {.name = nm, .sizes = S32, .prefix = 0x66, .map = 2, .op = (opc),       \
     .enc = E_R_RM, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT, .align16 = 1,               \
     .feature = NF_SSSE3},
#define SSE41(nm, opc) {.name = nm, .sizes = S32, .prefix = 0x66, .map = 2, .op = (opc),       \
     .enc = E_R_RM, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT, .align16 = 1,               \
     .feature = NF_SSE41},

static const struct diff_form sse_new_forms[] = {
    SSSE3("pshufb", 0x00) SSSE3("phaddw", 0x01) SSSE3("phaddd", 0x02) SSSE3("phsubsw", 0x07)
    SSSE3("pmaddubsw", 0x04) SSSE3("pmulhrsw", 0x0B) SSSE3("psignb", 0x08) SSSE3("pabsb", 0x1C)
    SSSE3("pabsd", 0x1E)
    {.name = "palignr", .sizes = S32, .prefix = 0x66, .map = 3, .op = 0x0F, .enc = E_R_RM,
     .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT, .align16 = 1,
     .feature = NF_SSSE3},
    SSE41("pmulld", 0x40) SSE41("pmuldq", 0x28) SSE41("pminsd", 0x39) SSE41("pmaxud", 0x3F)
    SSE41("pminuw", 0x3A) SSE41("pcmpeqq", 0x29) SSE41("packusdw", 0x2B)
    SSE41("pmovzxbw", 0x30) SSE41("pmovsxbd", 0x21) SSE41("pmovsxdq", 0x25)
    SSE41("ptest", 0x17)
    {.name = "pblendw", .sizes = S32, .prefix = 0x66, .map = 3, .op = 0x0E, .enc = E_R_RM,
     .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT, .align16 = 1,
     .feature = NF_SSE41},
    {.name = "pextrd/q r/m,xmm,imm", .sizes = SDQ, .prefix = 0x66, .map = 3, .op = 0x16,
     .enc = E_RM_R, .imm = I_8, .mem = M_BOTH, .xmm = XR, .lanes = L_INT, .feature = NF_SSE41},
    {.name = "pinsrd/q xmm,r/m,imm", .sizes = SDQ, .prefix = 0x66, .map = 3, .op = 0x22,
     .enc = E_R_RM, .imm = I_8, .mem = M_BOTH, .xmm = XR, .lanes = L_INT, .feature = NF_SSE41},
    {.name = "pextrb r/m,xmm,imm", .sizes = S32, .prefix = 0x66, .map = 3, .op = 0x14,
     .enc = E_RM_R, .imm = I_8, .mem = M_BOTH, .xmm = XR, .lanes = L_INT, .feature = NF_SSE41},
};

/* Float arithmetic: ps (none), ss (F3), pd (66), sd (F2) of one 0F opcode. */
#define FP4(nm, opc)                                                                        \
    PX(nm "ps", 0, 1, opc, L_F32) SX(nm "ss", 0xF3, 1, opc, L_F32)                          \
    PX(nm "pd", 0x66, 1, opc, L_F64) SX(nm "sd", 0xF2, 1, opc, L_F64)
#define FP_LIST(X) X("add", 0x58) X("mul", 0x59) X("sub", 0x5C) X("div", 0x5E) X("min", 0x5D) \
    X("max", 0x5F) X("sqrt", 0x51)

/* Conversions to a GPR: reg = GPR (32/64 by REX.W), r/m = XMM or memory. */
#define CVT2I(nm, pfx, opc, ln)                                                             \
    {.name = nm, .sizes = SDQ, .prefix = (pfx), .map = 1, .op = (opc), .enc = E_R_RM,        \
     .mem = M_BOTH, .xmm = XM, .lanes = (ln)},

static const struct diff_form sse_fp_forms[] = {
    FP_LIST(FP4)
    PX("andps", 0, 1, 0x54, L_F32) PX("andnpd", 0x66, 1, 0x55, L_F64)
    PX("orps", 0, 1, 0x56, L_F32) PX("xorpd", 0x66, 1, 0x57, L_F64)
    PXI("cmpps", 0, 1, 0xC2, L_F32) PXI("cmppd", 0x66, 1, 0xC2, L_F64)
    {.name = "cmpss", .sizes = S32, .prefix = 0xF3, .map = 1, .op = 0xC2, .enc = E_R_RM,
     .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_F32},
    {.name = "cmpsd", .sizes = S32, .prefix = 0xF2, .map = 1, .op = 0xC2, .enc = E_R_RM,
     .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_F64},
    SX("comiss", 0, 1, 0x2F, L_F32) SX("ucomiss", 0, 1, 0x2E, L_F32)
    SX("comisd", 0x66, 1, 0x2F, L_F64) SX("ucomisd", 0x66, 1, 0x2E, L_F64)
    {.name = "cvtsi2ss xmm,r/m", .sizes = SDQ, .prefix = 0xF3, .map = 1, .op = 0x2A,
     .enc = E_R_RM, .mem = M_BOTH, .xmm = XR, .lanes = L_F32},
    {.name = "cvtsi2sd xmm,r/m", .sizes = SDQ, .prefix = 0xF2, .map = 1, .op = 0x2A,
     .enc = E_R_RM, .mem = M_BOTH, .xmm = XR, .lanes = L_F64},
    CVT2I("cvttss2si", 0xF3, 0x2C, L_F32) CVT2I("cvtss2si", 0xF3, 0x2D, L_F32)
    CVT2I("cvttsd2si", 0xF2, 0x2C, L_F64) CVT2I("cvtsd2si", 0xF2, 0x2D, L_F64)
    SX("cvtss2sd", 0xF3, 1, 0x5A, L_F32) SX("cvtsd2ss", 0xF2, 1, 0x5A, L_F64)
    SX("cvtps2pd", 0, 1, 0x5A, L_F32) PX("cvtpd2ps", 0x66, 1, 0x5A, L_F64)
    PX("cvtdq2ps", 0, 1, 0x5B, L_INT) PX("cvtps2dq", 0x66, 1, 0x5B, L_F32)
    PX("cvttps2dq", 0xF3, 1, 0x5B, L_F32) PX("cvttpd2dq", 0x66, 1, 0xE6, L_F64)
    SX("cvtdq2pd", 0xF3, 1, 0xE6, L_INT)
    PXI("shufps", 0, 1, 0xC6, L_F32) PXI("shufpd", 0x66, 1, 0xC6, L_F64)
    PX("unpcklps", 0, 1, 0x14, L_F32) PX("unpckhpd", 0x66, 1, 0x15, L_F64)
    SX("movss load", 0xF3, 1, 0x10, L_F32) SX("movsd load", 0xF2, 1, 0x10, L_F64)
    {.name = "movss store", .sizes = S32, .prefix = 0xF3, .map = 1, .op = 0x11, .enc = E_RM_R,
     .mem = M_BOTH, .xmm = XR | XM, .lanes = L_F32},
    PX("movaps load", 0, 1, 0x28, L_F32) SX("movups load", 0, 1, 0x10, L_F32)
    SX("movlps/movhlps", 0, 1, 0x12, L_F32) SX("movhps/movlhps", 0, 1, 0x16, L_F32)
    {.name = "movmskps r,xmm", .sizes = S32, .map = 1, .op = 0x50, .enc = E_R_RM, .xmm = XM,
     .lanes = L_F32},
    {.name = "movmskpd r,xmm", .sizes = S32, .prefix = 0x66, .map = 1, .op = 0x50,
     .enc = E_R_RM, .xmm = XM, .lanes = L_F64},
    {.name = "roundss", .sizes = S32, .prefix = 0x66, .map = 3, .op = 0x0A, .enc = E_R_RM,
     .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_F32, .feature = NF_SSE41},
    {.name = "roundpd", .sizes = S32, .prefix = 0x66, .map = 3, .op = 0x09, .enc = E_R_RM,
     .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_F64, .align16 = 1,
     .feature = NF_SSE41},
    {.name = "insertps", .sizes = S32, .prefix = 0x66, .map = 3, .op = 0x21, .enc = E_R_RM,
     .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_F32, .feature = NF_SSE41},
    {.name = "blendvps (xmm0)", .sizes = S32, .prefix = 0x66, .map = 2, .op = 0x14,
     .enc = E_R_RM, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_F32, .align16 = 1,
     .feature = NF_SSE41},
};

DIFF_FAMILY_TEST(sse_int, sse_int_forms)
DIFF_FAMILY_TEST(sse_new, sse_new_forms)
DIFF_FAMILY_TEST(sse_fp, sse_fp_forms)

/* The same forms for the committed vector tables (test_fpu_vectors_gen.c). */
FV_EXPORT(sse_int, sse_int_forms, FV_INSN)
FV_EXPORT(sse_new, sse_new_forms, FV_INSN)
FV_EXPORT(sse_fp, sse_fp_forms, FV_INSN)
