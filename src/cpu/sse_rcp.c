/* RCPPS/RCPSS/RSQRTPS/RSQRTSS: the SSE reciprocal approximations. The SDM only bounds their
 * error (|relative error| <= 1.5 * 2^-12); here the exact softfloat result is cut to 12
 * significant bits, so the result is deterministic on every host and within that bound.
 * Special cases follow the SDM's tables: denormal inputs count as zero, results that would be
 * denormal flush to zero, no MXCSR flags change and no SIMD exception is raised. */
#include <Zydis/Zydis.h>
#include <string.h>

#include "cpu/fpu/softfloat.h"
#include "cpu/ops_inline.h"
#include "cpu/simd_ext.h"

#define F32_SIGN 0x80000000u
#define F32_INF 0x7f800000u
#define F32_QNAN_BIT 0x00400000u
#define F32_INDEFINITE 0xffc00000u
#define F32_ONE 0x3f800000u

static f32 approx(f32 x, bool rsqrt)
{
    uint32_t sign = x & F32_SIGN, exp = (x >> 23) & 0xff;
    if (f32_is_nan(x))
        return x | F32_QNAN_BIT;
    if (exp == 0) /* zero or denormal: treated as zero */
        return sign | F32_INF;
    if (rsqrt && sign)
        return F32_INDEFINITE;
    if (exp == 0xff) /* infinity */
        return sign;
    sf_status st = sf_status_default();
    st.rounding = SF_RND_NEAREST;
    st.masks = SF_ALL_EXC;
    st.precision = SF_PREC_64;
    f32 r = rsqrt ? f32_div(F32_ONE, f32_sqrt(x, &st), &st) : f32_div(F32_ONE, x, &st);
    if (((r >> 23) & 0xff) == 0)
        return r & F32_SIGN; /* tiny results flush to zero */
    return r & ~0x7ffu;      /* 12 significant bits */
}

int sse_rcp_exec(struct vcpu *vp, const struct insn *i)
{
    bool rsqrt, scalar;
    switch (i->mnem) {
    case ZYDIS_MNEMONIC_RCPPS: rsqrt = false, scalar = false; break;
    case ZYDIS_MNEMONIC_RCPSS: rsqrt = false, scalar = true; break;
    case ZYDIS_MNEMONIC_RSQRTPS: rsqrt = true, scalar = false; break;
    case ZYDIS_MNEMONIC_RSQRTSS: rsqrt = true, scalar = true; break;
    default: return -1;
    }
    if ((i->flags & IF_VEX) || i->nops < 2 || i->ops[0].kind != OPK_REG ||
        i->ops[0].reg < ZYDIS_REGISTER_XMM0 || i->ops[0].reg > ZYDIS_REGISTER_XMM15)
        return -1;
    /* SDM Vol 3 13.1 (legacy SSE): EM or !OSFXSR -> #UD, TS -> #NM. */
    if ((vp->cr0 & CR0_EM) || !(vp->cr4 & CR4_OSFXSR))
        return EXC_UD;
    if (vp->cr0 & CR0_TS)
        return EXC_NM;
    uint8_t s[16];
    if (i->ops[1].kind == OPK_MEM) {
        gva_t la = lin_of(vp, i);
        if (!scalar && (la & 15))
            cpu_fault_gp(vp, i, 0);
        mem_read_buf(vp, i, la, s, scalar ? 4 : 16);
    } else {
        memcpy(s, vp->fxsave + 160 + 16 * ((i->ops[1].reg - ZYDIS_REGISTER_XMM0) & 15), 16);
    }
    uint8_t *d = vp->fxsave + 160 + 16 * (i->ops[0].reg - ZYDIS_REGISTER_XMM0);
    for (unsigned k = 0; k < (scalar ? 1u : 4u); k++)
        store_sz(d + 4 * k, 4, approx((f32)load_sz(s + 4 * k, 4), rsqrt));
    return 0;
}
