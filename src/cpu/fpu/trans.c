/* x87 transcendentals (FSIN, FCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1) evaluated in the
 * 128-bit working format and rounded once with the current rounding mode.
 *
 * Method: power series in ~125-bit arithmetic after exact argument reduction, so the result is
 * the correctly rounded one except in rare near-halfway cases. Trigonometric arguments are
 * reduced exactly modulo Intel's 66-bit Pi (SDM Vol 1 8.3.8), so large arguments give the
 * hardware's answers (period 2*Pi), not the mathematically exact ones. Measured against the
 * host x87 (test_softfloat_host_trans.c, in-domain operands, all rounding modes): every result
 * within 1 ulp, 87-99% bit-identical depending on the function (the hardware itself is not
 * correctly rounded). Outside the SDM domains of F2XM1 and FYL2XP1 the result is the
 * mathematical one, where the hardware's is undefined. */
#include "cpu/fpu/xfloat.h"

#define FMT (&sf_fmt_f80)

/* pi, ln 2, 1/ln 2 and pi/Pi to 128 bits (computed with Machin's formula / atanh series). */
static xf c_pi(void) { return xf_const(0xC90FDAA22168C234ull, 0xC4C6628B80DC1CD1ull, 1); }
static xf c_ln2(void) { return xf_const(0xB17217F7D1CF79ABull, 0xC9E3B39803F2F6AFull, -1); }
static xf c_inv_ln2(void) { return xf_const(0xB8AA3B295C17F0BBull, 0xBE87FED0691D3E88ull, 0); }
/* Intel's Pi/2 = 0xC90FDAA22168C234C * 2^-67 (66 significant bits). */
static const uint64_t PI2_HI = 0xC, PI2_LO = 0x90FDAA22168C234Cull;

/* Sum of a power series until the terms stop mattering at 128 bits. */
#define SERIES_LIMIT 130

/* sin(t), cos(t) for |t| <= pi/4. */
static xf xf_sin(xf t)
{
    xf t2 = xf_mul(t, t), term = t, sum = t;
    for (int k = 1; k < 40; k++) {
        term = xf_div_int(xf_mul(term, t2), (int64_t)(2 * k) * (2 * k + 1));
        term = xf_neg(term);
        sum = xf_add(sum, term);
        if (xf_is_zero(term) || term.exp < sum.exp - SERIES_LIMIT)
            break;
    }
    return sum;
}

static xf xf_cos(xf t)
{
    xf t2 = xf_mul(t, t), term = xf_from_int(1), sum = term;
    for (int k = 1; k < 40; k++) {
        term = xf_div_int(xf_mul(term, t2), (int64_t)(2 * k - 1) * (2 * k));
        term = xf_neg(term);
        sum = xf_add(sum, term);
        if (xf_is_zero(term) || term.exp < sum.exp - SERIES_LIMIT)
            break;
    }
    return sum;
}

/* atan(z) for 0 <= z <= 1: four argument halvings, then the odd series. */
static xf xf_atan01(xf z)
{
    xf one = xf_from_int(1);
    for (int i = 0; i < 4; i++)
        z = xf_div(z, xf_add(one, xf_sqrt(xf_add(one, xf_mul(z, z)))));
    xf z2 = xf_mul(z, z), pw = z, sum = z;
    for (int k = 1; k < 60; k++) {
        pw = xf_neg(xf_mul(pw, z2));
        xf term = xf_div_int(pw, 2 * k + 1);
        sum = xf_add(sum, term);
        if (xf_is_zero(term) || term.exp < sum.exp - SERIES_LIMIT)
            break;
    }
    return xf_scale(sum, 4);
}

/* 2 * atanh(s) = ln((1+s)/(1-s)), for |s| small. */
static xf xf_2atanh(xf s)
{
    xf s2 = xf_mul(s, s), pw = s, sum = s;
    for (int k = 1; k < 200; k++) {
        pw = xf_mul(pw, s2);
        xf term = xf_div_int(pw, 2 * k + 1);
        sum = xf_add(sum, term);
        if (xf_is_zero(term) || term.exp < sum.exp - SERIES_LIMIT)
            break;
    }
    return xf_scale(sum, 1);
}

/* log2(w) for w > 0. */
static xf xf_log2(xf w)
{
    /* w = m * 2^e with m in [sqrt(1/2), sqrt(2)), so s = (m-1)/(m+1) is at most 0.172. */
    int32_t e = w.exp;
    xf m = w;
    m.exp = 0;
    if (m.m.hi > 0xB504F333F9DE6484ull) { /* sqrt(2) * 2^63 */
        m.exp = -1;
        e++;
    }
    xf one = xf_from_int(1);
    xf s = xf_div(xf_sub(m, one), xf_add(m, one));
    xf ln_m = xf_2atanh(s);
    return xf_add(xf_from_int(e), xf_mul(ln_m, c_inv_ln2()));
}

/* expm1(u) for |u| <= ln 2. */
static xf xf_expm1(xf u)
{
    xf term = u, sum = u;
    for (int k = 2; k < 60; k++) {
        term = xf_div_int(xf_mul(term, u), k);
        sum = xf_add(sum, term);
        if (xf_is_zero(term) || term.exp < sum.exp - SERIES_LIMIT)
            break;
    }
    return sum;
}

/* Exact reduction of |x| < 2^63 modulo Intel's Pi/2: |x| = q*Pi/2 + r, |r| <= Pi/4.
 * Returns r*pi/Pi (so later series see the true angle) and the quadrant q mod 4. */
static xf reduce(const sf_val *a, int *quadrant)
{
    xf x = xf_from_val(a);
    x.sign = false;
    if (a->exp < -1) { /* below 0.5 < Pi/4: nothing to reduce */
        *quadrant = 0;
        return x;
    }
    /* Long division of |x| * 2^67 (a 64-bit significand shifted by exp+4) by Pi/2 * 2^67. */
    u128 h = u128_make(PI2_HI, PI2_LO), r = u128_make(0, 0);
    uint64_t q = 0;
    int shift = a->exp + 4;
    for (int j = 63 + shift; j >= 0; j--) {
        uint64_t bit = (j >= shift && j - shift < 64) ? (a->sig >> (j - shift)) & 1 : 0;
        r = u128_add(u128_shl(r, 1), u128_make(0, bit));
        q <<= 1;
        if (!u128_lt(r, h)) {
            r = u128_sub(r, h);
            q |= 1;
        }
    }
    bool neg = false;
    if (u128_lt(u128_shr(h, 1), r)) { /* nearer to the next multiple */
        r = u128_sub(h, r);
        q++;
        neg = true;
    }
    *quadrant = (int)(q & 3);
    return xf_norm(neg, 127 - 67, r);
}

typedef enum { TRIG_SIN, TRIG_COS, TRIG_TAN } trig_kind;

static f80 trig(f80 abits, trig_kind kind, bool *out_of_range, sf_status *st)
{
    sf_val a = sf_unpack(FMT, abits);
    *out_of_range = false;
    if (a.cls == CLS_UNSUPPORTED || a.cls == CLS_INF)
        return sf_invalid(FMT, st);
    if (sf_is_nan(&a))
        return sf_propagate_nan1(FMT, &a, st);
    if (a.cls == CLS_FINITE && a.exp >= 63) {
        *out_of_range = true; /* C2 = 1, ST0 unchanged, no exception */
        return abits;
    }
    sf_note_denormal(&a, st);
    if (a.cls == CLS_ZERO)
        return kind == TRIG_COS ? sf_round_pack(FMT, 64, st, false, 0, u128_make(1ull << 63, 0))
                                : abits;
    int quad;
    xf t = reduce(&a, &quad);
    xf s = xf_sin(t), c = xf_cos(t), r;
    switch (kind) {
    case TRIG_SIN:
        r = (quad & 1) ? c : s;
        if (quad & 2)
            r = xf_neg(r);
        r.sign ^= a.sign;
        break;
    case TRIG_COS:
        r = (quad & 1) ? s : c;
        if (quad == 1 || quad == 2)
            r = xf_neg(r);
        break;
    default:
        if (t.exp < -40) /* tan t = t + t^3/3 + ...: sin/cos would cancel the t^3 term away */
            r = xf_add(t, xf_div_int(xf_mul(xf_mul(t, t), t), 3));
        else
            r = (quad & 1) ? xf_neg(xf_div(c, s)) : xf_div(s, c);
        r.sign ^= a.sign;
        break;
    }
    return xf_to_f80(r, st);
}

f80 f80_sin(f80 a, bool *out_of_range, sf_status *st)
{
    return trig(a, TRIG_SIN, out_of_range, st);
}

f80 f80_cos(f80 a, bool *out_of_range, sf_status *st)
{
    return trig(a, TRIG_COS, out_of_range, st);
}

f80 f80_tan(f80 a, bool *out_of_range, sf_status *st)
{
    return trig(a, TRIG_TAN, out_of_range, st);
}


/* pi * num / den, signed. */
static f80 pi_fraction(bool sign, int num, int den, sf_status *st)
{
    xf r = xf_div_int(xf_mul(c_pi(), xf_from_int(num)), den);
    r.sign = sign;
    return xf_to_f80(r, st);
}

f80 f80_atan2(f80 ybits, f80 xbits, sf_status *st)
{
    sf_val y = sf_unpack(FMT, ybits), x = sf_unpack(FMT, xbits);
    if (y.cls == CLS_UNSUPPORTED || x.cls == CLS_UNSUPPORTED)
        return sf_invalid(FMT, st);
    if (sf_is_nan(&y) || sf_is_nan(&x))
        return sf_propagate_nan2(FMT, &x, &y, st);
    sf_note_denormal(&y, st);
    sf_note_denormal(&x, st);
    /* SDM FPATAN results table (signs follow ST(1) = y). */
    if (y.cls == CLS_ZERO)
        return x.sign ? pi_fraction(y.sign, 1, 1, st) : sf_zero(FMT, y.sign);
    if (y.cls == CLS_INF) {
        if (x.cls == CLS_INF)
            return pi_fraction(y.sign, x.sign ? 3 : 1, 4, st);
        return pi_fraction(y.sign, 1, 2, st);
    }
    if (x.cls == CLS_ZERO)
        return pi_fraction(y.sign, 1, 2, st);
    if (x.cls == CLS_INF)
        return x.sign ? pi_fraction(y.sign, 1, 1, st) : sf_zero(FMT, y.sign);
    xf ya = xf_from_val(&y), xa = xf_from_val(&x), r;
    ya.sign = xa.sign = false;
    if (xf_cmp_abs(ya, xa) <= 0)
        r = xf_atan01(xf_div(ya, xa));
    else
        r = xf_sub(xf_scale(c_pi(), -1), xf_atan01(xf_div(xa, ya)));
    if (x.sign)
        r = xf_sub(c_pi(), r);
    r.sign = y.sign;
    return xf_to_f80(r, st);
}

f80 f80_f2xm1(f80 abits, sf_status *st)
{
    sf_val a = sf_unpack(FMT, abits);
    if (a.cls == CLS_UNSUPPORTED)
        return sf_invalid(FMT, st);
    if (sf_is_nan(&a))
        return sf_propagate_nan1(FMT, &a, st);
    sf_note_denormal(&a, st);
    if (a.cls == CLS_ZERO)
        return abits;
    if (a.cls == CLS_INF) /* SDM F2XM1 table: -inf -> -1, +inf -> +inf */
        return a.sign ? sf_round_pack(FMT, 64, st, true, 0, u128_make(1ull << 63, 0)) : abits;
    xf x = xf_from_val(&a), r;
    if (a.exp < 0) {
        r = xf_expm1(xf_mul(x, c_ln2()));
    } else {
        /* Outside the architectural range [-1, 1] (result undefined there): 2^n * 2^f - 1. */
        int32_t n = a.exp >= 20 ? (a.sign ? -(1 << 20) : (1 << 20))
                                : (int32_t)(a.sig >> (63 - a.exp)) * (a.sign ? -1 : 1);
        xf f = xf_sub(x, xf_from_int(n));
        xf one = xf_from_int(1);
        r = xf_sub(xf_scale(xf_add(xf_expm1(xf_mul(f, c_ln2())), one), n), one);
    }
    return xf_to_f80(r, st);
}

/* SDM FYL2X results table: log of a negative is invalid, of zero is -inf (#Z unless y is
 * infinite), 0 * inf is invalid; otherwise the signs of y and log2(x) multiply. */
f80 f80_fyl2x(f80 xbits, f80 ybits, sf_status *st)
{
    sf_val x = sf_unpack(FMT, xbits), y = sf_unpack(FMT, ybits);
    if (x.cls == CLS_UNSUPPORTED || y.cls == CLS_UNSUPPORTED)
        return sf_invalid(FMT, st);
    if (sf_is_nan(&x) || sf_is_nan(&y))
        return sf_propagate_nan2(FMT, &x, &y, st);
    if (x.sign && x.cls != CLS_ZERO)
        return sf_invalid(FMT, st); /* log of a negative number */
    if (x.cls == CLS_ZERO) {
        if (y.cls == CLS_ZERO)
            return sf_invalid(FMT, st);
        if (y.cls != CLS_INF)
            st->flags |= SF_ZE; /* #Z outranks #D: no DE for a denormal y (host-checked) */
        return sf_inf(FMT, !y.sign);
    }
    bool x_is_one = x.cls == CLS_FINITE && x.exp == 0 && x.sig == (1ull << 63);
    if (x.cls == CLS_INF) {
        if (y.cls == CLS_ZERO)
            return sf_invalid(FMT, st);
        sf_note_denormal(&y, st);
        return sf_inf(FMT, y.sign);
    }
    if (y.cls == CLS_INF) {
        if (x_is_one)
            return sf_invalid(FMT, st);
        sf_note_denormal(&x, st);
        return sf_inf(FMT, y.sign != (x.exp < 0)); /* log2(x) < 0 below one */
    }
    sf_note_denormal(&x, st);
    sf_note_denormal(&y, st);
    if (y.cls == CLS_ZERO || x_is_one)
        return sf_zero(FMT, y.sign != (x.exp < 0 && y.cls == CLS_ZERO));
    xf r = xf_mul(xf_from_val(&y), xf_log2(xf_from_val(&x)));
    return xf_to_f80(r, st);
}

f80 f80_fyl2xp1(f80 xbits, f80 ybits, sf_status *st)
{
    sf_val x = sf_unpack(FMT, xbits), y = sf_unpack(FMT, ybits);
    if (x.cls == CLS_UNSUPPORTED || y.cls == CLS_UNSUPPORTED)
        return sf_invalid(FMT, st);
    if (sf_is_nan(&x) || sf_is_nan(&y))
        return sf_propagate_nan2(FMT, &x, &y, st);
    /* SDM FYL2XP1 table: 0 * inf is invalid, otherwise signs multiply. */
    if ((x.cls == CLS_ZERO && y.cls == CLS_INF) || (x.cls == CLS_INF && y.cls == CLS_ZERO))
        return sf_invalid(FMT, st);
    xf one = xf_from_int(1), xv = xf_from_val(&x);
    if (x.cls == CLS_INF ? x.sign : (x.cls == CLS_FINITE && x.sign && xf_cmp_abs(xv, one) >= 0))
        return sf_invalid(FMT, st); /* 1 + x <= 0: outside the domain */
    sf_note_denormal(&x, st);
    sf_note_denormal(&y, st);
    bool sign = x.sign != y.sign;
    if (x.cls == CLS_ZERO || y.cls == CLS_ZERO)
        return sf_zero(FMT, sign);
    if (x.cls == CLS_INF || y.cls == CLS_INF)
        return sf_inf(FMT, sign);
    xf l;
    if (x.exp < -1) /* |x| < 1/2: ln(1+x) = 2 atanh(x / (2 + x)) keeps full relative accuracy */
        l = xf_mul(xf_2atanh(xf_div(xv, xf_add(xf_from_int(2), xv))), c_inv_ln2());
    else
        l = xf_log2(xf_add(one, xv));
    return xf_to_f80(xf_mul(xf_from_val(&y), l), st);
}
