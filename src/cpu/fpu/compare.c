/* Ordered/unordered comparisons (COMIS*, UCOMIS*, FCOM, FUCOM) and SSE MIN/MAX. */
#include "cpu/fpu/sf_internal.h"

static sf_cmp compare_values(const sf_val *a, const sf_val *b)
{
    if (a->cls == CLS_ZERO && b->cls == CLS_ZERO)
        return SF_CMP_EQ;
    if (a->sign != b->sign)
        return a->sign ? SF_CMP_LT : SF_CMP_GT;
    /* Same sign: order magnitudes (zero < finite < infinity), then flip for negatives. */
    int ma = a->cls == CLS_ZERO ? 0 : a->cls == CLS_FINITE ? 1 : 2;
    int mb = b->cls == CLS_ZERO ? 0 : b->cls == CLS_FINITE ? 1 : 2;
    int c = 0;
    if (ma != mb)
        c = ma < mb ? -1 : 1;
    else if (ma == 1 && a->exp != b->exp)
        c = a->exp < b->exp ? -1 : 1;
    else if (ma == 1 && a->sig != b->sig)
        c = a->sig < b->sig ? -1 : 1;
    if (a->sign)
        c = -c;
    return c < 0 ? SF_CMP_LT : c > 0 ? SF_CMP_GT : SF_CMP_EQ;
}

sf_cmp sf_compare(const sf_fmt *fmt, sf_bits abits, sf_bits bbits, bool signaling, sf_status *st)
{
    return sf_compare_v(sf_operand(fmt, abits, st), sf_operand(fmt, bbits, st), signaling, st);
}

sf_cmp sf_compare_v(sf_val a, sf_val b, bool signaling, sf_status *st)
{
    if (a.cls == CLS_UNSUPPORTED || b.cls == CLS_UNSUPPORTED) {
        st->flags |= SF_IE;
        return SF_CMP_UN;
    }
    if (sf_is_nan(&a) || sf_is_nan(&b)) {
        if (signaling || a.cls == CLS_SNAN || b.cls == CLS_SNAN)
            st->flags |= SF_IE;
        return SF_CMP_UN;
    }
    sf_note_denormal(&a, st);
    sf_note_denormal(&b, st);
    return compare_values(&a, &b);
}

sf_cmp f32_compare(f32 a, f32 b, bool signaling, sf_status *st)
{
    return sf_compare(&sf_fmt_f32, bits_of_f32(a), bits_of_f32(b), signaling, st);
}

sf_cmp f64_compare(f64 a, f64 b, bool signaling, sf_status *st)
{
    return sf_compare(&sf_fmt_f64, bits_of_f64(a), bits_of_f64(b), signaling, st);
}

sf_cmp f80_compare(f80 a, f80 b, bool signaling, sf_status *st)
{
    return sf_compare(&sf_fmt_f80, a, b, signaling, st);
}

/* SDM MINSS/MAXSS: any NaN (QNaN included) raises IE and yields the second source unchanged;
 * so do two zeros of either sign (without IE). Denormals raise DE; an operand flushed by DAZ
 * is returned as the zero it became (checked against the host). */
static sf_bits min_max(const sf_fmt *fmt, sf_bits abits, sf_bits bbits, bool want_max,
                       sf_status *st)
{
    sf_val a = sf_operand(fmt, abits, st), b = sf_operand(fmt, bbits, st);
    if (sf_is_nan(&a) || sf_is_nan(&b)) {
        st->flags |= SF_IE;
        return b.cls == CLS_ZERO ? sf_zero(fmt, b.sign) : bbits; /* DAZ-flushed b stays 0 */
    }
    sf_note_denormal(&a, st);
    sf_note_denormal(&b, st);
    sf_cmp c = compare_values(&a, &b);
    bool pick_a = want_max ? c == SF_CMP_GT : c == SF_CMP_LT;
    sf_val *v = pick_a ? &a : &b;
    if (v->cls == CLS_ZERO)
        return sf_zero(fmt, v->sign);
    return pick_a ? abits : bbits;
}

f32 f32_min(f32 a, f32 b, sf_status *st)
{
    return (f32)min_max(&sf_fmt_f32, bits_of_f32(a), bits_of_f32(b), false, st).mant;
}
f32 f32_max(f32 a, f32 b, sf_status *st)
{
    return (f32)min_max(&sf_fmt_f32, bits_of_f32(a), bits_of_f32(b), true, st).mant;
}
f64 f64_min(f64 a, f64 b, sf_status *st)
{
    return min_max(&sf_fmt_f64, bits_of_f64(a), bits_of_f64(b), false, st).mant;
}
f64 f64_max(f64 a, f64 b, sf_status *st)
{
    return min_max(&sf_fmt_f64, bits_of_f64(a), bits_of_f64(b), true, st).mant;
}
