/* Differential forms: x87 sequences. Each starts with FNINIT (a known state on both sides),
 * loads operands A ([rbx]) and B ([rbx+0x10]), operates, stores the result(s) at
 * [rbx+0x20]/[rbx+0x30] (80-bit when the precision matters) and FNSTSW AX, so results,
 * condition codes and exception flags are all compared; the stack ends empty. The x87ptr
 * family compares FIP/FDP/FOP as FNSTENV, FNSAVE and FXSAVE store them. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "diff_harness.h"
#include "vectors/fpu_vectors.h"

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

/* FUCOMI ST1 of A (ST1) and B (ST0), then FCMOVcc ST0 <- ST1 (op2: C1 = ST1). */
#define FCMOV(nm, op1, op2)                                                                 \
    X87_SEQ(nm, L_F64, FNINIT, FLD64_A, FLD64_B, 0xDB, 0xE9, op1, op2, FSTP80_R, FPOP,       \
            FNSTSW_AX)
/* Eight copies of A, then op2 pushing onto the full stack; ST0 and ST1 stored, FNINIT. */
#define FULL(nm, op1, op2)                                                                  \
    X87_SEQ(nm, L_F80, FNINIT, FLD80_A, 0xD9, 0xC0, 0xD9, 0xC0, 0xD9, 0xC0, 0xD9, 0xC0, 0xD9, \
            0xC0, 0xD9, 0xC0, 0xD9, 0xC0, op1, op2, FSTP80_R, FSTP80_R2, FNSTSW_AX, FNINIT)
/* D9 op2 with nothing on the stack (underflow, masked); ST0 and ST1 stored, FNINIT. */
#define EMPTY(nm, op2) X87_SEQ(nm, L_F80, FNINIT, 0xD9, op2, FSTP80_R, FSTP80_R2, FNSTSW_AX, FNINIT)
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
    /* Memory-operand arithmetic (the operand converts exactly, then one rounding). */
    X87_SEQ("fadd m32", L_F32, FNINIT, FLD32_A, 0xD8, 0x43, 0x10, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fsubr m32", L_F32, FNINIT, FLD32_A, 0xD8, 0x6B, 0x10, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fmul m64", L_F64, FNINIT, FLD64_A, 0xDC, 0x4B, 0x10, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fdiv m64", L_F64, FNINIT, FLD64_A, 0xDC, 0x73, 0x10, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fdivr m32", L_F32, FNINIT, FLD32_A, 0xD8, 0x7B, 0x10, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fiadd m32", L_INT, FNINIT, 0xDB, 0x43, 0x00, 0xDA, 0x43, 0x10, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fimul m16", L_INT, FNINIT, 0xDF, 0x6B, 0x00, 0xDE, 0x4B, 0x10, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fidivr m32", L_INT, FNINIT, 0xDB, 0x43, 0x00, 0xDA, 0x7B, 0x10, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fisub m16 (f80)", L_F80, FNINIT, FLD80_A, 0xDE, 0x63, 0x10, FSTP80_R, FNSTSW_AX)
    /* Compares: FCOM/FICOM with memory, FCOMI/FUCOMI without pop, FCOMPP. */
    X87_SEQ("fcom m64", L_F64, FNINIT, FLD64_A, 0xDC, 0x53, 0x10, FPOP, FNSTSW_AX)
    X87_SEQ("fcomp m32", L_F32, FNINIT, FLD32_A, 0xD8, 0x5B, 0x10, FNSTSW_AX)
    X87_SEQ("ficom m32 (f80)", L_F80, FNINIT, FLD80_A, 0xDA, 0x53, 0x10, FPOP, FNSTSW_AX)
    X87_SEQ("fcomi (f80)", L_F80, FNINIT, FLD80_B, FLD80_A, 0xDB, 0xF1, FPOP, FPOP, FNSTSW_AX)
    X87_SEQ("fucomi (f80)", L_F80, FNINIT, FLD80_B, FLD80_A, 0xDB, 0xE9, FPOP, FPOP, FNSTSW_AX)
    X87_SEQ("fcompp (f80)", L_F80, FNINIT, FLD80_A, FLD80_B, 0xDE, 0xD9, FNSTSW_AX)
    X87_SEQ("fucomp (f64)", L_F64, FNINIT, FLD64_A, FLD64_B, 0xDD, 0xE9, FPOP, FNSTSW_AX)
    /* FCMOVcc on the flags of an FUCOMI of the same operands (all orders, unordered). */
    FCMOV("fcmovb", 0xDA, 0xC1) FCMOV("fcmove", 0xDA, 0xC9) FCMOV("fcmovbe", 0xDA, 0xD1)
    FCMOV("fcmovu", 0xDA, 0xD9) FCMOV("fcmovnb", 0xDB, 0xC1) FCMOV("fcmovne", 0xDB, 0xC9)
    FCMOV("fcmovnbe", 0xDB, 0xD1) FCMOV("fcmovnu", 0xDB, 0xD9)
    /* Integer stores: FIST without pop, FISTTP of each size, FISTP m16 from f80. */
    X87_SEQ("fld m80; fist m32", L_F80, FNINIT, FLD80_A, 0xDB, 0x53, 0x20, FPOP, FNSTSW_AX)
    X87_SEQ("fld m80; fisttp m32", L_F80, FNINIT, FLD80_A, 0xDB, 0x4B, 0x20, FNSTSW_AX)
    X87_SEQ("fld m80; fisttp m16", L_F80, FNINIT, FLD80_A, 0xDF, 0x4B, 0x20, FNSTSW_AX)
    X87_SEQ("fld m80; fistp m16", L_F80, FNINIT, FLD80_A, 0xDF, 0x5B, 0x20, FNSTSW_AX)
    X87_SEQ("fld m80; fistp m64", L_F80, FNINIT, FLD80_A, 0xDF, 0x7B, 0x20, FNSTSW_AX)
    /* Remainders and scaling on extended operands (pseudo-denormals, unnormals included). */
    X87_SEQ("fprem (f80)", L_F80, FNINIT, FLD80_B, FLD80_A, 0xD9, 0xF8, FSTP80_R, FPOP, FNSTSW_AX)
    X87_SEQ("fprem1 (f80)", L_F80, FNINIT, FLD80_B, FLD80_A, 0xD9, 0xF5, FSTP80_R, FPOP, FNSTSW_AX)
    X87_SEQ("fscale (f64)", L_F64, FNINIT, FLD64_B, FLD64_A, 0xD9, 0xFD, FSTP80_R, FPOP, FNSTSW_AX)
    X87_SEQ("fdivrp (f80)", L_F80, FNINIT, FLD80_A, FLD80_B, 0xDE, 0xF1, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fsubrp (f80)", L_F80, FNINIT, FLD80_A, FLD80_B, 0xDE, 0xE1, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fadd st(i),st (f80)", L_F80, FNINIT, FLD80_A, FLD80_B, 0xDC, 0xC1, FPOP, FSTP80_R,
            FNSTSW_AX)
    /* Stack housekeeping: FDECSTP/FINCSTP/FFREE, FLD ST(i), FST ST(i), stack underflow. */
    X87_SEQ("fdecstp; fincstp; ffree", L_F80, FNINIT, FLD80_A, FLD80_B, 0xD9, 0xF6, 0xD9, 0xF7,
            0xDD, 0xC1, 0xD9, 0xC1, FSTP80_R, FPOP, FNSTSW_AX)
    X87_SEQ("fld st1; fst st2", L_F80, FNINIT, FLD80_A, FLD80_B, 0xD9, 0xC1, 0xDD, 0xD2, FPOP,
            FPOP, FSTP80_R, FNSTSW_AX)
    X87_SEQ("faddp on empty stack", L_F80, FNINIT, FLD80_A, 0xDE, 0xC1, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fbld; fbstp (f80 digits)", L_F80, FNINIT, 0xDF, 0x63, 0x00, 0xDF, 0x73, 0x20, FNSTSW_AX)
    /* Pushing instructions on a full stack (stack overflow, masked): eight FLDs first. */
    FULL("fptan on a full stack", 0xD9, 0xF2) FULL("fsincos on a full stack", 0xD9, 0xFB)
    FULL("fxtract on a full stack", 0xD9, 0xF4) FULL("fldpi on a full stack", 0xD9, 0xEB)
    FULL("fld st3 on a full stack", 0xD9, 0xC3)
    EMPTY("fptan on an empty stack", 0xF2) EMPTY("fsincos on an empty stack", 0xFB)
    EMPTY("fxtract on an empty stack", 0xF4) EMPTY("fsqrt on an empty stack", 0xFA)
    EMPTY("fsin on an empty stack", 0xFE) EMPTY("fyl2x on an empty stack", 0xF1)
    EMPTY("fpatan on an empty stack", 0xF3) EMPTY("fprem on an empty stack", 0xF8)
};

DIFF_FAMILY_TEST(x87, x87_forms)

/* Transcendentals: approximations on every CPU (and different ones on Intel and AMD), so no
 * bit-for-bit family here; test_softfloat_host_trans.c bounds the error against the host and
 * the vector tables (test_fpu_vectors.c) accept 1 ulp. ST1 = A, ST0 = B for two operands. */
static const struct diff_form x87_trans_forms[] = {
    UNOP("fsin (f80)", 0xD9, 0xFE, L_F80, FLD80_A)
    UNOP("fsin (f64)", 0xD9, 0xFE, L_F64, FLD64_A)
    UNOP("fcos (f80)", 0xD9, 0xFF, L_F80, FLD80_A)
    UNOP("fcos (f64)", 0xD9, 0xFF, L_F64, FLD64_A)
    X87_SEQ("fsincos (f80)", L_F80, FNINIT, FLD80_A, 0xD9, 0xFB, FSTP80_R, FSTP80_R2, FNSTSW_AX)
    X87_SEQ("fsincos (f64)", L_F64, FNINIT, FLD64_A, 0xD9, 0xFB, FSTP80_R, FSTP80_R2, FNSTSW_AX)
    X87_SEQ("fptan (f80)", L_F80, FNINIT, FLD80_A, 0xD9, 0xF2, FSTP80_R, FSTP80_R2, FNSTSW_AX)
    X87_SEQ("fptan (f64)", L_F64, FNINIT, FLD64_A, 0xD9, 0xF2, FSTP80_R, FSTP80_R2, FNSTSW_AX)
    X87_SEQ("fpatan (f80)", L_F80, FNINIT, FLD80_A, FLD80_B, 0xD9, 0xF3, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fpatan (f64)", L_F64, FNINIT, FLD64_A, FLD64_B, 0xD9, 0xF3, FSTP80_R, FNSTSW_AX)
    UNOP("f2xm1 (f80)", 0xD9, 0xF0, L_F80, FLD80_A)
    X87_SEQ("fyl2x (f80)", L_F80, FNINIT, FLD80_A, FLD80_B, 0xD9, 0xF1, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fyl2x (f64)", L_F64, FNINIT, FLD64_A, FLD64_B, 0xD9, 0xF1, FSTP80_R, FNSTSW_AX)
    X87_SEQ("fyl2xp1 (f80)", L_F80, FNINIT, FLD80_B, FLD80_A, 0xD9, 0xF9, FSTP80_R, FNSTSW_AX)
};

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
    CW_SEQ("fldcw; fsubp (f80)", L_F80, FLD80_A, FLD80_B, 0xDE, 0xE9, FSTP80_R)
    CW_SEQ("fldcw; fdiv m32", L_F32, FLD32_A, 0xD8, 0x73, 0x10, FSTP80_R)
    CW_SEQ("fldcw; fscale (f80)", L_F80, FLD80_B, FLD80_A, 0xD9, 0xFD, FSTP80_R, FPOP)
    CW_SEQ("fldcw; fistp m32 (f80)", L_F80, FLD80_A, 0xDB, 0x5B, 0x20)
    CW_SEQ("fldcw; fisttp m64 (f80)", L_F80, FLD80_A, 0xDD, 0x4B, 0x20)
    CW_SEQ("fldcw; fbstp (f80)", L_F80, FLD80_A, 0xDF, 0x73, 0x20)
    CW_SEQ("fldcw; fld m80; fstp m32", L_F80, FLD80_A, 0xD9, 0x5B, 0x20)
    CW_SEQ("fldcw; fldpi; fldl2t", L_INT, 0xD9, 0xEB, FSTP80_R, 0xD9, 0xE9, FSTP80_R2)
    CW_SEQ("fldcw; fldl2e; fldlg2", L_INT, 0xD9, 0xEA, FSTP80_R, 0xD9, 0xEC, FSTP80_R2)
    CW_SEQ("fldcw; fldln2; fld1", L_INT, 0xD9, 0xED, FSTP80_R, 0xD9, 0xE8, FSTP80_R2)
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

/* FIP/FDP/FOP (SDM Vol 1 8.1.8-8.1.10) as the host stores them: the environment, save area
 * or FXSAVE image goes to [rbx+0x40] and is compared byte for byte, except the selectors
 * (the host's CS/DS are not the guest's), which MOVs clear first, and FXSAVE's MXCSR and
 * MXCSR_MASK (the host process's own MXCSR flags, a host feature). Every sequence ends with
 * FNINIT. */
#define ENV_OUT 0xD9, 0x73, 0x40                   /* fnstenv [rbx+0x40] */
#define CLR16(off) 0x66, 0xC7, 0x43, (off), 0x00, 0x00 /* mov word [rbx+off], 0 */
#define CLR_ENV32 CLR16(0x50), CLR16(0x58)        /* FCS (FOP kept), FDS */
#define CLR32(off) 0xC7, 0x43, (off), 0x00, 0x00, 0x00, 0x00 /* mov dword [rbx+off], 0 */
#define UNMASK 0x6A, 0x60, 0xD9, 0x2C, 0x24, 0x58 /* push 60H; fldcw [rsp]; pop rax */
#define FILL8 FLD64_A, 0xD9, 0xC0, 0xD9, 0xC0, 0xD9, 0xC0, 0xD9, 0xC0, 0xD9, 0xC0, 0xD9, 0xC0, \
              0xD9, 0xC0
#define PTR_SEQ(nm, ...)                                                                    \
    {.name = nm, .sizes = S32, .enc = E_SEQ, .gen = G_X87, .lanes = L_F64,                  \
     .seq = (const uint8_t[]){FNINIT, __VA_ARGS__, FNINIT},                                 \
     .seq_len = sizeof((const uint8_t[]){FNINIT, __VA_ARGS__, FNINIT})},

/* As PTR_SEQ in compatibility mode (32-bit code: FIP is EIP). */
#define PTR_SEQ32(nm, ...)                                                                  \
    {.name = nm, .sizes = S32, .enc = E_SEQ, .gen = G_X87, .lanes = L_F64, .compat = 1,     \
     .seq = (const uint8_t[]){FNINIT, __VA_ARGS__, FNINIT},                                 \
     .seq_len = sizeof((const uint8_t[]){FNINIT, __VA_ARGS__, FNINIT})},

static const struct diff_form x87ptr_forms[] = {
    PTR_SEQ("fadd m64; fnstenv", FLD64_A, 0xDC, 0x43, 0x10, ENV_OUT, CLR_ENV32)
    /* FNSTENV masks every exception after storing: FNSTCW right after shows it. */
    PTR_SEQ("unmasked; fnstenv; fnstcw", UNMASK, ENV_OUT, CLR_ENV32, 0xD9, 0x7B, 0x60)
    PTR_SEQ("ds: fmul m64; fnstenv", FLD64_A, 0x3E, 0xDC, 0x4B, 0x10, ENV_OUT, CLR_ENV32)
    PTR_SEQ("fld m80 disp32; fnstenv", 0xDB, 0xAB, 0x10, 0x00, 0x00, 0x00, ENV_OUT, CLR_ENV32)
    PTR_SEQ("fld m64; faddp st; fnstenv", FLD64_A, FLD64_B, 0xDE, 0xC1, ENV_OUT, CLR_ENV32)
    PTR_SEQ("fld m64; fnclex; fldcw; fnstenv", FLD64_A, 0xDB, 0xE2, 0xD9, 0x6B, 0x3E, ENV_OUT,
            CLR_ENV32)
    PTR_SEQ("fld m64; fincstp; fnstenv", FLD64_A, 0xD9, 0xF7, ENV_OUT, CLR_ENV32)
    PTR_SEQ("fld m64; ffree; fnstenv", FLD64_A, 0xDD, 0xC0, ENV_OUT, CLR_ENV32)
    PTR_SEQ("fld m64; fnop; fnstenv", FLD64_A, 0xD9, 0xD0, ENV_OUT, CLR_ENV32)
    PTR_SEQ("fld m64; fstp m80; fnstenv", FLD64_A, FSTP80_R, ENV_OUT, CLR_ENV32)
    PTR_SEQ("fild m32; fistp m16; fnstenv", 0xDB, 0x43, 0x00, 0xDF, 0x5B, 0x20, ENV_OUT,
            CLR_ENV32)
    PTR_SEQ("fld m64; fcom m64; fnstenv", FLD64_A, 0xDC, 0x53, 0x10, FPOP, ENV_OUT, CLR_ENV32)
    PTR_SEQ("o16 fnstenv", FLD64_A, 0xDC, 0x43, 0x10, 0x66, 0xD9, 0x73, 0x40, CLR16(0x48),
            CLR16(0x4C))
    PTR_SEQ32("fadd m64; fnstenv (32-bit code)", FLD64_A, 0xDC, 0x43, 0x10, ENV_OUT, CLR_ENV32)
    PTR_SEQ32("fist m32; o16 fnstenv (32-bit code)", FLD64_A, 0xDB, 0x53, 0x20, 0x66, 0xD9,
              0x73, 0x40, CLR16(0x48), CLR16(0x4C))
    /* Save areas hold all eight registers, valid ones only (empty ones keep whatever the
     * host had there): FLD A, then FLD ST0 seven times. */
    PTR_SEQ("fld x8; fadd m64; fnsave", FILL8, 0xDC, 0x43, 0x10, 0xDD, 0x73, 0x40, CLR_ENV32)
    PTR_SEQ("fld x8; fadd m64; o16 fnsave", FILL8, 0xDC, 0x43, 0x10, 0x66, 0xDD, 0x73, 0x40,
            CLR16(0x48), CLR16(0x4C))
    PTR_SEQ("fld x8; fnsave; frstor; fnstenv", FILL8, 0xDD, 0x73, 0x40, 0xDD, 0x63, 0x40,
            ENV_OUT, CLR_ENV32)
    PTR_SEQ("fld x8; o16 fnsave; o16 frstor; fnstenv", FILL8, 0x66, 0xDD, 0x73, 0x40, 0x66,
            0xDD, 0x63, 0x40, ENV_OUT, CLR_ENV32)
    /* The host's FXSAVE (AMD) stores the pointers only while an unmasked exception is
     * pending (Intel always does): FNCLEX, FLDCW 0060H, then a ninth push overflows. */
    PTR_SEQ("fxsave64 (pending #IS)", FILL8, 0xDB, 0xE2, UNMASK, 0xD9, 0xC0, 0x48, 0x0F, 0xAE,
            0x43, 0x40, 0x48, CLR32(0x58))
    PTR_SEQ("fxsave64; fxrstor64; fnstenv", FILL8, 0xDB, 0xE2, UNMASK, 0xD9, 0xC0, 0x48, 0x0F,
            0xAE, 0x43, 0x40, FNINIT, 0x48, 0x0F, 0xAE, 0x4B, 0x40, 0xD9, 0x73, 0x50) /* over MXCSR_MASK */
};

DIFF_FAMILY_TEST(x87ptr, x87ptr_forms)

/* The same forms for the committed vector tables (test_fpu_vectors_gen.c). */
FV_EXPORT(x87, x87_forms, FV_X87)
FV_EXPORT(x87_trans, x87_trans_forms, FV_X87)
FV_EXPORT(fpctl, fpctl_forms, FV_SEQ)
