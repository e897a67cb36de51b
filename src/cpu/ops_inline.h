/* The hot handlers, inlined into the dispatcher: moves, ALU forms, stack, branches, flag ops.
 * Each returns H_NEXT, H_END (retired, vp->rip set) or H_NORETIRE. */
#ifndef HVEMU_CPU_OPS_INLINE_H
#define HVEMU_CPU_OPS_INLINE_H

#include "cpu/flags.h"
#include "cpu/mem.h"
#include "cpu/ops.h"

#if defined(__GNUC__)
#define AI static inline __attribute__((always_inline))
#else
#define AI static inline
#endif

AI uint64_t rreg(const struct vcpu *vp, unsigned off, unsigned sz)
{
    return load_sz((const uint8_t *)vp->gpr + off, sz);
}

AI void wreg(struct vcpu *vp, unsigned off, unsigned sz, uint64_t v)
{
    if (sz == 4)
        vp->gpr[off >> 3] = (uint32_t)v; /* 32-bit results zero-extend (SDM Vol 1 3.4.1.1) */
    else if (sz == 8)
        vp->gpr[off >> 3] = v;
    else
        store_sz((uint8_t *)vp->gpr + off, sz, v);
}

/* The r/m operand at position k (register offset off) of instruction i. */
AI uint64_t rm_rd(struct vcpu *vp, const struct insn *i, unsigned off, unsigned sz)
{
    if (i->flags & IF_MEM)
        return mem_rd(vp, i, lin_of(vp, i), sz);
    return rreg(vp, off, sz);
}

AI void rm_wr(struct vcpu *vp, const struct insn *i, unsigned off, unsigned sz, uint64_t v)
{
    if (i->flags & IF_MEM)
        mem_wr(vp, i, lin_of(vp, i), sz, v);
    else
        wreg(vp, off, sz, v);
}

AI uint64_t ip_trunc(const struct vcpu *vp, unsigned opsz, uint64_t t)
{
    if (opsz == 8)
        return t;
    return opsz == 4 ? (uint32_t)t : (uint16_t)t;
}

AI uint64_t next_ip(const struct vcpu *vp, const struct insn *i)
{
    uint64_t t = vp->rip + i->nxt;
    return vp->mode == MODE_64 ? t : (uint32_t)t;
}

AI int end_at(struct vcpu *vp, uint64_t rip)
{
    vp->rip = rip;
    return H_END;
}

#define SZ_SWITCH(fn)                                                                           \
    switch (i->opsz) {                                                                          \
    case 1: return fn(vp, i, 1);                                                                \
    case 2: return fn(vp, i, 2);                                                                \
    case 4: return fn(vp, i, 4);                                                                \
    default: return fn(vp, i, 8);                                                               \
    }

/* ---- block control ---- */
AI int op_END(struct vcpu *vp, const struct insn *i)
{
    return vp->rip = next_ip(vp, i) - i->len, H_NORETIRE;
}
AI int op_STALE(struct vcpu *vp, const struct insn *i)
{
    vp->rip = next_ip(vp, i) - i->len;
    if (vp->mode != MODE_64)
        vp->rip = (uint32_t)vp->rip;
    return H_NORETIRE;
}
AI int op_NOP(struct vcpu *vp, const struct insn *i) { return H_NEXT; }

/* ---- moves ---- */
AI int mov_rr(struct vcpu *vp, const struct insn *i, const unsigned sz)
{
    wreg(vp, i->r1, sz, rreg(vp, i->r2, sz));
    return H_NEXT;
}
AI int op_MOV_RR(struct vcpu *vp, const struct insn *i) { SZ_SWITCH(mov_rr) }
AI int mov_ri(struct vcpu *vp, const struct insn *i, const unsigned sz)
{
    wreg(vp, i->r1, sz, i->imm);
    return H_NEXT;
}
AI int op_MOV_RI(struct vcpu *vp, const struct insn *i) { SZ_SWITCH(mov_ri) }
AI int mov_rm(struct vcpu *vp, const struct insn *i, const unsigned sz)
{
    wreg(vp, i->r1, sz, mem_rd(vp, i, lin_of(vp, i), sz));
    return H_NEXT;
}
AI int op_MOV_RM(struct vcpu *vp, const struct insn *i) { SZ_SWITCH(mov_rm) }
AI int mov_mr(struct vcpu *vp, const struct insn *i, const unsigned sz)
{
    mem_wr(vp, i, lin_of(vp, i), sz, rreg(vp, i->r2, sz));
    return H_NEXT;
}
AI int op_MOV_MR(struct vcpu *vp, const struct insn *i) { SZ_SWITCH(mov_mr) }
AI int mov_mi(struct vcpu *vp, const struct insn *i, const unsigned sz)
{
    mem_wr(vp, i, lin_of(vp, i), sz, i->imm);
    return H_NEXT;
}
AI int op_MOV_MI(struct vcpu *vp, const struct insn *i) { SZ_SWITCH(mov_mi) }

AI int op_MOVZX(struct vcpu *vp, const struct insn *i)
{
    wreg(vp, i->r1, i->opsz, rm_rd(vp, i, i->r2, i->cc));
    return H_NEXT;
}
AI int op_MOVSX(struct vcpu *vp, const struct insn *i)
{
    wreg(vp, i->r1, i->opsz, (uint64_t)sx(rm_rd(vp, i, i->r2, i->cc), i->cc));
    return H_NEXT;
}
AI int op_LEA(struct vcpu *vp, const struct insn *i)
{
    wreg(vp, i->r1, i->opsz, ea_of(vp, i));
    return H_NEXT;
}
AI int op_XCHG(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t b = rreg(vp, i->r2, sz);
    if (i->flags & IF_MEM) {
        gva_t la = lin_of(vp, i);
        uint64_t a = mem_rd(vp, i, la, sz);
        mem_wr(vp, i, la, sz, b);
        wreg(vp, i->r2, sz, a);
    } else {
        uint64_t a = rreg(vp, i->r1, sz);
        wreg(vp, i->r1, sz, b);
        wreg(vp, i->r2, sz, a);
    }
    return H_NEXT;
}
AI int op_BSWAP(struct vcpu *vp, const struct insn *i)
{
    uint64_t v = rreg(vp, i->r1, i->opsz);
    if (i->opsz == 8)
        v = __builtin_bswap64(v);
    else if (i->opsz == 4)
        v = __builtin_bswap32((uint32_t)v);
    else
        v = 0; /* SDM: BSWAP with a 16-bit operand is undefined; hardware gives 0 */
    wreg(vp, i->r1, i->opsz, v);
    return H_NEXT;
}
AI int op_CMOV(struct vcpu *vp, const struct insn *i)
{
    uint64_t v = rm_rd(vp, i, i->r2, i->opsz);
    if (cc_eval(vp, i->cc))
        wreg(vp, i->r1, i->opsz, v);
    else if (i->opsz == 4)
        wreg(vp, i->r1, 4, rreg(vp, i->r1, 4));
    return H_NEXT;
}
AI int op_SETCC(struct vcpu *vp, const struct insn *i)
{
    rm_wr(vp, i, i->r1, 1, cc_eval(vp, i->cc));
    return H_NEXT;
}
AI int op_CBW(struct vcpu *vp, const struct insn *i)
{
    unsigned h = i->opsz / 2;
    wreg(vp, 0, i->opsz, (uint64_t)sx(vp->gpr[REG_RAX], h));
    return H_NEXT;
}
AI int op_CWD(struct vcpu *vp, const struct insn *i)
{
    uint64_t s = (vp->gpr[REG_RAX] & sz_sign(i->opsz)) ? ~0ull : 0;
    wreg(vp, REG_RDX * 8, i->opsz, s);
    return H_NEXT;
}
AI int op_LAHF(struct vcpu *vp, const struct insn *i)
{
    wreg(vp, 1, 1, (flags_get(vp) & 0xd5) | 2);
    return H_NEXT;
}
AI int op_SAHF(struct vcpu *vp, const struct insn *i)
{
    flags_set(vp, rreg(vp, 1, 1), FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF);
    return H_NEXT;
}

/* ---- stack ---- */
AI int op_PUSH_R(struct vcpu *vp, const struct insn *i)
{
    push(vp, i, i->opsz, rreg(vp, i->r1, i->opsz));
    return H_NEXT;
}
AI int op_POP_R(struct vcpu *vp, const struct insn *i)
{
    uint64_t v = pop(vp, i, i->opsz);
    wreg(vp, i->r1, i->opsz, v);
    return H_NEXT;
}
AI int op_PUSH_I(struct vcpu *vp, const struct insn *i)
{
    push(vp, i, i->opsz, i->imm);
    return H_NEXT;
}
AI int op_PUSH_M(struct vcpu *vp, const struct insn *i)
{
    push(vp, i, i->opsz, mem_rd(vp, i, lin_of(vp, i), i->opsz));
    return H_NEXT;
}
AI int op_POP_M(struct vcpu *vp, const struct insn *i)
{
    /* SDM POP: an RSP-based destination address is computed after RSP is incremented. */
    uint64_t old = vp->gpr[REG_RSP];
    uint64_t v = mem_rd(vp, i, lin_seg(vp, SEG_SS, old & amask_tab[stack_asz(vp)]), i->opsz);
    sp_set(vp, old + i->opsz);
    gva_t la = lin_of(vp, i);
    vp->gpr[REG_RSP] = old;
    mem_probe_write(vp, i, la, i->opsz);
    sp_set(vp, old + i->opsz);
    mem_wr(vp, i, la, i->opsz, v);
    return H_NEXT;
}
AI int op_PUSHF(struct vcpu *vp, const struct insn *i)
{
    /* SDM PUSHF: #GP(0) in virtual-8086 mode unless IOPL is 3 (no VME); VM and RF are never
     * pushed. */
    if ((vp->rflags & FL_VM) && (vp->rflags & FL_IOPL) != FL_IOPL)
        cpu_fault_gp(vp, i, 0);
    push(vp, i, i->opsz, flags_get(vp) & ~(uint64_t)(FL_VM | FL_RF));
    return H_NEXT;
}
AI int op_LEAVE(struct vcpu *vp, const struct insn *i)
{
    unsigned s = stack_asz(vp);
    uint64_t bp = vp->gpr[REG_RBP] & amask_tab[s];
    uint64_t v = mem_rd(vp, i, lin_seg(vp, SEG_SS, bp), i->opsz);
    sp_set(vp, bp + i->opsz);
    wreg(vp, REG_RBP * 8, i->opsz, v);
    return H_NEXT;
}

/* ---- ALU ---- */
#define LF_ADD_K LF_ADD
#define ALU_DEFINE(NAME, KIND, EXPR, WRITES)                                                    \
    AI uint64_t NAME##_calc(struct vcpu *vp, unsigned sz, uint64_t a, uint64_t b)               \
    {                                                                                           \
        uint64_t c = 0;                                                                         \
        (void)c;                                                                                \
        if (KIND == LF_ADC || KIND == LF_SBB) {                                                 \
            c = flags_cf(vp);                                                                   \
            vp->lf_cf = (uint8_t)c;                                                             \
        }                                                                                       \
        uint64_t r = (EXPR);                                                                    \
        lf_set(vp, KIND, sz, a, b, r);                                                          \
        return r;                                                                               \
    }                                                                                           \
    AI int NAME##_rr(struct vcpu *vp, const struct insn *i, const unsigned sz)                  \
    {                                                                                           \
        uint64_t r = NAME##_calc(vp, sz, rreg(vp, i->r1, sz), rreg(vp, i->r2, sz));             \
        if (WRITES)                                                                             \
            wreg(vp, i->r1, sz, r);                                                             \
        return H_NEXT;                                                                          \
    }                                                                                           \
    AI int NAME##_ri(struct vcpu *vp, const struct insn *i, const unsigned sz)                  \
    {                                                                                           \
        uint64_t r = NAME##_calc(vp, sz, rreg(vp, i->r1, sz), i->imm);                          \
        if (WRITES)                                                                             \
            wreg(vp, i->r1, sz, r);                                                             \
        return H_NEXT;                                                                          \
    }                                                                                           \
    AI int NAME##_rm(struct vcpu *vp, const struct insn *i, const unsigned sz)                  \
    {                                                                                           \
        uint64_t b = mem_rd(vp, i, lin_of(vp, i), sz);                                          \
        uint64_t r = NAME##_calc(vp, sz, rreg(vp, i->r1, sz), b);                               \
        if (WRITES)                                                                             \
            wreg(vp, i->r1, sz, r);                                                             \
        return H_NEXT;                                                                          \
    }                                                                                           \
    AI int NAME##_mx(struct vcpu *vp, const struct insn *i, const unsigned sz, uint64_t b)      \
    {                                                                                           \
        gva_t la = lin_of(vp, i);                                                               \
        uint8_t *p = WRITES ? mem_rmw_ptr(vp, la, sz) : NULL;                                   \
        if (p) {                                                                                \
            store_sz(p, sz, NAME##_calc(vp, sz, load_sz(p, sz), b));                            \
            return H_NEXT;                                                                      \
        }                                                                                       \
        uint64_t a = mem_rd(vp, i, la, sz);                                                     \
        if (WRITES) {                                                                           \
            uint8_t saved_op = vp->lf_op, saved_cf = vp->lf_cf;                                 \
            uint64_t sa = vp->lf_a, sb = vp->lf_b, sr = vp->lf_res;                             \
            uint8_t ssz = vp->lf_sz;                                                            \
            uint64_t r = NAME##_calc(vp, sz, a, b);                                             \
            uint8_t nop = vp->lf_op, ncf = vp->lf_cf;                                           \
            /* The store may fault: flags change only once it has landed. */                    \
            vp->lf_op = saved_op, vp->lf_cf = saved_cf, vp->lf_a = sa, vp->lf_b = sb;          \
            vp->lf_res = sr, vp->lf_sz = ssz;                                                   \
            mem_wr(vp, i, la, sz, r);                                                           \
            lf_set(vp, nop, sz, a, b, r);                                                       \
            vp->lf_cf = ncf;                                                                    \
        } else {                                                                                \
            NAME##_calc(vp, sz, a, b);                                                          \
        }                                                                                       \
        return H_NEXT;                                                                          \
    }                                                                                           \
    AI int NAME##_mr(struct vcpu *vp, const struct insn *i, const unsigned sz)                  \
    {                                                                                           \
        return NAME##_mx(vp, i, sz, rreg(vp, i->r2, sz));                                       \
    }                                                                                           \
    AI int NAME##_mi(struct vcpu *vp, const struct insn *i, const unsigned sz)                  \
    {                                                                                           \
        return NAME##_mx(vp, i, sz, i->imm);                                                    \
    }                                                                                           \
    AI int op_##NAME##_RR(struct vcpu *vp, const struct insn *i) { SZ_SWITCH(NAME##_rr) }      \
    AI int op_##NAME##_RI(struct vcpu *vp, const struct insn *i) { SZ_SWITCH(NAME##_ri) }      \
    AI int op_##NAME##_RM(struct vcpu *vp, const struct insn *i) { SZ_SWITCH(NAME##_rm) }      \
    AI int op_##NAME##_MR(struct vcpu *vp, const struct insn *i) { SZ_SWITCH(NAME##_mr) }      \
    AI int op_##NAME##_MI(struct vcpu *vp, const struct insn *i) { SZ_SWITCH(NAME##_mi) }

ALU_DEFINE(ADD, LF_ADD, a + b, 1)
ALU_DEFINE(OR, LF_LOGIC, a | b, 1)
ALU_DEFINE(ADC, LF_ADC, a + b + c, 1)
ALU_DEFINE(SBB, LF_SBB, a - b - c, 1)
ALU_DEFINE(AND, LF_LOGIC, a & b, 1)
ALU_DEFINE(SUB, LF_SUB, a - b, 1)
ALU_DEFINE(XOR, LF_LOGIC, a ^ b, 1)
ALU_DEFINE(CMP, LF_SUB, a - b, 0)
ALU_DEFINE(TEST, LF_LOGIC, a & b, 0)

AI int op_INC_R(struct vcpu *vp, const struct insn *i)
{
    uint64_t a = rreg(vp, i->r1, i->opsz);
    uint8_t c = flags_cf_fast(vp);
    lf_set(vp, LF_INC, i->opsz, a, 1, a + 1);
    vp->lf_cf = c;
    wreg(vp, i->r1, i->opsz, a + 1);
    return H_NEXT;
}
AI int op_DEC_R(struct vcpu *vp, const struct insn *i)
{
    uint64_t a = rreg(vp, i->r1, i->opsz);
    uint8_t c = flags_cf_fast(vp);
    lf_set(vp, LF_DEC, i->opsz, a, 1, a - 1);
    vp->lf_cf = c;
    wreg(vp, i->r1, i->opsz, a - 1);
    return H_NEXT;
}
AI int op_UNARY(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    gva_t la = (i->flags & IF_MEM) ? lin_of(vp, i) : 0;
    uint64_t a = (i->flags & IF_MEM) ? mem_rd(vp, i, la, sz) : rreg(vp, i->r1, sz), r;
    switch (i->cc) {
    case 0: r = ~a; break;
    case 1: r = 0 - a; break;
    case 2: r = a + 1; break;
    default: r = a - 1; break;
    }
    if (i->flags & IF_MEM)
        mem_wr(vp, i, la, sz, r);
    else
        wreg(vp, i->r1, sz, r);
    if (i->cc == 1) {
        lf_set(vp, LF_SUB, sz, 0, a, r);
    } else if (i->cc >= 2) {
        uint8_t c = flags_cf_fast(vp);
        lf_set(vp, i->cc == 2 ? LF_INC : LF_DEC, sz, a, 1, r);
        vp->lf_cf = c;
    }
    return H_NEXT;
}

/* Group-2 shifts and rotates: the register forms of SHL/SAL, SHR, SAR, ROL and ROR here, with
 * lazy flags (flags.c: LF_SHL/SHR/SAR, LF_ROT); memory operands, RCL/RCR and a zero count in
 * shift_slow (ops_arith.c). */
AI unsigned shift_count(const struct vcpu *vp, const struct insn *i, unsigned k)
{
    uint64_t c = i->ops[k].kind == OPK_IMM ? i->imm : (vp->gpr[REG_RCX] & 0xff);
    return (unsigned)(c & (i->opsz == 8 ? 0x3f : 0x1f));
}

/* SHL/SAL (cc 4, 6), SHR (5), SAR (7), ROL (0), ROR (1) of a by a non-zero count c: the
 * result and, for the rotates, CF and OF. shift_flags records the lazy flags once the result
 * has been stored (a faulting store leaves the flags alone). */
struct shift_out {
    uint64_t r;
    bool cf, of;
};

AI struct shift_out shift_calc(unsigned cc, unsigned sz, uint64_t a, unsigned c)
{
    unsigned bits = sz * 8;
    uint64_t m = sz_mask(sz), sign = sz_sign(sz);
    struct shift_out o = {0, false, false};
    switch (cc) {
    case 0: {
        unsigned k = c % bits;
        o.r = k ? ((a << k) | (a >> (bits - k))) & m : a;
        o.cf = o.r & 1;
        o.of = ((o.r & sign) != 0) != o.cf;
        break;
    }
    case 1: {
        unsigned k = c % bits;
        o.r = k ? ((a >> k) | (a << (bits - k))) & m : a;
        o.cf = (o.r & sign) != 0;
        o.of = o.cf != ((o.r & (sign >> 1)) != 0);
        break;
    }
    case 5: o.r = a >> c; break;
    case 7: o.r = (uint64_t)(sx(a, sz) >> c) & m; break;
    default: o.r = (a << c) & m; break;
    }
    return o;
}

AI void shift_flags(struct vcpu *vp, unsigned cc, unsigned sz, uint64_t a, unsigned c,
                    const struct shift_out *o)
{
    switch (cc) {
    case 0:
    case 1: lf_set_rot(vp, o->cf, o->of); break;
    case 5: lf_set(vp, LF_SHR, sz, a, c, o->r); break;
    case 7: lf_set(vp, LF_SAR, sz, a, c, o->r); break;
    default: lf_set(vp, LF_SHL, sz, a, c, o->r); break;
    }
}

int shift_slow(struct vcpu *vp, const struct insn *i);

AI int op_SHIFT(struct vcpu *vp, const struct insn *i)
{
    unsigned c = shift_count(vp, i, 1);
    if ((i->flags & IF_MEM) || c == 0 || i->cc == 2 || i->cc == 3)
        return shift_slow(vp, i);
    unsigned sz = i->opsz;
    uint64_t a = rreg(vp, i->r1, sz);
    struct shift_out o = shift_calc(i->cc, sz, a, c);
    wreg(vp, i->r1, sz, o.r);
    shift_flags(vp, i->cc, sz, a, c, &o);
    return H_NEXT;
}

AI int op_CLC(struct vcpu *vp, const struct insn *i) { flags_set(vp, 0, FL_CF); return H_NEXT; }
AI int op_STC(struct vcpu *vp, const struct insn *i) { flags_set(vp, FL_CF, FL_CF); return H_NEXT; }
AI int op_CMC(struct vcpu *vp, const struct insn *i)
{
    flags_set(vp, flags_get(vp) ^ FL_CF, FL_CF);
    return H_NEXT;
}
AI int op_CLD(struct vcpu *vp, const struct insn *i) { vp->rflags &= ~(uint64_t)FL_DF; return H_NEXT; }
AI int op_STD(struct vcpu *vp, const struct insn *i) { vp->rflags |= FL_DF; return H_NEXT; }

/* ---- control transfer ---- */
AI int op_JMP_REL(struct vcpu *vp, const struct insn *i)
{
    return end_at(vp, ip_trunc(vp, i->opsz, vp->rip + i->imm));
}
AI int op_JCC(struct vcpu *vp, const struct insn *i)
{
    if (cc_eval(vp, i->cc))
        return end_at(vp, ip_trunc(vp, i->opsz, vp->rip + i->imm));
    return end_at(vp, next_ip(vp, i));
}
AI int op_JMP_RM(struct vcpu *vp, const struct insn *i)
{
    return end_at(vp, ip_trunc(vp, i->opsz, rm_rd(vp, i, i->r1, i->opsz)));
}
AI int op_CALL_REL(struct vcpu *vp, const struct insn *i)
{
    push(vp, i, i->opsz, next_ip(vp, i));
    return end_at(vp, ip_trunc(vp, i->opsz, vp->rip + i->imm));
}
AI int op_CALL_RM(struct vcpu *vp, const struct insn *i)
{
    uint64_t t = rm_rd(vp, i, i->r1, i->opsz);
    push(vp, i, i->opsz, next_ip(vp, i));
    return end_at(vp, ip_trunc(vp, i->opsz, t));
}
AI int op_RET(struct vcpu *vp, const struct insn *i)
{
    uint64_t t = pop(vp, i, i->opsz);
    if (i->imm)
        sp_set(vp, vp->gpr[REG_RSP] + (uint16_t)i->imm);
    return end_at(vp, ip_trunc(vp, i->opsz, t));
}
AI int op_JCXZ(struct vcpu *vp, const struct insn *i)
{
    if ((vp->gpr[REG_RCX] & amask_tab[i->asz]) == 0)
        return end_at(vp, ip_trunc(vp, i->opsz, vp->rip + i->imm));
    return end_at(vp, next_ip(vp, i));
}
AI int op_LOOP(struct vcpu *vp, const struct insn *i)
{
    uint64_t m = amask_tab[i->asz];
    uint64_t c = (vp->gpr[REG_RCX] - 1) & m;
    vp->gpr[REG_RCX] = (vp->gpr[REG_RCX] & ~m) | c;
    if (i->asz == 4)
        vp->gpr[REG_RCX] = c;
    bool take = c != 0;
    if (i->cc == 1)
        take = take && cc_eval(vp, CC_Z);
    else if (i->cc == 2)
        take = take && !cc_eval(vp, CC_Z);
    if (take)
        return end_at(vp, ip_trunc(vp, i->opsz, vp->rip + i->imm));
    return end_at(vp, next_ip(vp, i));
}

/* System instructions: #GP(0) unless CPL 0 in protected mode (always in V86 mode); and the
 * block end after an instruction that may change what the next one decodes or may run as. */
AI void sys_need_cpl0(struct vcpu *vp, const struct insn *i)
{
    if ((vp->cr0 & CR0_PE) && vp->cpl != 0)
        cpu_fault_gp(vp, i, 0);
    if (vp->rflags & FL_VM)
        cpu_fault_gp(vp, i, 0);
}

AI int sys_next(struct vcpu *vp, const struct insn *i)
{
    return end_at(vp, next_ip(vp, i));
}

#endif
