/* Differential forms: MMX (every instruction on MM registers, register and memory sources, the
 * x87 aliasing: TOP, tags, MMi = Ri), SSE4.1/SSE4.2 additions, AES-NI and PCLMULQDQ. MMX
 * forms are byte sequences: load MM0/MM1 from [rbx] (A) and [rbx+0x10] (B), operate, store the
 * results at [rbx+0x20]/[rbx+0x28], EMMS (the host's C code expects an empty x87 stack). */
#include <criterion/criterion.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <stdio.h>

#include "diff_harness.h"
#include "vectors/fpu_vectors.h"

#define SEQ(nm, ln, gn, ...)                                                                \
    {.name = nm, .sizes = S32, .enc = E_SEQ, .gen = (gn), .lanes = (ln), .xmm = XR | XM,     \
     .seq = (const uint8_t[]){__VA_ARGS__}, .seq_len = sizeof((const uint8_t[]){__VA_ARGS__})},

#define MOVQ_MM0_A 0x0F, 0x6F, 0x03
#define MOVQ_MM1_B 0x0F, 0x6F, 0x4B, 0x10
#define MOVQ_MM2_A 0x0F, 0x6F, 0x13
#define MOVQ_R0_MM0 0x0F, 0x7F, 0x43, 0x20
#define MOVQ_R1_MM2 0x0F, 0x7F, 0x53, 0x28
#define EMMS 0x0F, 0x77
#define FNINIT 0xDB, 0xE3

/* op mm0, mm1 and op mm2, [rbx+0x10] (opcode bytes in __VA_ARGS__). */
#define MMX2(nm, ...)                                                                       \
    SEQ(nm, L_INT, G_X87, MOVQ_MM0_A, MOVQ_MM1_B, __VA_ARGS__, 0xC1, MOVQ_R0_MM0, MOVQ_MM2_A, \
        __VA_ARGS__, 0x53, 0x10, MOVQ_R1_MM2, EMMS)
/* As MMX2 with an imm8. */
#define MMX2I(nm, imm, ...)                                                                 \
    SEQ(nm, L_INT, G_X87, MOVQ_MM0_A, MOVQ_MM1_B, __VA_ARGS__, 0xC1, imm, MOVQ_R0_MM0,       \
        MOVQ_MM2_A, __VA_ARGS__, 0x53, 0x10, imm, MOVQ_R1_MM2, EMMS)
/* Shift mm0 by imm8 (0F 71/72/73 /k ib). */
#define MMXSH(nm, opc, k, imm)                                                              \
    SEQ(nm, L_INT, G_X87, MOVQ_MM0_A, 0x0F, opc, 0xC0 | (k) << 3, imm, MOVQ_R0_MM0, EMMS)

#define MMX_LIST(X)                                                                         \
    X("paddb", 0xFC) X("paddw", 0xFD) X("paddd", 0xFE) X("paddq", 0xD4) X("psubb", 0xF8)     \
    X("psubw", 0xF9) X("psubd", 0xFA) X("psubq", 0xFB) X("paddsb", 0xEC) X("paddsw", 0xED)   \
    X("paddusb", 0xDC) X("paddusw", 0xDD) X("psubsb", 0xE8) X("psubsw", 0xE9)               \
    X("psubusb", 0xD8) X("psubusw", 0xD9) X("pand", 0xDB) X("pandn", 0xDF) X("por", 0xEB)    \
    X("pxor", 0xEF) X("pcmpeqb", 0x74) X("pcmpeqw", 0x75) X("pcmpeqd", 0x76)                \
    X("pcmpgtb", 0x64) X("pcmpgtw", 0x65) X("pcmpgtd", 0x66) X("pmullw", 0xD5)              \
    X("pmulhw", 0xE5) X("pmulhuw", 0xE4) X("pmuludq", 0xF4) X("pmaddwd", 0xF5)              \
    X("psadbw", 0xF6) X("pavgb", 0xE0) X("pavgw", 0xE3) X("pminub", 0xDA) X("pmaxub", 0xDE)  \
    X("pminsw", 0xEA) X("pmaxsw", 0xEE) X("packsswb", 0x63) X("packuswb", 0x67)             \
    X("packssdw", 0x6B) X("punpcklbw", 0x60) X("punpcklwd", 0x61) X("punpckldq", 0x62)      \
    X("punpckhbw", 0x68) X("punpckhwd", 0x69) X("punpckhdq", 0x6A) X("psllw", 0xF1)         \
    X("pslld", 0xF2) X("psllq", 0xF3) X("psrlw", 0xD1) X("psrld", 0xD2) X("psrlq", 0xD3)     \
    X("psraw", 0xE1) X("psrad", 0xE2)
#define MMX_1(nm, opc) MMX2(nm " mm", 0x0F, opc)

#define SSSE3_MMX_LIST(X)                                                                   \
    X("pshufb", 0x00) X("phaddw", 0x01) X("phaddd", 0x02) X("phaddsw", 0x03)                \
    X("pmaddubsw", 0x04) X("phsubw", 0x05) X("phsubd", 0x06) X("phsubsw", 0x07)             \
    X("psignb", 0x08) X("psignw", 0x09) X("psignd", 0x0A) X("pmulhrsw", 0x0B)               \
    X("pabsb", 0x1C) X("pabsw", 0x1D) X("pabsd", 0x1E)
#define SSSE3_MMX(nm, opc) MMX2(nm " mm", 0x0F, 0x38, opc)

static const struct diff_form mmx_forms[] = {
    MMX_LIST(MMX_1)
    SSSE3_MMX_LIST(SSSE3_MMX)
    MMX2I("palignr mm imm 3", 0x03, 0x0F, 0x3A, 0x0F)
    MMX2I("palignr mm imm 11", 0x0B, 0x0F, 0x3A, 0x0F)
    MMX2I("palignr mm imm 17", 0x11, 0x0F, 0x3A, 0x0F)
    MMX2I("pshufw imm 0x1B", 0x1B, 0x0F, 0x70)
    MMX2I("pshufw imm 0xD2", 0xD2, 0x0F, 0x70)
    MMXSH("psrlw mm imm 3", 0x71, 2, 3) MMXSH("psraw mm imm 15", 0x71, 4, 15)
    MMXSH("psllw mm imm 16", 0x71, 6, 16) MMXSH("psrld mm imm 31", 0x72, 2, 31)
    MMXSH("psrad mm imm 40", 0x72, 4, 40) MMXSH("pslld mm imm 1", 0x72, 6, 1)
    MMXSH("psrlq mm imm 63", 0x73, 2, 63) MMXSH("psllq mm imm 64", 0x73, 6, 64)
    MMXSH("psllq mm imm 7", 0x73, 6, 7) MMXSH("psraw mm imm 3", 0x71, 4, 3)
    /* Shift counts from memory: a small count in the low byte of [rbx+0x28]. */
    SEQ("psrlw mm, small count", L_INT, G_X87, MOVQ_MM0_A, 0x0F, 0xB6, 0x43, 0x10, 0x83, 0xE0,
        0x1F, 0x48, 0x89, 0x43, 0x28, 0x0F, 0xD1, 0x43, 0x28, MOVQ_R0_MM0, EMMS)
    SEQ("psrad mm, small count", L_INT, G_X87, MOVQ_MM0_A, 0x0F, 0xB6, 0x43, 0x10, 0x83, 0xE0,
        0x3F, 0x48, 0x89, 0x43, 0x28, 0x0F, 0xE2, 0x43, 0x28, MOVQ_R0_MM0, EMMS)
    SEQ("psllq mm, small count", L_INT, G_X87, MOVQ_MM0_A, 0x0F, 0xB6, 0x43, 0x10, 0x83, 0xE0,
        0x3F, 0x48, 0x89, 0x43, 0x28, 0x0F, 0xF3, 0x43, 0x28, MOVQ_R0_MM0, EMMS)
    /* Moves between MM, GPRs, XMM and memory. */
    SEQ("movd r32,mm; movq r64,mm", L_INT, G_X87, MOVQ_MM0_A, 0x0F, 0x7E, 0xC0, 0x48, 0x0F,
        0x7E, 0xC1, EMMS)
    SEQ("movd mm,r32; movq mm,r64", L_INT, G_X87, 0x0F, 0x6E, 0xC1, MOVQ_R0_MM0, 0x48, 0x0F,
        0x6E, 0xC2, 0x0F, 0x7F, 0x43, 0x28, EMMS)
    SEQ("movd mm,m32; movd m32,mm", L_INT, G_X87, 0x0F, 0x6E, 0x43, 0x10, MOVQ_R0_MM0, 0x0F,
        0x7E, 0x43, 0x28, EMMS)
    SEQ("movq mm,mm; movntq", L_INT, G_X87, MOVQ_MM1_B, 0x0F, 0x6F, 0xE9, 0x0F, 0xE7, 0x6B,
        0x20, EMMS)
    SEQ("movq2dq; movdq2q", L_INT, G_X87, MOVQ_MM0_A, 0xF3, 0x0F, 0xD6, 0xD8, 0xF2, 0x0F,
        0xD6, 0xE1, 0x0F, 0x7F, 0x63, 0x20, EMMS)
    SEQ("pextrw r32,mm,2; pinsrw mm,m16,3", L_INT, G_X87, MOVQ_MM0_A, 0x0F, 0xC5, 0xC8, 0x02,
        0x0F, 0xC4, 0x43, 0x10, 0x03, MOVQ_R0_MM0, 0x0F, 0xC4, 0xC2, 0x00, 0x0F, 0x7F, 0x43, 0x28, EMMS)
    SEQ("pmovmskb r32,mm", L_INT, G_X87, MOVQ_MM0_A, 0x0F, 0xD7, 0xC8, EMMS)
    SEQ("maskmovq", L_INT, G_X87, MOVQ_MM0_A, MOVQ_MM1_B, 0x48, 0x8D, 0x7B, 0x20, 0x0F, 0xF7,
        0xC1, EMMS)
    /* The x87 aliasing: FLD makes TOP 7, so MM7 is ST0; an MMX instruction makes TOP 0 and
     * all tags valid (FXAM sees no empty register), EMMS empties them (FXAM: empty). */
    SEQ("fld; movq m64,mm7; fxch st7; fxam", L_F80, G_X87, FNINIT, 0xDB, 0x6B, 0x00, 0x0F, 0x7F, 0x7B,
        0x20, 0xDD, 0x7B, 0x28, 0xD9, 0xCF, 0xD9, 0xE5, 0xDD, 0x7B, 0x2A, EMMS, 0xD9, 0xE5, 0xDF, 0xE0)
    SEQ("fld x2; paddb; fxam st0/st6", L_F80, G_X87, FNINIT, 0xDB, 0x6B, 0x00, 0xDB, 0x6B,
        0x10, MOVQ_MM0_A, 0x0F, 0xFC, 0xC0, 0xDD, 0x7B, 0x20, 0xD9, 0xE5, 0xDD, 0x7B, 0x22,
        0xD9, 0xCE, 0xD9, 0xE5, 0xDD, 0x7B, 0x24, EMMS, 0xDF, 0xE0)
    SEQ("movq mm3; fxch st3; fxam", L_INT, G_X87, FNINIT, 0x0F, 0x6F, 0x5B, 0x10, 0xD9,
        0xCB, 0xD9, 0xE5, 0xDD, 0x7B, 0x20, 0xDD, 0x7B, 0x22, EMMS, 0xDF, 0xE0)
};

/* MMX-with-SSE conversions under a random MXCSR (LDMXCSR [rbx+0x34] ... STMXCSR [rbx+0x38];
 * LDMXCSR [rbx+0x3C], the reset value). */
#define MXM(nm, ln, ...)                                                                    \
    SEQ(nm, ln, G_FPCTL, 0x0F, 0xAE, 0x53, 0x34, __VA_ARGS__, 0x0F, 0xAE, 0x5B, 0x38, 0x0F,  \
        0xAE, 0x53, 0x3C, EMMS)

static const struct diff_form mmx_cvt_forms[] = {
    MXM("cvtpi2ps xmm,mm", L_INT, MOVQ_MM1_B, 0x0F, 0x2A, 0xC1)
    MXM("cvtpi2ps xmm,m64", L_INT, 0x0F, 0x2A, 0x4B, 0x10)
    MXM("cvtpi2pd xmm,mm", L_INT, MOVQ_MM1_B, 0x66, 0x0F, 0x2A, 0xC1)
    MXM("cvtpi2pd xmm,m64", L_INT, 0x66, 0x0F, 0x2A, 0x4B, 0x10)
    MXM("cvtps2pi mm,m64", L_F32, 0x0F, 0x2D, 0x03, MOVQ_R0_MM0)
    MXM("cvttps2pi mm,xmm", L_F32, 0x0F, 0x2C, 0xC2, MOVQ_R0_MM0)
    MXM("cvtpd2pi mm,m128", L_F64, 0x66, 0x0F, 0x2D, 0x03, MOVQ_R0_MM0)
    MXM("cvttpd2pi mm,xmm", L_F64, 0x66, 0x0F, 0x2C, 0xC3, MOVQ_R0_MM0)
};

DIFF_FAMILY_TEST(mmx, mmx_forms)
DIFF_FAMILY_TEST(mmx_cvt, mmx_cvt_forms)

/* SSE4.1 additions and SSE4.2 string compares: op xmm, xmm/m128, imm8 (random imm8). */
#define P41I(nm, opc, ln, al)                                                               \
    {.name = nm, .sizes = S32, .prefix = 0x66, .map = 3, .op = (opc), .enc = E_R_RM,         \
     .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = (ln), .align16 = (al),             \
     .feature = NF_SSE41},
#define P42I(nm, opc, sz)                                                                   \
    {.name = nm, .sizes = (sz), .prefix = 0x66, .map = 3, .op = (opc), .enc = E_R_RM,        \
     .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT, .feature = NF_SSE42},

/* Explicit lengths in -16..15 from [rbx] and [rbx+1]: movzx eax/edx; and 0x1F; sub 0x10. */
#define SMALL_LENS 0x0F, 0xB6, 0x03, 0x83, 0xE0, 0x1F, 0x83, 0xE8, 0x10, 0x0F, 0xB6, 0x53,     \
    0x01, 0x83, 0xE2, 0x1F, 0x83, 0xEA, 0x10
/* A zero byte at a random place in [rbx+0x10..0x1F] and in [rbx+0x20..0x2F] (into XMM0). */
#define NULLS 0x0F, 0xB6, 0x0B, 0x83, 0xE1, 0x0F, 0xC6, 0x44, 0x0B, 0x10, 0x00, 0x0F, 0xB6,     \
    0x53, 0x01, 0x83, 0xE2, 0x0F, 0xC6, 0x44, 0x13, 0x20, 0x00, 0xF3, 0x0F, 0x6F, 0x43, 0x20
#define ESTR(imm)                                                                           \
    {.name = "pcmpestri/m small lengths imm " #imm, .sizes = S32, .enc = E_SEQ, .gen = G_X87, \
     .lanes = L_INT, .xmm = XR | XM, .feature = NF_SSE42,                                   \
     .seq = (const uint8_t[]){SMALL_LENS, 0x66, 0x0F, 0x3A, 0x61, 0x43, 0x10, imm, 0x66,      \
                              0x0F, 0x3A, 0x60, 0xCA, imm},                                 \
     .seq_len = 19 + 13},
#define ISTR(imm)                                                                           \
    {.name = "pcmpistri/m nulls imm " #imm, .sizes = S32, .enc = E_SEQ, .gen = G_X87,        \
     .lanes = L_INT, .xmm = XR | XM, .feature = NF_SSE42,                                   \
     .seq = (const uint8_t[]){NULLS, 0x66, 0x0F, 0x3A, 0x63, 0x43, 0x10, imm, 0x66, 0x0F,     \
                              0x3A, 0x62, 0xC3, imm},                                       \
     .seq_len = 28 + 13},
/* Floating point under a random MXCSR, as in diff_forms_x87.c's MX_SEQ. */
#define MXF(nm, ln, ...)                                                                    \
    {.name = nm, .sizes = S32, .enc = E_SEQ, .gen = G_FPCTL, .lanes = (ln), .xmm = XR | XM,  \
     .feature = NF_SSE41,                                                                   \
     .seq = (const uint8_t[]){0x0F, 0xAE, 0x53, 0x34, __VA_ARGS__, 0x0F, 0xAE, 0x5B, 0x38,   \
                              0x0F, 0xAE, 0x53, 0x3C},                                      \
     .seq_len = sizeof((const uint8_t[]){0x0F, 0xAE, 0x53, 0x34, __VA_ARGS__, 0x0F, 0xAE,    \
                                         0x5B, 0x38, 0x0F, 0xAE, 0x53, 0x3C})},

static const struct diff_form sse42_forms[] = {
    P41I("dpps", 0x40, L_F32, 1) P41I("dppd", 0x41, L_F64, 1) P41I("mpsadbw", 0x42, L_INT, 1)
    {.name = "phminposuw", .sizes = S32, .prefix = 0x66, .map = 2, .op = 0x41, .enc = E_R_RM,
     .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT, .align16 = 1, .feature = NF_SSE41},
    MXF("mxcsr; dpps imm 0xFF", L_F32, 0x66, 0x0F, 0x3A, 0x40, 0xC1, 0xFF)
    MXF("mxcsr; dpps imm 0x7D", L_F32, 0x66, 0x0F, 0x3A, 0x40, 0x03, 0x7D)
    MXF("mxcsr; dppd imm 0x33", L_F64, 0x66, 0x0F, 0x3A, 0x41, 0x03, 0x33)
    P42I("pcmpestri", 0x61, SDQ) P42I("pcmpestrm", 0x60, SDQ) P42I("pcmpistri", 0x63, S32)
    P42I("pcmpistrm", 0x62, S32)
    ESTR(0x00) ESTR(0x51) ESTR(0x22) ESTR(0x73) ESTR(0x05) ESTR(0x56) ESTR(0x27) ESTR(0x74) ESTR(0x0A) ESTR(0x5B) ESTR(0x28) ESTR(0x79) ESTR(0x0F) ESTR(0x5C) ESTR(0x2D) ESTR(0x7E)
    ISTR(0x00) ISTR(0x51) ISTR(0x22) ISTR(0x73) ISTR(0x05) ISTR(0x56) ISTR(0x27) ISTR(0x74) ISTR(0x0A) ISTR(0x5B) ISTR(0x28) ISTR(0x79) ISTR(0x0F) ISTR(0x5C) ISTR(0x2D) ISTR(0x7E)
    SEQ("maskmovdqu", L_INT, G_X87, 0x48, 0x8D, 0x7B, 0x20, 0x66, 0x0F, 0xF7, 0xC1)
};

DIFF_FAMILY_TEST(sse42, sse42_forms)

/* The rest of SSE4.1 (the first forms are in diff_forms_sse.c) and SSE4.2's PCMPGTQ. */
#define P41(nm, opc, ln)                                                                    \
    {.name = nm, .sizes = S32, .prefix = 0x66, .map = 2, .op = (opc), .enc = E_R_RM,         \
     .mem = M_BOTH, .xmm = XR | XM, .lanes = (ln), .align16 = 1, .feature = NF_SSE41},
#define PMOVX(nm, opc)                                                                      \
    {.name = nm, .sizes = S32, .prefix = 0x66, .map = 2, .op = (opc), .enc = E_R_RM,         \
     .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT, .feature = NF_SSE41},

static const struct diff_form sse41_rest_forms[] = {
    P41("pminsb", 0x38, L_INT) P41("pminud", 0x3B, L_INT) P41("pmaxsb", 0x3C, L_INT)
    P41("pmaxsd", 0x3D, L_INT) P41("pmaxuw", 0x3E, L_INT) P41("pminsd", 0x39, L_INT)
    P41("pblendvb (xmm0)", 0x10, L_INT) P41("blendvpd (xmm0)", 0x15, L_F64)
    P41("movntdqa load", 0x2A, L_INT)
    {.name = "pcmpgtq", .sizes = S32, .prefix = 0x66, .map = 2, .op = 0x37, .enc = E_R_RM,
     .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT, .align16 = 1, .feature = NF_SSE42},
    PMOVX("pmovsxbw", 0x20) PMOVX("pmovsxbq", 0x22) PMOVX("pmovsxwd", 0x23)
    PMOVX("pmovsxwq", 0x24) PMOVX("pmovzxbd", 0x31) PMOVX("pmovzxbq", 0x32)
    PMOVX("pmovzxwd", 0x33) PMOVX("pmovzxwq", 0x34) PMOVX("pmovzxdq", 0x35)
    P41I("blendps", 0x0C, L_F32, 1) P41I("blendpd", 0x0D, L_F64, 1)
    P41I("roundps", 0x08, L_F32, 1)
    {.name = "roundsd", .sizes = S32, .prefix = 0x66, .map = 3, .op = 0x0B, .enc = E_R_RM,
     .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_F64, .feature = NF_SSE41},
    {.name = "extractps r/m32,xmm,imm", .sizes = S32, .prefix = 0x66, .map = 3, .op = 0x17,
     .enc = E_RM_R, .imm = I_8, .mem = M_BOTH, .xmm = XR, .lanes = L_F32, .feature = NF_SSE41},
    {.name = "pextrw r/m16,xmm,imm", .sizes = S32, .prefix = 0x66, .map = 3, .op = 0x15,
     .enc = E_RM_R, .imm = I_8, .mem = M_BOTH, .xmm = XR, .lanes = L_INT, .feature = NF_SSE41},
    {.name = "pinsrb xmm,r/m8,imm", .sizes = S32, .prefix = 0x66, .map = 3, .op = 0x20,
     .enc = E_R_RM, .imm = I_8, .mem = M_BOTH, .xmm = XR, .lanes = L_INT, .feature = NF_SSE41},
};

DIFF_FAMILY_TEST(sse41_rest, sse41_rest_forms)

/* AES-NI and PCLMULQDQ: the harness has no feature code for them, so the family checks the
 * host's CPUID.1:ECX.AES (25) and PCLMULQDQ (1) itself. */
#define P38(nm, opc)                                                                        \
    {.name = nm, .sizes = S32, .prefix = 0x66, .map = 2, .op = (opc), .enc = E_R_RM,         \
     .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT, .align16 = 1},
#define P3AI(nm, opc)                                                                       \
    {.name = nm, .sizes = S32, .prefix = 0x66, .map = 3, .op = (opc), .enc = E_R_RM,         \
     .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT, .align16 = 1},

static const struct diff_form aes_forms[] = {
    P38("aesenc", 0xDC) P38("aesenclast", 0xDD) P38("aesdec", 0xDE) P38("aesdeclast", 0xDF)
    P38("aesimc", 0xDB) P3AI("aeskeygenassist", 0xDF) P3AI("pclmulqdq", 0x44)
};

Test(cpu_diff, aes_pclmul, .timeout = 300)
{
    unsigned c = 0;
#if defined(__x86_64__)
    unsigned a, b, d;
    if (native_exec_supported())
        __get_cpuid(1, &a, &b, &c, &d);
#endif
    if (!native_exec_supported() || !(c >> 25 & 1) || !(c >> 1 & 1)) {
        printf("[diff] aes_pclmul skipped: no x86-64 host with AES and PCLMULQDQ\n");
        cr_skip_test("the host lacks AES-NI or PCLMULQDQ");
    }
    unsigned fails = diff_run_family("aes_pclmul", aes_forms, (unsigned)ARRAY_SIZE(aes_forms));
    cr_expect_eq(fails, 0u, "%u hvemu/host mismatches in family aes_pclmul", fails);
}

/* A few of the above in compatibility mode (32-bit code, no REX, XMM0-7). */
static const struct diff_form simd2_compat_forms[] = {
    {.name = "paddsw mm (32-bit)", .sizes = S32, .enc = E_SEQ, .gen = G_X87, .lanes = L_INT,
     .compat = 1, .seq = (const uint8_t[]){MOVQ_MM0_A, MOVQ_MM1_B, 0x0F, 0xED, 0xC1, MOVQ_R0_MM0,
                                            EMMS},
     .seq_len = 3 + 4 + 3 + 4 + 2},
    {.name = "pcmpestri (32-bit)", .sizes = S32, .prefix = 0x66, .map = 3, .op = 0x61,
     .enc = E_R_RM, .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT, .compat = 1,
     .feature = NF_SSE42},
    {.name = "pcmpistrm (32-bit)", .sizes = S32, .prefix = 0x66, .map = 3, .op = 0x62,
     .enc = E_R_RM, .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_INT, .compat = 1,
     .feature = NF_SSE42},
    {.name = "dpps (32-bit)", .sizes = S32, .prefix = 0x66, .map = 3, .op = 0x40, .enc = E_R_RM,
     .imm = I_8, .mem = M_BOTH, .xmm = XR | XM, .lanes = L_F32, .align16 = 1, .compat = 1,
     .feature = NF_SSE41},
};

DIFF_FAMILY_TEST(simd2_compat, simd2_compat_forms)

/* The same forms for the committed vector tables (test_fpu_vectors_gen.c). */
FV_EXPORT(mmx, mmx_forms, FV_SEQ)
FV_EXPORT(mmx_cvt, mmx_cvt_forms, FV_SEQ)
FV_EXPORT(sse42, sse42_forms, FV_SEQ)
FV_EXPORT(sse41_rest, sse41_rest_forms, FV_INSN)
FV_EXPORT(aes_pclmul, aes_forms, FV_SEQ)
