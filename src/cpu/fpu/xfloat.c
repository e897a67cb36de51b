/* 128-bit-significand working format for the x87 transcendentals: enough guard bits that the
 * final rounding to 64 bits is almost always the correctly rounded one. Integer-only. */
#include "cpu/fpu/xfloat.h"

xf xf_norm(bool sign, int32_t exp, u128 m)
{
    xf r = { sign, exp, m };
    if (u128_is_zero(m)) {
        r.exp = 0;
        return r;
    }
    int sh = clz128(m);
    r.m = u128_shl(m, sh);
    r.exp = exp - sh;
    return r;
}

xf xf_from_int(int64_t v)
{
    bool sign = v < 0;
    uint64_t mag = sign ? 0 - (uint64_t)v : (uint64_t)v;
    return xf_norm(sign, 127, u128_make(0, mag));
}

xf xf_from_val(const sf_val *v)
{
    if (v->cls != CLS_FINITE) {
        xf z = { v->sign, 0, { 0, 0 } };
        return z;
    }
    xf r = { v->sign, v->exp, { v->sig, 0 } };
    return r;
}

xf xf_const(uint64_t hi, uint64_t lo, int32_t exp)
{
    xf r = { false, exp, { hi, lo } };
    return r;
}

xf xf_neg(xf a)
{
    a.sign = !a.sign;
    return a;
}

xf xf_scale(xf a, int32_t n)
{
    if (!xf_is_zero(a))
        a.exp += n;
    return a;
}

xf xf_mul(xf a, xf b)
{
    bool sign = a.sign != b.sign;
    if (xf_is_zero(a) || xf_is_zero(b))
        return xf_norm(sign, 0, u128_make(0, 0));
    /* 256-bit product, keep the top 128 bits with a sticky bit. */
    u128 hh = mul64x64(a.m.hi, b.m.hi), hl = mul64x64(a.m.hi, b.m.lo);
    u128 lh = mul64x64(a.m.lo, b.m.hi), ll = mul64x64(a.m.lo, b.m.lo);
    u128 mid = u128_add(hl, lh);
    uint64_t mid_carry = u128_lt(mid, hl);
    u128 low = u128_make(mid.lo, 0);
    u128 lowsum = u128_add(ll, low);
    uint64_t c1 = u128_lt(lowsum, ll);
    u128 top = u128_add(hh, u128_make(mid_carry, mid.hi));
    top = u128_add(top, u128_make(0, c1));
    top.lo |= !u128_is_zero(lowsum);
    return xf_norm(sign, a.exp + b.exp + 1, top);
}

xf xf_add(xf a, xf b)
{
    if (xf_is_zero(a))
        return b;
    if (xf_is_zero(b))
        return a;
    if (a.exp < b.exp || (a.exp == b.exp && u128_lt(a.m, b.m))) {
        xf t = a;
        a = b;
        b = t;
    }
    u128 y = u128_shr_jam(b.m, a.exp - b.exp);
    if (a.sign == b.sign) {
        u128 s = u128_add(a.m, y);
        if (u128_lt(s, a.m)) {
            s = u128_shr_jam(s, 1);
            s.hi |= 1ull << 63;
            return xf_norm(a.sign, a.exp + 1, s);
        }
        return xf_norm(a.sign, a.exp, s);
    }
    return xf_norm(a.sign, a.exp, u128_sub(a.m, y));
}

xf xf_sub(xf a, xf b) { return xf_add(a, xf_neg(b)); }

xf xf_div(xf a, xf b)
{
    bool sign = a.sign != b.sign;
    if (xf_is_zero(a) || xf_is_zero(b))
        return xf_norm(sign, 0, u128_make(0, 0));
    u128 r = a.m, q = u128_make(0, 0);
    bool carry = false;
    for (int i = 0; i < 128; i++) {
        q = u128_shl(q, 1);
        if (carry || !u128_lt(r, b.m)) {
            r = u128_sub(r, b.m);
            q.lo |= 1;
        }
        carry = r.hi >> 63;
        r = u128_shl(r, 1);
    }
    q.lo |= !u128_is_zero(r);
    return xf_norm(sign, a.exp - b.exp, q);
}

xf xf_div_int(xf a, int64_t n)
{
    /* Short division by a small positive integer: 192 quotient bits, top 128 kept. */
    if (xf_is_zero(a) || n <= 0 || (uint64_t)n > a.m.hi)
        return xf_div(a, xf_from_int(n));
    uint64_t d = (uint64_t)n, r;
    uint64_t q2 = a.m.hi / d;
    uint64_t q1 = div128by64(a.m.hi % d, a.m.lo, d, &r);
    uint64_t q0 = div128by64(r, 0, d, &r);
    int sh = clz64(q2);
    u128 m = u128_make(q2, q1);
    if (sh) {
        m = u128_shl(m, sh);
        m.lo |= q0 >> (64 - sh);
        q0 <<= sh;
    }
    m.lo |= (q0 | r) != 0;
    xf out = { a.sign, a.exp - sh, m };
    return out;
}

xf xf_sqrt(xf a)
{
    if (xf_is_zero(a))
        return a;
    /* Seed with the 64-bit soft root, then two Newton steps double the precision twice. */
    sf_status st = sf_status_default();
    st.rounding = SF_RND_ZERO;
    f80 af = sf_round_pack(&sf_fmt_f80, 64, &st, false, a.exp, a.m);
    sf_val s = sf_unpack(&sf_fmt_f80, sf_sqrt(&sf_fmt_f80, af, &st));
    xf y = xf_from_val(&s);
    for (int i = 0; i < 2; i++)
        y = xf_scale(xf_add(y, xf_div(a, y)), -1);
    return y;
}

int xf_cmp_abs(xf a, xf b)
{
    if (xf_is_zero(a) || xf_is_zero(b))
        return xf_is_zero(a) ? (xf_is_zero(b) ? 0 : -1) : 1;
    if (a.exp != b.exp)
        return a.exp < b.exp ? -1 : 1;
    if (u128_eq(a.m, b.m))
        return 0;
    return u128_lt(a.m, b.m) ? -1 : 1;
}

f80 xf_to_f80(xf a, sf_status *st)
{
    if (xf_is_zero(a))
        return sf_zero(&sf_fmt_f80, a.sign);
    /* The hardware flags PE on every non-zero transcendental result, even exact ones such as
     * F2XM1(1) or FYL2X(8, 1) (host-checked). */
    if (sf_pre_trapped(st))
        return sf_zero(&sf_fmt_f80, a.sign);
    st->flags |= SF_PE;
    f80 r = sf_round_pack(&sf_fmt_f80, 64, st, a.sign, a.exp, a.m);
    /* ...and, the result counting as inexact, a tiny one also underflows (host-checked). */
    if ((r.sign_exp & 0x7FFF) == 0 && (st->masks & SF_UE))
        st->flags |= SF_UE;
    return r;
}
