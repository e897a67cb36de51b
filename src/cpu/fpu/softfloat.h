/* Exact x86 floating point in software (SSE f32/f64, x87 f80): the public API of src/cpu/fpu. */
#ifndef HVEMU_CPU_FPU_SOFTFLOAT_H
#define HVEMU_CPU_FPU_SOFTFLOAT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Every result is computed with integer arithmetic only, so it is bit-identical to an Intel CPU
 * on any host. Semantics are x86's, not IEEE-generic: NaN propagation (SDM Vol 1 4.8.3.5,
 * Table 4-7), real/integer indefinite, masked overflow/underflow responses (4.9.1.4/4.9.1.5),
 * tininess detected AFTER rounding ("the result of rounding with unbounded exponent ... is
 * non-zero and tiny", SDM Vol 1 4.9.1.5 for x87, 11.5.2.5 for SSE), DAZ/FTZ (10.2.3.3/4).
 *
 * f32/f64 operations follow SSE rules (first-operand NaN wins, DAZ/FTZ honoured); f80 operations
 * follow x87 rules (larger-significand NaN wins, unsupported encodings are invalid, precision
 * control, unmasked OE/UE deliver the exponent-biased result of SDM Vol 1 8.5.4/8.5.5).
 * x87 callers must keep daz = ftz = false; SSE callers keep precision = SF_PREC_64.
 *
 * Unmasked exceptions (host-checked on x86-64): an unmasked IE/DE/ZE stops the operation
 * before post-computation flags (only that flag is raised; the returned value must not be
 * stored). Unmasked OE/UE raise OE/UE plus PE when the result rounded with unbounded exponent
 * is inexact. SSE stores nothing on any unmasked flag (#XM, destination unchanged), nor do
 * x87 stores to memory on unmasked OE/UE; x87 register results with unmasked OE/UE/PE are
 * delivered (OE/UE bias-adjusted by 2^-+24576, massive FSCALE cases give inf/0).
 */

/*
 * Mapping for the instruction handlers (per instruction: st.flags = 0, st.c1 = false; call;
 * merge flags into FSW/MXCSR; an unmasked flag means #MF (x87, deferred) or #XM (SSE, nothing
 * written)):
 *   ADDSS/SUBSS/MULSS/DIVSS/SQRTSS (+SD, +PS/PD per lane): f32_/f64_ add, sub, mul, div, sqrt
 *   MINSS/MAXSS, COMISS/UCOMISS, CMPSS (LT/LE/NLT/NLE signaling, others quiet): f32_min/max,
 *   f32_compare; CVT*: the conversion functions; ROUNDSS: f32_round_int; VFMADD etc.: f32/f64_fma.
 *   FADD/FSUB/FMUL/FDIV ST(i) (R forms: swap operands): f80_add/sub/mul/div; FADD m32/m64 etc.:
 *   f80_arith_mem; FIADD m16/m32: f80_add(st0, i64_to_f80(n)); FCOM, FUCOM, FCOMI, FTST:
 *   f80_compare (FTST against +0); FLD/FST m32/m64: f32/f64_to_f80, f80_to_f32/f64; FIST(P)/
 *   FISTTP: f80_to_i16/32/64; FBLD/FBSTP: bcd_to_f80/f80_to_bcd; FLD1..FLDZ: f80_load_const;
 *   FSINCOS: f80_sin then f80_cos; FXAM: f80_classify (+ sign, + empty tag from the caller).
 */

typedef uint32_t f32;
typedef uint64_t f64;
typedef struct f80 {
    uint64_t mant;     /* explicit integer bit in bit 63 */
    uint16_t sign_exp; /* bit 15 sign, bits 14:0 biased exponent */
} f80;

/* Rounding control, x86 RC encoding (FCW bits 11:10, MXCSR bits 14:13). */
enum { SF_RND_NEAREST = 0, SF_RND_DOWN = 1, SF_RND_UP = 2, SF_RND_ZERO = 3 };
/* x87 precision control, FCW bits 9:8 encoding (1 is reserved and behaves as 64 here). */
enum { SF_PREC_24 = 0, SF_PREC_53 = 2, SF_PREC_64 = 3 };
/* Exception flags and masks: the bit order of FSW/FCW bits 5:0 and MXCSR bits 5:0 / 12:7. */
enum { SF_IE = 0x01, SF_DE = 0x02, SF_ZE = 0x04, SF_OE = 0x08, SF_UE = 0x10, SF_PE = 0x20 };
#define SF_ALL_EXC 0x3f

typedef struct sf_status {
    uint8_t rounding;  /* SF_RND_* */
    uint8_t precision; /* SF_PREC_* (x87 only) */
    uint8_t masks;     /* SF_* bits set = exception masked; they change results and flags */
    uint8_t flags;     /* SF_* flags raised; clear before each instruction, then OR into
                          FSW/MXCSR and raise #MF/#XM if (flags & ~masks) */
    bool ftz, daz;     /* MXCSR.FTZ / MXCSR.DAZ (SSE only) */
    bool c1;           /* x87 C1 "rounded up" (magnitude incremented by rounding); clear it
                          with flags before each instruction: exact results leave it alone */
} sf_status;

/* Default: round to nearest, 64-bit precision, all exceptions masked, no flags. */
sf_status sf_status_default(void);

/* Comparison result (the caller maps it onto FCOM C3/C2/C0 or COMISS ZF/PF/CF). */
typedef enum { SF_CMP_LT = 0, SF_CMP_EQ = 1, SF_CMP_GT = 2, SF_CMP_UN = 3 } sf_cmp;

/* Well-known encodings. */
#define F32_DEFAULT_NAN 0xFFC00000u
#define F64_DEFAULT_NAN 0xFFF8000000000000ull
#define F80_DEFAULT_NAN_MANT 0xC000000000000000ull
#define F80_DEFAULT_NAN_SE 0xFFFFu
#define SF_INT16_INDEFINITE ((int16_t)INT16_MIN)
#define SF_INT32_INDEFINITE ((int32_t)INT32_MIN)
#define SF_INT64_INDEFINITE ((int64_t)INT64_MIN)

static inline f80 f80_make(uint16_t sign_exp, uint64_t mant)
{
    f80 r = { mant, sign_exp };
    return r;
}

/* ---- SSE scalar arithmetic (first operand = first source, e.g. xmm1 of ADDSS xmm1, xmm2) ---- */
f32 f32_add(f32 a, f32 b, sf_status *st);
f32 f32_sub(f32 a, f32 b, sf_status *st);
f32 f32_mul(f32 a, f32 b, sf_status *st);
f32 f32_div(f32 a, f32 b, sf_status *st);
f32 f32_sqrt(f32 a, sf_status *st);
f64 f64_add(f64 a, f64 b, sf_status *st);
f64 f64_sub(f64 a, f64 b, sf_status *st);
f64 f64_mul(f64 a, f64 b, sf_status *st);
f64 f64_div(f64 a, f64 b, sf_status *st);
f64 f64_sqrt(f64 a, sf_status *st);

/* FMA3 scalar forms: form 132 = src1*src3 + src2, 213 = src2*src1 + src3, 231 = src2*src3 +
 * src1 (src1 is the destination); neg_mul negates the product (VFNM*), neg_add the addend
 * (VFM*SUB). One rounding; a NaN result is the first NaN of multiplicand, multiplier,
 * addend in the form's arithmetic order, quietened. */
f32 f32_fma(f32 src1, f32 src2, f32 src3, int form, bool neg_mul, bool neg_add, sf_status *st);
f64 f64_fma(f64 src1, f64 src2, f64 src3, int form, bool neg_mul, bool neg_add, sf_status *st);

/* COMISS/UCOMISS (signaling = COMIS*: IE on any NaN; quiet = UCOMIS*: IE on SNaN only). */
sf_cmp f32_compare(f32 a, f32 b, bool signaling, sf_status *st);
sf_cmp f64_compare(f64 a, f64 b, bool signaling, sf_status *st);
/* MINSS/MAXSS: b returned (unchanged, even an SNaN) if either is NaN or both are zero. */
f32 f32_min(f32 a, f32 b, sf_status *st);
f32 f32_max(f32 a, f32 b, sf_status *st);
f64 f64_min(f64 a, f64 b, sf_status *st);
f64 f64_max(f64 a, f64 b, sf_status *st);

/* ---- x87 arithmetic (PC and bias-adjusted unmasked OE/UE apply) ---- */
f80 f80_add(f80 a, f80 b, sf_status *st);
f80 f80_sub(f80 a, f80 b, sf_status *st);
f80 f80_mul(f80 a, f80 b, sf_status *st);
f80 f80_div(f80 a, f80 b, sf_status *st);
f80 f80_sqrt(f80 a, sf_status *st);
/* FCOM/FUCOM (signaling = FCOM: IE on any NaN; quiet = FUCOM: IE on SNaN). */
sf_cmp f80_compare(f80 a, f80 b, bool signaling, sf_status *st);

/* x87 arithmetic with a real memory operand (FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR/FCOM m32/m64):
 * the memory value enters the x87 rules as itself (an SNaN stays signaling, a denormal raises
 * DE in the operation's priority order), which converting it first would not preserve.
 * mem holds the f32 (mem_bits = 32) or f64 (64) encoding. */
typedef enum { SF_X87_ADD, SF_X87_SUB, SF_X87_SUBR, SF_X87_MUL, SF_X87_DIV, SF_X87_DIVR } sf_x87_op;
f80 f80_arith_mem(sf_x87_op op, f80 st0, uint64_t mem, int mem_bits, sf_status *st);
sf_cmp f80_compare_mem(f80 st0, uint64_t mem, int mem_bits, bool signaling, sf_status *st);

/* ---- Conversions between formats (SSE CVTSS2SD/CVTSD2SS; x87 FLD m32/m64, FST m32/m64) ---- */
f64 f32_to_f64(f32 a, sf_status *st);
f32 f64_to_f32(f64 a, sf_status *st);
f80 f32_to_f80(f32 a, sf_status *st);
f80 f64_to_f80(f64 a, sf_status *st);
f32 f80_to_f32(f80 a, sf_status *st);
f64 f80_to_f64(f80 a, sf_status *st);

/* ---- Integer conversions. Integer results saturate to the x86 "integer indefinite" with IE
 * on NaN/overflow; truncate = CVTT* / FISTTP, otherwise the current rounding mode. ---- */
f32 i32_to_f32(int32_t a, sf_status *st);
f32 i64_to_f32(int64_t a, sf_status *st);
f64 i32_to_f64(int32_t a, sf_status *st);
f64 i64_to_f64(int64_t a, sf_status *st);
f80 i64_to_f80(int64_t a); /* FILD: always exact */
int32_t f32_to_i32(f32 a, bool truncate, sf_status *st);
int64_t f32_to_i64(f32 a, bool truncate, sf_status *st);
int32_t f64_to_i32(f64 a, bool truncate, sf_status *st);
int64_t f64_to_i64(f64 a, bool truncate, sf_status *st);
int16_t f80_to_i16(f80 a, bool truncate, sf_status *st);
int32_t f80_to_i32(f80 a, bool truncate, sf_status *st);
int64_t f80_to_i64(f80 a, bool truncate, sf_status *st);

/* FBLD / FBSTP: 18-digit packed BCD, byte 9 bit 7 = sign. FBLD is exact (invalid digits give
 * whatever the digit arithmetic yields, the SDM leaves them undefined); FBSTP rounds with RC
 * and stores the BCD indefinite (FF FF C0 00..) with IE for NaN, infinity or |x| >= 10^18. */
f80 bcd_to_f80(const uint8_t bcd[10]);
void f80_to_bcd(f80 a, uint8_t bcd[10], sf_status *st);

/* ---- Round to integral ---- */
/* ROUNDSS/ROUNDSD imm8: bits 1:0 rounding, bit 2 use MXCSR.RC, bit 3 suppress PE. */
f32 f32_round_int(f32 a, uint8_t imm, sf_status *st);
f64 f64_round_int(f64 a, uint8_t imm, sf_status *st);
f80 f80_round_int(f80 a, sf_status *st); /* FRNDINT */

/* ---- x87 specials ---- */
/* FXTRACT: *exponent gets the unbiased exponent as a value, *significand the value scaled to
 * [1,2). ZE (and -inf exponent) for a zero operand. */
void f80_fxtract(f80 a, f80 *exponent, f80 *significand, sf_status *st);
f80 f80_fscale(f80 a, f80 b, sf_status *st); /* ST0 * 2^trunc(ST1) */
/* FPREM (ieee=false, quotient truncated) / FPREM1 (ieee=true, quotient rounded to nearest).
 * *fsw_cc receives C0/C1/C2/C3 in FSW positions (bits 8, 9, 10, 14) for the caller to merge
 * (use it, not st->c1); after a NaN result or IE they are undefined (returned as 0). */
f80 f80_fprem(f80 a, f80 b, bool ieee, uint16_t *fsw_cc, sf_status *st);

/* FLD1/FLDL2T/FLDL2E/FLDPI/FLDLG2/FLDLN2/FLDZ: the constant rounded with the current RC
 * (SDM Vol 1 8.3.4), without raising PE. */
enum { SF_CONST_ONE, SF_CONST_L2T, SF_CONST_L2E, SF_CONST_PI, SF_CONST_LG2, SF_CONST_LN2,
       SF_CONST_ZERO };
f80 f80_load_const(int which, const sf_status *st);

/* FXAM classes in FSW C3/C2/C0 encoding (C3 = bit 2, C2 = bit 1, C0 = bit 0 of this value). */
enum {
    SF_CLASS_UNSUPPORTED = 0, SF_CLASS_NAN = 1, SF_CLASS_NORMAL = 2, SF_CLASS_INFINITY = 3,
    SF_CLASS_ZERO = 4, SF_CLASS_EMPTY = 5, SF_CLASS_DENORMAL = 6
};
int f80_classify(f80 a); /* never returns SF_CLASS_EMPTY: tags are the caller's business */
bool f80_is_nan(f80 a);
bool f80_is_signaling_nan(f80 a);
bool f80_is_unsupported(f80 a);
bool f32_is_nan(f32 a);
bool f64_is_nan(f64 a);

/* ---- x87 transcendentals (see trans.c for the method and the measured error bound). ---- */
f80 f80_sin(f80 a, bool *out_of_range, sf_status *st);  /* out_of_range -> C2, a unchanged */
f80 f80_cos(f80 a, bool *out_of_range, sf_status *st);
f80 f80_tan(f80 a, bool *out_of_range, sf_status *st);  /* FPTAN's ST0 before it pushes 1.0 */
f80 f80_atan2(f80 y, f80 x, sf_status *st);             /* FPATAN: atan(ST1/ST0), y = ST1 */
f80 f80_f2xm1(f80 a, sf_status *st);
f80 f80_fyl2x(f80 x, f80 y, sf_status *st);             /* y * log2(x), x = ST0, y = ST1 */
f80 f80_fyl2xp1(f80 x, f80 y, sf_status *st);           /* y * log2(x + 1) */

#endif
