/* Add, subtract, multiply, divide and square root for every format, on exact 128-bit
 * intermediates, with the x86 order of special cases (SDM Vol 1 4.9.2 exception priority). */
#include "cpu/fpu/sf_internal.h"

/* Common prologue: unsupported encodings, then NaNs, then DE. Returns true if *out is final. */
static bool binary_specials(const sf_fmt *fmt, const sf_val *a, const sf_val *b, sf_status *st,
                            sf_bits *out)
{
    if (a->cls == CLS_UNSUPPORTED || b->cls == CLS_UNSUPPORTED) {
        *out = sf_invalid(fmt, st);
        return true;
    }
    if (sf_is_nan(a) || sf_is_nan(b)) {
        *out = sf_propagate_nan2(fmt, a, b, st);
        return true;
    }
    return false;
}

static sf_bits round_val(const sf_fmt *fmt, sf_status *st, const sf_val *v)
{
    return sf_round_pack(fmt, sf_arith_prec(fmt, st), st, v->sign, v->exp, u128_make(v->sig, 0));
}

sf_bits sf_add(const sf_fmt *fmt, sf_bits abits, sf_bits bbits, bool negate_b, sf_status *st)
{
    return sf_add_v(fmt, sf_operand(fmt, abits, st), sf_operand(fmt, bbits, st), negate_b, st);
}

sf_bits sf_add_v(const sf_fmt *fmt, sf_val a, sf_val b, bool negate_b, sf_status *st)
{
    sf_bits out;
    if (negate_b && !sf_is_nan(&b))
        b.sign = !b.sign;
    if (binary_specials(fmt, &a, &b, st, &out))
        return out;
    if (a.cls == CLS_INF && b.cls == CLS_INF && a.sign != b.sign)
        return sf_invalid(fmt, st);
    sf_note_denormal(&a, st);
    sf_note_denormal(&b, st);
    if (a.cls == CLS_INF || b.cls == CLS_INF)
        return sf_inf(fmt, a.cls == CLS_INF ? a.sign : b.sign);
    if (a.cls == CLS_ZERO && b.cls == CLS_ZERO)
        return sf_zero(fmt, a.sign == b.sign ? a.sign : st->rounding == SF_RND_DOWN);
    if (a.cls == CLS_ZERO)
        return round_val(fmt, st, &b);
    if (b.cls == CLS_ZERO)
        return round_val(fmt, st, &a);

    if (a.exp < b.exp || (a.exp == b.exp && a.sig < b.sig)) {
        sf_val t = a;
        a = b;
        b = t;
    }
    u128 x = u128_make(a.sig, 0);
    u128 y = u128_shr_jam(u128_make(b.sig, 0), a.exp - b.exp);
    int32_t exp = a.exp;
    if (a.sign == b.sign) {
        u128 s = u128_add(x, y);
        if (u128_lt(s, x)) { /* carry out of bit 127 */
            s = u128_shr_jam(s, 1);
            s.hi |= 1ull << 63;
            exp++;
        }
        return sf_round_pack(fmt, sf_arith_prec(fmt, st), st, a.sign, exp, s);
    }
    u128 d = u128_sub(x, y);
    if (u128_is_zero(d))
        return sf_zero(fmt, st->rounding == SF_RND_DOWN);
    int sh = clz128(d);
    return sf_round_pack(fmt, sf_arith_prec(fmt, st), st, a.sign, exp - sh, u128_shl(d, sh));
}

sf_bits sf_mul(const sf_fmt *fmt, sf_bits abits, sf_bits bbits, sf_status *st)
{
    return sf_mul_v(fmt, sf_operand(fmt, abits, st), sf_operand(fmt, bbits, st), st);
}

sf_bits sf_mul_v(const sf_fmt *fmt, sf_val a, sf_val b, sf_status *st)
{
    sf_bits out;
    bool sign = a.sign != b.sign;
    if (binary_specials(fmt, &a, &b, st, &out))
        return out;
    if ((a.cls == CLS_INF && b.cls == CLS_ZERO) || (a.cls == CLS_ZERO && b.cls == CLS_INF))
        return sf_invalid(fmt, st);
    sf_note_denormal(&a, st);
    sf_note_denormal(&b, st);
    if (a.cls == CLS_INF || b.cls == CLS_INF)
        return sf_inf(fmt, sign);
    if (a.cls == CLS_ZERO || b.cls == CLS_ZERO)
        return sf_zero(fmt, sign);
    u128 p = mul64x64(a.sig, b.sig);
    int32_t exp = a.exp + b.exp + 1;
    if (!(p.hi >> 63)) {
        p = u128_shl(p, 1);
        exp--;
    }
    return sf_round_pack(fmt, sf_arith_prec(fmt, st), st, sign, exp, p);
}

sf_bits sf_div(const sf_fmt *fmt, sf_bits abits, sf_bits bbits, sf_status *st)
{
    return sf_div_v(fmt, sf_operand(fmt, abits, st), sf_operand(fmt, bbits, st), st);
}

sf_bits sf_div_v(const sf_fmt *fmt, sf_val a, sf_val b, sf_status *st)
{
    sf_bits out;
    bool sign = a.sign != b.sign;
    if (binary_specials(fmt, &a, &b, st, &out))
        return out;
    if ((a.cls == CLS_INF && b.cls == CLS_INF) || (a.cls == CLS_ZERO && b.cls == CLS_ZERO))
        return sf_invalid(fmt, st);
    if (b.cls == CLS_ZERO && a.cls == CLS_FINITE) {
        st->flags |= SF_ZE; /* #Z outranks #D: a denormal dividend raises no DE (host-checked) */
        return sf_inf(fmt, sign);
    }
    sf_note_denormal(&a, st);
    sf_note_denormal(&b, st);
    if (a.cls == CLS_INF)
        return sf_inf(fmt, sign);
    if (a.cls == CLS_ZERO || b.cls == CLS_INF)
        return sf_zero(fmt, sign);

    /* Quotient a.sig/b.sig in [1/2, 2): integer bit, then 128 fraction bits, then sticky. */
    bool ip = a.sig >= b.sig;
    uint64_t r = ip ? a.sig - b.sig : a.sig;
    uint64_t f1 = div128by64(r, 0, b.sig, &r);
    uint64_t f2 = div128by64(r, 0, b.sig, &r);
    int32_t exp = a.exp - b.exp;
    u128 q;
    if (ip) {
        q = u128_make((1ull << 63) | (f1 >> 1), (f1 << 63) | (f2 >> 1));
        q.lo |= (f2 & 1) | (r != 0);
    } else {
        q = u128_make(f1, f2 | (r != 0));
        exp--;
    }
    return sf_round_pack(fmt, sf_arith_prec(fmt, st), st, sign, exp, q);
}

sf_bits sf_sqrt(const sf_fmt *fmt, sf_bits abits, sf_status *st)
{
    sf_val a = sf_operand(fmt, abits, st);
    if (a.cls == CLS_UNSUPPORTED)
        return sf_invalid(fmt, st);
    if (sf_is_nan(&a))
        return sf_propagate_nan1(fmt, &a, st);
    if (a.cls == CLS_ZERO)
        return sf_zero(fmt, a.sign);
    if (a.sign)
        return sf_invalid(fmt, st);
    sf_note_denormal(&a, st);
    if (a.cls == CLS_INF)
        return sf_inf(fmt, false);

    /* Digit-by-digit root of rad/2^64 in [1,4): 66 root bits, remainder -> sticky. */
    bool odd = a.exp & 1;
    u128 rad = u128_shl(u128_make(0, a.sig), odd ? 2 : 1);
    u128 rem = u128_make(0, 0), root = u128_make(0, 0);
    for (int i = 0; i < 66; i++) {
        int pos = 64 - 2 * i; /* bit index of the low bit of this radicand pair */
        uint64_t pair = pos >= 0 ? (u128_shr(rad, pos).lo & 3) : 0;
        rem = u128_add(u128_shl(rem, 2), u128_make(0, pair));
        u128 t = u128_add(u128_shl(root, 2), u128_make(0, 1));
        root = u128_shl(root, 1);
        if (!u128_lt(rem, t)) {
            rem = u128_sub(rem, t);
            root.lo |= 1;
        }
    }
    u128 sig = u128_shl(root, 62);
    sig.lo |= !u128_is_zero(rem);
    int32_t exp = (a.exp - odd) / 2;
    return sf_round_pack(fmt, sf_arith_prec(fmt, st), st, false, exp, sig);
}
