/* Unpacking encodings into classified values, special encodings, and x86 NaN propagation. */
#include "cpu/fpu/sf_internal.h"

#define QUIET_BIT (1ull << 62)

sf_val sf_unpack(const sf_fmt *fmt, sf_bits bits)
{
    sf_val v = { CLS_ZERO, false, false, 0, 0 };
    uint64_t frac;
    uint32_t e, emax_field;
    int frac_bits;

    if (fmt->kind == SF_F80) {
        uint64_t m = bits.mant;
        v.sign = bits.sign_exp >> 15;
        e = bits.sign_exp & 0x7FFF;
        if (e == 0x7FFF) {
            /* Pseudo-infinity and pseudo-NaN (integer bit clear) are unsupported encodings. */
            if (!(m >> 63))
                v.cls = CLS_UNSUPPORTED;
            else if ((m << 1) == 0)
                v.cls = CLS_INF;
            else
                v.cls = (m & QUIET_BIT) ? CLS_QNAN : CLS_SNAN;
            v.sig = m;
            return v;
        }
        if (e == 0) {
            if (m == 0)
                return v;
            /* Denormal or pseudo-denormal: both weigh 2^-16382 per integer-bit unit. */
            int sh = clz64(m);
            v.cls = CLS_FINITE;
            v.denormal = true;
            v.sig = m << sh;
            v.exp = fmt->emin - sh;
            return v;
        }
        if (!(m >> 63)) {
            v.cls = CLS_UNSUPPORTED; /* unnormal */
            return v;
        }
        v.cls = CLS_FINITE;
        v.sig = m;
        v.exp = (int32_t)e - fmt->bias;
        return v;
    }

    frac_bits = fmt->storage_bits - 1;
    emax_field = fmt->kind == SF_F32 ? 0xFF : 0x7FF;
    if (fmt->kind == SF_F32) {
        v.sign = (bits.mant >> 31) & 1;
        e = (bits.mant >> 23) & 0xFF;
    } else {
        v.sign = bits.mant >> 63;
        e = (bits.mant >> 52) & 0x7FF;
    }
    frac = bits.mant & ((1ull << frac_bits) - 1);
    if (e == emax_field) {
        v.sig = (1ull << 63) | (frac << (63 - frac_bits));
        if (frac == 0)
            v.cls = CLS_INF;
        else
            v.cls = (v.sig & QUIET_BIT) ? CLS_QNAN : CLS_SNAN;
        return v;
    }
    if (e == 0) {
        if (frac == 0)
            return v;
        int sh = clz64(frac) - (64 - frac_bits) + 1; /* shift that brings the top bit to 1.x */
        v.cls = CLS_FINITE;
        v.denormal = true;
        v.sig = frac << (63 - frac_bits + sh);
        v.exp = fmt->emin - sh;
        return v;
    }
    v.cls = CLS_FINITE;
    v.sig = (1ull << 63) | (frac << (63 - frac_bits));
    v.exp = (int32_t)e - fmt->bias;
    return v;
}

sf_bits sf_zero(const sf_fmt *fmt, bool sign)
{
    switch (fmt->kind) {
    case SF_F32: return f80_make(0, (uint64_t)sign << 31);
    case SF_F64: return f80_make(0, (uint64_t)sign << 63);
    default: return f80_make((uint16_t)((unsigned)sign << 15), 0);
    }
}

sf_bits sf_inf(const sf_fmt *fmt, bool sign)
{
    switch (fmt->kind) {
    case SF_F32: return f80_make(0, ((uint64_t)sign << 31) | 0x7F800000u);
    case SF_F64: return f80_make(0, ((uint64_t)sign << 63) | 0x7FF0000000000000ull);
    default: return f80_make((uint16_t)(((unsigned)sign << 15) | 0x7FFF), 1ull << 63);
    }
}

sf_bits sf_default_nan(const sf_fmt *fmt)
{
    switch (fmt->kind) {
    case SF_F32: return f80_make(0, F32_DEFAULT_NAN);
    case SF_F64: return f80_make(0, F64_DEFAULT_NAN);
    default: return f80_make(F80_DEFAULT_NAN_SE, F80_DEFAULT_NAN_MANT);
    }
}

sf_bits sf_pack_special(const sf_fmt *fmt, const sf_val *v)
{
    if (v->cls == CLS_ZERO)
        return sf_zero(fmt, v->sign);
    if (v->cls == CLS_INF)
        return sf_inf(fmt, v->sign);
    /* NaN: payload truncated (narrowing) or zero-extended (widening), as CVTSD2SS/FST do. */
    switch (fmt->kind) {
    case SF_F32:
        return f80_make(0, ((uint64_t)v->sign << 31) | 0x7F800000u | ((v->sig >> 40) & 0x7FFFFF));
    case SF_F64:
        return f80_make(0, ((uint64_t)v->sign << 63) | 0x7FF0000000000000ull |
                               ((v->sig >> 11) & 0xFFFFFFFFFFFFFull));
    default: return f80_make((uint16_t)(((unsigned)v->sign << 15) | 0x7FFF), v->sig);
    }
}

sf_bits sf_invalid(const sf_fmt *fmt, sf_status *st)
{
    st->flags |= SF_IE;
    return sf_default_nan(fmt);
}

static sf_bits quieted(const sf_fmt *fmt, const sf_val *v)
{
    sf_val q = *v;
    q.sig |= QUIET_BIT;
    q.cls = CLS_QNAN;
    return sf_pack_special(fmt, &q);
}

sf_bits sf_propagate_nan1(const sf_fmt *fmt, const sf_val *a, sf_status *st)
{
    if (a->cls == CLS_SNAN)
        st->flags |= SF_IE;
    return quieted(fmt, a);
}

sf_bits sf_propagate_nan2(const sf_fmt *fmt, const sf_val *a, const sf_val *b, sf_status *st)
{
    if (a->cls == CLS_SNAN || b->cls == CLS_SNAN)
        st->flags |= SF_IE;
    if (fmt->kind != SF_F80) /* SSE: the first source operand's NaN, else the second's */
        return quieted(fmt, sf_is_nan(a) ? a : b);
    if (!sf_is_nan(a))
        return quieted(fmt, b);
    if (!sf_is_nan(b))
        return quieted(fmt, a);
    /* x87 (SDM Vol 1 Table 4-7): a QNaN beats an SNaN; otherwise the larger significand. */
    if (a->cls != b->cls)
        return quieted(fmt, a->cls == CLS_QNAN ? a : b);
    if (a->sig != b->sig)
        return quieted(fmt, a->sig > b->sig ? a : b);
    return quieted(fmt, a->sign ? b : a);
}

void sf_note_denormal(const sf_val *v, sf_status *st)
{
    if (v->denormal)
        st->flags |= SF_DE;
}
