/* Fused multiply-add for the scalar FMA3 forms (VFMADD/VFMSUB/VFNMADD/VFNMSUB 132/213/231):
 * the exact product plus the addend, rounded once. */
#include "cpu/fpu/sf_internal.h"

/* Exact a*b as a 128-bit significand (value = m/2^127 * 2^exp, bit 127 set). */
static u128 exact_product(const sf_val *a, const sf_val *b, int32_t *exp)
{
    u128 p = mul64x64(a->sig, b->sig);
    *exp = a->exp + b->exp + 1;
    if (!(p.hi >> 63)) {
        p = u128_shl(p, 1);
        (*exp)--;
    }
    return p;
}

static sf_bits fma_core(const sf_fmt *fmt, sf_bits s1, sf_bits s2, sf_bits s3, int form,
                        bool neg_mul, bool neg_add, sf_status *st)
{
    sf_val v1 = sf_operand(fmt, s1, st), v2 = sf_operand(fmt, s2, st),
           v3 = sf_operand(fmt, s3, st);
    sf_val a, b, c;
    switch (form) {
    case 132: a = v1, b = v3, c = v2; break;
    case 213: a = v2, b = v1, c = v3; break;
    default: a = v2, b = v3, c = v1; break;
    }
    /* NaNs: the first NaN of multiplicand, multiplier, addend in the form's arithmetic order
     * (not the encoding order), quietened; IE only for an SNaN, not for 0 * inf + QNaN
     * (host-checked; QEMU's x86 FMA uses the same order). */
    if (sf_is_nan(&a) || sf_is_nan(&b) || sf_is_nan(&c)) {
        if (a.cls == CLS_SNAN || b.cls == CLS_SNAN || c.cls == CLS_SNAN)
            st->flags |= SF_IE;
        const sf_val *n = sf_is_nan(&a) ? &a : sf_is_nan(&b) ? &b : &c;
        sf_val q = *n;
        q.sig |= 1ull << 62;
        return sf_pack_special(fmt, &q);
    }
    bool psign = (a.sign != b.sign) != neg_mul;
    bool csign = c.sign != neg_add;
    bool pinf = a.cls == CLS_INF || b.cls == CLS_INF;
    bool pzero = a.cls == CLS_ZERO || b.cls == CLS_ZERO;
    if ((pinf && pzero) || (pinf && c.cls == CLS_INF && psign != csign))
        return sf_invalid(fmt, st);
    sf_note_denormal(&v1, st);
    sf_note_denormal(&v2, st);
    sf_note_denormal(&v3, st);
    if (pinf)
        return sf_inf(fmt, psign);
    if (c.cls == CLS_INF)
        return sf_inf(fmt, csign);
    int prec = fmt->storage_bits;
    if (pzero) {
        if (c.cls == CLS_ZERO)
            return sf_zero(fmt, psign == csign ? psign : st->rounding == SF_RND_DOWN);
        return sf_round_pack(fmt, prec, st, csign, c.exp, u128_make(c.sig, 0));
    }
    int32_t pexp;
    u128 p = exact_product(&a, &b, &pexp);
    if (c.cls == CLS_ZERO)
        return sf_round_pack(fmt, prec, st, psign, pexp, p);

    /* Exact sum of two 128-bit significands; the narrower operand's low bits are zero, so
     * jamming only happens far from cancellation (at most one bit of renormalisation). */
    u128 x = p, y = u128_make(c.sig, 0);
    int32_t ex = pexp, ey = c.exp;
    bool sx = psign, sy = csign;
    if (ex < ey || (ex == ey && u128_lt(x, y))) {
        u128 t = x;
        x = y;
        y = t;
        int32_t te = ex;
        ex = ey;
        ey = te;
        bool ts = sx;
        sx = sy;
        sy = ts;
    }
    y = u128_shr_jam(y, ex - ey);
    if (sx == sy) {
        u128 s = u128_add(x, y);
        if (u128_lt(s, x)) {
            s = u128_shr_jam(s, 1);
            s.hi |= 1ull << 63;
            ex++;
        }
        return sf_round_pack(fmt, prec, st, sx, ex, s);
    }
    u128 d = u128_sub(x, y);
    if (u128_is_zero(d))
        return sf_zero(fmt, st->rounding == SF_RND_DOWN);
    int sh = clz128(d);
    return sf_round_pack(fmt, prec, st, sx, ex - sh, u128_shl(d, sh));
}

f32 f32_fma(f32 src1, f32 src2, f32 src3, int form, bool neg_mul, bool neg_add, sf_status *st)
{
    return (f32)fma_core(&sf_fmt_f32, bits_of_f32(src1), bits_of_f32(src2), bits_of_f32(src3),
                         form, neg_mul, neg_add, st)
        .mant;
}

f64 f64_fma(f64 src1, f64 src2, f64 src3, int form, bool neg_mul, bool neg_add, sf_status *st)
{
    return fma_core(&sf_fmt_f64, bits_of_f64(src1), bits_of_f64(src2), bits_of_f64(src3), form,
                    neg_mul, neg_add, st)
        .mant;
}
