/* SSE4.1/SSE4.2 instructions beside simd.c: dot products (DPPS, DPPD), MPSADBW, PHMINPOSUW,
 * the packed string compares PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM (SDM Vol 2 4.1), and
 * SSE2's MASKMOVDQU. XMM registers live in vcpu.fxsave; floating point goes through softfloat
 * under MXCSR. */
#include <Zydis/Zydis.h>
#include <string.h>

#include "cpu/fpu/softfloat.h"
#include "cpu/ops_inline.h"
#include "cpu/simd_ext.h"

static uint8_t *xmm(struct vcpu *vp, unsigned n) { return vp->fxsave + 160 + 16 * (n & 15); }

static int xreg(const struct insn *i, unsigned k)
{
    if (k >= i->nops || i->ops[k].kind != OPK_REG)
        return -1;
    unsigned r = i->ops[k].reg;
    return r >= ZYDIS_REGISTER_XMM0 && r <= ZYDIS_REGISTER_XMM15 ? (int)(r - ZYDIS_REGISTER_XMM0)
                                                                  : -1;
}

/* Operand k (XMM or m128) into buf; align: legacy-SSE 16-byte alignment rule (#GP). */
static void src128(struct vcpu *vp, const struct insn *i, unsigned k, uint8_t buf[16], bool align)
{
    int x = xreg(i, k);
    if (x >= 0) {
        memcpy(buf, xmm(vp, (unsigned)x), 16);
        return;
    }
    gva_t la = lin_of(vp, i);
    if (align && (la & 15))
        cpu_fault_gp(vp, i, 0);
    mem_read_buf(vp, i, la, buf, 16);
}

/* ---- dot products ---- */
static sf_status mx_status(const struct vcpu *vp)
{
    uint32_t m = (uint32_t)load_sz(vp->fxsave + 24, 4);
    sf_status st = sf_status_default();
    st.rounding = (uint8_t)((m >> 13) & 3);
    st.masks = (uint8_t)((m >> 7) & SF_ALL_EXC);
    st.flags = 0;
    st.ftz = (m >> 15) & 1;
    st.daz = (m >> 6) & 1;
    st.precision = SF_PREC_64;
    return st;
}

/* Merge the flags; 0 to commit, or the vector of an unmasked exception (SDM Vol 3 13.1). */
static int mx_done(struct vcpu *vp, const sf_status *st)
{
    uint32_t m = (uint32_t)load_sz(vp->fxsave + 24, 4);
    store_sz(vp->fxsave + 24, 4, m | (st->flags & SF_ALL_EXC));
    if (st->flags & ~st->masks & SF_ALL_EXC)
        return (vp->cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD;
    return 0;
}

/* SDM DPPS: products of the lanes selected by imm8[7:4] (others +0.0), summed as
 * (p0 + p1) + (p2 + p3), broadcast to the lanes selected by imm8[3:0]. */
static int dpps(struct vcpu *vp, const struct insn *i, const uint8_t a[16], const uint8_t b[16])
{
    sf_status st = mx_status(vp);
    uint8_t imm = (uint8_t)i->imm;
    f32 p[4];
    for (unsigned k = 0; k < 4; k++)
        p[k] = (imm >> (4 + k)) & 1 ? f32_mul((f32)load_sz(a + 4 * k, 4), (f32)load_sz(b + 4 * k, 4), &st)
                                    : 0;
    f32 s01 = f32_add(p[0], p[1], &st), s23 = f32_add(p[2], p[3], &st);
    f32 s = f32_add(s01, s23, &st);
    int v = mx_done(vp, &st);
    if (v)
        return v;
    uint8_t *d = xmm(vp, (unsigned)xreg(i, 0));
    for (unsigned k = 0; k < 4; k++)
        store_sz(d + 4 * k, 4, (imm >> k) & 1 ? s : 0);
    return 0;
}

static int dppd(struct vcpu *vp, const struct insn *i, const uint8_t a[16], const uint8_t b[16])
{
    sf_status st = mx_status(vp);
    uint8_t imm = (uint8_t)i->imm;
    f64 p[2];
    for (unsigned k = 0; k < 2; k++)
        p[k] = (imm >> (4 + k)) & 1 ? f64_mul(load_sz(a + 8 * k, 8), load_sz(b + 8 * k, 8), &st) : 0;
    f64 s = f64_add(p[0], p[1], &st);
    int v = mx_done(vp, &st);
    if (v)
        return v;
    uint8_t *d = xmm(vp, (unsigned)xreg(i, 0));
    for (unsigned k = 0; k < 2; k++)
        store_sz(d + 8 * k, 8, (imm >> k) & 1 ? s : 0);
    return 0;
}

/* ---- integer ---- */
static void mpsadbw(uint8_t d[16], const uint8_t a[16], const uint8_t b[16], uint8_t imm)
{
    const uint8_t *s1 = a + 4 * ((imm >> 2) & 1), *s2 = b + 4 * (imm & 3);
    for (unsigned k = 0; k < 8; k++) {
        unsigned sum = 0;
        for (unsigned j = 0; j < 4; j++)
            sum += (unsigned)(s1[k + j] > s2[j] ? s1[k + j] - s2[j] : s2[j] - s1[k + j]);
        store_sz(d + 2 * k, 2, sum);
    }
}

static void phminposuw(uint8_t d[16], const uint8_t b[16])
{
    unsigned best = 0;
    uint64_t min = load_sz(b, 2);
    for (unsigned k = 1; k < 8; k++) {
        uint64_t w = load_sz(b + 2 * k, 2);
        if (w < min) {
            min = w;
            best = k;
        }
    }
    memset(d, 0, 16);
    store_sz(d, 2, min);
    store_sz(d + 2, 2, best);
}

/* ---- packed string compares (SDM Vol 2 4.1) ---- */
struct pcmpstr {
    unsigned n;    /* elements: 16 bytes or 8 words */
    bool sgn;
    unsigned len1, len2;
};

static int64_t elem(const uint8_t *v, const struct pcmpstr *p, unsigned k)
{
    if (p->n == 16)
        return p->sgn ? (int8_t)v[k] : v[k];
    uint16_t w = (uint16_t)load_sz(v + 2 * k, 2);
    return p->sgn ? (int16_t)w : w;
}

/* Implicit length: the index of the first zero element, or n. */
static unsigned implicit_len(const uint8_t *v, const struct pcmpstr *p)
{
    unsigned k = 0;
    while (k < p->n && elem(v, p, k) != 0)
        k++;
    return k;
}

/* Explicit length: |reg| saturated to n (SDM 4.1.2); reg is EAX/EDX, or RAX/RDX with REX.W. */
static unsigned explicit_len(uint64_t reg, unsigned sz, unsigned n)
{
    int64_t v = sz == 8 ? (int64_t)reg : (int32_t)reg;
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    return mag > n ? n : (unsigned)mag;
}

/* IntRes1 of the aggregation in imm8[3:2], with Table 4-7's overrides for invalid elements. */
static unsigned aggregate(const uint8_t *a, const uint8_t *b, const struct pcmpstr *p, uint8_t imm)
{
    unsigned res = 0, n = p->n;
    for (unsigned i = 0; i < n; i++) {
        bool bit = false, v2 = i < p->len2;
        switch ((imm >> 2) & 3) {
        case 0: /* equal any */
            for (unsigned j = 0; v2 && j < p->len1; j++)
                bit |= elem(a, p, j) == elem(b, p, i);
            break;
        case 1: /* ranges: a[j] <= b[i] <= a[j+1] for even j */
            for (unsigned j = 0; v2 && j + 1 < p->len1; j += 2) /* both bounds valid */
                bit |= elem(b, p, i) >= elem(a, p, j) && elem(b, p, i) <= elem(a, p, j + 1);
            break;
        case 2: /* equal each */
            bit = i < p->len1 && v2 ? elem(a, p, i) == elem(b, p, i) : i >= p->len1 && !v2;
            break;
        default: /* equal ordered: a occurs in b at i */
            bit = true;
            for (unsigned k = 0; bit && k < n - i; k++) {
                if (k >= p->len1)
                    break;
                bit = i + k < p->len2 && elem(a, p, k) == elem(b, p, i + k);
            }
            break;
        }
        res |= (unsigned)bit << i;
    }
    return res;
}

static int pcmpstr(struct vcpu *vp, const struct insn *i, const uint8_t a[16], const uint8_t b[16])
{
    uint8_t imm = (uint8_t)i->imm;
    struct pcmpstr p = {imm & 1 ? 8 : 16, (imm >> 1) & 1, 0, 0};
    bool expl = i->mnem == ZYDIS_MNEMONIC_PCMPESTRI || i->mnem == ZYDIS_MNEMONIC_PCMPESTRM;
    bool index = i->mnem == ZYDIS_MNEMONIC_PCMPESTRI || i->mnem == ZYDIS_MNEMONIC_PCMPISTRI;
    if (expl) {
        unsigned sz = i->opsz == 8 ? 8 : 4;
        p.len1 = explicit_len(vp->gpr[0], sz, p.n);
        p.len2 = explicit_len(vp->gpr[2], sz, p.n);
    } else {
        p.len1 = implicit_len(a, &p);
        p.len2 = implicit_len(b, &p);
    }
    unsigned r1 = aggregate(a, b, &p, imm), r2 = r1, all = (1u << p.n) - 1;
    switch ((imm >> 4) & 3) {
    case 1: r2 = ~r1 & all; break;
    case 3: r2 = r1 ^ ((1u << p.len2) - 1); break; /* negate only valid elements of src2 */
    default: break;
    }
    if (index) {
        unsigned idx = p.n;
        if (r2)
            idx = (imm & 0x40) ? 31u - (unsigned)__builtin_clz(r2) : (unsigned)__builtin_ctz(r2);
        wreg(vp, 8, 4, idx); /* ECX (zero-extends RCX) */
    } else {
        uint8_t m[16];
        memset(m, 0, 16);
        if (imm & 0x40) {
            unsigned es = 16 / p.n;
            for (unsigned k = 0; k < p.n; k++)
                memset(m + es * k, (r2 >> k) & 1 ? 0xff : 0, es);
        } else {
            store_sz(m, 2, r2);
        }
        memcpy(xmm(vp, 0), m, 16);
    }
    uint64_t f = 0;
    if (r2)
        f |= FL_CF;
    if (p.len2 < p.n)
        f |= FL_ZF;
    if (p.len1 < p.n)
        f |= FL_SF;
    if (r2 & 1)
        f |= FL_OF;
    flags_put_arith(vp, f);
    return 0;
}

/* MASKMOVDQU: the bytes of operand 0 whose mask byte (operand 1) has its MSB set, at DS:rDI. */
static void maskmovdqu(struct vcpu *vp, const struct insn *i, const uint8_t a[16],
                       const uint8_t b[16])
{
    uint64_t ea = vp->gpr[7] & amask_tab[i->asz];
    for (unsigned k = 0; k < 16; k++)
        if (b[k] & 0x80)
            mem_wr(vp, i, lin_seg(vp, i->seg, (ea + k) & amask_tab[i->asz]), 1, a[k]);
}

int sse42_exec(struct vcpu *vp, const struct insn *i)
{
    bool align = true;
    switch (i->mnem) {
    case ZYDIS_MNEMONIC_DPPS: case ZYDIS_MNEMONIC_DPPD: case ZYDIS_MNEMONIC_MPSADBW:
    case ZYDIS_MNEMONIC_PHMINPOSUW: case ZYDIS_MNEMONIC_MASKMOVDQU:
        break;
    case ZYDIS_MNEMONIC_PCMPESTRI: case ZYDIS_MNEMONIC_PCMPESTRM: case ZYDIS_MNEMONIC_PCMPISTRI:
    case ZYDIS_MNEMONIC_PCMPISTRM:
        align = false; /* SDM 4.1: no alignment rule for the string compares */
        break;
    default:
        return -1;
    }
    if ((i->flags & IF_VEX) || xreg(i, 0) < 0)
        return -1;
    /* SDM Vol 3 13.1 (legacy SSE): EM or !OSFXSR -> #UD, TS -> #NM. */
    if ((vp->cr0 & CR0_EM) || !(vp->cr4 & CR4_OSFXSR))
        return EXC_UD;
    if (vp->cr0 & CR0_TS)
        return EXC_NM;
    uint8_t a[16], b[16];
    memcpy(a, xmm(vp, (unsigned)xreg(i, 0)), 16);
    src128(vp, i, 1, b, align);
    switch (i->mnem) {
    case ZYDIS_MNEMONIC_DPPS: return dpps(vp, i, a, b);
    case ZYDIS_MNEMONIC_DPPD: return dppd(vp, i, a, b);
    case ZYDIS_MNEMONIC_MPSADBW: mpsadbw(xmm(vp, (unsigned)xreg(i, 0)), a, b, (uint8_t)i->imm); return 0;
    case ZYDIS_MNEMONIC_PHMINPOSUW: phminposuw(xmm(vp, (unsigned)xreg(i, 0)), b); return 0;
    case ZYDIS_MNEMONIC_MASKMOVDQU: maskmovdqu(vp, i, a, b); return 0;
    default: return pcmpstr(vp, i, a, b);
    }
}
