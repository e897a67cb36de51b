/* Private to src/cpu/fpu: 128-bit integer helpers, the unpacked value form, format descriptors. */
#ifndef HVEMU_CPU_FPU_SF_INTERNAL_H
#define HVEMU_CPU_FPU_SF_INTERNAL_H

#include "cpu/fpu/softfloat.h"

/* ---- 128-bit unsigned integers, portable (no host __int128 needed for correctness). ---- */
typedef struct u128 {
    uint64_t hi, lo;
} u128;

static inline u128 u128_make(uint64_t hi, uint64_t lo)
{
    u128 r = { hi, lo };
    return r;
}
static inline bool u128_is_zero(u128 a) { return (a.hi | a.lo) == 0; }
static inline bool u128_lt(u128 a, u128 b) { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo); }
static inline bool u128_eq(u128 a, u128 b) { return a.hi == b.hi && a.lo == b.lo; }
static inline u128 u128_add(u128 a, u128 b)
{
    u128 r = { a.hi + b.hi, a.lo + b.lo };
    r.hi += r.lo < a.lo;
    return r;
}
static inline u128 u128_sub(u128 a, u128 b)
{
    u128 r = { a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo };
    return r;
}
static inline u128 u128_shl(u128 a, int n)
{
    if (n <= 0)
        return a;
    if (n >= 128)
        return u128_make(0, 0);
    if (n >= 64)
        return u128_make(a.lo << (n - 64), 0);
    return u128_make((a.hi << n) | (a.lo >> (64 - n)), a.lo << n);
}
static inline u128 u128_shr(u128 a, int n)
{
    if (n <= 0)
        return a;
    if (n >= 128)
        return u128_make(0, 0);
    if (n >= 64)
        return u128_make(0, a.hi >> (n - 64));
    return u128_make(a.hi >> n, (a.lo >> n) | (a.hi << (64 - n)));
}
/* Shift right, ORing every bit shifted out into bit 0 ("sticky"), so rounding stays exact. */
static inline u128 u128_shr_jam(u128 a, int n)
{
    if (n <= 0)
        return a;
    if (n >= 128)
        return u128_make(0, !u128_is_zero(a));
    u128 r = u128_shr(a, n);
    bool lost = !u128_eq(u128_shl(r, n), a);
    r.lo |= lost;
    return r;
}
static inline int clz64(uint64_t x)
{
    int n = 0;
    if (x == 0)
        return 64;
#if defined(__GNUC__)
    n = __builtin_clzll(x);
#else
    while (!(x & 0x8000000000000000ull)) {
        x <<= 1;
        n++;
    }
#endif
    return n;
}
static inline int clz128(u128 a) { return a.hi ? clz64(a.hi) : 64 + clz64(a.lo); }
u128 mul64x64(uint64_t a, uint64_t b);
/* (hi:lo) / d with hi < d; returns the quotient, *rem the remainder. */
uint64_t div128by64(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem);

/* ---- Formats ---- */
typedef enum { SF_F32, SF_F64, SF_F80 } sf_kind;

typedef struct sf_fmt {
    sf_kind kind;
    int storage_bits; /* significand bits incl. the (implicit or explicit) integer bit */
    int emin, emax;   /* unbiased exponent range of normals */
    int bias;
} sf_fmt;

extern const sf_fmt sf_fmt_f32, sf_fmt_f64, sf_fmt_f80;

/* ---- Unpacked values: value = (-1)^sign * sig/2^63 * 2^exp, sig normalised (bit 63 set). ---- */
typedef enum { CLS_ZERO, CLS_FINITE, CLS_INF, CLS_QNAN, CLS_SNAN, CLS_UNSUPPORTED } sf_cls;

typedef struct sf_val {
    sf_cls cls;
    bool sign;
    bool denormal; /* encoded as a denormal (or x87 pseudo-denormal): raises DE when used */
    int32_t exp;
    uint64_t sig; /* NaN: the payload in f80 layout (integer bit set, quiet bit 62) */
} sf_val;

/* Packed result of any format: f32/f64 in .mant, f80 in both fields. */
typedef f80 sf_bits;

sf_val sf_unpack(const sf_fmt *fmt, sf_bits bits);
sf_bits sf_pack_special(const sf_fmt *fmt, const sf_val *v); /* zero, inf, NaN (kept payload) */
sf_bits sf_default_nan(const sf_fmt *fmt);
sf_bits sf_inf(const sf_fmt *fmt, bool sign);
sf_bits sf_zero(const sf_fmt *fmt, bool sign);

static inline bool sf_is_nan(const sf_val *v) { return v->cls == CLS_QNAN || v->cls == CLS_SNAN; }

/* An unmasked IE, DE or ZE stops the instruction before its result is computed (SDM Vol 1
 * 4.9.2, 11.5.1): no OE/UE/PE follow. Relies on flags being cleared per instruction. */
static inline bool sf_pre_trapped(const sf_status *st)
{
    return (st->flags & ~st->masks & (SF_IE | SF_DE | SF_ZE)) != 0;
}

/* Raise DE for an operand encoded as a denormal. */
void sf_note_denormal(const sf_val *v, sf_status *st);

/* Unpack an operand as an operation sees it: SSE DAZ turns denormals into zeros of the same
 * sign without DE (SDM Vol 1 10.2.3.4). */
static inline sf_val sf_operand(const sf_fmt *fmt, sf_bits bits, const sf_status *st)
{
    sf_val v = sf_unpack(fmt, bits);
    if (st->daz && v.denormal && fmt->kind != SF_F80) {
        v.cls = CLS_ZERO;
        v.denormal = false;
    }
    return v;
}

/*
 * Round (sign, exp, sig128) — value = sig/2^127 * 2^exp with sig bit 127 set — to the format
 * and precision (prec_bits <= fmt->storage_bits), applying the rounding mode, overflow and
 * underflow responses, FTZ and x87 bias adjustment, and pack it.
 */
sf_bits sf_round_pack(const sf_fmt *fmt, int prec_bits, sf_status *st, bool sign, int32_t exp,
                      u128 sig);
/* The working precision of an arithmetic result in this format (x87 PC for f80). */
int sf_arith_prec(const sf_fmt *fmt, const sf_status *st);

/* NaN results of a one- or two-operand operation (flags IE for SNaN inputs). */
sf_bits sf_propagate_nan1(const sf_fmt *fmt, const sf_val *a, sf_status *st);
sf_bits sf_propagate_nan2(const sf_fmt *fmt, const sf_val *a, const sf_val *b, sf_status *st);
sf_bits sf_invalid(const sf_fmt *fmt, sf_status *st);

/* Generic arithmetic on unpacked operands (special cases, flags, rounding). */
sf_bits sf_add(const sf_fmt *fmt, sf_bits a, sf_bits b, bool negate_b, sf_status *st);
sf_bits sf_mul(const sf_fmt *fmt, sf_bits a, sf_bits b, sf_status *st);
sf_bits sf_div(const sf_fmt *fmt, sf_bits a, sf_bits b, sf_status *st);
sf_bits sf_sqrt(const sf_fmt *fmt, sf_bits a, sf_status *st);
sf_cmp sf_compare(const sf_fmt *fmt, sf_bits a, sf_bits b, bool signaling, sf_status *st);
/* The same on operands already unpacked (possibly from different formats: x87 m32/m64). */
sf_bits sf_add_v(const sf_fmt *fmt, sf_val a, sf_val b, bool negate_b, sf_status *st);
sf_bits sf_mul_v(const sf_fmt *fmt, sf_val a, sf_val b, sf_status *st);
sf_bits sf_div_v(const sf_fmt *fmt, sf_val a, sf_val b, sf_status *st);
sf_cmp sf_compare_v(sf_val a, sf_val b, bool signaling, sf_status *st);
sf_bits sf_convert(const sf_fmt *to, const sf_fmt *from, sf_bits a, sf_status *st);
sf_bits sf_from_int(const sf_fmt *fmt, int64_t a, sf_status *st);
int64_t sf_to_int(const sf_fmt *fmt, sf_bits a, int bits, bool truncate, sf_status *st);
sf_bits sf_round_int(const sf_fmt *fmt, sf_bits a, int rounding, bool suppress_pe,
                     sf_status *st);

static inline sf_bits bits_of_f32(f32 a) { return f80_make(0, a); }
static inline sf_bits bits_of_f64(f64 a) { return f80_make(0, a); }

#endif
