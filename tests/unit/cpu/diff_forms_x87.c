/* Differential forms: x87 sequences. Each starts with FNINIT (a known state on both sides),
 * loads operands A ([rbx]) and B ([rbx+0x10]), operates, stores the result(s) at
 * [rbx+0x20]/[rbx+0x30] (80-bit when the precision matters) and FNSTSW AX, so results,
 * condition codes and exception flags are all compared; the stack ends empty. Left out as
 * implementation-specific: transcendentals (last bits) and FNSTENV/FXSAVE (FIP/FDP/FOP). */
#include <criterion/criterion.h>
#include <stdio.h>

#include "diff_harness.h"

#define X87_SEQ(nm, ln, ...)                                                                \
    {.name = nm, .sizes = S32, .enc = E_SEQ, .gen = G_X87, .lanes = (ln),                   \
     .seq = (const uint8_t[]){__VA_ARGS__},                                                 \
     .seq_len = sizeof((const uint8_t[]){__VA_ARGS__})},

/* Byte groups (ModRM 0x43/0x4B/0x5B/0x6B/0x7B: [rbx+disp8]). */
#define FNINIT 0xDB, 0xE3
#define FLD64_A 0xDD, 0x43, 0x00
#define FLD64_B 0xDD, 0x43, 0x10
#define FLD80_A 0xDB, 0x6B, 0x00
#define FLD80_B 0xDB, 0x6B, 0x10
#define FLD32_A 0xD9, 0x43, 0x00
#define FSTP80_R 0xDB, 0x7B, 0x20
#define FSTP80_R2 0xDB, 0x7B, 0x30
#define FNSTSW_AX 0xDF, 0xE0
#define FPOP 0xDD, 0xD8 /* fstp st0 */

/* Binary operation on st1 (A) and st0 (B), popping: result A op B (or B op A for -r). */
#define BINOP(nm, op2, ln, ...)                                                             \
    X87_SEQ(nm, ln, FNINIT, __VA_ARGS__, 0xDE, op2, FSTP80_R, FNSTSW_AX)
/* Unary operation on st0 (A). */
#define UNOP(nm, op1, op2, ln, ld) X87_SEQ(nm, ln, FNINIT, ld, op1, op2, FSTP80_R, FNSTSW_AX)

static const struct diff_form x87_forms[] = {
    BINOP("faddp (f64)", 0xC1, L_F64, FLD64_A, FLD64_B)
    BINOP("fsubp (f64)", 0xE9, L_F64, FLD64_A, FLD64_B)
    BINOP("fsubrp (f64)", 0xE1, L_F64, FLD64_A, FLD64_B)
    BINOP("fmulp (f64)", 0xC9, L_F64, FLD64_A, FLD64_B)
    BINOP("fdivp (f64)", 0xF9, L_F64, FLD64_A, FLD64_B)
    BINOP("fdivrp (f64)", 0xF1, L_F64, FLD64_A, FLD64_B)
    BINOP("faddp (f80)", 0xC1, L_F80, FLD80_A, FLD80_B)
    BINOP("fsubp (f80)", 0xE9, L_F80, FLD80_A, FLD80_B)
    BINOP("fmulp (f80)", 0xC9, L_F80, FLD80_A, FLD80_B)
    BINOP("fdivp (f80)", 0xF9, L_F80, FLD80_A, FLD80_B)
    UNOP("fsqrt (f64)", 0xD9, 0xFA, L_F64, FLD64_A)
    UNOP("fsqrt (f80)", 0xD9, 0xFA, L_F80, FLD80_A)
    UNOP("fabs", 0xD9, 0xE1, L_F80, FLD80_A)
    UNOP("fchs", 0xD9, 0xE0, L_F80, FLD80_A)
    UNOP("frndint (f64)", 0xD9, 0xFC, L_F64, FLD64_A)
    UNOP("frndint (f80)", 0xD9, 0xFC, L_F80, FLD80_A)
    X87_SEQ("fxtract", L_F80, FNINIT, FLD80_A, 0xD9, 0xF4, FSTP80_R, FSTP80_R2, FNSTSW_AX)
    X87_SEQ("fscale", L_F80, FNINIT, FLD80_B, FLD80_A, 0xD9, 0xFD, FSTP80_R, FPOP, FNSTSW_AX)
    X87_SEQ("fprem", L_F64, FNINIT, FLD64_B, FLD64_A, 0xD9, 0xF8, FSTP80_R, FPOP, FNSTSW_AX)
    X87_SEQ("fprem1", L_F64, FNINIT, FLD64_B, FLD64_A, 0xD9, 0xF5, FSTP80_R, FPOP, FNSTSW_AX)
    X87_SEQ("fucomip", L_F64, FNINIT, FLD64_A, FLD64_B, 0xDF, 0xE9, FPOP, FNSTSW_AX)
    X87_SEQ("fcomip", L_F64, FNINIT, FLD64_A, FLD64_B, 0xDF, 0xF1, FPOP, FNSTSW_AX)
    X87_SEQ("fucompp", L_F80, FNINIT, FLD80_A, FLD80_B, 0xDA, 0xE9, FNSTSW_AX)
    X87_SEQ("ftst", L_F80, FNINIT, FLD80_A, 0xD9, 0xE4, FPOP, FNSTSW_AX)
    X87_SEQ("fxam", L_F80, FNINIT, FLD80_A, 0xD9, 0xE5, FPOP, FNSTSW_AX)
    X87_SEQ("fld m32; fstp m80", L_F32, FNINIT, FLD32_A, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fld m80; fstp m64", L_F80, FNINIT, FLD80_A, 0xDD, 0x5B, 0x20, FNSTSW_AX)
    X87_SEQ("fld m80; fstp m32", L_F80, FNINIT, FLD80_A, 0xD9, 0x5B, 0x20, FNSTSW_AX)
    X87_SEQ("fld m64; fistp m64", L_F64, FNINIT, FLD64_A, 0xDF, 0x7B, 0x20, FNSTSW_AX)
    X87_SEQ("fld m64; fistp m32", L_F64, FNINIT, FLD64_A, 0xDB, 0x5B, 0x20, FNSTSW_AX)
    X87_SEQ("fld m64; fistp m16", L_F64, FNINIT, FLD64_A, 0xDF, 0x5B, 0x20, FNSTSW_AX)
    X87_SEQ("fld m80; fisttp m64", L_F80, FNINIT, FLD80_A, 0xDD, 0x4B, 0x20, FNSTSW_AX)
    X87_SEQ("fild m64; fstp m80", L_INT, FNINIT, 0xDF, 0x6B, 0x00, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fild m32; fstp m32", L_INT, FNINIT, 0xDB, 0x43, 0x00, 0xD9, 0x5B, 0x20, FNSTSW_AX)
    X87_SEQ("fbld; fstp m80", L_INT, FNINIT, 0xDF, 0x63, 0x00, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fld m80; fbstp", L_F80, FNINIT, FLD80_A, 0xDF, 0x73, 0x20, FNSTSW_AX)
    X87_SEQ("fldpi; fstp m80", L_INT, FNINIT, 0xD9, 0xEB, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fldl2e; fstp m80", L_INT, FNINIT, 0xD9, 0xEA, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fxch; fsubp", L_F64, FNINIT, FLD64_A, FLD64_B, 0xD9, 0xC9, 0xDE, 0xE9, FSTP80_R,
            FNSTSW_AX)
};

DIFF_FAMILY_TEST(x87, x87_forms)

/* Rounding and precision control: FLDCW from [rbx+0x30] first, FNINIT last (the host's C
 * code expects the default control word back). */
#define FLDCW 0xD9, 0x6B, 0x30
#define CW_SEQ(nm, ln, ...)                                                                 \
    {.name = nm, .sizes = S32, .enc = E_SEQ, .gen = G_FPCTL, .lanes = (ln),                 \
     .seq = (const uint8_t[]){FNINIT, FLDCW, __VA_ARGS__, FNSTSW_AX, FNINIT},               \
     .seq_len = sizeof((const uint8_t[]){FNINIT, FLDCW, __VA_ARGS__, FNSTSW_AX, FNINIT})},

/* SSE under a random MXCSR (rounding, DAZ, FTZ): LDMXCSR [rbx+0x34]; op; STMXCSR [rbx+0x38];
 * LDMXCSR [rbx+0x3C] (the reset value). XMM registers hold double/float edge values. */
#define MX_SEQ(nm, ln, feat, ...)                                                           \
    {.name = nm, .sizes = S32, .enc = E_SEQ, .gen = G_FPCTL, .lanes = (ln), .xmm = XR | XM,  \
     .feature = (feat),                                                                     \
     .seq = (const uint8_t[]){0x0F, 0xAE, 0x53, 0x34, __VA_ARGS__, 0x0F, 0xAE, 0x5B, 0x38,   \
                              0x0F, 0xAE, 0x53, 0x3C},                                      \
     .seq_len = sizeof((const uint8_t[]){0x0F, 0xAE, 0x53, 0x34, __VA_ARGS__, 0x0F, 0xAE,    \
                                         0x5B, 0x38, 0x0F, 0xAE, 0x53, 0x3C})},

static const struct diff_form fpctl_forms[] = {
    CW_SEQ("fldcw; faddp (f64)", L_F64, FLD64_A, FLD64_B, 0xDE, 0xC1, FSTP80_R)
    CW_SEQ("fldcw; fmulp (f80)", L_F80, FLD80_A, FLD80_B, 0xDE, 0xC9, FSTP80_R)
    CW_SEQ("fldcw; fdivp (f80)", L_F80, FLD80_A, FLD80_B, 0xDE, 0xF9, FSTP80_R)
    CW_SEQ("fldcw; fsqrt (f80)", L_F80, FLD80_A, 0xD9, 0xFA, FSTP80_R)
    CW_SEQ("fldcw; frndint (f80)", L_F80, FLD80_A, 0xD9, 0xFC, FSTP80_R)
    CW_SEQ("fldcw; fistp m64 (f80)", L_F80, FLD80_A, 0xDF, 0x7B, 0x20)
    CW_SEQ("fldcw; fstp m64 (f80)", L_F80, FLD80_A, 0xDD, 0x5B, 0x20)
    CW_SEQ("fldcw; fstp m32 (f64)", L_F64, FLD64_A, 0xD9, 0x5B, 0x20)
    CW_SEQ("fldcw; fild m64; fstp m80", L_INT, 0xDF, 0x6B, 0x00, FSTP80_R)
    MX_SEQ("mxcsr; addsd", L_F64, NF_NONE, 0xF2, 0x0F, 0x58, 0x03)
    MX_SEQ("mxcsr; mulsd", L_F64, NF_NONE, 0xF2, 0x0F, 0x59, 0x03)
    MX_SEQ("mxcsr; divss", L_F32, NF_NONE, 0xF3, 0x0F, 0x5E, 0x03)
    MX_SEQ("mxcsr; mulps", L_F32, NF_NONE, 0x0F, 0x59, 0x03)
    MX_SEQ("mxcsr; sqrtsd", L_F64, NF_NONE, 0xF2, 0x0F, 0x51, 0x03)
    MX_SEQ("mxcsr; subpd", L_F64, NF_NONE, 0x66, 0x0F, 0x5C, 0x03)
    MX_SEQ("mxcsr; cvtsd2si rax", L_F64, NF_NONE, 0xF2, 0x48, 0x0F, 0x2D, 0x03)
    MX_SEQ("mxcsr; cvtps2dq", L_F32, NF_NONE, 0x66, 0x0F, 0x5B, 0x03)
    MX_SEQ("mxcsr; cvtsd2ss", L_F64, NF_NONE, 0xF2, 0x0F, 0x5A, 0x03)
    MX_SEQ("mxcsr; cvtsi2ss rax", L_F32, NF_NONE, 0xF3, 0x48, 0x0F, 0x2A, 0xC0)
    MX_SEQ("mxcsr; minsd", L_F64, NF_NONE, 0xF2, 0x0F, 0x5D, 0x03)
    MX_SEQ("mxcsr; ucomisd", L_F64, NF_NONE, 0x66, 0x0F, 0x2E, 0x03)
    MX_SEQ("mxcsr; roundsd imm 4", L_F64, NF_SSE41, 0x66, 0x0F, 0x3A, 0x0B, 0x03, 0x04)
};

DIFF_FAMILY_TEST(fpctl, fpctl_forms)
