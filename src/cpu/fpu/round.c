/* Rounding and packing of exact intermediate results: the one place where x86 rounding,
 * overflow/underflow responses, FTZ, precision control and C1 are decided. */
#include "cpu/fpu/sf_internal.h"

const sf_fmt sf_fmt_f32 = { SF_F32, 24, -126, 127, 127 };
const sf_fmt sf_fmt_f64 = { SF_F64, 53, -1022, 1023, 1023 };
const sf_fmt sf_fmt_f80 = { SF_F80, 64, -16382, 16383, 16383 };

/* SDM Vol 1 8.5.4/8.5.5: unmasked x87 overflow/underflow deliver the result scaled by 2^-+24576. */
#define X87_BIAS_ADJUST 24576

sf_status sf_status_default(void)
{
    sf_status st = { SF_RND_NEAREST, SF_PREC_64, SF_ALL_EXC, 0, false, false, false };
    return st;
}

int sf_arith_prec(const sf_fmt *fmt, const sf_status *st)
{
    if (fmt->kind != SF_F80)
        return fmt->storage_bits;
    switch (st->precision) {
    case SF_PREC_24: return 24;
    case SF_PREC_53: return 53;
    default: return 64;
    }
}

#if defined(__SIZEOF_INT128__) && !defined(SF_PORTABLE_ONLY)
/* Hosts with a native 128-bit type take the fast path; the portable code gives identical bits
 * (build with -DSF_PORTABLE_ONLY to run the tests on the portable path). */
__extension__ typedef unsigned __int128 native_u128;
#define HAVE_NATIVE_U128 1
#endif

u128 mul64x64(uint64_t a, uint64_t b)
{
#ifdef HAVE_NATIVE_U128
    native_u128 p = (native_u128)a * b;
    return u128_make((uint64_t)(p >> 64), (uint64_t)p);
#endif
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    u128 r;
    r.lo = (mid << 32) | (uint32_t)p00;
    r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return r;
}

uint64_t div128by64(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
#ifdef HAVE_NATIVE_U128
    native_u128 n = ((native_u128)hi << 64) | lo;
    *rem = (uint64_t)(n % d);
    return (uint64_t)(n / d);
#endif
    /* Restoring division, one quotient bit per step; hi < d keeps the quotient in 64 bits. */
    uint64_t q = 0;
    for (int i = 0; i < 64; i++) {
        bool carry = hi >> 63;
        hi = (hi << 1) | (lo >> 63);
        lo <<= 1;
        q <<= 1;
        if (carry || hi >= d) {
            hi -= d;
            q |= 1;
        }
    }
    *rem = hi;
    return q;
}

/* Result of rounding: value = q * 2^lsb_exp. */
typedef struct rounded {
    uint64_t q;
    int32_t lsb_exp;
    bool inexact, inc;
} rounded;

/* Keep the top k bits of sig (value = sig/2^127 * 2^exp) and round the rest away. */
static rounded round_bits(u128 sig, int32_t exp, int k, bool sign, int rnd)
{
    rounded r = { 0, exp - k + 1, false, false };
    bool half, sticky;
    if (k >= 1) {
        r.q = k == 64 ? sig.hi : sig.hi >> (64 - k);
        u128 rest = u128_shl(sig, k);
        half = rest.hi >> 63;
        sticky = ((rest.hi << 1) | rest.lo) != 0;
    } else if (k == 0) {
        half = sig.hi >> 63;
        sticky = ((sig.hi << 1) | sig.lo) != 0;
    } else {
        half = false;
        sticky = !u128_is_zero(sig);
    }
    r.inexact = half || sticky;
    switch (rnd) {
    case SF_RND_NEAREST: r.inc = half && (sticky || (r.q & 1)); break;
    case SF_RND_UP: r.inc = !sign && r.inexact; break;
    case SF_RND_DOWN: r.inc = sign && r.inexact; break;
    default: r.inc = false; break;
    }
    if (r.inc) {
        if (r.q == UINT64_MAX) {
            r.q = 1ull << 63;
            r.lsb_exp++;
        } else {
            r.q++;
        }
    }
    return r;
}

static int32_t top_exp(const rounded *r) { return r->lsb_exp + 63 - clz64(r->q); }

/* Pack q*2^lsb_exp, known to be representable (normal or denormal) in fmt. */
static sf_bits pack(const sf_fmt *fmt, bool sign, uint64_t q, int32_t lsb_exp)
{
    if (q == 0)
        return sf_zero(fmt, sign);
    int p = 63 - clz64(q);
    int32_t e = lsb_exp + p;
    int s = fmt->storage_bits;
    uint64_t m;
    uint32_t biased;
    if (e >= fmt->emin) {
        m = p <= s - 1 ? q << (s - 1 - p) : q >> (p - (s - 1));
        biased = (uint32_t)(e + fmt->bias);
    } else {
        m = q << (lsb_exp - (fmt->emin - (s - 1)));
        biased = 0;
    }
    switch (fmt->kind) {
    case SF_F32:
        return f80_make(0, ((uint64_t)sign << 31) | ((uint64_t)biased << 23) | (m & 0x7FFFFF));
    case SF_F64:
        return f80_make(0, ((uint64_t)sign << 63) | ((uint64_t)biased << 52) |
                               (m & 0xFFFFFFFFFFFFFull));
    default:
        return f80_make((uint16_t)(((unsigned)sign << 15) | biased), m);
    }
}

/* Masked overflow (SDM Vol 1 Table 4-10): infinity, or the largest finite value of the
 * working precision when the rounding direction points toward zero. */
static sf_bits overflow_result(const sf_fmt *fmt, int prec, sf_status *st, bool sign)
{
    int rnd = st->rounding;
    bool to_inf = rnd == SF_RND_NEAREST || (rnd == SF_RND_UP && !sign) ||
                  (rnd == SF_RND_DOWN && sign);
    st->c1 = to_inf;
    if (to_inf)
        return sf_inf(fmt, sign);
    uint64_t q = prec == 64 ? UINT64_MAX : (1ull << prec) - 1;
    return pack(fmt, sign, q, fmt->emax - (prec - 1));
}

sf_bits sf_round_pack(const sf_fmt *fmt, int prec, sf_status *st, bool sign, int32_t exp,
                      u128 sig)
{
    int rnd = st->rounding;
    bool x87_bias = fmt->kind == SF_F80;
    rounded r;

    if (sf_pre_trapped(st))
        return sf_zero(fmt, sign); /* never delivered: the destination keeps its value */

    if (exp < fmt->emin) {
        /* Tininess after rounding with unbounded exponent (SDM Vol 1 4.9.1.5, 11.5.2.5). */
        r = round_bits(sig, exp, prec, sign, rnd);
        bool tiny = top_exp(&r) < fmt->emin;
        if (tiny) {
            if (!(st->masks & SF_UE)) {
                /* Unmasked: UE, plus PE if inexact at the working precision with unbounded
                 * exponent (host-checked, SSE and x87 alike). */
                st->flags |= SF_UE | (r.inexact ? SF_PE : 0);
                if (!x87_bias) /* SSE or x87 store to memory: nothing stored */
                    return sf_zero(fmt, sign);
                if (exp + X87_BIAS_ADJUST < fmt->emin) {
                    /* Beyond the bias range (FSCALE): a true-signed zero (host-checked). */
                    st->flags |= SF_PE;
                    st->c1 = false;
                    return sf_zero(fmt, sign);
                }
                r = round_bits(sig, exp + X87_BIAS_ADJUST, prec, sign, rnd);
                if (r.inexact)
                    st->flags |= SF_PE;
                st->c1 = r.inc;
                return pack(fmt, sign, r.q, r.lsb_exp);
            } else if (st->ftz) {
                /* SDM Vol 1 10.2.3.3: tiny results become a zero of the true sign. */
                st->flags |= SF_UE | SF_PE;
                return sf_zero(fmt, sign);
            }
            /* Denormal results keep the working precision's lsb: under x87 PC=24/53 the
             * smallest denormal is 2^(emin-23) / 2^(emin-52), not 2^(emin-63) (host-checked). */
            int32_t min_lsb = fmt->emin - (prec - 1);
            int k = prec;
            if (exp - (prec - 1) < min_lsb)
                k = exp - min_lsb + 1;
            r = round_bits(sig, exp, k, sign, rnd);
            if (r.inexact)
                st->flags |= SF_PE | ((st->masks & SF_UE) ? SF_UE : 0);
            st->c1 = r.inc;
            return pack(fmt, sign, r.q, r.lsb_exp);
        }
    } else {
        r = round_bits(sig, exp, prec, sign, rnd);
    }

    if (top_exp(&r) > fmt->emax) {
        st->flags |= SF_OE;
        if (!(st->masks & SF_OE)) {
            /* Unmasked: OE, plus PE if inexact with unbounded exponent (host-checked). */
            if (r.inexact)
                st->flags |= SF_PE;
            if (!x87_bias) /* SSE or x87 store to memory: nothing stored */
                return sf_inf(fmt, sign);
            st->c1 = r.inc;
            if (top_exp(&r) - X87_BIAS_ADJUST <= fmt->emax)
                return pack(fmt, sign, r.q, r.lsb_exp - X87_BIAS_ADJUST);
            /* Beyond the bias range (FSCALE): infinity whatever the rounding (host-checked). */
            st->flags |= SF_PE;
            st->c1 = true;
            return sf_inf(fmt, sign);
        }
        st->flags |= SF_PE;
        return overflow_result(fmt, prec, st, sign);
    }
    if (r.inexact)
        st->flags |= SF_PE;
    st->c1 = r.inc;
    return pack(fmt, sign, r.q, r.lsb_exp);
}
