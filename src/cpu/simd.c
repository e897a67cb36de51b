/* Legacy-SSE execution: one table from Zydis mnemonic to a driver (moves, bitwise, integer
 * lanes, shifts, shuffles, floating point, conversions, state) and its parameters. XMM
 * registers live in vcpu.fxsave (FXSAVE layout); floating point goes through softfloat with
 * MXCSR's rounding, masks, DAZ and FTZ, and an unmasked exception leaves the destination
 * untouched and raises #XM (#UD without CR4.OSXMMEXCPT). MMX and VEX forms are not handled;
 * x87 escapes are x87.c's. */
#include <Zydis/Zydis.h>
#include <string.h>

#include "cpu/fpu/softfloat.h"
#include "cpu/ops_inline.h"
#include "cpu/simd.h"
#include "cpu/x87.h"

#define MXCSR_OFF 24
#define MXCSR_MASK 0xffffu

struct simd_op;
typedef int (*simd_fn)(struct vcpu *vp, const struct insn *i, const struct simd_op *op);

struct simd_op {
    simd_fn fn;
    uint8_t lane; /* lane bytes */
    uint8_t kind; /* driver-specific operation */
    uint8_t flags;
};
enum { SF_ALIGN = 1, SF_SCALAR = 2, SF_STORE_OK = 4 };

/* ---- register file and operands ---- */
static uint8_t *xmm(struct vcpu *vp, unsigned n)
{
    return vp->fxsave + 160 + 16 * (n & 15);
}

static uint32_t mxcsr(const struct vcpu *vp)
{
    uint32_t v;
    memcpy(&v, vp->fxsave + MXCSR_OFF, 4);
    return v;
}

static void mxcsr_set(struct vcpu *vp, uint32_t v)
{
    memcpy(vp->fxsave + MXCSR_OFF, &v, 4);
}

static int xidx(const struct insn *i, unsigned k)
{
    if (k >= i->nops || i->ops[k].kind != OPK_REG)
        return -1;
    unsigned r = i->ops[k].reg;
    if (r >= ZYDIS_REGISTER_XMM0 && r <= ZYDIS_REGISTER_XMM15)
        return (int)(r - ZYDIS_REGISTER_XMM0);
    return -1;
}

static unsigned gpr_of(const struct insn *i, unsigned k)
{
    return k == 0 ? i->r1 : k == 1 ? i->r2 : i->r3;
}

/* Operand k as 16 bytes (memory: size bytes, zero-extended; GPR: its value). */
static void opnd(struct vcpu *vp, const struct insn *i, unsigned k, uint8_t buf[16], unsigned size,
                 bool align)
{
    memset(buf, 0, 16);
    int x = xidx(i, k);
    if (x >= 0) {
        memcpy(buf, xmm(vp, (unsigned)x), 16);
    } else if (i->ops[k].kind == OPK_MEM) {
        gva_t la = lin_of(vp, i);
        if (align && size == 16 && (la & 15))
            cpu_fault_gp(vp, i, 0);
        mem_read_buf(vp, i, la, buf, size);
    } else if (i->ops[k].kind == OPK_REG) {
        uint64_t v = rreg(vp, gpr_of(i, k), i->ops[k].size > 8 ? 8 : i->ops[k].size);
        memcpy(buf, &v, 8);
    } else if (i->ops[k].kind == OPK_IMM) {
        memcpy(buf, &i->imm, 8);
    }
}

/* Store size bytes of val into operand k (XMM: whole register from val; GPR: zero-extended). */
static void put(struct vcpu *vp, const struct insn *i, unsigned k, const uint8_t val[16],
                unsigned size, bool align)
{
    int x = xidx(i, k);
    if (x >= 0) {
        memcpy(xmm(vp, (unsigned)x), val, 16);
    } else if (i->ops[k].kind == OPK_MEM) {
        gva_t la = lin_of(vp, i);
        if (align && size == 16 && (la & 15))
            cpu_fault_gp(vp, i, 0);
        mem_write_buf(vp, i, la, val, size);
    } else {
        uint64_t v = 0;
        memcpy(&v, val, size > 8 ? 8 : size);
        unsigned gs = i->ops[k].size;
        wreg(vp, gpr_of(i, k), gs == 8 ? 8 : 4, v);
    }
}

static uint64_t lane_get(const uint8_t *b, unsigned sz, unsigned n)
{
    return load_sz(b + n * sz, sz);
}

static void lane_put(uint8_t *b, unsigned sz, unsigned n, uint64_t v)
{
    store_sz(b + n * sz, sz, v);
}

/* ---- floating-point status ---- */
static sf_status status_of(const struct vcpu *vp)
{
    uint32_t m = mxcsr(vp);
    sf_status st = sf_status_default();
    st.rounding = (uint8_t)((m >> 13) & 3);
    st.masks = (uint8_t)((m >> 7) & SF_ALL_EXC);
    st.flags = 0;
    st.ftz = (m >> 15) & 1;
    st.daz = (m >> 6) & 1;
    st.precision = SF_PREC_64;
    return st;
}

/* Merge the flags; 0 to commit the result, or the vector of an unmasked exception. */
static int status_done(struct vcpu *vp, const sf_status *st)
{
    mxcsr_set(vp, mxcsr(vp) | (st->flags & SF_ALL_EXC));
    if (st->flags & ~st->masks & SF_ALL_EXC)
        return (vp->cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD;
    return 0;
}

/* ---- moves ---- */
static int d_mov128(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t v[16];
    bool al = op->flags & SF_ALIGN;
    opnd(vp, i, 1, v, 16, al);
    put(vp, i, 0, v, 16, al);
    return 0;
}

/* MOVSS/MOVSD: register moves merge the low lane, loads zero the rest, stores write a lane. */
static int d_movs(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    unsigned sz = op->lane;
    uint8_t v[16];
    opnd(vp, i, 1, v, sz, false);
    if (i->ops[0].kind == OPK_MEM) {
        mem_write_buf(vp, i, lin_of(vp, i), v, sz);
    } else if (i->ops[1].kind == OPK_MEM) {
        put(vp, i, 0, v, 16, false);
    } else {
        uint8_t *d = xmm(vp, (unsigned)xidx(i, 0));
        memcpy(d, v, sz);
    }
    return 0;
}

/* MOVD/MOVQ between XMM and GPR/memory (lane = 4 or 8 bytes); loads zero-extend to 128. */
static int d_movdq(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    unsigned sz = op->lane;
    uint8_t v[16];
    opnd(vp, i, 1, v, sz, false);
    memset(v + sz, 0, 16 - sz);
    put(vp, i, 0, v, sz, false);
    return 0;
}

/* MOVLPS/MOVLPD/MOVHPS/MOVHPD/MOVHLPS/MOVLHPS: kind = destination half << 1 | source half. */
static int d_movhalf(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    unsigned dh = op->kind >> 1, sh = op->kind & 1;
    uint8_t s[16];
    if (i->ops[0].kind == OPK_MEM) {
        opnd(vp, i, 1, s, 16, false);
        mem_write_buf(vp, i, lin_of(vp, i), s + 8 * dh, 8);
        return 0;
    }
    opnd(vp, i, 1, s, 8, false);
    if (i->ops[1].kind == OPK_MEM)
        sh = 0;
    memcpy(xmm(vp, (unsigned)xidx(i, 0)) + 8 * dh, s + 8 * sh, 8);
    return 0;
}

/* ---- bitwise ---- */
enum { B_AND, B_ANDN, B_OR, B_XOR };
static int d_bitwise(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16];
    opnd(vp, i, 0, a, 16, true);
    opnd(vp, i, 1, b, 16, true);
    for (unsigned k = 0; k < 16; k++) {
        switch (op->kind) {
        case B_AND: a[k] &= b[k]; break;
        case B_ANDN: a[k] = (uint8_t)(~a[k] & b[k]); break;
        case B_OR: a[k] |= b[k]; break;
        default: a[k] ^= b[k]; break;
        }
    }
    put(vp, i, 0, a, 16, false);
    return 0;
}

/* ---- integer lanes ---- */
enum {
    I_ADD, I_SUB, I_ADDS, I_ADDUS, I_SUBS, I_SUBUS, I_CMPEQ, I_CMPGT, I_MINU, I_MAXU, I_MINS,
    I_MAXS, I_MULLO, I_MULHI, I_MULHIU, I_AVG, I_SIGN, I_ABS, I_MULHRS,
};

static int64_t sat_s(int64_t v, unsigned sz)
{
    int64_t hi = (int64_t)(sz_sign(sz) - 1), lo = -hi - 1;
    return v > hi ? hi : v < lo ? lo : v;
}

static uint64_t sat_u(int64_t v, unsigned sz)
{
    int64_t hi = (int64_t)sz_mask(sz);
    return (uint64_t)(v > hi ? hi : v < 0 ? 0 : v);
}

static uint64_t int_lane(unsigned kind, unsigned sz, uint64_t a, uint64_t b)
{
    int64_t sa = sx(a, sz), sb = sx(b, sz);
    uint64_t m = sz_mask(sz);
    switch (kind) {
    case I_ADD: return (a + b) & m;
    case I_SUB: return (a - b) & m;
    case I_ADDS: return (uint64_t)sat_s(sa + sb, sz) & m;
    case I_ADDUS: return sat_u((int64_t)(a + b), sz);
    case I_SUBS: return (uint64_t)sat_s(sa - sb, sz) & m;
    case I_SUBUS: return sat_u((int64_t)a - (int64_t)b, sz);
    case I_CMPEQ: return a == b ? m : 0;
    case I_CMPGT: return sa > sb ? m : 0;
    case I_MINU: return a < b ? a : b;
    case I_MAXU: return a > b ? a : b;
    case I_MINS: return sa < sb ? a : b;
    case I_MAXS: return sa > sb ? a : b;
    case I_MULLO: return (uint64_t)(sa * sb) & m;
    case I_MULHI: return (uint64_t)((sa * sb) >> (sz * 8)) & m;
    case I_MULHIU: return ((a * b) >> (sz * 8)) & m;
    case I_AVG: return (a + b + 1) >> 1;
    case I_SIGN: return sb < 0 ? (uint64_t)(-sa) & m : sb == 0 ? 0 : a;
    case I_ABS: return (uint64_t)(sb < 0 ? -sb : sb) & m;
    default: return (uint64_t)((((sa * sb) >> 14) + 1) >> 1) & m; /* PMULHRSW */
    }
}

static int d_int(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16], r[16];
    unsigned sz = op->lane;
    opnd(vp, i, 0, a, 16, true);
    opnd(vp, i, 1, b, 16, true);
    for (unsigned n = 0; n < 16 / sz; n++)
        lane_put(r, sz, n, int_lane(op->kind, sz, lane_get(a, sz, n), lane_get(b, sz, n)));
    put(vp, i, 0, r, 16, false);
    return 0;
}

/* Lane-combining integer forms. */
enum { W_MULUDQ, W_MULDQ, W_MADDWD, W_SADBW, W_MADDUBSW, W_HADD, W_HSUB, W_HADDS, W_HSUBS, W_PTEST };
static int d_wide(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16], r[16];
    opnd(vp, i, 0, a, 16, true);
    opnd(vp, i, 1, b, 16, true);
    memset(r, 0, 16);
    unsigned sz = op->lane;
    switch (op->kind) {
    case W_MULUDQ:
    case W_MULDQ:
        for (unsigned n = 0; n < 2; n++) {
            uint64_t x = lane_get(a, 4, 2 * n), y = lane_get(b, 4, 2 * n);
            uint64_t p = op->kind == W_MULUDQ ? x * y : (uint64_t)(sx(x, 4) * sx(y, 4));
            lane_put(r, 8, n, p);
        }
        break;
    case W_MADDWD:
        for (unsigned n = 0; n < 4; n++) {
            int64_t p = sx(lane_get(a, 2, 2 * n), 2) * sx(lane_get(b, 2, 2 * n), 2) +
                        sx(lane_get(a, 2, 2 * n + 1), 2) * sx(lane_get(b, 2, 2 * n + 1), 2);
            lane_put(r, 4, n, (uint64_t)p);
        }
        break;
    case W_SADBW:
        for (unsigned h = 0; h < 2; h++) {
            uint64_t s = 0;
            for (unsigned n = 0; n < 8; n++) {
                int d = (int)a[8 * h + n] - (int)b[8 * h + n];
                s += (uint64_t)(d < 0 ? -d : d);
            }
            lane_put(r, 8, h, s);
        }
        break;
    case W_MADDUBSW:
        for (unsigned n = 0; n < 8; n++) {
            int64_t p = (int64_t)a[2 * n] * (int8_t)b[2 * n] + (int64_t)a[2 * n + 1] * (int8_t)b[2 * n + 1];
            lane_put(r, 2, n, (uint64_t)sat_s(p, 2));
        }
        break;
    case W_HADD:
    case W_HSUB:
    case W_HADDS:
    case W_HSUBS: {
        unsigned per = 16 / sz / 2;
        for (unsigned src = 0; src < 2; src++) {
            const uint8_t *s = src ? b : a;
            for (unsigned n = 0; n < per; n++) {
                int64_t x = sx(lane_get(s, sz, 2 * n), sz), y = sx(lane_get(s, sz, 2 * n + 1), sz);
                int64_t v = (op->kind == W_HADD || op->kind == W_HADDS) ? x + y : x - y;
                if (op->kind == W_HADDS || op->kind == W_HSUBS)
                    v = sat_s(v, sz);
                lane_put(r, sz, src * per + n, (uint64_t)v);
            }
        }
        break;
    }
    default: { /* PTEST: flags only */
        bool z = true, c = true;
        for (unsigned k = 0; k < 16; k++) {
            z = z && !(a[k] & b[k]);
            c = c && !(~a[k] & b[k]);
        }
        flags_put_arith(vp, (z ? FL_ZF : 0) | (c ? FL_CF : 0));
        return 0;
    }
    }
    put(vp, i, 0, r, 16, false);
    return 0;
}

/* PACKSSWB/PACKUSWB/PACKSSDW/PACKUSDW: kind 0 signed, 1 unsigned saturation; lane = source. */
static int d_pack(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16], r[16];
    unsigned sz = op->lane, dz = sz / 2, per = 16 / sz;
    opnd(vp, i, 0, a, 16, true);
    opnd(vp, i, 1, b, 16, true);
    for (unsigned n = 0; n < 2 * per; n++) {
        int64_t v = sx(lane_get(n < per ? a : b, sz, n % per), sz);
        lane_put(r, dz, n, op->kind ? sat_u(v, dz) : (uint64_t)sat_s(v, dz));
    }
    put(vp, i, 0, r, 16, false);
    return 0;
}

/* PUNPCKLxx/PUNPCKHxx and UNPCKL/H PS/PD: kind 0 low halves, 1 high halves. */
static int d_unpack(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16], r[16];
    unsigned sz = op->lane, half = 8 / sz;
    opnd(vp, i, 0, a, 16, true);
    opnd(vp, i, 1, b, 16, true);
    for (unsigned n = 0; n < half; n++) {
        unsigned from = n + (op->kind ? half : 0);
        lane_put(r, sz, 2 * n, lane_get(a, sz, from));
        lane_put(r, sz, 2 * n + 1, lane_get(b, sz, from));
    }
    put(vp, i, 0, r, 16, false);
    return 0;
}

/* ---- shifts ---- */
enum { SH_L, SH_R, SH_A };
static int d_shift(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], c[16];
    unsigned sz = op->lane, bits = sz * 8;
    opnd(vp, i, 0, a, 16, false);
    uint64_t cnt;
    if (i->ops[1].kind == OPK_IMM) {
        cnt = i->imm & 0xff;
    } else {
        opnd(vp, i, 1, c, 16, true);
        memcpy(&cnt, c, 8);
    }
    for (unsigned n = 0; n < 16 / sz; n++) {
        uint64_t v = lane_get(a, sz, n), r;
        if (op->kind == SH_A)
            r = (uint64_t)(sx(v, sz) >> (cnt >= bits ? bits - 1 : cnt));
        else if (cnt >= bits)
            r = 0;
        else
            r = op->kind == SH_L ? v << cnt : v >> cnt;
        lane_put(a, sz, n, r);
    }
    put(vp, i, 0, a, 16, false);
    return 0;
}

/* PSLLDQ/PSRLDQ (kind 0 left, 1 right) and PALIGNR (kind 2). */
static int d_byteshift(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16], r[16], cat[48];
    unsigned n = (unsigned)(i->imm & 0xff);
    opnd(vp, i, 0, a, 16, true);
    memset(cat, 0, sizeof(cat));
    if (op->kind == 2) {
        opnd(vp, i, 1, b, 16, true);
        memcpy(cat, b, 16);
        memcpy(cat + 16, a, 16);
        for (unsigned k = 0; k < 16; k++)
            r[k] = n + k < 32 ? cat[n + k] : 0;
    } else if (op->kind == 0) {
        for (unsigned k = 0; k < 16; k++)
            r[k] = k >= n ? a[k - n] : 0;
    } else {
        for (unsigned k = 0; k < 16; k++)
            r[k] = k + n < 16 ? a[k + n] : 0;
    }
    put(vp, i, 0, r, 16, false);
    return 0;
}

/* ---- shuffles ---- */
enum { SHUF_D, SHUF_HW, SHUF_LW, SHUF_PS, SHUF_PD, SHUF_B };
static int d_shuffle(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16], r[16];
    unsigned imm = (unsigned)(i->imm & 0xff);
    opnd(vp, i, 0, a, 16, false);
    opnd(vp, i, 1, b, 16, true);
    switch (op->kind) {
    case SHUF_D:
        for (unsigned n = 0; n < 4; n++)
            lane_put(r, 4, n, lane_get(b, 4, (imm >> (2 * n)) & 3));
        break;
    case SHUF_HW:
    case SHUF_LW: {
        unsigned base = op->kind == SHUF_HW ? 4 : 0;
        memcpy(r, b, 16);
        for (unsigned n = 0; n < 4; n++)
            lane_put(r, 2, base + n, lane_get(b, 2, base + ((imm >> (2 * n)) & 3)));
        break;
    }
    case SHUF_PS:
        for (unsigned n = 0; n < 4; n++)
            lane_put(r, 4, n, lane_get(n < 2 ? a : b, 4, (imm >> (2 * n)) & 3));
        break;
    case SHUF_PD:
        lane_put(r, 8, 0, lane_get(a, 8, imm & 1));
        lane_put(r, 8, 1, lane_get(b, 8, (imm >> 1) & 1));
        break;
    default: /* PSHUFB */
        for (unsigned k = 0; k < 16; k++)
            r[k] = (b[k] & 0x80) ? 0 : a[b[k] & 15];
        break;
    }
    put(vp, i, 0, r, 16, false);
    return 0;
}

/* ---- extraction, insertion, masks, blends ---- */
enum { X_PMOVMSKB, X_MOVMSKPS, X_MOVMSKPD };
static int d_movmsk(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t s[16];
    opnd(vp, i, 1, s, 16, false);
    unsigned sz = op->kind == X_PMOVMSKB ? 1 : op->kind == X_MOVMSKPS ? 4 : 8;
    uint64_t m = 0;
    for (unsigned n = 0; n < 16 / sz; n++)
        m |= (uint64_t)(s[n * sz + sz - 1] >> 7) << n;
    wreg(vp, i->r1, i->ops[0].size == 8 ? 8 : 4, m);
    return 0;
}

static int d_extract(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t s[16], v[16];
    unsigned sz = op->lane;
    opnd(vp, i, 1, s, 16, false);
    unsigned n = (unsigned)(i->imm & (16 / sz - 1));
    memset(v, 0, 16);
    memcpy(v, s + n * sz, sz);
    put(vp, i, 0, v, i->ops[0].kind == OPK_MEM ? sz : 8, false);
    return 0;
}

static int d_insert(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t s[16];
    unsigned sz = op->lane;
    opnd(vp, i, 1, s, sz, false);
    unsigned n = (unsigned)(i->imm & (16 / sz - 1));
    memcpy(xmm(vp, (unsigned)xidx(i, 0)) + n * sz, s, sz);
    return 0;
}

/* INSERTPS: imm[7:6] source lane (register form), imm[5:4] destination lane, imm[3:0] zero mask. */
static int d_insertps(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t s[16];
    unsigned imm = (unsigned)(i->imm & 0xff);
    bool mem = i->ops[1].kind == OPK_MEM;
    opnd(vp, i, 1, s, 4, false);
    uint8_t *d = xmm(vp, (unsigned)xidx(i, 0));
    memcpy(d + 4 * ((imm >> 4) & 3), s + (mem ? 0 : 4 * (imm >> 6)), 4);
    for (unsigned n = 0; n < 4; n++)
        if (imm & (1u << n))
            memset(d + 4 * n, 0, 4);
    return 0;
}

/* PBLENDW/BLENDPS/BLENDPD (imm mask) and BLENDVPS/BLENDVPD/PBLENDVB (XMM0 sign bits). */
static int d_blend(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16];
    unsigned sz = op->lane;
    opnd(vp, i, 0, a, 16, false);
    opnd(vp, i, 1, b, 16, true);
    const uint8_t *x0 = xmm(vp, 0);
    for (unsigned n = 0; n < 16 / sz; n++) {
        bool take = op->kind ? (x0[n * sz + sz - 1] & 0x80) != 0 : ((i->imm >> n) & 1) != 0;
        if (take)
            memcpy(a + n * sz, b + n * sz, sz);
    }
    put(vp, i, 0, a, 16, false);
    return 0;
}

/* PMOVZX / PMOVSX: lane = destination size, kind = source size | 0x80 for sign extension. */
static int d_pmovx(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t s[16], r[16];
    unsigned dz = op->lane, sz = op->kind & 0x7f, n = 16 / dz;
    opnd(vp, i, 1, s, n * sz, false);
    for (unsigned k = 0; k < n; k++) {
        uint64_t v = lane_get(s, sz, k);
        lane_put(r, dz, k, (op->kind & 0x80) ? (uint64_t)sx(v, sz) : v);
    }
    put(vp, i, 0, r, 16, false);
    return 0;
}

/* ---- floating point ---- */
enum { F_ADD, F_SUB, F_MUL, F_DIV, F_MIN, F_MAX, F_SQRT };
static uint64_t fp_lane(unsigned kind, unsigned sz, uint64_t a, uint64_t b, sf_status *st)
{
    if (sz == 4) {
        f32 x = (f32)a, y = (f32)b;
        switch (kind) {
        case F_ADD: return f32_add(x, y, st);
        case F_SUB: return f32_sub(x, y, st);
        case F_MUL: return f32_mul(x, y, st);
        case F_DIV: return f32_div(x, y, st);
        case F_MIN: return f32_min(x, y, st);
        case F_MAX: return f32_max(x, y, st);
        default: return f32_sqrt(y, st);
        }
    }
    switch (kind) {
    case F_ADD: return f64_add(a, b, st);
    case F_SUB: return f64_sub(a, b, st);
    case F_MUL: return f64_mul(a, b, st);
    case F_DIV: return f64_div(a, b, st);
    case F_MIN: return f64_min(a, b, st);
    case F_MAX: return f64_max(a, b, st);
    default: return f64_sqrt(b, st);
    }
}

static int d_fp(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16];
    unsigned sz = op->lane;
    bool scalar = op->flags & SF_SCALAR;
    opnd(vp, i, 0, a, 16, false);
    opnd(vp, i, 1, b, scalar ? sz : 16, !scalar);
    sf_status st = status_of(vp);
    unsigned n = scalar ? 1 : 16 / sz;
    for (unsigned k = 0; k < n; k++)
        lane_put(a, sz, k, fp_lane(op->kind, sz, lane_get(a, sz, k), lane_get(b, sz, k), &st));
    int v = status_done(vp, &st);
    if (v)
        return v;
    put(vp, i, 0, a, 16, false);
    return 0;
}

static bool cmp_pred(sf_cmp c, unsigned pred)
{
    switch (pred & 7) {
    case 0: return c == SF_CMP_EQ;
    case 1: return c == SF_CMP_LT;
    case 2: return c == SF_CMP_LT || c == SF_CMP_EQ;
    case 3: return c == SF_CMP_UN;
    case 4: return c != SF_CMP_EQ;
    case 5: return !(c == SF_CMP_LT);
    case 6: return !(c == SF_CMP_LT || c == SF_CMP_EQ);
    default: return c != SF_CMP_UN;
    }
}

static int d_cmp(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16];
    unsigned sz = op->lane, pred = (unsigned)(i->imm & 7);
    bool scalar = op->flags & SF_SCALAR;
    bool signaling = pred == 1 || pred == 2 || pred == 5 || pred == 6;
    opnd(vp, i, 0, a, 16, false);
    opnd(vp, i, 1, b, scalar ? sz : 16, !scalar);
    sf_status st = status_of(vp);
    unsigned n = scalar ? 1 : 16 / sz;
    for (unsigned k = 0; k < n; k++) {
        uint64_t x = lane_get(a, sz, k), y = lane_get(b, sz, k);
        sf_cmp c = sz == 4 ? f32_compare((f32)x, (f32)y, signaling, &st)
                           : f64_compare(x, y, signaling, &st);
        lane_put(a, sz, k, cmp_pred(c, pred) ? sz_mask(sz) : 0);
    }
    int v = status_done(vp, &st);
    if (v)
        return v;
    put(vp, i, 0, a, 16, false);
    return 0;
}

/* COMISS/UCOMISS/COMISD/UCOMISD: kind 1 = signaling. */
static int d_comi(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16];
    unsigned sz = op->lane;
    opnd(vp, i, 0, a, 16, false);
    opnd(vp, i, 1, b, sz, false);
    sf_status st = status_of(vp);
    uint64_t x = lane_get(a, sz, 0), y = lane_get(b, sz, 0);
    sf_cmp c = sz == 4 ? f32_compare((f32)x, (f32)y, op->kind, &st) : f64_compare(x, y, op->kind, &st);
    int v = status_done(vp, &st);
    if (v)
        return v;
    static const uint64_t fl[4] = {FL_CF, FL_ZF, 0, FL_ZF | FL_PF | FL_CF};
    flags_put_arith(vp, fl[c]);
    return 0;
}

/* Conversions. */
enum {
    C_SI2SS, C_SI2SD, C_SS2SI, C_TSS2SI, C_SD2SI, C_TSD2SI, C_SS2SD, C_SD2SS, C_PS2PD, C_PD2PS,
    C_DQ2PS, C_PS2DQ, C_TPS2DQ, C_DQ2PD, C_PD2DQ, C_TPD2DQ,
};
static int d_cvt(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16];
    sf_status st = status_of(vp);
    opnd(vp, i, 0, a, 16, false);
    /* Source bytes: the integer's size for CVTSI2Sx, else what the form reads. */
    unsigned ssz = 16;
    switch (op->kind) {
    case C_SI2SS:
    case C_SI2SD: ssz = i->ops[1].size == 8 || (i->ops[1].size > 8 && i->opsz == 8) ? 8 : 4; break;
    case C_SS2SI: case C_TSS2SI: case C_SS2SD: ssz = 4; break;
    case C_SD2SI: case C_TSD2SI: case C_SD2SS: case C_PS2PD: case C_DQ2PD: ssz = 8; break;
    default: break;
    }
    bool pk = op->flags & SF_ALIGN;
    opnd(vp, i, 1, b, i->ops[1].kind == OPK_MEM ? ssz : 16, pk);
    uint64_t w = 0;
    bool to_gpr = false;
    switch (op->kind) {
    case C_SI2SS:
        lane_put(a, 4, 0, ssz == 8 ? i64_to_f32((int64_t)lane_get(b, 8, 0), &st)
                                   : i32_to_f32((int32_t)lane_get(b, 4, 0), &st));
        break;
    case C_SI2SD:
        lane_put(a, 8, 0, ssz == 8 ? i64_to_f64((int64_t)lane_get(b, 8, 0), &st)
                                   : i32_to_f64((int32_t)lane_get(b, 4, 0), &st));
        break;
    case C_SS2SI:
    case C_TSS2SI: {
        f32 x = (f32)lane_get(b, 4, 0);
        bool t = op->kind == C_TSS2SI;
        w = i->ops[0].size == 8 ? (uint64_t)f32_to_i64(x, t, &st) : (uint32_t)f32_to_i32(x, t, &st);
        to_gpr = true;
        break;
    }
    case C_SD2SI:
    case C_TSD2SI: {
        f64 x = lane_get(b, 8, 0);
        bool t = op->kind == C_TSD2SI;
        w = i->ops[0].size == 8 ? (uint64_t)f64_to_i64(x, t, &st) : (uint32_t)f64_to_i32(x, t, &st);
        to_gpr = true;
        break;
    }
    case C_SS2SD: lane_put(a, 8, 0, f32_to_f64((f32)lane_get(b, 4, 0), &st)); break;
    case C_SD2SS: lane_put(a, 4, 0, f64_to_f32(lane_get(b, 8, 0), &st)); break;
    case C_PS2PD: {
        uint64_t l0 = f32_to_f64((f32)lane_get(b, 4, 0), &st), l1 = f32_to_f64((f32)lane_get(b, 4, 1), &st);
        lane_put(a, 8, 0, l0);
        lane_put(a, 8, 1, l1);
        break;
    }
    case C_PD2PS:
        lane_put(a, 4, 0, f64_to_f32(lane_get(b, 8, 0), &st));
        lane_put(a, 4, 1, f64_to_f32(lane_get(b, 8, 1), &st));
        lane_put(a, 8, 1, 0);
        break;
    case C_DQ2PS:
        for (unsigned n = 0; n < 4; n++)
            lane_put(a, 4, n, i32_to_f32((int32_t)lane_get(b, 4, n), &st));
        break;
    case C_PS2DQ:
    case C_TPS2DQ:
        for (unsigned n = 0; n < 4; n++)
            lane_put(a, 4, n, (uint32_t)f32_to_i32((f32)lane_get(b, 4, n), op->kind == C_TPS2DQ, &st));
        break;
    case C_DQ2PD: {
        uint64_t l0 = i32_to_f64((int32_t)lane_get(b, 4, 0), &st), l1 = i32_to_f64((int32_t)lane_get(b, 4, 1), &st);
        lane_put(a, 8, 0, l0);
        lane_put(a, 8, 1, l1);
        break;
    }
    default: /* CVTPD2DQ / CVTTPD2DQ */
        lane_put(a, 4, 0, (uint32_t)f64_to_i32(lane_get(b, 8, 0), op->kind == C_TPD2DQ, &st));
        lane_put(a, 4, 1, (uint32_t)f64_to_i32(lane_get(b, 8, 1), op->kind == C_TPD2DQ, &st));
        lane_put(a, 8, 1, 0);
        break;
    }
    int v = status_done(vp, &st);
    if (v)
        return v;
    if (to_gpr)
        wreg(vp, i->r1, i->ops[0].size == 8 ? 8 : 4, w);
    else
        put(vp, i, 0, a, 16, false);
    return 0;
}

/* ROUNDPS/PD/SS/SD: lane size, SF_SCALAR. */
static int d_round(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16];
    unsigned sz = op->lane;
    bool scalar = op->flags & SF_SCALAR;
    opnd(vp, i, 0, a, 16, false);
    opnd(vp, i, 1, b, scalar ? sz : 16, !scalar);
    sf_status st = status_of(vp);
    uint8_t imm = (uint8_t)i->imm;
    for (unsigned k = 0; k < (scalar ? 1u : 16u / sz); k++) {
        uint64_t x = lane_get(b, sz, k);
        lane_put(a, sz, k, sz == 4 ? f32_round_int((f32)x, imm, &st) : f64_round_int(x, imm, &st));
    }
    int v = status_done(vp, &st);
    if (v)
        return v;
    put(vp, i, 0, a, 16, false);
    return 0;
}

/* SSE3: MOVDDUP (kind 0), MOVSLDUP (1), MOVSHDUP (2). */
static int d_dup(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t b[16], r[16];
    bool m64 = op->kind == 0;
    opnd(vp, i, 1, b, m64 ? 8 : 16, !m64);
    if (m64) {
        memcpy(r, b, 8);
        memcpy(r + 8, b, 8);
    } else {
        unsigned o = op->kind == 1 ? 0 : 1;
        for (unsigned n = 0; n < 4; n += 2) {
            lane_put(r, 4, n, lane_get(b, 4, n + o));
            lane_put(r, 4, n + 1, lane_get(b, 4, n + o));
        }
    }
    put(vp, i, 0, r, 16, false);
    return 0;
}

/* SSE3 horizontal and alternating arithmetic: kind 0 HADD, 1 HSUB, 2 ADDSUB. */
static int d_horiz(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    uint8_t a[16], b[16], r[16];
    unsigned sz = op->lane, n = 16 / sz;
    opnd(vp, i, 0, a, 16, false);
    opnd(vp, i, 1, b, 16, true);
    sf_status st = status_of(vp);
    if (op->kind == 2) {
        for (unsigned k = 0; k < n; k++)
            lane_put(r, sz, k, fp_lane(k & 1 ? F_ADD : F_SUB, sz, lane_get(a, sz, k), lane_get(b, sz, k), &st));
    } else {
        unsigned f = op->kind ? F_SUB : F_ADD, half = n / 2;
        for (unsigned k = 0; k < n; k++) {
            const uint8_t *s = k < half ? a : b;
            unsigned j = 2 * (k % half);
            lane_put(r, sz, k, fp_lane(f, sz, lane_get(s, sz, j), lane_get(s, sz, j + 1), &st));
        }
    }
    int v = status_done(vp, &st);
    if (v)
        return v;
    put(vp, i, 0, r, 16, false);
    return 0;
}

/* ---- state ---- */
enum { S_LDMXCSR, S_STMXCSR, S_FXSAVE, S_FXRSTOR, S_EMMS, S_FWAIT };
static int d_state(struct vcpu *vp, const struct insn *i, const struct simd_op *op)
{
    switch (op->kind) {
    case S_LDMXCSR: {
        uint32_t v = (uint32_t)mem_rd(vp, i, lin_of(vp, i), 4);
        if (v & ~MXCSR_MASK)
            cpu_fault_gp(vp, i, 0);
        mxcsr_set(vp, v);
        return 0;
    }
    case S_STMXCSR: mem_wr(vp, i, lin_of(vp, i), 4, mxcsr(vp)); return 0;
    case S_FXSAVE: {
        gva_t la = lin_of(vp, i);
        if (la & 15)
            cpu_fault_gp(vp, i, 0);
        uint32_t m = MXCSR_MASK;
        memcpy(vp->fxsave + 28, &m, 4);
        /* Bytes 416..463 are reserved and 464..511 belong to software (SDM Vol 1 10.5.1):
         * neither is written, as XSAVE's legacy region (and the host's FXSAVE) leave them. */
        uint8_t img[416];
        memcpy(img, vp->fxsave, sizeof(img));
        x87_legacy_save(vp, img, i->mnem == ZYDIS_MNEMONIC_FXSAVE64);
        mem_write_buf(vp, i, la, img, sizeof(img));
        return 0;
    }
    case S_FXRSTOR: {
        gva_t la = lin_of(vp, i);
        uint8_t img[464];
        if (la & 15)
            cpu_fault_gp(vp, i, 0);
        mem_read_buf(vp, i, la, img, sizeof(img));
        uint32_t m;
        memcpy(&m, img + MXCSR_OFF, 4);
        if (m & ~MXCSR_MASK)
            cpu_fault_gp(vp, i, 0);
        memcpy(vp->fxsave + 24, img + 24, sizeof(img) - 24);
        x87_legacy_load(vp, img, i->mnem == ZYDIS_MNEMONIC_FXRSTOR64);
        return 0;
    }
    default: return 0;
    }
}

#define T(mn, fn, lane, kind, flags) [ZYDIS_MNEMONIC_##mn] = {fn, lane, kind, flags}
static const struct simd_op simd_table[ZYDIS_MNEMONIC_MAX_VALUE + 1] = {
    /* moves */
    T(MOVAPS, d_mov128, 16, 0, SF_ALIGN), T(MOVAPD, d_mov128, 16, 0, SF_ALIGN),
    T(MOVDQA, d_mov128, 16, 0, SF_ALIGN), T(MOVUPS, d_mov128, 16, 0, 0),
    T(MOVUPD, d_mov128, 16, 0, 0), T(MOVDQU, d_mov128, 16, 0, 0), T(LDDQU, d_mov128, 16, 0, 0),
    T(MOVNTPS, d_mov128, 16, 0, SF_ALIGN), T(MOVNTPD, d_mov128, 16, 0, SF_ALIGN),
    T(MOVNTDQ, d_mov128, 16, 0, SF_ALIGN), T(MOVNTDQA, d_mov128, 16, 0, SF_ALIGN),
    T(MOVSS, d_movs, 4, 0, 0), T(MOVSD, d_movs, 8, 0, 0),
    T(MOVD, d_movdq, 4, 0, 0), T(MOVQ, d_movdq, 8, 0, 0),
    T(MOVLPS, d_movhalf, 8, 0, 0), T(MOVLPD, d_movhalf, 8, 0, 0), T(MOVHPS, d_movhalf, 8, 2, 0),
    T(MOVHPD, d_movhalf, 8, 2, 0), T(MOVHLPS, d_movhalf, 8, 1, 0), T(MOVLHPS, d_movhalf, 8, 2, 0),
    /* bitwise */
    T(PAND, d_bitwise, 16, B_AND, 0), T(PANDN, d_bitwise, 16, B_ANDN, 0),
    T(POR, d_bitwise, 16, B_OR, 0), T(PXOR, d_bitwise, 16, B_XOR, 0),
    T(ANDPS, d_bitwise, 16, B_AND, 0), T(ANDNPS, d_bitwise, 16, B_ANDN, 0),
    T(ORPS, d_bitwise, 16, B_OR, 0), T(XORPS, d_bitwise, 16, B_XOR, 0),
    T(ANDPD, d_bitwise, 16, B_AND, 0), T(ANDNPD, d_bitwise, 16, B_ANDN, 0),
    T(ORPD, d_bitwise, 16, B_OR, 0), T(XORPD, d_bitwise, 16, B_XOR, 0),
    /* integer lanes */
    T(PADDB, d_int, 1, I_ADD, 0), T(PADDW, d_int, 2, I_ADD, 0), T(PADDD, d_int, 4, I_ADD, 0),
    T(PADDQ, d_int, 8, I_ADD, 0), T(PSUBB, d_int, 1, I_SUB, 0), T(PSUBW, d_int, 2, I_SUB, 0),
    T(PSUBD, d_int, 4, I_SUB, 0), T(PSUBQ, d_int, 8, I_SUB, 0),
    T(PADDSB, d_int, 1, I_ADDS, 0), T(PADDSW, d_int, 2, I_ADDS, 0),
    T(PADDUSB, d_int, 1, I_ADDUS, 0), T(PADDUSW, d_int, 2, I_ADDUS, 0),
    T(PSUBSB, d_int, 1, I_SUBS, 0), T(PSUBSW, d_int, 2, I_SUBS, 0),
    T(PSUBUSB, d_int, 1, I_SUBUS, 0), T(PSUBUSW, d_int, 2, I_SUBUS, 0),
    T(PCMPEQB, d_int, 1, I_CMPEQ, 0), T(PCMPEQW, d_int, 2, I_CMPEQ, 0),
    T(PCMPEQD, d_int, 4, I_CMPEQ, 0), T(PCMPEQQ, d_int, 8, I_CMPEQ, 0),
    T(PCMPGTB, d_int, 1, I_CMPGT, 0), T(PCMPGTW, d_int, 2, I_CMPGT, 0),
    T(PCMPGTD, d_int, 4, I_CMPGT, 0), T(PCMPGTQ, d_int, 8, I_CMPGT, 0),
    T(PMINUB, d_int, 1, I_MINU, 0), T(PMAXUB, d_int, 1, I_MAXU, 0),
    T(PMINUW, d_int, 2, I_MINU, 0), T(PMAXUW, d_int, 2, I_MAXU, 0),
    T(PMINUD, d_int, 4, I_MINU, 0), T(PMAXUD, d_int, 4, I_MAXU, 0),
    T(PMINSB, d_int, 1, I_MINS, 0), T(PMAXSB, d_int, 1, I_MAXS, 0),
    T(PMINSW, d_int, 2, I_MINS, 0), T(PMAXSW, d_int, 2, I_MAXS, 0),
    T(PMINSD, d_int, 4, I_MINS, 0), T(PMAXSD, d_int, 4, I_MAXS, 0),
    T(PMULLW, d_int, 2, I_MULLO, 0), T(PMULLD, d_int, 4, I_MULLO, 0),
    T(PMULHW, d_int, 2, I_MULHI, 0), T(PMULHUW, d_int, 2, I_MULHIU, 0),
    T(PAVGB, d_int, 1, I_AVG, 0), T(PAVGW, d_int, 2, I_AVG, 0),
    T(PSIGNB, d_int, 1, I_SIGN, 0), T(PSIGNW, d_int, 2, I_SIGN, 0), T(PSIGND, d_int, 4, I_SIGN, 0),
    T(PABSB, d_int, 1, I_ABS, 0), T(PABSW, d_int, 2, I_ABS, 0), T(PABSD, d_int, 4, I_ABS, 0),
    T(PMULHRSW, d_int, 2, I_MULHRS, 0),
    T(PMULUDQ, d_wide, 4, W_MULUDQ, 0), T(PMULDQ, d_wide, 4, W_MULDQ, 0),
    T(PMADDWD, d_wide, 2, W_MADDWD, 0), T(PSADBW, d_wide, 1, W_SADBW, 0),
    T(PMADDUBSW, d_wide, 1, W_MADDUBSW, 0), T(PHADDW, d_wide, 2, W_HADD, 0),
    T(PHADDD, d_wide, 4, W_HADD, 0), T(PHADDSW, d_wide, 2, W_HADDS, 0),
    T(PHSUBW, d_wide, 2, W_HSUB, 0), T(PHSUBD, d_wide, 4, W_HSUB, 0),
    T(PHSUBSW, d_wide, 2, W_HSUBS, 0), T(PTEST, d_wide, 16, W_PTEST, 0),
    T(PACKSSWB, d_pack, 2, 0, 0), T(PACKUSWB, d_pack, 2, 1, 0), T(PACKSSDW, d_pack, 4, 0, 0),
    T(PACKUSDW, d_pack, 4, 1, 0),
    T(PUNPCKLBW, d_unpack, 1, 0, 0), T(PUNPCKLWD, d_unpack, 2, 0, 0),
    T(PUNPCKLDQ, d_unpack, 4, 0, 0), T(PUNPCKLQDQ, d_unpack, 8, 0, 0),
    T(PUNPCKHBW, d_unpack, 1, 1, 0), T(PUNPCKHWD, d_unpack, 2, 1, 0),
    T(PUNPCKHDQ, d_unpack, 4, 1, 0), T(PUNPCKHQDQ, d_unpack, 8, 1, 0),
    T(UNPCKLPS, d_unpack, 4, 0, 0), T(UNPCKHPS, d_unpack, 4, 1, 0),
    T(UNPCKLPD, d_unpack, 8, 0, 0), T(UNPCKHPD, d_unpack, 8, 1, 0),
    /* shifts */
    T(PSLLW, d_shift, 2, SH_L, 0), T(PSLLD, d_shift, 4, SH_L, 0), T(PSLLQ, d_shift, 8, SH_L, 0),
    T(PSRLW, d_shift, 2, SH_R, 0), T(PSRLD, d_shift, 4, SH_R, 0), T(PSRLQ, d_shift, 8, SH_R, 0),
    T(PSRAW, d_shift, 2, SH_A, 0), T(PSRAD, d_shift, 4, SH_A, 0),
    T(PSLLDQ, d_byteshift, 1, 0, 0), T(PSRLDQ, d_byteshift, 1, 1, 0),
    T(PALIGNR, d_byteshift, 1, 2, 0),
    /* shuffles, extraction, insertion, blends */
    T(PSHUFD, d_shuffle, 4, SHUF_D, 0), T(PSHUFHW, d_shuffle, 2, SHUF_HW, 0),
    T(PSHUFLW, d_shuffle, 2, SHUF_LW, 0), T(SHUFPS, d_shuffle, 4, SHUF_PS, 0),
    T(SHUFPD, d_shuffle, 8, SHUF_PD, 0), T(PSHUFB, d_shuffle, 1, SHUF_B, 0),
    T(PMOVMSKB, d_movmsk, 1, X_PMOVMSKB, 0), T(MOVMSKPS, d_movmsk, 4, X_MOVMSKPS, 0),
    T(MOVMSKPD, d_movmsk, 8, X_MOVMSKPD, 0),
    T(PEXTRB, d_extract, 1, 0, 0), T(PEXTRW, d_extract, 2, 0, 0), T(PEXTRD, d_extract, 4, 0, 0),
    T(PEXTRQ, d_extract, 8, 0, 0), T(EXTRACTPS, d_extract, 4, 0, 0),
    T(PINSRB, d_insert, 1, 0, 0), T(PINSRW, d_insert, 2, 0, 0), T(PINSRD, d_insert, 4, 0, 0),
    T(PINSRQ, d_insert, 8, 0, 0), T(INSERTPS, d_insertps, 4, 0, 0),
    T(PBLENDW, d_blend, 2, 0, 0), T(BLENDPS, d_blend, 4, 0, 0), T(BLENDPD, d_blend, 8, 0, 0),
    T(PBLENDVB, d_blend, 1, 1, 0), T(BLENDVPS, d_blend, 4, 1, 0), T(BLENDVPD, d_blend, 8, 1, 0),
    T(PMOVZXBW, d_pmovx, 2, 1, 0), T(PMOVZXBD, d_pmovx, 4, 1, 0), T(PMOVZXBQ, d_pmovx, 8, 1, 0),
    T(PMOVZXWD, d_pmovx, 4, 2, 0), T(PMOVZXWQ, d_pmovx, 8, 2, 0), T(PMOVZXDQ, d_pmovx, 8, 4, 0),
    T(PMOVSXBW, d_pmovx, 2, 0x81, 0), T(PMOVSXBD, d_pmovx, 4, 0x81, 0),
    T(PMOVSXBQ, d_pmovx, 8, 0x81, 0), T(PMOVSXWD, d_pmovx, 4, 0x82, 0),
    T(PMOVSXWQ, d_pmovx, 8, 0x82, 0), T(PMOVSXDQ, d_pmovx, 8, 0x84, 0),
    /* floating point */
    T(ADDPS, d_fp, 4, F_ADD, 0), T(ADDSS, d_fp, 4, F_ADD, SF_SCALAR),
    T(ADDPD, d_fp, 8, F_ADD, 0), T(ADDSD, d_fp, 8, F_ADD, SF_SCALAR),
    T(SUBPS, d_fp, 4, F_SUB, 0), T(SUBSS, d_fp, 4, F_SUB, SF_SCALAR),
    T(SUBPD, d_fp, 8, F_SUB, 0), T(SUBSD, d_fp, 8, F_SUB, SF_SCALAR),
    T(MULPS, d_fp, 4, F_MUL, 0), T(MULSS, d_fp, 4, F_MUL, SF_SCALAR),
    T(MULPD, d_fp, 8, F_MUL, 0), T(MULSD, d_fp, 8, F_MUL, SF_SCALAR),
    T(DIVPS, d_fp, 4, F_DIV, 0), T(DIVSS, d_fp, 4, F_DIV, SF_SCALAR),
    T(DIVPD, d_fp, 8, F_DIV, 0), T(DIVSD, d_fp, 8, F_DIV, SF_SCALAR),
    T(MINPS, d_fp, 4, F_MIN, 0), T(MINSS, d_fp, 4, F_MIN, SF_SCALAR),
    T(MINPD, d_fp, 8, F_MIN, 0), T(MINSD, d_fp, 8, F_MIN, SF_SCALAR),
    T(MAXPS, d_fp, 4, F_MAX, 0), T(MAXSS, d_fp, 4, F_MAX, SF_SCALAR),
    T(MAXPD, d_fp, 8, F_MAX, 0), T(MAXSD, d_fp, 8, F_MAX, SF_SCALAR),
    T(SQRTPS, d_fp, 4, F_SQRT, 0), T(SQRTSS, d_fp, 4, F_SQRT, SF_SCALAR),
    T(SQRTPD, d_fp, 8, F_SQRT, 0), T(SQRTSD, d_fp, 8, F_SQRT, SF_SCALAR),
    T(CMPPS, d_cmp, 4, 0, 0), T(CMPSS, d_cmp, 4, 0, SF_SCALAR), T(CMPPD, d_cmp, 8, 0, 0),
    T(CMPSD, d_cmp, 8, 0, SF_SCALAR),
    T(COMISS, d_comi, 4, 1, 0), T(UCOMISS, d_comi, 4, 0, 0), T(COMISD, d_comi, 8, 1, 0),
    T(UCOMISD, d_comi, 8, 0, 0),
    T(CVTSI2SS, d_cvt, 4, C_SI2SS, 0), T(CVTSI2SD, d_cvt, 8, C_SI2SD, 0),
    T(CVTSS2SI, d_cvt, 4, C_SS2SI, 0), T(CVTTSS2SI, d_cvt, 4, C_TSS2SI, 0),
    T(CVTSD2SI, d_cvt, 8, C_SD2SI, 0), T(CVTTSD2SI, d_cvt, 8, C_TSD2SI, 0),
    T(CVTSS2SD, d_cvt, 4, C_SS2SD, 0), T(CVTSD2SS, d_cvt, 8, C_SD2SS, 0),
    T(CVTPS2PD, d_cvt, 4, C_PS2PD, 0), T(CVTPD2PS, d_cvt, 8, C_PD2PS, SF_ALIGN),
    T(CVTDQ2PS, d_cvt, 4, C_DQ2PS, SF_ALIGN), T(CVTPS2DQ, d_cvt, 4, C_PS2DQ, SF_ALIGN),
    T(CVTTPS2DQ, d_cvt, 4, C_TPS2DQ, SF_ALIGN), T(CVTDQ2PD, d_cvt, 4, C_DQ2PD, 0),
    T(CVTPD2DQ, d_cvt, 8, C_PD2DQ, SF_ALIGN), T(CVTTPD2DQ, d_cvt, 8, C_TPD2DQ, SF_ALIGN),
    T(ROUNDPS, d_round, 4, 0, 0), T(ROUNDPD, d_round, 8, 0, 0),
    T(ROUNDSS, d_round, 4, 0, SF_SCALAR), T(ROUNDSD, d_round, 8, 0, SF_SCALAR),
    T(MOVDDUP, d_dup, 8, 0, 0), T(MOVSLDUP, d_dup, 4, 1, 0), T(MOVSHDUP, d_dup, 4, 2, 0),
    T(HADDPS, d_horiz, 4, 0, 0), T(HADDPD, d_horiz, 8, 0, 0), T(HSUBPS, d_horiz, 4, 1, 0),
    T(HSUBPD, d_horiz, 8, 1, 0), T(ADDSUBPS, d_horiz, 4, 2, 0), T(ADDSUBPD, d_horiz, 8, 2, 0),
    /* state */
    T(LDMXCSR, d_state, 4, S_LDMXCSR, 0), T(STMXCSR, d_state, 4, S_STMXCSR, 0),
    T(FXSAVE, d_state, 0, S_FXSAVE, 0), T(FXSAVE64, d_state, 0, S_FXSAVE, 0),
    T(FXRSTOR, d_state, 0, S_FXRSTOR, 0), T(FXRSTOR64, d_state, 0, S_FXRSTOR, 0),
    T(FWAIT, d_state, 0, S_FWAIT, 0), /* EMMS is mmx.c's */
};
#undef T

static bool is_x87_state(unsigned kind, simd_fn fn)
{
    return fn == d_state && kind >= S_EMMS;
}

int simd_exec(struct vcpu *vp, const struct insn *i)
{
    if (i->mnem > ZYDIS_MNEMONIC_MAX_VALUE || (i->flags & IF_VEX))
        return -1;
    const struct simd_op *op = &simd_table[i->mnem];
    if (!op->fn)
        return -1;
    for (unsigned k = 0; k < i->nops; k++)
        if (i->ops[k].kind == OPK_REG && i->ops[k].reg >= ZYDIS_REGISTER_MM0 &&
            i->ops[k].reg <= ZYDIS_REGISTER_MM7)
            return -1; /* MMX forms */
    /* SDM Vol 3 13.1 / Table 2-19: EM -> #UD for SSE, TS -> #NM; OSFXSR gates SSE. */
    bool x87 = is_x87_state(op->kind, op->fn);
    if (i->mnem == ZYDIS_MNEMONIC_FWAIT) {
        if ((vp->cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP))
            return EXC_NM;
        return (vp->fxsave[2] & 0x80) ? EXC_MF : 0; /* a pending unmasked x87 exception */
    }
    if (x87) {
        if (vp->cr0 & (CR0_EM | CR0_TS))
            return EXC_NM;
    } else {
        bool fx = i->mnem == ZYDIS_MNEMONIC_FXSAVE || i->mnem == ZYDIS_MNEMONIC_FXRSTOR ||
                  i->mnem == ZYDIS_MNEMONIC_FXSAVE64 || i->mnem == ZYDIS_MNEMONIC_FXRSTOR64;
        if ((vp->cr0 & CR0_EM) || (!fx && !(vp->cr4 & CR4_OSFXSR)))
            return EXC_UD;
        if (vp->cr0 & CR0_TS)
            return EXC_NM;
    }
    return op->fn(vp, i, op);
}
