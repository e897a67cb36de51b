/* Shared by the softfloat tests: seeded operand generators and soft-side op wrappers. */
#ifndef HVEMU_TEST_SOFTFLOAT_GEN_H
#define HVEMU_TEST_SOFTFLOAT_GEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/fpu/softfloat.h"

typedef struct sfgen {
    uint64_t s;
} sfgen;

static inline uint64_t sfgen_next(sfgen *g)
{
    /* splitmix64: tiny, seedable, good enough to spread test cases. */
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t sfgen_below(sfgen *g, uint64_t n) { return sfgen_next(g) % n; }

/* HVEMU_SF_SEED selects the run; the default is fixed so failures reproduce. */
static inline uint64_t sfgen_seed(void)
{
    const char *e = getenv("HVEMU_SF_SEED");
    return e ? strtoull(e, NULL, 0) : 0x5EEDull;
}

/* A significand of `bits` bits (top bit = integer bit) with a shape that provokes rounding
 * corner cases: random, runs of ones/zeros, few bits set, halfway-looking tails. */
static inline uint64_t sfgen_mant(sfgen *g, int bits)
{
    uint64_t mask = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
    uint64_t r = sfgen_next(g), m;
    switch (sfgen_below(g, 8)) {
    case 0: m = UINT64_MAX << sfgen_below(g, 64); break;           /* ones then zeros */
    case 1: m = UINT64_MAX >> sfgen_below(g, 64); break;           /* zeros then ones */
    case 2: m = (1ull << sfgen_below(g, 64)) | (1ull << sfgen_below(g, 64)); break;
    case 3: m = r & (UINT64_MAX << sfgen_below(g, 64)); break;     /* short significand */
    case 4: m = r | (UINT64_MAX >> sfgen_below(g, 64)); break;
    default: m = r; break;
    }
    return m & mask;
}

/* Biased exponent for a format with `ebits` exponent bits: mostly near the middle, often at
 * the denormal/overflow edges, sometimes uniform. */
static inline uint32_t sfgen_exp(sfgen *g, int ebits)
{
    uint32_t max = (1u << ebits) - 1, bias = max >> 1;
    uint32_t w = (uint32_t)(ebits == 8 ? 30 : ebits == 11 ? 70 : 90);
    switch (sfgen_below(g, 8)) {
    case 0: return (uint32_t)sfgen_below(g, w);                          /* tiny */
    case 1: return max - (uint32_t)sfgen_below(g, w);                    /* huge / special */
    case 2: return (uint32_t)sfgen_below(g, max + 1);
    case 3: return bias / 2 + (uint32_t)sfgen_below(g, w) - w / 2;          /* sqrt-able tiny */
    case 4: return bias + bias / 2 + (uint32_t)sfgen_below(g, w) - w / 2;
    default: return bias + (uint32_t)sfgen_below(g, 2 * w) - w;
    }
}

/* Special encodings, picked 1 time in 16: zeros, infinities, NaNs, denormal and normal edges. */
static const uint32_t sfgen_special32[] = { 0, 0x7F800000, 0x7FC00000, 0x7FA00000, 0x00000001,
                                            0x007FFFFF, 0x00800000, 0x7F7FFFFF, 0x3F800000,
                                            0x7FFFFFFF, 0x00400000, 0x4F000000 };
static const uint64_t sfgen_special64[] = { 0, 0x7FF0000000000000ull, 0x7FF8000000000000ull,
                                            0x7FF4000000000000ull, 1, 0x000FFFFFFFFFFFFFull,
                                            0x0010000000000000ull, 0x7FEFFFFFFFFFFFFFull,
                                            0x3FF0000000000000ull, 0x43E0000000000000ull,
                                            0x41E0000000000000ull, 0x3FE0000000000000ull };
static const f80 sfgen_special80[] = {
    { 0, 0 },
    { 0x8000000000000000ull, 0x7FFF },
    { 0xC000000000000000ull, 0x7FFF },
    { 0xA000000000000000ull, 0x7FFF },
    { 1, 0 },
    { 0x7FFFFFFFFFFFFFFFull, 0 },
    { 0x8000000000000000ull, 1 },
    { UINT64_MAX, 0x7FFE },
    { 0x8000000000000000ull, 0x3FFF },
    { 0x8000000000000000ull, 0 },
    { 0x8000000000000000ull, 0x403E },
    { 0xFFFFFFFFFFFFFFFFull, 0x3FFE },
};

static inline f32 sfgen_f32(sfgen *g)
{
    if (sfgen_below(g, 16) == 0)
        return sfgen_special32[sfgen_below(g, 12)] | (uint32_t)(sfgen_below(g, 2) << 31);
    return (uint32_t)(sfgen_below(g, 2) << 31) | (sfgen_exp(g, 8) << 23) |
           (uint32_t)sfgen_mant(g, 23);
}

static inline f64 sfgen_f64(sfgen *g)
{
    if (sfgen_below(g, 16) == 0)
        return sfgen_special64[sfgen_below(g, 12)] | (sfgen_below(g, 2) << 63);
    return (sfgen_below(g, 2) << 63) | ((uint64_t)sfgen_exp(g, 11) << 52) | sfgen_mant(g, 52);
}

/* f80 operands: the integer bit follows the exponent except for rare unsupported encodings. */
static inline f80 sfgen_f80(sfgen *g)
{
    if (sfgen_below(g, 16) == 0) {
        f80 v = sfgen_special80[sfgen_below(g, 12)];
        v.sign_exp = (uint16_t)(v.sign_exp | (sfgen_below(g, 2) << 15));
        return v;
    }
    uint32_t e = sfgen_exp(g, 15);
    uint64_t m = sfgen_mant(g, 63);
    bool ibit = e != 0;
    if (sfgen_below(g, 64) == 0)
        ibit = !ibit; /* pseudo-denormal, unnormal, pseudo-NaN/infinity */
    m |= (uint64_t)ibit << 63;
    return f80_make((uint16_t)((sfgen_below(g, 2) << 15) | e), m);
}

/* A second operand related to the first: same or adjacent exponent (cancellation, ties). */
static inline uint64_t sfgen_near(sfgen *g, uint64_t a, int frac_bits)
{
    uint64_t r = a;
    switch (sfgen_below(g, 4)) {
    case 0: r ^= sfgen_below(g, 16); break;
    case 1: r += (uint64_t)(int64_t)(sfgen_below(g, 5) - 2) << frac_bits; break;
    case 2: r ^= 1ull << sfgen_below(g, (uint64_t)frac_bits); break;
    default: r = (r & ~((1ull << frac_bits) - 1)) | sfgen_mant(g, frac_bits); break;
    }
    return r;
}

/* ---- x87 op results: ST0 (and FXTRACT's exponent), integer/memory result, FSW ---- */
#define FSW_C0 0x0100
#define FSW_C1 0x0200
#define FSW_C2 0x0400
#define FSW_C3 0x4000

typedef struct x87_res {
    f80 r[2];
    uint64_t i;
    uint16_t sw;
} x87_res;

/* ---- soft side of every SSE op: same signature as the host wrappers ---- */
static inline uint64_t s_addss(uint64_t a, uint64_t b, sf_status *st)
{
    return f32_add((f32)a, (f32)b, st);
}
static inline uint64_t s_subss(uint64_t a, uint64_t b, sf_status *st)
{
    return f32_sub((f32)a, (f32)b, st);
}
static inline uint64_t s_mulss(uint64_t a, uint64_t b, sf_status *st)
{
    return f32_mul((f32)a, (f32)b, st);
}
static inline uint64_t s_divss(uint64_t a, uint64_t b, sf_status *st)
{
    return f32_div((f32)a, (f32)b, st);
}
static inline uint64_t s_sqrtss(uint64_t a, uint64_t b, sf_status *st)
{
    return f32_sqrt((f32)b, st);
}
static inline uint64_t s_minss(uint64_t a, uint64_t b, sf_status *st)
{
    return f32_min((f32)a, (f32)b, st);
}
static inline uint64_t s_maxss(uint64_t a, uint64_t b, sf_status *st)
{
    return f32_max((f32)a, (f32)b, st);
}
static inline uint64_t s_addsd(uint64_t a, uint64_t b, sf_status *st) { return f64_add(a, b, st); }
static inline uint64_t s_subsd(uint64_t a, uint64_t b, sf_status *st) { return f64_sub(a, b, st); }
static inline uint64_t s_mulsd(uint64_t a, uint64_t b, sf_status *st) { return f64_mul(a, b, st); }
static inline uint64_t s_divsd(uint64_t a, uint64_t b, sf_status *st) { return f64_div(a, b, st); }
static inline uint64_t s_sqrtsd(uint64_t a, uint64_t b, sf_status *st) { return f64_sqrt(b, st); }
static inline uint64_t s_minsd(uint64_t a, uint64_t b, sf_status *st) { return f64_min(a, b, st); }
static inline uint64_t s_maxsd(uint64_t a, uint64_t b, sf_status *st) { return f64_max(a, b, st); }
static inline uint64_t s_cvtss2sd(uint64_t a, uint64_t b, sf_status *st)
{
    return f32_to_f64((f32)a, st);
}
static inline uint64_t s_cvtsd2ss(uint64_t a, uint64_t b, sf_status *st)
{
    return f64_to_f32(a, st);
}
static inline uint64_t s_cvtsi2ss32(uint64_t a, uint64_t b, sf_status *st)
{
    return i32_to_f32((int32_t)a, st);
}
static inline uint64_t s_cvtsi2ss64(uint64_t a, uint64_t b, sf_status *st)
{
    return i64_to_f32((int64_t)a, st);
}
static inline uint64_t s_cvtsi2sd32(uint64_t a, uint64_t b, sf_status *st)
{
    return i32_to_f64((int32_t)a, st);
}
static inline uint64_t s_cvtsi2sd64(uint64_t a, uint64_t b, sf_status *st)
{
    return i64_to_f64((int64_t)a, st);
}
#define S_F2I(name, call)                                                                          \
    static inline uint64_t s_##name(uint64_t a, uint64_t b, sf_status *st)                         \
    {                                                                                              \
        return (uint64_t)(int64_t)(call);                                                          \
    }
S_F2I(cvtss2si32, f32_to_i32((f32)a, false, st))
S_F2I(cvtss2si64, f32_to_i64((f32)a, false, st))
S_F2I(cvttss2si32, f32_to_i32((f32)a, true, st))
S_F2I(cvttss2si64, f32_to_i64((f32)a, true, st))
S_F2I(cvtsd2si32, f64_to_i32(a, false, st))
S_F2I(cvtsd2si64, f64_to_i64(a, false, st))
S_F2I(cvttsd2si32, f64_to_i32(a, true, st))
S_F2I(cvttsd2si64, f64_to_i64(a, true, st))
static inline uint64_t s_comiss(uint64_t a, uint64_t b, sf_status *st)
{
    return f32_compare((f32)a, (f32)b, true, st);
}
static inline uint64_t s_ucomiss(uint64_t a, uint64_t b, sf_status *st)
{
    return f32_compare((f32)a, (f32)b, false, st);
}
static inline uint64_t s_comisd(uint64_t a, uint64_t b, sf_status *st)
{
    return f64_compare(a, b, true, st);
}
static inline uint64_t s_ucomisd(uint64_t a, uint64_t b, sf_status *st)
{
    return f64_compare(a, b, false, st);
}
static inline uint64_t s_roundss(uint64_t a, uint64_t b, sf_status *st)
{
    return f32_round_int((f32)a, (uint8_t)(b & 15), st);
}
static inline uint64_t s_roundsd(uint64_t a, uint64_t b, sf_status *st)
{
    return f64_round_int(a, (uint8_t)(b & 15), st);
}

/* ---- soft side of every x87 op ---- */
static inline void s_fadd(f80 a, f80 b, sf_status *st, x87_res *o) { o->r[0] = f80_add(a, b, st); }
static inline void s_fsub(f80 a, f80 b, sf_status *st, x87_res *o) { o->r[0] = f80_sub(a, b, st); }
static inline void s_fmul(f80 a, f80 b, sf_status *st, x87_res *o) { o->r[0] = f80_mul(a, b, st); }
static inline void s_fdiv(f80 a, f80 b, sf_status *st, x87_res *o) { o->r[0] = f80_div(a, b, st); }
static inline void s_fsqrt(f80 a, f80 b, sf_status *st, x87_res *o) { o->r[0] = f80_sqrt(a, st); }
static inline void s_frndint(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_round_int(a, st);
}
static inline void s_fscale(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_fscale(a, b, st);
}
static inline void s_fprem(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_fprem(a, b, false, &o->sw, st);
}
static inline void s_fprem1(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_fprem(a, b, true, &o->sw, st);
}
static inline uint16_t cmp_cc(sf_cmp c)
{
    static const uint16_t cc[] = { FSW_C0, FSW_C3, 0, FSW_C0 | FSW_C2 | FSW_C3 };
    return cc[c];
}
static inline void s_fcom(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = a;
    o->sw = cmp_cc(f80_compare(a, b, true, st));
}
static inline void s_fucom(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = a;
    o->sw = cmp_cc(f80_compare(a, b, false, st));
}
static inline void s_fxtract(f80 a, f80 b, sf_status *st, x87_res *o)
{
    f80_fxtract(a, &o->r[1], &o->r[0], st);
}
static inline void s_fist16(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->i = (uint64_t)(int64_t)f80_to_i16(a, false, st);
}
static inline void s_fist32(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->i = (uint64_t)(int64_t)f80_to_i32(a, false, st);
}
static inline void s_fist64(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->i = (uint64_t)f80_to_i64(a, false, st);
}
static inline void s_fisttp16(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->i = (uint64_t)(int64_t)f80_to_i16(a, true, st);
}
static inline void s_fisttp32(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->i = (uint64_t)(int64_t)f80_to_i32(a, true, st);
}
static inline void s_fisttp64(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->i = (uint64_t)f80_to_i64(a, true, st);
}
static inline void s_fst32(f80 a, f80 b, sf_status *st, x87_res *o) { o->i = f80_to_f32(a, st); }
static inline void s_fst64(f80 a, f80 b, sf_status *st, x87_res *o) { o->i = f80_to_f64(a, st); }
#define S_MEM(name, op, bits)                                                                     \
    static inline void s_##name(f80 a, f80 b, sf_status *st, x87_res *o)                         \
    {                                                                                           \
        o->r[0] = f80_arith_mem(op, a, b.mant, bits, st);                                       \
    }
S_MEM(fadd_m32, SF_X87_ADD, 32)
S_MEM(fsub_m32, SF_X87_SUB, 32)
S_MEM(fsubr_m32, SF_X87_SUBR, 32)
S_MEM(fmul_m32, SF_X87_MUL, 32)
S_MEM(fdiv_m32, SF_X87_DIV, 32)
S_MEM(fdivr_m32, SF_X87_DIVR, 32)
S_MEM(fadd_m64, SF_X87_ADD, 64)
S_MEM(fsub_m64, SF_X87_SUB, 64)
S_MEM(fsubr_m64, SF_X87_SUBR, 64)
S_MEM(fmul_m64, SF_X87_MUL, 64)
S_MEM(fdiv_m64, SF_X87_DIV, 64)
S_MEM(fdivr_m64, SF_X87_DIVR, 64)
static inline void s_fcom_m32(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = a;
    o->sw = cmp_cc(f80_compare_mem(a, b.mant, 32, true, st));
}
static inline void s_fcom_m64(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = a;
    o->sw = cmp_cc(f80_compare_mem(a, b.mant, 64, true, st));
}
static inline void s_fbstp(f80 a, f80 b, sf_status *st, x87_res *o)
{
    uint8_t v[10];
    f80_to_bcd(a, v, st);
    memcpy(&o->r[0].mant, v, 8);
    memcpy(&o->r[0].sign_exp, v + 8, 2);
}
static inline void s_fbld(f80 a, f80 b, sf_status *st, x87_res *o)
{
    uint8_t v[10];
    memcpy(v, &a.mant, 8);
    memcpy(v + 8, &a.sign_exp, 2);
    o->r[0] = bcd_to_f80(v);
}
static inline void s_fld1(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_load_const(SF_CONST_ONE, st);
}
static inline void s_fldl2t(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_load_const(SF_CONST_L2T, st);
}
static inline void s_fldl2e(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_load_const(SF_CONST_L2E, st);
}
static inline void s_fldpi(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_load_const(SF_CONST_PI, st);
}
static inline void s_fldlg2(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_load_const(SF_CONST_LG2, st);
}
static inline void s_fldln2(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_load_const(SF_CONST_LN2, st);
}
static inline void s_fldz(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_load_const(SF_CONST_ZERO, st);
}
static inline void s_fld32(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f32_to_f80((f32)a.mant, st);
}
static inline void s_fld64(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f64_to_f80(a.mant, st);
}

/* Transcendentals: FSIN/FCOS/FPTAN report C2 (operand out of range) in sw. */
static inline void s_fsin(f80 a, f80 b, sf_status *st, x87_res *o)
{
    bool oor;
    o->r[0] = f80_sin(a, &oor, st);
    o->sw = oor ? FSW_C2 : 0;
}
static inline void s_fcos(f80 a, f80 b, sf_status *st, x87_res *o)
{
    bool oor;
    o->r[0] = f80_cos(a, &oor, st);
    o->sw = oor ? FSW_C2 : 0;
}
static inline void s_fptan(f80 a, f80 b, sf_status *st, x87_res *o)
{
    bool oor;
    o->r[0] = f80_tan(a, &oor, st);
    o->sw = oor ? FSW_C2 : 0;
}
static inline void s_f2xm1(f80 a, f80 b, sf_status *st, x87_res *o) { o->r[0] = f80_f2xm1(a, st); }
static inline void s_fpatan(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_atan2(b, a, st);
}
static inline void s_fyl2x(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_fyl2x(a, b, st);
}
static inline void s_fyl2xp1(f80 a, f80 b, sf_status *st, x87_res *o)
{
    o->r[0] = f80_fyl2xp1(a, b, st);
}

#endif
