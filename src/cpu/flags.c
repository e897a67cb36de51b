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

/* One lazy record (the current one, or the one a run of rotates keeps). */
struct lf_rec {
    unsigned op, sz;
    uint64_t a, b, res;
    bool cf;
};

static bool rec_cf(const struct lf_rec *l, uint64_t rflags)
{
    unsigned sz = l->sz;
    uint64_t m = sz_mask(sz), a = l->a & m, b = l->b & m, r = l->res & m;
    switch (l->op) {
    case LF_ADD: return r < a;
    case LF_SUB: return a < b;
    case LF_ADC: return l->cf ? r <= a : r < a;
    case LF_SBB: return l->cf ? a <= b : a < b;
    case LF_LOGIC: return false;
    case LF_INC:
    case LF_DEC:
    case LF_MUL: return l->cf;
    /* Counts are 1..63 here; a byte or word shifted by more than its width leaves CF 0, as
     * the eager code did (undefined in the SDM). */
    case LF_SHL: return l->b <= sz * 8u && ((a >> (sz * 8u - l->b)) & 1);
    case LF_SHR: return (a >> (l->b - 1)) & 1;
    case LF_SAR: return ((uint64_t)(sx(a, sz) >> (l->b - 1))) & 1;
    default: return rflags & FL_CF;
    }
}

static uint64_t rec_arith(const struct lf_rec *l, uint64_t rflags)
{
    if (l->op == LF_NONE)
        return rflags & FL_ARITH;
    unsigned sz = l->sz;
    uint64_t m = sz_mask(sz), sign = sz_sign(sz);
    uint64_t a = l->a & m, b = l->b & m, r = l->res & m;
    uint64_t f = 0;
    if (rec_cf(l, rflags))
        f |= FL_CF;
    if (parity(r))
        f |= FL_PF;
    if (r == 0)
        f |= FL_ZF;
    if (r & sign)
        f |= FL_SF;
    switch (l->op) {
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
        if ((a & sign) && l->b == 1)
            f |= FL_OF;
        break;
    case LF_MUL:
        f &= ~(uint64_t)FL_ZF;
        if (l->cf)
            f |= FL_OF;
        break;
    default:
        break;
    }
    return f;
}

static struct lf_rec current(const struct vcpu *vp)
{
    return (struct lf_rec){vp->lf_op, vp->lf_sz, vp->lf_a, vp->lf_b, vp->lf_res, vp->lf_cf};
}

bool flags_cf(const struct vcpu *vp)
{
    if (vp->lf_op == LF_ROT)
        return vp->lf_cf;
    struct lf_rec l = current(vp);
    return rec_cf(&l, vp->rflags);
}

uint64_t flags_arith(const struct vcpu *vp)
{
    if (vp->lf_op == LF_ROT) {
        struct lf_rec p = {vp->lfp_op, vp->lfp_sz, vp->lfp_a, vp->lfp_b, vp->lfp_res, vp->lfp_cf};
        return (rec_arith(&p, vp->rflags) & ~(uint64_t)(FL_CF | FL_OF)) | (vp->lf_cf ? FL_CF : 0) |
               (vp->lf_of ? FL_OF : 0);
    }
    struct lf_rec l = current(vp);
    return rec_arith(&l, vp->rflags);
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
