/* MMX execution (MMX, the SSE/SSE2/SSSE3 forms on MM registers, EMMS): MMi aliases the
 * mantissa of physical x87 register Ri in vcpu.fxsave; every MMX instruction first makes TOP 0
 * and all tags valid (SDM Vol 1 9.5.1), and a write sets the register's exponent to all ones. */
#include <Zydis/Zydis.h>
#include <string.h>

#include "cpu/fpu/softfloat.h"
#include "cpu/simd_ext.h"
#include "cpu/ops_inline.h"

enum mmx_kind {
    K_NONE, K_LANE, K_MULUDQ, K_MADDWD, K_SADBW, K_MADDUBSW, K_HORIZ, K_PACK, K_UNPACK,
    K_SHIFT, K_SHUFW, K_SHUFB, K_ALIGNR, K_EXTRW, K_INSRW, K_MOVMSKB, K_MASKMOVQ, K_MOV,
    K_MOVD, K_Q2DQ, K_DQ2Q, K_CVTPI2PS, K_CVTPI2PD, K_CVTPS2PI, K_CVTPD2PI,
};
enum lane_op {
    L_ADD, L_SUB, L_ADDS, L_ADDUS, L_SUBS, L_SUBUS, L_CMPEQ, L_CMPGT, L_MINU, L_MAXU, L_MINS,
    L_MAXS, L_MULLO, L_MULHI, L_MULHIU, L_AVG, L_SIGN, L_ABS, L_MULHRS, L_AND, L_ANDN, L_OR,
    L_XOR,
};
/* Horizontal: add, add with signed saturation, subtract, subtract with saturation. */
enum { H_ADD, H_ADDS, H_SUB, H_SUBS };
/* Shifts: left, logical right, arithmetic right. */
enum { SH_L, SH_R, SH_A };

struct mmx_op {
    uint8_t kind;  /* enum mmx_kind */
    uint8_t lane;  /* lane bytes */
    uint8_t sub;   /* lane_op, H_*, SH_*, pack signedness, unpack half, cvt truncation */
    uint8_t level; /* 0 MMX, 1 SSE-family form (CVT*: needs CR4.OSFXSR) */
};

#define T(mn, k, ln, s) [ZYDIS_MNEMONIC_##mn] = {K_##k, ln, s, 0}
#define TS(mn, k, ln, s) [ZYDIS_MNEMONIC_##mn] = {K_##k, ln, s, 1}
static const struct mmx_op mmx_table[ZYDIS_MNEMONIC_MAX_VALUE + 1] = {
    T(PADDB, LANE, 1, L_ADD), T(PADDW, LANE, 2, L_ADD), T(PADDD, LANE, 4, L_ADD),
    T(PADDQ, LANE, 8, L_ADD), T(PSUBB, LANE, 1, L_SUB), T(PSUBW, LANE, 2, L_SUB),
    T(PSUBD, LANE, 4, L_SUB), T(PSUBQ, LANE, 8, L_SUB), T(PADDSB, LANE, 1, L_ADDS),
    T(PADDSW, LANE, 2, L_ADDS), T(PADDUSB, LANE, 1, L_ADDUS), T(PADDUSW, LANE, 2, L_ADDUS),
    T(PSUBSB, LANE, 1, L_SUBS), T(PSUBSW, LANE, 2, L_SUBS), T(PSUBUSB, LANE, 1, L_SUBUS),
    T(PSUBUSW, LANE, 2, L_SUBUS), T(PCMPEQB, LANE, 1, L_CMPEQ), T(PCMPEQW, LANE, 2, L_CMPEQ),
    T(PCMPEQD, LANE, 4, L_CMPEQ), T(PCMPGTB, LANE, 1, L_CMPGT), T(PCMPGTW, LANE, 2, L_CMPGT),
    T(PCMPGTD, LANE, 4, L_CMPGT), T(PMINUB, LANE, 1, L_MINU), T(PMAXUB, LANE, 1, L_MAXU),
    T(PMINSW, LANE, 2, L_MINS), T(PMAXSW, LANE, 2, L_MAXS), T(PMULLW, LANE, 2, L_MULLO),
    T(PMULHW, LANE, 2, L_MULHI), T(PMULHUW, LANE, 2, L_MULHIU), T(PAVGB, LANE, 1, L_AVG),
    T(PAVGW, LANE, 2, L_AVG), T(PSIGNB, LANE, 1, L_SIGN), T(PSIGNW, LANE, 2, L_SIGN),
    T(PSIGND, LANE, 4, L_SIGN), T(PABSB, LANE, 1, L_ABS), T(PABSW, LANE, 2, L_ABS),
    T(PABSD, LANE, 4, L_ABS), T(PMULHRSW, LANE, 2, L_MULHRS), T(PAND, LANE, 8, L_AND),
    T(PANDN, LANE, 8, L_ANDN), T(POR, LANE, 8, L_OR), T(PXOR, LANE, 8, L_XOR),
    T(PMULUDQ, MULUDQ, 4, 0), T(PMADDWD, MADDWD, 2, 0), T(PSADBW, SADBW, 1, 0),
    T(PMADDUBSW, MADDUBSW, 1, 0), T(PHADDW, HORIZ, 2, H_ADD), T(PHADDD, HORIZ, 4, H_ADD),
    T(PHADDSW, HORIZ, 2, H_ADDS), T(PHSUBW, HORIZ, 2, H_SUB), T(PHSUBD, HORIZ, 4, H_SUB),
    T(PHSUBSW, HORIZ, 2, H_SUBS), T(PACKSSWB, PACK, 2, 1), T(PACKSSDW, PACK, 4, 1),
    T(PACKUSWB, PACK, 2, 0), T(PUNPCKLBW, UNPACK, 1, 0), T(PUNPCKLWD, UNPACK, 2, 0),
    T(PUNPCKLDQ, UNPACK, 4, 0), T(PUNPCKHBW, UNPACK, 1, 1), T(PUNPCKHWD, UNPACK, 2, 1),
    T(PUNPCKHDQ, UNPACK, 4, 1), T(PSLLW, SHIFT, 2, SH_L), T(PSLLD, SHIFT, 4, SH_L),
    T(PSLLQ, SHIFT, 8, SH_L), T(PSRLW, SHIFT, 2, SH_R), T(PSRLD, SHIFT, 4, SH_R),
    T(PSRLQ, SHIFT, 8, SH_R), T(PSRAW, SHIFT, 2, SH_A), T(PSRAD, SHIFT, 4, SH_A),
    T(PSHUFW, SHUFW, 2, 0), T(PSHUFB, SHUFB, 1, 0), T(PALIGNR, ALIGNR, 1, 0),
    T(PEXTRW, EXTRW, 2, 0), T(PINSRW, INSRW, 2, 0), T(PMOVMSKB, MOVMSKB, 1, 0),
    T(MASKMOVQ, MASKMOVQ, 1, 0), T(MOVQ, MOV, 8, 0), T(MOVNTQ, MOV, 8, 0), T(MOVD, MOVD, 4, 0),
    T(MOVQ2DQ, Q2DQ, 8, 0), T(MOVDQ2Q, DQ2Q, 8, 0),
    TS(CVTPI2PS, CVTPI2PS, 4, 0), TS(CVTPI2PD, CVTPI2PD, 8, 0), TS(CVTPS2PI, CVTPS2PI, 4, 0),
    TS(CVTTPS2PI, CVTPS2PI, 4, 1), TS(CVTPD2PI, CVTPD2PI, 8, 0), TS(CVTTPD2PI, CVTPD2PI, 8, 1),
};
#undef T
#undef TS

/* ---- register file ---- */
static bool is_mm(const struct insn *i, unsigned k)
{
    return k < i->nops && i->ops[k].kind == OPK_REG && i->ops[k].reg >= ZYDIS_REGISTER_MM0 &&
           i->ops[k].reg <= ZYDIS_REGISTER_MM7;
}

static int xmm_of(const struct insn *i, unsigned k)
{
    if (k >= i->nops || i->ops[k].kind != OPK_REG)
        return -1;
    unsigned r = i->ops[k].reg;
    return r >= ZYDIS_REGISTER_XMM0 && r <= ZYDIS_REGISTER_XMM15 ? (int)(r - ZYDIS_REGISTER_XMM0)
                                                                  : -1;
}

static uint8_t *xmm_ptr(struct vcpu *vp, int n) { return vp->fxsave + 160 + 16 * (n & 15); }

/* After mmx_enter (TOP = 0) the stack-ordered image holds Ri at ST(i). */
static uint8_t *mm_ptr(struct vcpu *vp, unsigned n) { return vp->fxsave + 32 + 16 * (n & 7); }

/* SDM Vol 1 9.5.1: TOP <- 0 and all tags valid. The image is kept in stack order, so rotate it
 * into physical order first (Ri was ST((i - TOP) mod 8)). */
static void mmx_enter(struct vcpu *vp)
{
    uint16_t fsw = (uint16_t)load_sz(vp->fxsave + 2, 2);
    unsigned top = (fsw >> 11) & 7;
    if (top) {
        uint8_t img[128];
        for (unsigned r = 0; r < 8; r++)
            memcpy(img + 16 * r, vp->fxsave + 32 + 16 * ((r - top) & 7), 16);
        memcpy(vp->fxsave + 32, img, sizeof(img));
        store_sz(vp->fxsave + 2, 2, fsw & ~0x3800u);
    }
    vp->fxsave[4] = 0xff;
}

static unsigned gpr_of(const struct insn *i, unsigned k)
{
    return k == 0 ? i->r1 : k == 1 ? i->r2 : i->r3;
}

/* Operand k as a 64-bit value (memory: its size, at most 8 bytes). */
static uint64_t get(struct vcpu *vp, const struct insn *i, unsigned k)
{
    unsigned sz = i->ops[k].size > 8 || !i->ops[k].size ? 8 : i->ops[k].size;
    if (is_mm(i, k))
        return load_sz(mm_ptr(vp, i->ops[k].reg - ZYDIS_REGISTER_MM0), 8);
    int x = xmm_of(i, k);
    if (x >= 0)
        return load_sz(xmm_ptr(vp, x), 8);
    switch (i->ops[k].kind) {
    case OPK_MEM: return mem_rd(vp, i, lin_of(vp, i), sz);
    case OPK_REG: return rreg(vp, gpr_of(i, k), sz);
    case OPK_IMM: return i->imm;
    default: return 0;
    }
}

static void put_mm(struct vcpu *vp, unsigned n, uint64_t v)
{
    uint8_t *p = mm_ptr(vp, n);
    store_sz(p, 8, v);
    store_sz(p + 8, 2, 0xffff);
    memset(p + 10, 0, 6);
}

/* Store v into operand k: MM, the low quadword of an XMM (upper cleared), GPR or memory. */
static void put(struct vcpu *vp, const struct insn *i, unsigned k, uint64_t v)
{
    unsigned sz = i->ops[k].size > 8 || !i->ops[k].size ? 8 : i->ops[k].size;
    if (is_mm(i, k)) {
        put_mm(vp, i->ops[k].reg - ZYDIS_REGISTER_MM0, v);
        return;
    }
    int x = xmm_of(i, k);
    if (x >= 0) {
        memset(xmm_ptr(vp, x), 0, 16);
        store_sz(xmm_ptr(vp, x), 8, v);
    } else if (i->ops[k].kind == OPK_MEM) {
        mem_wr(vp, i, lin_of(vp, i), sz, v);
    } else {
        wreg(vp, gpr_of(i, k), sz == 8 ? 8 : 4, v & (sz == 8 ? ~0ull : 0xffffffffull));
    }
}

/* ---- lanes ---- */
static uint64_t lget(uint64_t v, unsigned sz, unsigned n)
{
    unsigned b = 8 * sz;
    return b == 64 ? v : (v >> (n * b)) & ((1ull << b) - 1);
}

static int64_t sext(uint64_t v, unsigned sz)
{
    unsigned sh = 64 - 8 * sz;
    return (int64_t)(v << sh) >> sh;
}

static uint64_t lset(uint64_t v, unsigned sz, unsigned n, uint64_t x)
{
    unsigned b = 8 * sz;
    if (b == 64)
        return x;
    uint64_t m = ((1ull << b) - 1) << (n * b);
    return (v & ~m) | ((x << (n * b)) & m);
}

static uint64_t sat_s(int64_t v, unsigned sz)
{
    int64_t hi = (int64_t)((1ull << (8 * sz - 1)) - 1), lo = -hi - 1;
    return (uint64_t)(v > hi ? hi : v < lo ? lo : v);
}

static uint64_t sat_u(int64_t v, unsigned sz)
{
    int64_t hi = (int64_t)((1ull << (8 * sz)) - 1);
    return (uint64_t)(v > hi ? hi : v < 0 ? 0 : v);
}

static uint64_t lane_op(unsigned op, unsigned sz, uint64_t a, uint64_t b)
{
    int64_t sa = sext(a, sz), sb = sext(b, sz);
    uint64_t ones = sz == 8 ? ~0ull : (1ull << (8 * sz)) - 1;
    switch (op) {
    case L_ADD: return a + b;
    case L_SUB: return a - b;
    case L_ADDS: return sat_s(sa + sb, sz);
    case L_ADDUS: return sat_u((int64_t)(a + b), sz);
    case L_SUBS: return sat_s(sa - sb, sz);
    case L_SUBUS: return sat_u((int64_t)a - (int64_t)b, sz);
    case L_CMPEQ: return a == b ? ones : 0;
    case L_CMPGT: return sa > sb ? ones : 0;
    case L_MINU: return a < b ? a : b;
    case L_MAXU: return a > b ? a : b;
    case L_MINS: return sa < sb ? a : b;
    case L_MAXS: return sa > sb ? a : b;
    case L_MULLO: return (uint64_t)(sa * sb);
    case L_MULHI: return (uint64_t)(sa * sb) >> 16;
    case L_MULHIU: return (a * b) >> 16;
    case L_AVG: return (a + b + 1) >> 1;
    case L_SIGN: return sb < 0 ? (uint64_t)-sa : sb == 0 ? 0 : a;
    case L_ABS: return sb < 0 ? (uint64_t)-sb : b;
    case L_MULHRS: return (uint64_t)((((sa * sb) >> 14) + 1) >> 1);
    case L_AND: return a & b;
    case L_ANDN: return ~a & b;
    case L_OR: return a | b;
    default: return a ^ b;
    }
}

static uint64_t horiz(unsigned op, unsigned sz, uint64_t a, uint64_t b)
{
    unsigned n = 8 / sz, half = n / 2;
    uint64_t r = 0;
    for (unsigned k = 0; k < n; k++) {
        uint64_t s = k < half ? a : b;
        unsigned j = 2 * (k % half);
        int64_t x = sext(lget(s, sz, j), sz), y = sext(lget(s, sz, j + 1), sz);
        int64_t v = op == H_ADD || op == H_ADDS ? x + y : x - y;
        r = lset(r, sz, k, op == H_ADDS || op == H_SUBS ? sat_s(v, sz) : (uint64_t)v);
    }
    return r;
}

/* PSHUFB, PALIGNR, pack, unpack and the other whole-register rearrangements. */
static uint64_t shuffle(const struct mmx_op *op, uint64_t a, uint64_t b, uint8_t imm)
{
    unsigned sz = op->lane, n = 8 / sz;
    uint64_t r = 0;
    switch (op->kind) {
    case K_PACK:
        for (unsigned k = 0; k < 2 * n; k++) {
            int64_t v = sext(lget(k < n ? a : b, sz, k % n), sz);
            r = lset(r, sz / 2, k, op->sub ? sat_s(v, sz / 2) : sat_u(v, sz / 2));
        }
        return r;
    case K_UNPACK:
        for (unsigned k = 0; k < n / 2; k++) {
            r = lset(r, sz, 2 * k, lget(a, sz, k + op->sub * n / 2));
            r = lset(r, sz, 2 * k + 1, lget(b, sz, k + op->sub * n / 2));
        }
        return r;
    case K_SHUFW:
        for (unsigned k = 0; k < 4; k++)
            r = lset(r, 2, k, lget(b, 2, (imm >> (2 * k)) & 3));
        return r;
    case K_SHUFB:
        for (unsigned k = 0; k < 8; k++) {
            uint64_t s = lget(b, 1, k);
            r = lset(r, 1, k, s & 0x80 ? 0 : lget(a, 1, s & 7));
        }
        return r;
    default: /* K_ALIGNR: (a:b) >> 8 * imm */
        for (unsigned k = 0; k < 8; k++) {
            unsigned j = k + imm;
            r = lset(r, 1, k, j < 8 ? lget(b, 1, j) : j < 16 ? lget(a, 1, j - 8) : 0);
        }
        return r;
    }
}

static uint64_t shift(const struct mmx_op *op, uint64_t a, uint64_t cnt)
{
    unsigned sz = op->lane, bits = 8 * sz, n = 8 / sz;
    uint64_t r = 0;
    for (unsigned k = 0; k < n; k++) {
        uint64_t v = lget(a, sz, k);
        if (op->sub == SH_A)
            v = (uint64_t)(sext(v, sz) >> (cnt >= bits ? bits - 1 : cnt));
        else if (cnt >= bits)
            v = 0;
        else
            v = op->sub == SH_L ? v << cnt : v >> cnt;
        r = lset(r, sz, k, v);
    }
    return r;
}

static uint64_t wide(const struct mmx_op *op, uint64_t a, uint64_t b)
{
    uint64_t r = 0;
    switch (op->kind) {
    case K_MULUDQ: return (a & 0xffffffffu) * (b & 0xffffffffu);
    case K_MADDWD:
        for (unsigned k = 0; k < 2; k++)
            r = lset(r, 4, k, (uint64_t)(sext(lget(a, 2, 2 * k), 2) * sext(lget(b, 2, 2 * k), 2) +
                                         sext(lget(a, 2, 2 * k + 1), 2) *
                                             sext(lget(b, 2, 2 * k + 1), 2)));
        return r;
    case K_SADBW:
        for (unsigned k = 0; k < 8; k++) {
            int64_t d = (int64_t)lget(a, 1, k) - (int64_t)lget(b, 1, k);
            r += (uint64_t)(d < 0 ? -d : d);
        }
        return r;
    default: /* K_MADDUBSW: unsigned bytes of a times signed bytes of b */
        for (unsigned k = 0; k < 4; k++) {
            int64_t v = (int64_t)lget(a, 1, 2 * k) * sext(lget(b, 1, 2 * k), 1) +
                        (int64_t)lget(a, 1, 2 * k + 1) * sext(lget(b, 1, 2 * k + 1), 1);
            r = lset(r, 2, k, sat_s(v, 2));
        }
        return r;
    }
}

/* ---- conversions between MM and XMM/float (MXCSR rounding, masks, DAZ/FTZ) ---- */
static int cvt(struct vcpu *vp, const struct insn *i, const struct mmx_op *op)
{
    uint32_t m = (uint32_t)load_sz(vp->fxsave + 24, 4);
    sf_status st = sf_status_default();
    st.rounding = (uint8_t)((m >> 13) & 3);
    st.masks = (uint8_t)((m >> 7) & SF_ALL_EXC);
    st.flags = 0;
    st.ftz = (m >> 15) & 1;
    st.daz = (m >> 6) & 1;
    st.precision = SF_PREC_64;
    uint8_t src[16];
    memset(src, 0, sizeof(src));
    bool wide_src = op->kind == K_CVTPD2PI;
    if (i->ops[1].kind == OPK_MEM) {
        gva_t la = lin_of(vp, i);
        if (wide_src && (la & 15))
            cpu_fault_gp(vp, i, 0);
        mem_read_buf(vp, i, la, src, wide_src ? 16 : 8);
    } else if (xmm_of(i, 1) >= 0) {
        memcpy(src, xmm_ptr(vp, xmm_of(i, 1)), 16);
    } else {
        store_sz(src, 8, get(vp, i, 1));
    }
    uint8_t res[16];
    uint64_t r = 0;
    for (unsigned k = 0; k < 2; k++) {
        switch (op->kind) {
        case K_CVTPI2PS:
            store_sz(res + 4 * k, 4, i32_to_f32((int32_t)load_sz(src + 4 * k, 4), &st));
            break;
        case K_CVTPI2PD:
            store_sz(res + 8 * k, 8, i32_to_f64((int32_t)load_sz(src + 4 * k, 4), &st));
            break;
        case K_CVTPS2PI:
            r = lset(r, 4, k, (uint32_t)f32_to_i32((f32)load_sz(src + 4 * k, 4), op->sub, &st));
            break;
        default:
            r = lset(r, 4, k, (uint32_t)f64_to_i32(load_sz(src + 8 * k, 8), op->sub, &st));
            break;
        }
    }
    store_sz(vp->fxsave + 24, 4, m | (st.flags & SF_ALL_EXC));
    if (st.flags & ~st.masks & SF_ALL_EXC)
        return (vp->cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD;
    if (op->kind == K_CVTPI2PS)
        memcpy(xmm_ptr(vp, xmm_of(i, 0)), res, 8);
    else if (op->kind == K_CVTPI2PD)
        memcpy(xmm_ptr(vp, xmm_of(i, 0)), res, 16);
    else
        put(vp, i, 0, r);
    return 0;
}

static int emms(struct vcpu *vp)
{
    if (vp->cr0 & CR0_EM)
        return EXC_UD;
    if (vp->cr0 & CR0_TS)
        return EXC_NM;
    if (vp->fxsave[2] & 0x80)
        return EXC_MF;
    vp->fxsave[4] = 0; /* SDM Vol 1 9.5.2: all tags empty, TOP unchanged */
    return 0;
}

int mmx_exec(struct vcpu *vp, const struct insn *i)
{
    if (i->mnem > ZYDIS_MNEMONIC_MAX_VALUE || (i->flags & IF_VEX))
        return -1;
    if (i->mnem == ZYDIS_MNEMONIC_EMMS)
        return emms(vp);
    const struct mmx_op *op = &mmx_table[i->mnem];
    bool mm = false;
    for (unsigned k = 0; k < i->nops; k++)
        mm |= is_mm(i, k);
    if (op->kind == K_NONE || (!mm && !op->level))
        return -1;
    /* SDM Vol 3 Table 12-1 / 13.1: EM -> #UD, TS -> #NM, then a pending x87 exception. */
    if ((vp->cr0 & CR0_EM) || (op->level && !(vp->cr4 & CR4_OSFXSR)))
        return EXC_UD;
    if (vp->cr0 & CR0_TS)
        return EXC_NM;
    if (mm) {
        if (vp->fxsave[2] & 0x80)
            return EXC_MF;
        /* Before any MM access: from here on MMi is at ST(i). A later memory fault leaves
         * the transition done, which the SDM does not forbid. */
        mmx_enter(vp);
    }
    if (op->kind >= K_CVTPI2PS)
        return cvt(vp, i, op);
    uint64_t a = 0, b = 0, r;
    uint8_t imm = (uint8_t)i->imm;
    switch (op->kind) {
    case K_MOV: case K_MOVD: case K_DQ2Q: case K_Q2DQ:
        r = get(vp, i, 1);
        if (op->kind == K_MOVD && i->ops[1].size == 4)
            r &= 0xffffffffu;
        if (op->kind == K_MOVD && i->ops[0].kind == OPK_MEM)
            mem_wr(vp, i, lin_of(vp, i), i->ops[0].size == 8 ? 8 : 4, r);
        else
            put(vp, i, 0, r);
        return 0;
    case K_EXTRW:
        b = get(vp, i, 1);
        wreg(vp, i->r1, i->ops[0].size == 8 ? 8 : 4, lget(b, 2, imm & 3));
        return 0;
    case K_INSRW:
        b = get(vp, i, 1) & 0xffff;
        a = get(vp, i, 0);
        put(vp, i, 0, lset(a, 2, imm & 3, b));
        return 0;
    case K_MOVMSKB:
        b = get(vp, i, 1);
        r = 0;
        for (unsigned k = 0; k < 8; k++)
            r |= ((b >> (8 * k + 7)) & 1) << k;
        wreg(vp, i->r1, i->ops[0].size == 8 ? 8 : 4, r);
        return 0;
    case K_MASKMOVQ: {
        /* Stores the bytes of operand 0 selected by operand 1's byte MSBs at DS:rDI. */
        a = get(vp, i, 0);
        b = get(vp, i, 1);
        uint64_t ea = vp->gpr[7] & amask_tab[i->asz];
        for (unsigned k = 0; k < 8; k++)
            if ((b >> (8 * k + 7)) & 1)
                mem_wr(vp, i, lin_seg(vp, i->seg, (ea + k) & amask_tab[i->asz]), 1, lget(a, 1, k));
        return 0;
    }
    default: break;
    }
    b = get(vp, i, i->nops > 1 ? 1 : 0);
    a = get(vp, i, 0);
    switch (op->kind) {
    case K_LANE:
        r = 0;
        for (unsigned k = 0, n = 8 / op->lane; k < n; k++)
            r = lset(r, op->lane, k,
                     lane_op(op->sub, op->lane, lget(a, op->lane, k), lget(b, op->lane, k)));
        break;
    case K_HORIZ: r = horiz(op->sub, op->lane, a, b); break;
    case K_SHIFT: r = shift(op, a, i->ops[1].kind == OPK_IMM ? imm : b); break;
    case K_PACK: case K_UNPACK: case K_SHUFW: case K_SHUFB: case K_ALIGNR:
        r = shuffle(op, a, b, imm);
        break;
    default: r = wide(op, a, b); break;
    }
    put(vp, i, 0, r);
    return 0;
}
