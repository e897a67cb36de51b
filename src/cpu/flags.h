/* Lazy arithmetic flags: record the last flag-setting operation, compute CF..OF on demand. */
#ifndef HVEMU_CPU_FLAGS_H
#define HVEMU_CPU_FLAGS_H

#include "cpu/vcpu.h"

static inline uint64_t sz_mask(unsigned sz)
{
    return sz >= 8 ? ~0ull : (1ull << (sz * 8)) - 1;
}
static inline uint64_t sz_sign(unsigned sz)
{
    return 1ull << (sz * 8 - 1);
}
static inline int64_t sx(uint64_t v, unsigned sz)
{
    unsigned sh = 64 - sz * 8;
    return (int64_t)(v << sh) >> sh;
}

static inline void lf_set(struct vcpu *vp, unsigned op, unsigned sz, uint64_t a, uint64_t b,
                          uint64_t res)
{
    vp->lf_op = (uint8_t)op;
    vp->lf_sz = (uint8_t)sz;
    vp->lf_a = a;
    vp->lf_b = b;
    vp->lf_res = res;
}

/* ROL/ROR: CF and OF change, the other flags stay those of the record before the first rotate
 * of a run (LF_ROT in vcpu.h), which is kept aside rather than materialised. */
static inline void lf_set_rot(struct vcpu *vp, bool cf, bool of)
{
    if (vp->lf_op != LF_ROT) {
        vp->lfp_op = vp->lf_op;
        vp->lfp_sz = vp->lf_sz;
        vp->lfp_cf = vp->lf_cf;
        vp->lfp_a = vp->lf_a;
        vp->lfp_b = vp->lf_b;
        vp->lfp_res = vp->lf_res;
        vp->lf_op = LF_ROT;
    }
    vp->lf_cf = cf;
    vp->lf_of = of;
}

/* The current arithmetic flags (RFLAGS bits CF PF AF ZF SF OF). */
uint64_t flags_arith(const struct vcpu *vp);
bool flags_cf(const struct vcpu *vp);

/* Condition codes in the encoding order of Jcc (SDM Vol 2 Table B-1). */
enum { CC_O, CC_NO, CC_B, CC_AE, CC_Z, CC_NZ, CC_BE, CC_A, CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE,
       CC_LE, CC_G };

bool cc_eval_slow(struct vcpu *vp, unsigned cc);

/* ZF, SF and PF of a result of sz bytes. */
uint64_t flags_zsp(uint64_t r, unsigned sz);
/* Replace the arithmetic flags with f (for instructions that compute flags eagerly). */
void flags_put_arith(struct vcpu *vp, uint64_t f);

/* CF with the common kinds inline (INC/DEC read it on every execution). */
static inline bool flags_cf_fast(const struct vcpu *vp)
{
    switch (vp->lf_op) {
    case LF_INC:
    case LF_DEC: return vp->lf_cf;
    case LF_LOGIC: return false;
    case LF_SUB: {
        uint64_t m = sz_mask(vp->lf_sz);
        return (vp->lf_a & m) < (vp->lf_b & m);
    }
    default: return flags_cf(vp);
    }
}

/* Fast paths for the common pairs (CMP/SUB or logic followed by Jcc). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline bool cc_eval(struct vcpu *vp, unsigned cc)
{
    unsigned sz = vp->lf_op ? vp->lf_sz : 8;
    uint64_t m = sz_mask(sz);
    if (likely(vp->lf_op == LF_SUB)) {
        uint64_t a = vp->lf_a & m, b = vp->lf_b & m;
        switch (cc) {
        case CC_Z: return a == b;
        case CC_NZ: return a != b;
        case CC_B: return a < b;
        case CC_AE: return a >= b;
        case CC_BE: return a <= b;
        case CC_A: return a > b;
        case CC_L: return sx(a, sz) < sx(b, sz);
        case CC_GE: return sx(a, sz) >= sx(b, sz);
        case CC_LE: return sx(a, sz) <= sx(b, sz);
        case CC_G: return sx(a, sz) > sx(b, sz);
        default: break;
        }
    } else if (vp->lf_op == LF_LOGIC || vp->lf_op == LF_INC || vp->lf_op == LF_DEC ||
               vp->lf_op == LF_ADD || vp->lf_op == LF_SHL || vp->lf_op == LF_SHR ||
               vp->lf_op == LF_SAR) {
        uint64_t r = vp->lf_res & m;
        switch (cc) {
        case CC_Z: return r == 0;
        case CC_NZ: return r != 0;
        case CC_S: return (r & sz_sign(sz)) != 0;
        case CC_NS: return (r & sz_sign(sz)) == 0;
        default: break;
        }
        if (vp->lf_op == LF_LOGIC) {
            switch (cc) {
            case CC_LE: return r == 0 || (r & sz_sign(sz));
            case CC_G: return r != 0 && !(r & sz_sign(sz));
            case CC_L: return (r & sz_sign(sz)) != 0;
            case CC_GE: return (r & sz_sign(sz)) == 0;
            default: break;
            }
        }
    }
    return cc_eval_slow(vp, cc);
}

/* Evaluate a condition against materialised RFLAGS bits. */
static inline bool cc_from_flags(uint64_t f, unsigned cc)
{
    bool r;
    switch (cc >> 1) {
    case 0: r = f & FL_OF; break;
    case 1: r = f & FL_CF; break;
    case 2: r = f & FL_ZF; break;
    case 3: r = (f & FL_CF) || (f & FL_ZF); break;
    case 4: r = f & FL_SF; break;
    case 5: r = f & FL_PF; break;
    case 6: r = !(f & FL_SF) != !(f & FL_OF); break;
    default: r = (f & FL_ZF) || (!(f & FL_SF) != !(f & FL_OF)); break;
    }
    return r ^ (cc & 1);
}

#endif
