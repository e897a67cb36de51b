/* Conversions between f32/f64/f80, to and from integers, and rounding to integral values. */
#include "cpu/fpu/sf_internal.h"

sf_bits sf_convert(const sf_fmt *to, const sf_fmt *from, sf_bits abits, sf_status *st)
{
    sf_val a = sf_operand(from, abits, st);
    if (a.cls == CLS_UNSUPPORTED)
        return sf_invalid(to, st);
    if (sf_is_nan(&a))
        return sf_propagate_nan1(to, &a, st);
    if (from->kind != SF_F80) /* FST/FSTP m32/m64 list no #D; loads and CVTS*2S* do */
        sf_note_denormal(&a, st);
    if (a.cls != CLS_FINITE)
        return sf_pack_special(to, &a);
    return sf_round_pack(to, to->storage_bits, st, a.sign, a.exp, u128_make(a.sig, 0));
}

sf_bits sf_from_int(const sf_fmt *fmt, int64_t a, sf_status *st)
{
    if (a == 0)
        return sf_zero(fmt, false);
    bool sign = a < 0;
    uint64_t mag = sign ? 0 - (uint64_t)a : (uint64_t)a;
    int sh = clz64(mag);
    return sf_round_pack(fmt, fmt->storage_bits, st, sign, 63 - sh, u128_make(mag << sh, 0));
}

/* Round a finite value to an integer magnitude, reporting inexactness and round-up.
 * Returns false if the magnitude does not fit in 64 bits. */
static bool to_integer(const sf_val *a, int rnd, uint64_t *mag, bool *inexact, bool *inc)
{
    if (a->exp >= 64)
        return false;
    u128 sig = u128_make(a->sig, 0);
    int k = a->exp + 1; /* integer bits of the significand */
    uint64_t q = 0;
    bool half, sticky;
    if (k >= 1) {
        q = k == 64 ? sig.hi : sig.hi >> (64 - k);
        u128 rest = u128_shl(sig, k);
        half = rest.hi >> 63;
        sticky = ((rest.hi << 1) | rest.lo) != 0;
    } else {
        half = k == 0;
        sticky = k == 0 ? (a->sig << 1) != 0 : true;
    }
    *inexact = half || sticky;
    switch (rnd) {
    case SF_RND_NEAREST: *inc = half && (sticky || (q & 1)); break;
    case SF_RND_UP: *inc = !a->sign && *inexact; break;
    case SF_RND_DOWN: *inc = a->sign && *inexact; break;
    default: *inc = false; break;
    }
    if (*inc) {
        if (q == UINT64_MAX)
            return false;
        q++;
    }
    *mag = q;
    return true;
}

int64_t sf_to_int(const sf_fmt *fmt, sf_bits abits, int bits, bool truncate, sf_status *st)
{
    /* CVT*2SI and FIST raise no DE (SDM: their exception lists have none). */
    sf_val a = sf_operand(fmt, abits, st);
    int64_t indefinite = (int64_t)(UINT64_MAX << (bits - 1));
    uint64_t mag;
    bool inexact, inc;
    if (a.cls == CLS_ZERO)
        return 0;
    if (a.cls != CLS_FINITE ||
        !to_integer(&a, truncate ? SF_RND_ZERO : st->rounding, &mag, &inexact, &inc)) {
        st->flags |= SF_IE;
        return indefinite;
    }
    uint64_t limit = (1ull << (bits - 1)) - (a.sign ? 0 : 1);
    if (mag > limit) {
        st->flags |= SF_IE;
        return indefinite;
    }
    if (inexact)
        st->flags |= SF_PE;
    st->c1 = inc;
    return a.sign ? (int64_t)(0 - mag) : (int64_t)mag;
}

sf_bits sf_round_int(const sf_fmt *fmt, sf_bits abits, int rnd, bool suppress_pe, sf_status *st)
{
    sf_val a = sf_operand(fmt, abits, st);
    uint64_t mag;
    bool inexact, inc;
    if (a.cls == CLS_UNSUPPORTED)
        return sf_invalid(fmt, st);
    if (sf_is_nan(&a))
        return sf_propagate_nan1(fmt, &a, st);
    if (fmt->kind == SF_F80) /* FRNDINT lists #D; ROUNDSS/SD do not */
        sf_note_denormal(&a, st);
    if (a.cls != CLS_FINITE)
        return sf_pack_special(fmt, &a);
    if (a.exp >= fmt->storage_bits - 1)
        return sf_round_pack(fmt, fmt->storage_bits, st, a.sign, a.exp, u128_make(a.sig, 0));
    to_integer(&a, rnd, &mag, &inexact, &inc);
    if (inexact && !suppress_pe && !sf_pre_trapped(st))
        st->flags |= SF_PE;
    sf_bits r = sf_zero(fmt, a.sign);
    if (mag != 0) {
        int sh = clz64(mag);
        r = sf_round_pack(fmt, fmt->storage_bits, st, a.sign, 63 - sh, u128_make(mag << sh, 0));
    }
    st->c1 = inc;
    return r;
}

f80 bcd_to_f80(const uint8_t bcd[10])
{
    uint64_t v = 0;
    for (int i = 8; i >= 0; i--)
        v = v * 100 + (uint64_t)(bcd[i] >> 4) * 10 + (bcd[i] & 15);
    sf_status st = sf_status_default();
    bool sign = bcd[9] >> 7;
    if (v == 0)
        return sf_zero(&sf_fmt_f80, sign);
    int sh = clz64(v);
    return sf_round_pack(&sf_fmt_f80, 64, &st, sign, 63 - sh, u128_make(v << sh, 0));
}

void f80_to_bcd(f80 abits, uint8_t bcd[10], sf_status *st)
{
    static const uint64_t bcd_limit = 999999999999999999ull;
    sf_val a = sf_unpack(&sf_fmt_f80, abits);
    uint64_t mag = 0;
    bool inexact = false, inc = false;
    for (int i = 0; i < 10; i++)
        bcd[i] = 0;
    if (a.cls == CLS_FINITE) { /* FBSTP lists no #D */
        if (!to_integer(&a, st->rounding, &mag, &inexact, &inc) || mag > bcd_limit)
            a.cls = CLS_UNSUPPORTED; /* out of range: invalid like a NaN */
    }
    if (a.cls != CLS_FINITE && a.cls != CLS_ZERO) {
        st->flags |= SF_IE;
        bcd[9] = bcd[8] = 0xFF;
        bcd[7] = 0xC0;
        return;
    }
    if (inexact && !sf_pre_trapped(st))
        st->flags |= SF_PE;
    st->c1 = inc;
    for (int i = 0; i < 9; i++) {
        uint64_t two = mag % 100;
        mag /= 100;
        bcd[i] = (uint8_t)(((two / 10) << 4) | (two % 10));
    }
    bcd[9] = (uint8_t)(a.sign ? 0x80 : 0);
}

/* ---- Public wrappers ---- */
#define F32B(x) bits_of_f32(x)
#define F64B(x) bits_of_f64(x)

f64 f32_to_f64(f32 a, sf_status *st)
{
    return sf_convert(&sf_fmt_f64, &sf_fmt_f32, F32B(a), st).mant;
}
f32 f64_to_f32(f64 a, sf_status *st)
{
    return (f32)sf_convert(&sf_fmt_f32, &sf_fmt_f64, F64B(a), st).mant;
}
f80 f32_to_f80(f32 a, sf_status *st) { return sf_convert(&sf_fmt_f80, &sf_fmt_f32, F32B(a), st); }
f80 f64_to_f80(f64 a, sf_status *st) { return sf_convert(&sf_fmt_f80, &sf_fmt_f64, F64B(a), st); }
f32 f80_to_f32(f80 a, sf_status *st)
{
    return (f32)sf_convert(&sf_fmt_f32, &sf_fmt_f80, a, st).mant;
}
f64 f80_to_f64(f80 a, sf_status *st) { return sf_convert(&sf_fmt_f64, &sf_fmt_f80, a, st).mant; }

f32 i32_to_f32(int32_t a, sf_status *st) { return (f32)sf_from_int(&sf_fmt_f32, a, st).mant; }
f32 i64_to_f32(int64_t a, sf_status *st) { return (f32)sf_from_int(&sf_fmt_f32, a, st).mant; }
f64 i32_to_f64(int32_t a, sf_status *st) { return sf_from_int(&sf_fmt_f64, a, st).mant; }
f64 i64_to_f64(int64_t a, sf_status *st) { return sf_from_int(&sf_fmt_f64, a, st).mant; }
f80 i64_to_f80(int64_t a)
{
    sf_status st = sf_status_default();
    return sf_from_int(&sf_fmt_f80, a, &st);
}

int32_t f32_to_i32(f32 a, bool truncate, sf_status *st)
{
    return (int32_t)sf_to_int(&sf_fmt_f32, F32B(a), 32, truncate, st);
}
int64_t f32_to_i64(f32 a, bool truncate, sf_status *st)
{
    return sf_to_int(&sf_fmt_f32, F32B(a), 64, truncate, st);
}
int32_t f64_to_i32(f64 a, bool truncate, sf_status *st)
{
    return (int32_t)sf_to_int(&sf_fmt_f64, F64B(a), 32, truncate, st);
}
int64_t f64_to_i64(f64 a, bool truncate, sf_status *st)
{
    return sf_to_int(&sf_fmt_f64, F64B(a), 64, truncate, st);
}
int16_t f80_to_i16(f80 a, bool truncate, sf_status *st)
{
    return (int16_t)sf_to_int(&sf_fmt_f80, a, 16, truncate, st);
}
int32_t f80_to_i32(f80 a, bool truncate, sf_status *st)
{
    return (int32_t)sf_to_int(&sf_fmt_f80, a, 32, truncate, st);
}
int64_t f80_to_i64(f80 a, bool truncate, sf_status *st)
{
    return sf_to_int(&sf_fmt_f80, a, 64, truncate, st);
}

f32 f32_round_int(f32 a, uint8_t imm, sf_status *st)
{
    int rnd = (imm & 4) ? st->rounding : (imm & 3);
    return (f32)sf_round_int(&sf_fmt_f32, F32B(a), rnd, imm & 8, st).mant;
}
f64 f64_round_int(f64 a, uint8_t imm, sf_status *st)
{
    int rnd = (imm & 4) ? st->rounding : (imm & 3);
    return sf_round_int(&sf_fmt_f64, F64B(a), rnd, imm & 8, st).mant;
}
f80 f80_round_int(f80 a, sf_status *st)
{
    return sf_round_int(&sf_fmt_f80, a, st->rounding, false, st);
}
