/* Materialisation of lazy flags (SDM Vol 1 Appendix A, EFLAGS cross-reference). */
#include "cpu/flags.h"

static bool parity(uint64_t r)
{
    uint8_t b = (uint8_t)r;
    b ^= b >> 4;
    b ^= b >> 2;
    b ^= b >> 1;
    return !(b & 1);
}

bool flags_cf(const struct vcpu *vp)
{
    unsigned sz = vp->lf_sz;
    uint64_t m = sz_mask(sz), a = vp->lf_a & m, b = vp->lf_b & m, r = vp->lf_res & m;
    switch (vp->lf_op) {
    case LF_ADD: return r < a;
    case LF_SUB: return a < b;
    case LF_ADC: return vp->lf_cf ? r <= a : r < a;
    case LF_SBB: return vp->lf_cf ? a <= b : a < b;
    case LF_LOGIC: return false;
    case LF_INC:
    case LF_DEC:
    case LF_MUL: return vp->lf_cf;
    /* Counts are 1..63 here; a byte or word shifted by more than its width leaves CF 0, as
     * the eager code did (undefined in the SDM). */
    case LF_SHL: return vp->lf_b <= sz * 8u && ((a >> (sz * 8u - vp->lf_b)) & 1);
    case LF_SHR: return (a >> (vp->lf_b - 1)) & 1;
    case LF_SAR: return ((uint64_t)(sx(a, sz) >> (vp->lf_b - 1))) & 1;
    default: return vp->rflags & FL_CF;
    }
}

uint64_t flags_arith(const struct vcpu *vp)
{
    if (vp->lf_op == LF_NONE)
        return vp->rflags & FL_ARITH;
    unsigned sz = vp->lf_sz;
    uint64_t m = sz_mask(sz), sign = sz_sign(sz);
    uint64_t a = vp->lf_a & m, b = vp->lf_b & m, r = vp->lf_res & m;
    uint64_t f = 0;
    if (flags_cf(vp))
        f |= FL_CF;
    if (parity(r))
        f |= FL_PF;
    if (r == 0)
        f |= FL_ZF;
    if (r & sign)
        f |= FL_SF;
    switch (vp->lf_op) {
    case LF_ADD:
    case LF_ADC:
        if ((a ^ r) & (b ^ r) & sign)
            f |= FL_OF;
        f |= (a ^ b ^ r) & FL_AF;
        break;
    case LF_SUB:
    case LF_SBB:
        if ((a ^ b) & (a ^ r) & sign)
            f |= FL_OF;
        f |= (a ^ b ^ r) & FL_AF;
        break;
    case LF_INC:
        if (r == sign)
            f |= FL_OF;
        f |= (a ^ r) & FL_AF;
        break;
    case LF_DEC:
        if (a == sign)
            f |= FL_OF;
        f |= (a ^ r) & FL_AF;
        break;
    /* OF: defined for 1-bit shifts; for longer ones the SDM leaves it undefined and these are
     * the values the eager code produced. AF is left 0. */
    case LF_SHL:
        if (((r & sign) != 0) != ((f & FL_CF) != 0))
            f |= FL_OF;
        break;
    case LF_SHR:
        if ((a & sign) && vp->lf_b == 1)
            f |= FL_OF;
        break;
    case LF_MUL:
        f &= ~(uint64_t)FL_ZF;
        if (vp->lf_cf)
            f |= FL_OF;
        break;
    default:
        break;
    }
    return f;
}

bool cc_eval_slow(struct vcpu *vp, unsigned cc)
{
    return cc_from_flags(flags_arith(vp), cc);
}

uint64_t flags_zsp(uint64_t r, unsigned sz)
{
    r &= sz_mask(sz);
    uint64_t f = 0;
    if (r == 0)
        f |= FL_ZF;
    if (r & sz_sign(sz))
        f |= FL_SF;
    if (parity(r))
        f |= FL_PF;
    return f;
}

void flags_put_arith(struct vcpu *vp, uint64_t f)
{
    vp->rflags = (vp->rflags & ~(uint64_t)FL_ARITH) | (f & FL_ARITH);
    vp->lf_op = LF_NONE;
}
