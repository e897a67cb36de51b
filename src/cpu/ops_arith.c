/* Out-of-line arithmetic: multiply/divide, BCD, shifts and rotates, bit operations, BMI1/2,
 * ADX, atomics (XADD, CMPXCHG*), CRC32, MOVBE. Flags follow the SDM; undefined flags are
 * computed as Intel hardware leaves them where that is documented by common practice. */
#include "cpu/ops_inline.h"

static uint64_t arith_now(struct vcpu *vp)
{
    return flags_get(vp) & FL_ARITH;
}

int op_MUL1(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t b = rm_rd(vp, i, i->r1, sz), a = vp->gpr[REG_RAX] & sz_mask(sz);
    uint64_t lo, hi;
    bool ovf;
    if (i->cc == 0) {
        unsigned __int128 p = (unsigned __int128)a * b;
        if (sz < 8) {
            lo = (uint64_t)p & sz_mask(sz);
            hi = ((uint64_t)p >> (sz * 8)) & sz_mask(sz);
        } else {
            lo = (uint64_t)p;
            hi = (uint64_t)(p >> 64);
        }
        ovf = hi != 0;
    } else {
        __int128 p = (__int128)sx(a, sz) * sx(b, sz);
        if (sz < 8) {
            lo = (uint64_t)p & sz_mask(sz);
            hi = ((uint64_t)((int64_t)p >> (sz * 8))) & sz_mask(sz);
            ovf = (int64_t)p != sx(lo, sz);
        } else {
            lo = (uint64_t)p;
            hi = (uint64_t)((unsigned __int128)p >> 64);
            ovf = p != (__int128)(int64_t)lo;
        }
    }
    if (sz == 1) {
        wreg(vp, 0, 2, lo | hi << 8);
    } else {
        wreg(vp, REG_RAX * 8, sz, lo);
        wreg(vp, REG_RDX * 8, sz, hi);
    }
    flags_put_arith(vp, (ovf ? FL_CF | FL_OF : 0) | (flags_zsp(lo, sz) & ~(uint64_t)FL_ZF));
    return H_NEXT;
}

static int imul_common(struct vcpu *vp, const struct insn *i, uint64_t a, uint64_t b)
{
    unsigned sz = i->opsz;
    __int128 p = (__int128)sx(a, sz) * sx(b, sz);
    uint64_t lo = (uint64_t)p & sz_mask(sz);
    bool ovf = sz < 8 ? (int64_t)p != sx(lo, sz) : p != (__int128)(int64_t)lo;
    wreg(vp, i->r1, sz, lo);
    lf_set(vp, LF_MUL, sz, 0, 0, lo); /* CF = OF = overflow, SF/PF of lo, ZF and AF 0 */
    vp->lf_cf = ovf;
    return H_NEXT;
}

int op_IMUL2(struct vcpu *vp, const struct insn *i)
{
    return imul_common(vp, i, rreg(vp, i->r1, i->opsz), rm_rd(vp, i, i->r2, i->opsz));
}

int op_IMUL3(struct vcpu *vp, const struct insn *i)
{
    return imul_common(vp, i, rm_rd(vp, i, i->r2, i->opsz), i->imm);
}

int op_DIV(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t d = rm_rd(vp, i, i->r1, sz);
    uint64_t m = sz_mask(sz);
    if (d == 0)
        cpu_fault(vp, i, EXC_DE, false, 0);
    unsigned __int128 n;
    if (sz == 1)
        n = vp->gpr[REG_RAX] & 0xffff;
    else if (sz == 8)
        n = ((unsigned __int128)vp->gpr[REG_RDX] << 64) | vp->gpr[REG_RAX];
    else
        n = ((unsigned __int128)(vp->gpr[REG_RDX] & m) << (sz * 8)) | (vp->gpr[REG_RAX] & m);
    uint64_t q, r;
    if (i->cc == 0) {
        unsigned __int128 qq = n / d;
        if (qq > m)
            cpu_fault(vp, i, EXC_DE, false, 0);
        q = (uint64_t)qq;
        r = (uint64_t)(n % d);
    } else {
        __int128 sn;
        if (sz == 8)
            sn = (__int128)n;
        else
            sn = (__int128)sx((uint64_t)n, sz * 2);
        __int128 sd = sx(d, sz);
        if (sz == 8 && sn == -(__int128)((unsigned __int128)1 << 126) * 2 && sd == -1)
            cpu_fault(vp, i, EXC_DE, false, 0);
        __int128 qq = sn / sd;
        __int128 lim = (__int128)1 << (sz * 8 - 1);
        if (qq >= lim || qq < -lim)
            cpu_fault(vp, i, EXC_DE, false, 0);
        q = (uint64_t)qq & m;
        r = (uint64_t)(sn % sd) & m;
    }
    if (sz == 1) {
        wreg(vp, 0, 2, (q & 0xff) | (r & 0xff) << 8);
    } else {
        wreg(vp, REG_RAX * 8, sz, q);
        wreg(vp, REG_RDX * 8, sz, r);
    }
    return H_NEXT;
}

/* ---- BCD (SDM Vol 2 AAA..DAS) ---- */
int op_AAA(struct vcpu *vp, const struct insn *i)
{
    uint64_t f = arith_now(vp);
    uint16_t ax = (uint16_t)vp->gpr[REG_RAX];
    if ((ax & 0xf) > 9 || (f & FL_AF)) {
        ax = (uint16_t)(ax + 0x106);
        f |= FL_AF | FL_CF;
    } else {
        f &= ~(uint64_t)(FL_AF | FL_CF);
    }
    ax &= 0xff0f;
    wreg(vp, 0, 2, ax);
    flags_put_arith(vp, (f & (FL_AF | FL_CF)) | flags_zsp(ax & 0xff, 1));
    return H_NEXT;
}

int op_AAS(struct vcpu *vp, const struct insn *i)
{
    uint64_t f = arith_now(vp);
    uint16_t ax = (uint16_t)vp->gpr[REG_RAX];
    if ((ax & 0xf) > 9 || (f & FL_AF)) {
        ax = (uint16_t)(ax - 6);
        ax = (uint16_t)((ax & 0xff) | (((ax >> 8) - 1) & 0xff) << 8);
        f |= FL_AF | FL_CF;
    } else {
        f &= ~(uint64_t)(FL_AF | FL_CF);
    }
    ax &= 0xff0f;
    wreg(vp, 0, 2, ax);
    flags_put_arith(vp, (f & (FL_AF | FL_CF)) | flags_zsp(ax & 0xff, 1));
    return H_NEXT;
}

int op_AAM(struct vcpu *vp, const struct insn *i)
{
    uint8_t base = (uint8_t)i->imm, al = (uint8_t)vp->gpr[REG_RAX];
    if (base == 0)
        cpu_fault(vp, i, EXC_DE, false, 0);
    uint8_t ah = al / base;
    al = al % base;
    wreg(vp, 0, 2, (uint16_t)(ah << 8 | al));
    flags_put_arith(vp, flags_zsp(al, 1));
    return H_NEXT;
}

int op_AAD(struct vcpu *vp, const struct insn *i)
{
    uint8_t base = (uint8_t)i->imm;
    uint16_t ax = (uint16_t)vp->gpr[REG_RAX];
    uint8_t al = (uint8_t)((ax & 0xff) + (ax >> 8) * base);
    wreg(vp, 0, 2, al);
    flags_put_arith(vp, flags_zsp(al, 1));
    return H_NEXT;
}

int op_DAA(struct vcpu *vp, const struct insn *i)
{
    uint64_t f = arith_now(vp);
    uint8_t al = (uint8_t)vp->gpr[REG_RAX], old = al;
    bool cf = f & FL_CF, ncf = false, af = false;
    if ((al & 0xf) > 9 || (f & FL_AF)) {
        ncf = cf || al > 0xf9;
        al = (uint8_t)(al + 6);
        af = true;
    }
    if (old > 0x99 || cf) {
        al = (uint8_t)(al + 0x60);
        ncf = true;
    }
    wreg(vp, 0, 1, al);
    flags_put_arith(vp, (ncf ? FL_CF : 0) | (af ? FL_AF : 0) | flags_zsp(al, 1));
    return H_NEXT;
}

int op_DAS(struct vcpu *vp, const struct insn *i)
{
    uint64_t f = arith_now(vp);
    uint8_t al = (uint8_t)vp->gpr[REG_RAX], old = al;
    bool cf = f & FL_CF, ncf = false, af = false;
    if ((al & 0xf) > 9 || (f & FL_AF)) {
        ncf = cf || al < 6;
        al = (uint8_t)(al - 6);
        af = true;
    }
    if (old > 0x99 || cf) {
        al = (uint8_t)(al - 0x60);
        ncf = true;
    }
    wreg(vp, 0, 1, al);
    flags_put_arith(vp, (ncf ? FL_CF : 0) | (af ? FL_AF : 0) | flags_zsp(al, 1));
    return H_NEXT;
}

/* ---- shifts and rotates ---- */
#define count_of shift_count

/* Every form of SHL/SHR/SAR/ROL/ROR/RCL/RCR; op_SHIFT (ops_inline.h) takes the register forms
 * of the first five itself. */
int shift_slow(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz, bits = sz * 8;
    unsigned c = count_of(vp, i, 1);
    gva_t la = (i->flags & IF_MEM) ? lin_of(vp, i) : 0;
    uint64_t a = (i->flags & IF_MEM) ? mem_rd(vp, i, la, sz) : rreg(vp, i->r1, sz);
    uint64_t m = sz_mask(sz), sign = sz_sign(sz), r = a;
    if (c == 0) {
        if (!(i->flags & IF_MEM) && sz == 4)
            wreg(vp, i->r1, 4, a);
        return H_NEXT;
    }
    if (i->cc != 2 && i->cc != 3) {
        /* SHL/SAL, SHR, SAR, ROL, ROR: lazy flags, as op_SHIFT's register forms. */
        struct shift_out o = shift_calc(i->cc, sz, a, c);
        if (i->flags & IF_MEM)
            mem_wr(vp, i, la, sz, o.r);
        else
            wreg(vp, i->r1, sz, o.r);
        shift_flags(vp, i->cc, sz, a, c, &o);
        return H_NEXT;
    }
    uint64_t f = arith_now(vp);
    bool cf = f & FL_CF, of;
    switch (i->cc) {
    case 2: { /* RCL: a (bits+1)-bit rotate through CF */
        unsigned k = c % (bits + 1);
        for (unsigned n = 0; n < k; n++) {
            bool out = (r & sign) != 0;
            r = ((r << 1) | cf) & m;
            cf = out;
        }
        of = ((r & sign) != 0) != cf;
        f = (f & ~(uint64_t)(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        break;
    }
    default: { /* RCR */
        unsigned k = c % (bits + 1);
        for (unsigned n = 0; n < k; n++) {
            bool out = r & 1;
            r = (r >> 1) | (cf ? sign : 0);
            cf = out;
        }
        of = ((r & sign) != 0) != ((r & (sign >> 1)) != 0);
        f = (f & ~(uint64_t)(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        break;
    }
    }
    if (i->flags & IF_MEM)
        mem_wr(vp, i, la, sz, r);
    else
        wreg(vp, i->r1, sz, r);
    flags_put_arith(vp, f);
    return H_NEXT;
}

static int shxd(struct vcpu *vp, const struct insn *i, bool left)
{
    unsigned sz = i->opsz, bits = sz * 8;
    unsigned c = count_of(vp, i, 2);
    gva_t la = (i->flags & IF_MEM) ? lin_of(vp, i) : 0;
    uint64_t a = (i->flags & IF_MEM) ? mem_rd(vp, i, la, sz) : rreg(vp, i->r1, sz);
    uint64_t b = rreg(vp, i->r2, sz), m = sz_mask(sz), sign = sz_sign(sz), r;
    if (c == 0) {
        if (!(i->flags & IF_MEM) && sz == 4)
            wreg(vp, i->r1, 4, a);
        return H_NEXT;
    }
    bool cf;
    if (sz == 2) {
        /* 16-bit forms with counts above 16 shift through a:b:a (as Intel parts do). */
        if (left) {
            uint64_t p = a << 48 | b << 32 | a << 16 | b;
            r = (p << c) >> 48;
            cf = (p >> (64 - c)) & 1;
        } else {
            uint64_t p = a | b << 16 | a << 32;
            r = (p >> c) & m;
            cf = (p >> (c - 1)) & 1;
        }
    } else if (left) {
        r = ((a << c) | (b >> (bits - c))) & m;
        cf = (a >> (bits - c)) & 1;
    } else {
        r = ((a >> c) | (b << (bits - c))) & m;
        cf = (a >> (c - 1)) & 1;
    }
    bool of = ((r ^ a) & sign) != 0;
    if (i->flags & IF_MEM)
        mem_wr(vp, i, la, sz, r);
    else
        wreg(vp, i->r1, sz, r);
    flags_put_arith(vp, flags_zsp(r, sz) | (cf ? FL_CF : 0) | (of ? FL_OF : 0));
    return H_NEXT;
}

int op_SHLD(struct vcpu *vp, const struct insn *i) { return shxd(vp, i, true); }
int op_SHRD(struct vcpu *vp, const struct insn *i) { return shxd(vp, i, false); }

/* ---- bit operations ---- */
int op_BT(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz, bits = sz * 8;
    bool imm = i->ops[1].kind == OPK_IMM;
    uint64_t off = imm ? i->imm : rreg(vp, i->r2, sz);
    uint64_t v, r;
    gva_t la = 0;
    unsigned bit;
    if (i->flags & IF_MEM) {
        int64_t disp = 0;
        if (!imm) {
            /* A register bit offset addresses memory beyond the operand (SDM BT). */
            int64_t so = sx(off, sz);
            disp = (so >> (sz == 2 ? 4 : sz == 4 ? 5 : 6)) * (int64_t)sz;
        }
        la = (ea_of(vp, i) + (uint64_t)disp) & amask_tab[i->asz];
        la = lin_seg(vp, i->seg, la);
        v = mem_rd(vp, i, la, sz);
    } else {
        v = rreg(vp, i->r1, sz);
    }
    bit = (unsigned)(off & (bits - 1));
    bool cf = (v >> bit) & 1;
    switch (i->cc) {
    case 1: r = v | (1ull << bit); break;
    case 2: r = v & ~(1ull << bit); break;
    case 3: r = v ^ (1ull << bit); break;
    default: r = v; break;
    }
    if (i->cc) {
        if (i->flags & IF_MEM)
            mem_wr(vp, i, la, sz, r);
        else
            wreg(vp, i->r1, sz, r);
    }
    flags_set(vp, cf ? FL_CF : 0, FL_CF);
    return H_NEXT;
}

int op_BSF(struct vcpu *vp, const struct insn *i)
{
    uint64_t s = rm_rd(vp, i, i->r2, i->opsz);
    uint64_t f = arith_now(vp) & ~(uint64_t)FL_ZF;
    if (s == 0)
        f |= FL_ZF;
    else
        wreg(vp, i->r1, i->opsz, (uint64_t)__builtin_ctzll(s));
    flags_put_arith(vp, f);
    return H_NEXT;
}

int op_BSR(struct vcpu *vp, const struct insn *i)
{
    uint64_t s = rm_rd(vp, i, i->r2, i->opsz);
    uint64_t f = arith_now(vp) & ~(uint64_t)FL_ZF;
    if (s == 0)
        f |= FL_ZF;
    else
        wreg(vp, i->r1, i->opsz, (uint64_t)(63 - __builtin_clzll(s)));
    flags_put_arith(vp, f);
    return H_NEXT;
}

int op_TZCNT(struct vcpu *vp, const struct insn *i)
{
    uint64_t s = rm_rd(vp, i, i->r2, i->opsz);
    uint64_t r = s ? (uint64_t)__builtin_ctzll(s) : i->opsz * 8u;
    wreg(vp, i->r1, i->opsz, r);
    uint64_t f = arith_now(vp) & ~(uint64_t)(FL_CF | FL_ZF);
    flags_put_arith(vp, f | (s == 0 ? FL_CF : 0) | (r == 0 ? FL_ZF : 0));
    return H_NEXT;
}

int op_LZCNT(struct vcpu *vp, const struct insn *i)
{
    unsigned bits = i->opsz * 8u;
    uint64_t s = rm_rd(vp, i, i->r2, i->opsz);
    uint64_t r = s ? (uint64_t)(__builtin_clzll(s) - (64 - (int)bits)) : bits;
    wreg(vp, i->r1, i->opsz, r);
    uint64_t f = arith_now(vp) & ~(uint64_t)(FL_CF | FL_ZF);
    flags_put_arith(vp, f | (s == 0 ? FL_CF : 0) | (r == 0 ? FL_ZF : 0));
    return H_NEXT;
}

int op_POPCNT(struct vcpu *vp, const struct insn *i)
{
    uint64_t s = rm_rd(vp, i, i->r2, i->opsz);
    wreg(vp, i->r1, i->opsz, (uint64_t)__builtin_popcountll(s));
    flags_put_arith(vp, s == 0 ? FL_ZF : 0);
    return H_NEXT;
}

/* ---- BMI1 / BMI2 / ADX ---- */
static void logic_flags(struct vcpu *vp, uint64_t r, unsigned sz, bool cf)
{
    flags_put_arith(vp, (flags_zsp(r, sz) & ~(uint64_t)FL_PF) | (cf ? FL_CF : 0) |
                            (arith_now(vp) & (FL_PF | FL_AF)));
}

int op_ANDN(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t r = ~rreg(vp, i->r2, sz) & rm_rd(vp, i, i->r3, sz) & sz_mask(sz);
    wreg(vp, i->r1, sz, r);
    logic_flags(vp, r, sz, false);
    return H_NEXT;
}

int op_BEXTR(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz, bits = sz * 8;
    uint64_t s = rm_rd(vp, i, i->r2, sz), c = rreg(vp, i->r3, sz);
    unsigned start = c & 0xff, len = (c >> 8) & 0xff;
    uint64_t r = start < bits ? s >> start : 0;
    if (len < 64)
        r &= (1ull << len) - 1;
    r &= sz_mask(sz);
    wreg(vp, i->r1, sz, r);
    logic_flags(vp, r, sz, false);
    return H_NEXT;
}

static int blsx(struct vcpu *vp, const struct insn *i, unsigned kind)
{
    unsigned sz = i->opsz;
    uint64_t s = rm_rd(vp, i, i->r2, sz), m = sz_mask(sz), r;
    bool cf;
    if (kind == 0) {
        r = (0 - s) & s & m;
        cf = s != 0;
    } else if (kind == 1) {
        r = ((s - 1) ^ s) & m;
        cf = s == 0;
    } else {
        r = (s - 1) & s & m;
        cf = s == 0;
    }
    wreg(vp, i->r1, sz, r);
    logic_flags(vp, r, sz, cf);
    return H_NEXT;
}

int op_BLSI(struct vcpu *vp, const struct insn *i) { return blsx(vp, i, 0); }
int op_BLSMSK(struct vcpu *vp, const struct insn *i) { return blsx(vp, i, 1); }
int op_BLSR(struct vcpu *vp, const struct insn *i) { return blsx(vp, i, 2); }

int op_BZHI(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz, bits = sz * 8;
    uint64_t s = rm_rd(vp, i, i->r2, sz);
    unsigned n = (unsigned)(rreg(vp, i->r3, sz) & 0xff);
    uint64_t r = n < bits ? s & ((1ull << n) - 1) : s;
    r &= sz_mask(sz);
    wreg(vp, i->r1, sz, r);
    logic_flags(vp, r, sz, n > bits - 1);
    return H_NEXT;
}

int op_MULX(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t s = rm_rd(vp, i, i->r3, sz), d = vp->gpr[REG_RDX] & sz_mask(sz);
    unsigned __int128 p = (unsigned __int128)d * s;
    uint64_t lo = sz == 8 ? (uint64_t)p : (uint64_t)p & 0xffffffffull;
    uint64_t hi = sz == 8 ? (uint64_t)(p >> 64) : (uint64_t)(p >> 32);
    wreg(vp, i->r2, sz, lo);
    wreg(vp, i->r1, sz, hi);
    return H_NEXT;
}

int op_PDEP(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t s = rreg(vp, i->r2, sz), mask = rm_rd(vp, i, i->r3, sz), r = 0;
    for (uint64_t bb = 1; mask; bb <<= 1) {
        uint64_t low = mask & (0 - mask);
        if (s & bb)
            r |= low;
        mask &= mask - 1;
    }
    wreg(vp, i->r1, sz, r);
    return H_NEXT;
}

int op_PEXT(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t s = rreg(vp, i->r2, sz), mask = rm_rd(vp, i, i->r3, sz), r = 0;
    for (uint64_t bb = 1; mask; bb <<= 1) {
        uint64_t low = mask & (0 - mask);
        if (s & low)
            r |= bb;
        mask &= mask - 1;
    }
    wreg(vp, i->r1, sz, r);
    return H_NEXT;
}

int op_RORX(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz, bits = sz * 8;
    uint64_t s = rm_rd(vp, i, i->r2, sz);
    unsigned k = (unsigned)(i->imm & (bits - 1));
    uint64_t r = k ? ((s >> k) | (s << (bits - k))) & sz_mask(sz) : s;
    wreg(vp, i->r1, sz, r);
    return H_NEXT;
}

static int shx(struct vcpu *vp, const struct insn *i, unsigned kind)
{
    unsigned sz = i->opsz;
    uint64_t s = rm_rd(vp, i, i->r2, sz);
    unsigned c = (unsigned)(rreg(vp, i->r3, sz) & (sz == 8 ? 63 : 31));
    uint64_t r = kind == 0 ? (uint64_t)(sx(s, sz) >> c) : kind == 1 ? s << c : s >> c;
    wreg(vp, i->r1, sz, r & sz_mask(sz));
    return H_NEXT;
}

int op_SARX(struct vcpu *vp, const struct insn *i) { return shx(vp, i, 0); }
int op_SHLX(struct vcpu *vp, const struct insn *i) { return shx(vp, i, 1); }
int op_SHRX(struct vcpu *vp, const struct insn *i) { return shx(vp, i, 2); }

static int adx(struct vcpu *vp, const struct insn *i, uint64_t flag)
{
    unsigned sz = i->opsz;
    uint64_t f = arith_now(vp);
    uint64_t a = rreg(vp, i->r1, sz), b = rm_rd(vp, i, i->r2, sz), c = (f & flag) != 0;
    uint64_t r = (a + b + c) & sz_mask(sz);
    bool out = c ? r <= a : r < a;
    wreg(vp, i->r1, sz, r);
    flags_put_arith(vp, (f & ~flag) | (out ? flag : 0));
    return H_NEXT;
}

int op_ADCX(struct vcpu *vp, const struct insn *i) { return adx(vp, i, FL_CF); }
int op_ADOX(struct vcpu *vp, const struct insn *i) { return adx(vp, i, FL_OF); }

/* ---- atomics (one host thread runs every VP, so LOCK is atomic by construction) ---- */
int op_XADD(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t b = rreg(vp, i->r2, sz);
    if (i->flags & IF_MEM) {
        gva_t la = lin_of(vp, i);
        uint64_t a = mem_rd(vp, i, la, sz);
        mem_wr(vp, i, la, sz, a + b);
        wreg(vp, i->r2, sz, a);
        lf_set(vp, LF_ADD, sz, a, b, a + b);
    } else {
        uint64_t a = rreg(vp, i->r1, sz);
        wreg(vp, i->r2, sz, a);
        wreg(vp, i->r1, sz, a + b);
        lf_set(vp, LF_ADD, sz, a, b, a + b);
    }
    return H_NEXT;
}

int op_CMPXCHG(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t acc = rreg(vp, 0, sz), src = rreg(vp, i->r2, sz);
    gva_t la = (i->flags & IF_MEM) ? lin_of(vp, i) : 0;
    uint64_t d = (i->flags & IF_MEM) ? mem_rd(vp, i, la, sz) : rreg(vp, i->r1, sz);
    bool eq = d == acc;
    /* The destination is always written (SDM CMPXCHG): memory gets its old value back. */
    if (i->flags & IF_MEM)
        mem_wr(vp, i, la, sz, eq ? src : d);
    else if (eq)
        wreg(vp, i->r1, sz, src);
    if (!eq)
        wreg(vp, 0, sz, d);
    lf_set(vp, LF_SUB, sz, acc, d, acc - d);
    return H_NEXT;
}

int op_CMPXCHG8B(struct vcpu *vp, const struct insn *i)
{
    unsigned h = i->cc ? 8 : 4;
    gva_t la = lin_of(vp, i);
    if (i->cc && (la & 15))
        cpu_fault_gp(vp, i, 0); /* CMPXCHG16B needs a 16-byte aligned operand */
    uint64_t lo = mem_rd(vp, i, la, h), hi = mem_rd(vp, i, la + h, h);
    uint64_t f = arith_now(vp) & ~(uint64_t)FL_ZF;
    if (lo == rreg(vp, 0, h) && hi == rreg(vp, REG_RDX * 8, h)) {
        mem_probe_write(vp, i, la, 2 * h);
        mem_wr(vp, i, la, h, rreg(vp, REG_RBX * 8, h));
        mem_wr(vp, i, la + h, h, rreg(vp, REG_RCX * 8, h));
        f |= FL_ZF;
    } else {
        mem_probe_write(vp, i, la, 2 * h);
        mem_wr(vp, i, la, h, lo);
        mem_wr(vp, i, la + h, h, hi);
        wreg(vp, 0, h, lo);
        wreg(vp, REG_RDX * 8, h, hi);
    }
    flags_put_arith(vp, f);
    return H_NEXT;
}

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as SSE4.2 CRC32 computes it. */
int op_CRC32(struct vcpu *vp, const struct insn *i)
{
    uint32_t crc = (uint32_t)vp->gpr[i->r1 >> 3];
    uint64_t v = rm_rd(vp, i, i->r2, i->cc);
    for (unsigned b = 0; b < i->cc * 8u; b++) {
        uint32_t bit = (uint32_t)((v >> b) & 1) ^ (crc & 1);
        crc = (crc >> 1) ^ (bit ? 0x82f63b78u : 0);
    }
    wreg(vp, i->r1, i->opsz == 8 ? 8 : 4, crc);
    return H_NEXT;
}

static uint64_t bswap_sz(uint64_t v, unsigned sz)
{
    if (sz == 8)
        return __builtin_bswap64(v);
    if (sz == 4)
        return __builtin_bswap32((uint32_t)v);
    return __builtin_bswap16((uint16_t)v);
}

int op_MOVBE(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    if (i->ops[0].kind == OPK_MEM)
        mem_wr(vp, i, lin_of(vp, i), sz, bswap_sz(rreg(vp, i->r2, sz), sz));
    else
        wreg(vp, i->r1, sz, bswap_sz(mem_rd(vp, i, lin_of(vp, i), sz), sz));
    return H_NEXT;
}
