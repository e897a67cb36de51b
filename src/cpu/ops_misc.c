/* Out-of-line data movement and stack forms: PUSHA/POPA, POPF, ENTER, segment pushes and
 * pops, moffs moves, XLAT; #UD and the hand-off to the FPU/SIMD part. */
#include "cpu/intr.h"
#include "cpu/ops_inline.h"

int op_UD(struct vcpu *vp, const struct insn *i)
{
    cpu_fault_ud(vp, i);
}

int op_FPU(struct vcpu *vp, const struct insn *i)
{
    int v = fpu_exec(vp, i);
    if (v)
        cpu_fault(vp, i, (unsigned)v, false, 0);
    return H_NEXT;
}

int op_PUSHA(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t sp0 = vp->gpr[REG_RSP];
    uint64_t m = amask_tab[stack_asz(vp)];
    mem_probe_write(vp, i, lin_seg(vp, SEG_SS, (sp0 - 8 * sz) & m), 8 * sz);
    uint64_t sp = sp0;
    for (unsigned r = 0; r < 8; r++) {
        uint64_t v = r == REG_RSP ? sp0 : vp->gpr[r];
        sp -= sz;
        mem_wr(vp, i, lin_seg(vp, SEG_SS, sp & m), sz, v);
    }
    sp_set(vp, sp);
    return H_NEXT;
}

int op_POPA(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t sp = vp->gpr[REG_RSP];
    uint64_t m = amask_tab[stack_asz(vp)];
    uint64_t v[8];
    for (int r = 7; r >= 0; r--) {
        v[r] = mem_rd(vp, i, lin_seg(vp, SEG_SS, sp & m), sz);
        sp += sz;
    }
    for (unsigned r = 0; r < 8; r++)
        if (r != REG_RSP)
            wreg(vp, r * 8, sz, v[r]);
    sp_set(vp, sp);
    return H_NEXT;
}

/* SDM POPF: which bits a pop may change depends on the mode. Virtual-8086 mode (no VME) needs
 * IOPL 3 and never changes IOPL (nor VM, VIP, VIF); protected mode at CPL > 0 keeps IOPL, and
 * keeps IF too when CPL > IOPL; RF is always cleared. */
int op_POPF(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    unsigned iopl = (unsigned)((vp->rflags & FL_IOPL) >> 12);
    bool v86 = vp->rflags & FL_VM;
    if (v86 && iopl < 3)
        cpu_fault_gp(vp, i, 0);
    uint64_t v = pop(vp, i, sz);
    uint64_t mask = FL_ARITH | FL_TF | FL_IF | FL_DF | FL_IOPL | FL_NT | FL_AC | FL_ID;
    if (v86) {
        mask &= ~(uint64_t)FL_IOPL;
    } else if ((vp->cr0 & CR0_PE) && vp->cpl > 0) {
        mask &= ~(uint64_t)FL_IOPL;
        if (vp->cpl > iopl)
            mask &= ~(uint64_t)FL_IF;
    }
    if (sz == 2)
        mask &= 0xffff;
    flags_set(vp, v, mask | FL_RF);
    vp->rflags &= ~(uint64_t)FL_RF;
    vcpu_update_mmu_idx(vp);
    return end_at(vp, next_ip(vp, i));
}

int op_ENTER(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz, s = stack_asz(vp);
    uint64_t m = amask_tab[s];
    unsigned level = (unsigned)(i->imm2 & 31);
    uint64_t alloc = i->imm & 0xffff;
    uint64_t sp = vp->gpr[REG_RSP], bp = vp->gpr[REG_RBP];
    sp -= sz;
    mem_wr(vp, i, lin_seg(vp, SEG_SS, sp & m), sz, bp);
    uint64_t frame = sp;
    for (unsigned l = 1; l < level; l++) {
        bp -= sz;
        uint64_t v = mem_rd(vp, i, lin_seg(vp, SEG_SS, bp & m), sz);
        sp -= sz;
        mem_wr(vp, i, lin_seg(vp, SEG_SS, sp & m), sz, v);
    }
    if (level > 0) {
        sp -= sz;
        mem_wr(vp, i, lin_seg(vp, SEG_SS, sp & m), sz, frame);
    }
    sp -= alloc;
    wreg(vp, REG_RBP * 8, sz, frame);
    sp_set(vp, sp);
    return H_NEXT;
}

int op_PUSH_SEG(struct vcpu *vp, const struct insn *i)
{
    /* Current processors write only the selector's 16 bits into the slot. */
    uint64_t sp = vp->gpr[REG_RSP] - i->opsz;
    mem_wr(vp, i, lin_seg(vp, SEG_SS, sp & amask_tab[stack_asz(vp)]), 2, vp->seg[i->cc].sel);
    sp_set(vp, sp);
    return H_NEXT;
}

int op_POP_SEG(struct vcpu *vp, const struct insn *i)
{
    uint64_t sp = vp->gpr[REG_RSP];
    uint16_t sel = (uint16_t)mem_rd(vp, i, lin_seg(vp, SEG_SS, sp & amask_tab[stack_asz(vp)]), 2);
    uint32_t err;
    int v = seg_load(vp, i->cc, sel, &err);
    if (v)
        cpu_fault(vp, i, (unsigned)v, true, err);
    sp_set(vp, sp + i->opsz);
    if (i->cc == SEG_SS)
        vp->int_shadow = true;
    return end_at(vp, next_ip(vp, i));
}

int op_MOV_MOFFS(struct vcpu *vp, const struct insn *i)
{
    gva_t la = lin_seg(vp, i->seg, i->imm2);
    if (i->ops[0].kind == OPK_MEM)
        mem_wr(vp, i, la, i->opsz, rreg(vp, i->r2, i->opsz));
    else
        wreg(vp, i->r1, i->opsz, mem_rd(vp, i, la, i->opsz));
    return H_NEXT;
}

int op_XLAT(struct vcpu *vp, const struct insn *i)
{
    uint64_t ea = (vp->gpr[REG_RBX] + (vp->gpr[REG_RAX] & 0xff)) & amask_tab[i->asz];
    wreg(vp, 0, 1, mem_rd(vp, i, lin_seg(vp, i->seg, ea), 1));
    return H_NEXT;
}

/* BOUND (legacy modes): #BR unless lower <= index <= upper, all signed (SDM BOUND). */
int op_BOUND(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    gva_t la = lin_of(vp, i);
    int64_t lo = sx(mem_rd(vp, i, la, sz), sz);
    int64_t hi = sx(mem_rd(vp, i, lin_seg(vp, i->seg, (ea_of(vp, i) + sz) & amask_tab[i->asz]), sz), sz);
    int64_t idx = sx(rreg(vp, i->r1, sz), sz);
    if (idx < lo || idx > hi)
        cpu_fault(vp, i, EXC_BR, false, 0);
    return H_NEXT;
}
