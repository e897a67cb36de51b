/* x87-only operations on f80: FXTRACT, FSCALE, FPREM/FPREM1, constant loads. */
#include "cpu/fpu/sf_internal.h"

#define FMT (&sf_fmt_f80)

/* FSW condition-code bit positions. */
#define FSW_C0 0x0100
#define FSW_C1 0x0200
#define FSW_C2 0x0400
#define FSW_C3 0x4000

void f80_fxtract(f80 abits, f80 *exponent, f80 *significand, sf_status *st)
{
    sf_val a = sf_unpack(FMT, abits);
    if (a.cls == CLS_UNSUPPORTED) {
        *exponent = *significand = sf_invalid(FMT, st);
        return;
    }
    if (sf_is_nan(&a)) {
        *exponent = *significand = sf_propagate_nan1(FMT, &a, st);
        return;
    }
    if (a.cls == CLS_ZERO) {
        /* SDM FXTRACT: a zero raises #Z; exponent -inf, significand the zero itself. */
        st->flags |= SF_ZE;
        *exponent = sf_inf(FMT, true);
        *significand = abits;
        return;
    }
    if (a.cls == CLS_INF) {
        *exponent = sf_inf(FMT, false);
        *significand = abits;
        return;
    }
    sf_note_denormal(&a, st);
    *exponent = sf_from_int(FMT, a.exp, st);
    *significand = f80_make((uint16_t)(((unsigned)a.sign << 15) | 0x3FFF), a.sig);
}

f80 f80_fscale(f80 abits, f80 bbits, sf_status *st)
{
    sf_val a = sf_unpack(FMT, abits), b = sf_unpack(FMT, bbits);
    if (a.cls == CLS_UNSUPPORTED || b.cls == CLS_UNSUPPORTED)
        return sf_invalid(FMT, st);
    if (sf_is_nan(&a) || sf_is_nan(&b))
        return sf_propagate_nan2(FMT, &a, &b, st);
    /* SDM FSCALE results table: 0 * 2^+inf and inf * 2^-inf are invalid. */
    if (b.cls == CLS_INF) {
        if ((!b.sign && a.cls == CLS_ZERO) || (b.sign && a.cls == CLS_INF))
            return sf_invalid(FMT, st);
        sf_note_denormal(&a, st);
        if (a.cls == CLS_ZERO || a.cls == CLS_INF)
            return abits;
        return b.sign ? sf_zero(FMT, a.sign) : sf_inf(FMT, a.sign);
    }
    sf_note_denormal(&a, st);
    sf_note_denormal(&b, st);
    if (a.cls != CLS_FINITE)
        return abits;
    int32_t n = 0;
    if (b.cls == CLS_FINITE && b.exp >= 0) {
        /* Beyond 2^20 every finite operand over/underflows anyway; clamp to stay in range. */
        n = b.exp >= 20 ? (1 << 20) : (int32_t)(b.sig >> (63 - b.exp));
        if (b.sign)
            n = -n;
    }
    return sf_round_pack(FMT, 64, st, a.sign, a.exp + n, u128_make(a.sig, 0));
}

/* Partial remainder (exponent difference >= 64): the SDM's "N, an implementation-dependent
 * number between 32 and 63" is 32 + (difference mod 32) here, which reproduces the x86-64
 * test host's partial remainders and condition codes bit for bit. */
static int partial_bits(int32_t d) { return 32 + (d & 31); }

f80 f80_fprem(f80 abits, f80 bbits, bool ieee, uint16_t *fsw_cc, sf_status *st)
{
    sf_val a = sf_unpack(FMT, abits), b = sf_unpack(FMT, bbits);
    *fsw_cc = 0;
    if (a.cls == CLS_UNSUPPORTED || b.cls == CLS_UNSUPPORTED)
        return sf_invalid(FMT, st);
    if (sf_is_nan(&a) || sf_is_nan(&b))
        return sf_propagate_nan2(FMT, &a, &b, st);
    if (a.cls == CLS_INF || b.cls == CLS_ZERO)
        return sf_invalid(FMT, st);
    sf_note_denormal(&a, st);
    sf_note_denormal(&b, st);
    if (a.cls == CLS_ZERO)
        return abits;
    if (b.cls == CLS_INF) /* quotient 0: ST0 is the remainder, pseudo-denormals normalised */
        return sf_round_pack(FMT, 64, st, a.sign, a.exp, u128_make(a.sig, 0));

    int32_t d = a.exp - b.exp;
    uint64_t r = a.sig, q = 0;
    int32_t r_exp;  /* exponent of r's bit 63 */
    bool sign = a.sign;
    if (d < 0 && !(ieee && d == -1)) {
        r_exp = a.exp;
    } else if (d < 0) {
        /* FPREM1 with |a| in [|b|/2, |b|): the quotient rounds to 1 iff |a| > |b|/2. */
        if (a.sig > b.sig) {
            u128 diff = u128_sub(u128_shl(u128_make(0, b.sig), 1), u128_make(0, a.sig));
            int sh = clz128(diff);
            *fsw_cc = FSW_C1;
            return sf_round_pack(FMT, 64, st, !a.sign, a.exp + 64 - sh, u128_shl(diff, sh));
        }
        r_exp = a.exp;
    } else {
        int steps = d;
        bool partial = d >= 64;
        if (partial)
            steps = partial_bits(d);
        if (r >= b.sig) {
            r -= b.sig;
            q = 1;
        }
        for (int i = 0; i < steps; i++) {
            bool carry = r >> 63;
            r <<= 1;
            q <<= 1;
            if (carry || r >= b.sig) {
                r -= b.sig;
                q |= 1;
            }
        }
        r_exp = a.exp - steps;
        if (partial) {
            *fsw_cc = FSW_C2;
        } else {
            if (ieee && (r > b.sig - r || (r == b.sig - r && (q & 1)))) {
                r = b.sig - r;
                q++;
                sign = !sign;
            }
            *fsw_cc = (uint16_t)(((q & 4) ? FSW_C0 : 0) | ((q & 2) ? FSW_C3 : 0) |
                                 ((q & 1) ? FSW_C1 : 0));
        }
    }
    if (r == 0)
        return sf_zero(FMT, a.sign);
    int sh = clz64(r);
    return sf_round_pack(FMT, 64, st, sign, r_exp - sh, u128_make(r << sh, 0));
}

/* The constants to 128 bits (value = hi:lo / 2^127 * 2^exp), generated with integer series. */
static const struct {
    uint64_t hi, lo;
    int32_t exp;
} x87_consts[] = {
    [SF_CONST_ONE] = { 0x8000000000000000ull, 0, 0 },
    [SF_CONST_L2T] = { 0xD49A784BCD1B8AFEull, 0x492BF6FF4DAFDB4Cull, 1 },
    [SF_CONST_L2E] = { 0xB8AA3B295C17F0BBull, 0xBE87FED0691D3E88ull, 0 },
    [SF_CONST_PI] = { 0xC90FDAA22168C234ull, 0xC4C6628B80DC1CD1ull, 1 },
    [SF_CONST_LG2] = { 0x9A209A84FBCFF798ull, 0x8F8959AC0B7C9178ull, -2 },
    [SF_CONST_LN2] = { 0xB17217F7D1CF79ABull, 0xC9E3B39803F2F6AFull, -1 },
};

f80 f80_load_const(int which, const sf_status *st)
{
    if (which < 0 || which >= SF_CONST_ZERO)
        return sf_zero(FMT, false);
    sf_status tmp = *st; /* rounding only: no flags, no C1 */
    return sf_round_pack(FMT, 64, &tmp, false, x87_consts[which].exp,
                         u128_make(x87_consts[which].hi, x87_consts[which].lo));
}
